// The signing library: what other modules (promotion gates, publish, the
// server) call. `export * from "./sign/index.js"` in src/index.ts.
export { type Attachment, type AttachmentType, listAttachments, removeAttachments } from "./attachments.js";
export { BlobCache } from "./blob-cache.js";
export { BUNDLE_V03_MEDIA_TYPE, type Bundle, keyedDsseBundle, parseBundle } from "./bundle.js";
export {
  DSSE_ENVELOPE_MEDIA_TYPE,
  type DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  preAuthEncoding,
  signEnvelope,
  verifyEnvelope,
} from "./dsse.js";
export { ACCEPTED_SCRYPT_PARAMS, DEFAULT_SCRYPT_PARAMS } from "./encrypted-key.js";
export {
  COSIGN_SIGN_PREDICATE,
  makeStatement,
  PREDICATE_TYPES,
  parseStatement,
  predicateTypeFor,
  type Statement,
  subjectFor,
} from "./intoto.js";
export {
  type IdentityPolicy,
  type KeylessResult,
  parseTrustedRoot,
  type TrustedRoot,
  verifyKeylessBundle,
} from "./keyless.js";
export {
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  REKOR_BUNDLE_ANNOTATION,
  verifyLegacyKeyless,
  verifyLegacyKeylessAttestation,
} from "./keyless-legacy.js";
export {
  attestImageKeyless,
  type KeylessAttestOptions,
  type KeylessAttestResult,
  type KeylessSigned,
  type KeylessSignResult,
  signImageKeyless,
} from "./keyless-sign.js";
export {
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_ENTRY_TYPE,
  DEFAULT_REKOR_URL,
  KeylessSession,
  type KeylessSignature,
  type KeylessSigning,
  type LoggedEnvelope,
  REKOR_ENTRY_TYPES,
  type RekorEntryType,
  type TokenClaims,
  tokenClaims,
} from "./keyless-signer.js";
export {
  type GeneratedKeyPair,
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  type PrivateKey,
  type PublicKey,
  parsePublicKey,
  readKeyText,
} from "./keys.js";
export { type PasswordSources, readPassword } from "./password.js";
export {
  checkProvenance,
  detectCi,
  generateProvenance,
  type ProvenanceCheck,
  type ProvenanceExpectations,
  type ProvenanceOptions,
  type ProvenancePredicate,
  provenancePredicate,
  SLSA_PROVENANCE_V1,
} from "./provenance.js";
export { type ImageProvenanceResult, verifyImageProvenance } from "./provenance-gate.js";
export {
  type AttestOptions,
  type AttestResult,
  attestImage,
  DEFAULT_REFERRERS_MODE,
  type ReferrersMode,
  type SignOptions,
  type SignResult,
  signImage,
} from "./sign-image.js";
export { checkSimpleSigning, SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload } from "./simple-signing.js";
export {
  type AttestationResult,
  type ImageVerification,
  type Keyless,
  type VerifiedAttestation,
  type VerifiedSignature,
  type VerifyOptions,
  type VerifyResult,
  verifyAttestations,
  verifyBlobAttestation,
  verifyBundle,
  verifyImage,
} from "./verify.js";
