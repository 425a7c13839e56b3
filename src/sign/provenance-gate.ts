import type { Location } from "../oci/transports/location.js";
import type { OpenOptions } from "../oci/transports/open.js";
import type { PublicKey } from "./keys.js";
import {
  checkProvenance,
  type ProvenanceExpectations,
  SLSA_PROVENANCE_V1,
  SLSA_PROVENANCE_V02,
} from "./provenance.js";
import { type Keyless, type VerifiedAttestation, verifyAttestations } from "./verify.js";

export interface ImageProvenanceResult {
  /** At least one signed SLSA provenance attestation names the expected builder and source. */
  ok: boolean;
  subject: string;
  /** The signed provenance attestations that passed the check. */
  accepted: VerifiedAttestation[];
  reasons: string[];
}

/**
 * The promotion gate's provenance check: a SLSA provenance attestation (v1, or
 * v0.2 as cosign's `slsaprovenance` type writes it), signed by one of `keys`
 * (or keyless), about this digest, naming the expected builder and source
 * repository. Unsigned or unverifiable provenance never counts.
 */
export async function verifyImageProvenance(
  location: Location,
  keys: readonly PublicKey[],
  expected: ProvenanceExpectations,
  options: { open?: OpenOptions; keyless?: Keyless } = {},
): Promise<ImageProvenanceResult> {
  const reasons: string[] = [];
  const accepted: VerifiedAttestation[] = [];
  let subject = "";
  for (const predicateType of [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02]) {
    const result = await verifyAttestations(location, keys, { ...options, predicateType });
    subject = result.subject;
    for (const attestation of result.attestations) {
      const check = checkProvenance(attestation.statement, expected);
      if (check.ok) accepted.push(attestation);
      else reasons.push(...check.reasons.map((r) => `${attestation.foundIn}: ${r}`));
    }
  }
  if (accepted.length === 0 && reasons.length === 0) {
    reasons.push(`no signed SLSA provenance attestation for ${subject}`);
  }
  return { ok: accepted.length > 0, subject, accepted, reasons: accepted.length > 0 ? [] : reasons };
}
