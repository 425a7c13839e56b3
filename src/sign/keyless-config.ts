// What keyless signing is configured with, apart from the code that does it:
// the CLI reads these without loading @sigstore/sign and its HTTP stack.

/** The public-good instances, as @sigstore/sign names them. */
export const DEFAULT_FULCIO_URL = "https://fulcio.sigstore.dev";
export const DEFAULT_REKOR_URL = "https://rekor.sigstore.dev";

/** Where and as whom keyless signatures are made: Fulcio certifies an ephemeral key for the token's identity, Rekor logs the signature. */
export interface KeylessSigning {
  /** An OIDC identity token (a JWT, audience `sigstore`), as `SIGSTORE_ID_TOKEN` carries it. */
  identityToken: string;
  /** Default: the public-good instance, https://fulcio.sigstore.dev. */
  fulcioUrl?: string;
  /** Default: https://rekor.sigstore.dev. */
  rekorUrl?: string;
  /** Per request, in milliseconds (default 30 s). */
  timeout?: number;
  /** Retries of a request that failed with 5xx, 408, 429 or a network error (default 2). */
  retries?: number;
  /** Delay before the first retry, in milliseconds (default 1000, doubling). */
  retryDelay?: number;
}

/**
 * The Rekor entry kind a legacy `.att` envelope is logged as (cosign's
 * `--rekor-entry-type`): `dsse`, cosign's default since v2.2; `intoto`
 * (0.0.1), its default before, readable by every cosign v2 including 2.0/2.1.
 */
export type RekorEntryType = "dsse" | "intoto";
export const REKOR_ENTRY_TYPES: readonly RekorEntryType[] = ["dsse", "intoto"];
/** cosign ≥ v2.2's default. */
export const DEFAULT_REKOR_ENTRY_TYPE: RekorEntryType = "dsse";
