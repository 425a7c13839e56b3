// A Sigstore trusted root (protobuf-specs trusted_root.proto, JSON form) for
// the test CA and log, as `cosign trusted-root create` writes one.
import type { TestCa } from "./fulcio.js";
import type { FakeRekor } from "./rekor.js";

export function trustedRootJson(cas: TestCa[], logs: FakeRekor[]): string {
  const start = new Date(Date.now() - 3_600_000).toISOString();
  return JSON.stringify(
    {
      mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      tlogs: logs.map((log) => ({
        baseUrl: log.url,
        hashAlgorithm: "SHA2_256",
        publicKey: {
          rawBytes: log.publicKeyDer.toString("base64"),
          keyDetails: "PKIX_ECDSA_P256_SHA_256",
          validFor: { start },
        },
        logId: { keyId: log.logId.toString("base64") },
      })),
      certificateAuthorities: cas.map((ca) => ({
        subject: { organization: "test", commonName: "test" },
        uri: "http://127.0.0.1",
        certChain: { certificates: ca.chainDer.map((der) => ({ rawBytes: der.toString("base64") })) },
        validFor: { start },
      })),
      ctlogs: [],
      timestampAuthorities: [],
    },
    null,
    2,
  );
}
