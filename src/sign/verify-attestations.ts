import type { Location } from "../oci/transports/location.js";
import type { OpenOptions } from "../oci/transports/open.js";
import { type DsseEnvelope, parseEnvelope } from "./dsse.js";
import { COSIGN_SIGN_PREDICATE, predicateTypeFor, type Statement } from "./intoto.js";
import type { Keyless } from "./keyless.js";
import { CERTIFICATE_ANNOTATION, verifyLegacyKeylessAttestation } from "./keyless-legacy.js";
import type { PublicKey } from "./keys.js";
import {
  checkBundleStatement,
  checkEnvelope,
  keylessStatement,
  type StatementResult,
} from "./statement-checks.js";
import { readBundleReferrers, readLegacyLayers } from "./store-signatures.js";
import { resolveTargets, withSource } from "./targets.js";
import type { Layout } from "./verify.js";

export interface VerifiedAttestation {
  layout: Layout;
  digest: string;
  key: string;
  predicateType: string;
  statement: Statement;
  foundIn: string;
}

export interface AttestationResult {
  verified: boolean;
  subject: string;
  attestations: VerifiedAttestation[];
  reasons: string[];
}

/**
 * Verifies the attestations of an image (both layouts): envelope signature,
 * in-toto statement, subject digest, and (when asked) the predicate type.
 */
export async function verifyAttestations(
  location: Location,
  keys: readonly PublicKey[],
  options: { predicateType?: string; recursive?: boolean; open?: OpenOptions; keyless?: Keyless } = {},
): Promise<AttestationResult> {
  const wanted = options.predicateType === undefined ? undefined : predicateTypeFor(options.predicateType);
  return withSource(location, options.open, async (source) => {
    const { root, targets } = await resolveTargets(source, location, options.recursive ?? false);
    const attestations: VerifiedAttestation[] = [];
    const reasons: string[] = [];
    let allVerified = true;
    for (const target of targets) {
      const digest = target.descriptor.digest;
      const found: VerifiedAttestation[] = [];
      const local: string[] = [];
      const consider = (result: StatementResult, layout: Layout, foundIn: string) => {
        if (!result.ok) return void local.push(result.reason);
        const type = result.statement.predicateType;
        if (layout === "bundle" && type === COSIGN_SIGN_PREDICATE && wanted !== COSIGN_SIGN_PREDICATE) return;
        if (wanted !== undefined && type !== wanted)
          return void local.push(`${foundIn}: predicate type ${type}, not ${wanted}`);
        found.push({
          layout,
          digest,
          key: result.key,
          predicateType: type,
          statement: result.statement,
          foundIn,
        });
      };
      for (const layer of await readLegacyLayers(source, digest, "att")) {
        const where = `${layer.tag} layer ${layer.descriptor.digest}`;
        try {
          const envelope = parseEnvelope(layer.bytes, where);
          const annotations = layer.descriptor.annotations ?? {};
          const keyless = options.keyless !== undefined && annotations[CERTIFICATE_ANNOTATION] !== undefined;
          consider(
            keyless
              ? checkLegacyKeyless(
                  envelope,
                  layer.bytes,
                  annotations,
                  where,
                  digest,
                  options.keyless as Keyless,
                )
              : checkEnvelope(envelope, where, digest, keys),
            "legacy",
            layer.tag,
          );
        } catch (error) {
          local.push((error as Error).message);
        }
      }
      for (const stored of await readBundleReferrers(source, digest)) {
        consider(
          checkBundleStatement(
            stored.bytes,
            `bundle referrer ${stored.referrer}`,
            digest,
            keys,
            options.keyless,
          ),
          "bundle",
          stored.referrer,
        );
      }
      if (found.length === 0) {
        allVerified = false;
        if (local.length === 0) local.push(`no attestations found for ${digest}`);
        reasons.push(...local.map((r) => (target.platform ? `${target.platform}: ${r}` : r)));
      }
      attestations.push(...found);
    }
    return { verified: allVerified, subject: root.digest, attestations, reasons };
  });
}

/** A keyless `.att` layer: certificate and Rekor bundle annotations, checked against the trusted root. */
function checkLegacyKeyless(
  envelope: DsseEnvelope,
  envelopeBytes: Uint8Array,
  annotations: Record<string, string>,
  where: string,
  digest: string,
  keyless: Keyless,
): StatementResult {
  const result = verifyLegacyKeylessAttestation(
    envelope,
    envelopeBytes,
    annotations,
    keyless.trustedRoot,
    keyless.identity,
  );
  if (!result.ok) return { ok: false, reason: `${where}: keyless: ${result.reason}` };
  return keylessStatement(result, where, digest, envelope);
}

/**
 * A DSSE attestation over a blob (cosign verify-blob-attestation): signed by
 * one of the keys and naming the blob's sha256 among its subjects.
 */
export function verifyBlobAttestation(
  envelopeJson: Uint8Array | string,
  keys: readonly PublicKey[],
  blobSha256: string,
  predicateType?: string,
): StatementResult {
  let envelope: DsseEnvelope;
  try {
    envelope = parseEnvelope(envelopeJson, "the attestation");
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  const result = checkEnvelope(envelope, "the attestation", `sha256:${blobSha256}`, keys);
  if (
    result.ok &&
    predicateType !== undefined &&
    result.statement.predicateType !== predicateTypeFor(predicateType)
  ) {
    return {
      ok: false,
      reason: `the predicate type is ${result.statement.predicateType}, not ${predicateTypeFor(predicateType)}`,
    };
  }
  return result;
}
