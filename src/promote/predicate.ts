import type { Location } from "../oci/transports/location.js";
import type { OpenOptions } from "../oci/transports/open.js";

/** The in-toto predicate of a promotion attestation: the decision itself, verifiable downstream. */
export const PROMOTION_PREDICATE_TYPE = "https://shipgate.dev/attestations/promotion/v1";

export interface PromotionPredicate {
  promotedBy: string;
  promotedAt: string;
  app: string;
  tag: string;
  from: { environment: string; repository: string };
  to: { environment: string; repository: string };
  gates: { gate: string; status: string; summary: string }[];
  tool: { name: string; version?: string };
}

export interface PromotionSigner {
  /** Signs and attaches the attestation to the image; returns the manifest written. */
  attest(location: Location, predicate: PromotionPredicate, open: OpenOptions): Promise<string>;
  /** Whether the image already carries a promotion attestation this signer's key verifies. */
  attested(location: Location, open: OpenOptions): Promise<boolean>;
}
