// Offline verification of cosign's real keyless bundle
// (pkg/cosign/testdata/oci-attestation.sigstore.json) against the public-good
// trusted root shipped with it: certificate chain, Rekor SET, inclusion proof
// and checkpoint, DSSE signature, identity. Each tampered form is rejected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushArtifact } from "../../src/oci/artifact.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { type Bundle, parseBundle } from "../../src/sign/bundle.js";
import { type IdentityPolicy, parseTrustedRoot, verifyKeylessBundle } from "../../src/sign/keyless.js";
import { verifyInclusion } from "../../src/sign/rekor.js";
import { verifyAttestations } from "../../src/sign/verify.js";
import { type Oci11Registry, startOci11Registry } from "../harness/oci11-registry.js";
import { cosignFixture } from "./helpers.js";
import { pushImage, repoOn } from "./images.js";

const root = parseTrustedRoot(cosignFixture("trusted_root_pgi.json"), "trusted_root_pgi.json");
const bundle = () => parseBundle(cosignFixture("oci-attestation.sigstore.json"), "fixture");
const identity = {
  certificateIdentity: "cody@soyland.com",
  certificateOidcIssuer: "https://github.com/login/oauth",
};
const reasonOf = (b: Bundle, policy: IdentityPolicy = identity) => {
  const result = verifyKeylessBundle(b, root, policy);
  return result.ok ? "ok" : result.reason;
};

describe("keyless bundle, offline", () => {
  it("verifies, with its identity, issuer and the log's time", () => {
    const result = verifyKeylessBundle(bundle(), root, identity);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.identity).toBe("cody@soyland.com");
    expect(result.issuer).toBe("https://github.com/login/oauth");
    expect(result.integratedTime.toISOString()).toBe("2025-02-28T19:18:11.000Z");
    expect(result.statement.subject[0]?.digest.sha256).toBe(
      "732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4",
    );
  });

  it("refuses another identity or issuer", () => {
    expect(reasonOf(bundle(), { ...identity, certificateIdentity: "mallory@example.com" })).toContain(
      "not mallory@example.com",
    );
    expect(
      reasonOf(bundle(), { ...identity, certificateOidcIssuer: "https://accounts.google.com" }),
    ).toContain("OIDC issuer");
    expect(reasonOf(bundle(), { certificateIdentityRegexp: "@soyland\\.com$" })).toBe("ok");
  });

  it("refuses a tampered payload, signature, log entry or proof", () => {
    const b = bundle();
    const envelope = b.dsseEnvelope;
    if (envelope === undefined) throw new Error("no envelope");
    const payload = Buffer.from(envelope.payload, "base64").toString().replace('"foo', '"fo0');
    const edited: Bundle = {
      ...b,
      dsseEnvelope: { ...envelope, payload: Buffer.from(payload).toString("base64") },
    };
    // The log recorded the payload's hash: an edited payload no longer matches the entry.
    expect(reasonOf(edited)).toContain("another signature");

    const entry = b.verificationMaterial.tlogEntries?.[0];
    if (entry === undefined) throw new Error("no entry");
    const withEntry = (e: object): Bundle => ({
      ...b,
      verificationMaterial: { ...b.verificationMaterial, tlogEntries: [{ ...entry, ...e }] },
    });
    expect(reasonOf(withEntry({ integratedTime: String(Number(entry.integratedTime) + 1) }))).toContain(
      "signed entry timestamp",
    );
    const proof = entry.inclusionProof as { hashes: string[] };
    const hashes = [...proof.hashes];
    hashes[3] = Buffer.alloc(32).toString("base64");
    expect(reasonOf(withEntry({ inclusionProof: { ...proof, hashes } }))).toContain("inclusion proof");
    expect(
      reasonOf({ ...b, verificationMaterial: { ...b.verificationMaterial, tlogEntries: [] } }),
    ).toContain("none in the bundle");
  });

  it("refuses a trusted root without the bundle's CA or log", () => {
    const noCa = { ...root, authorities: root.authorities.slice(0, 1) };
    expect(verifyKeylessBundle(bundle(), noCa, identity)).toEqual({
      ok: false,
      reason: "the certificate does not chain to a trusted Fulcio CA",
    });
    const noLog = { ...root, logs: [] };
    const result = verifyKeylessBundle(bundle(), noLog, identity);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("not in the trusted root");
  });

  it("RFC 9162 inclusion: a two-leaf tree", async () => {
    const { createHash } = await import("node:crypto");
    const h = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
    const a = Buffer.from("a");
    const b = Buffer.from("b");
    const la = h(Buffer.from([0]), a);
    const lb = h(Buffer.from([0]), b);
    const rootHash = h(Buffer.from([1]), la, lb);
    expect(verifyInclusion(a, 0n, 2n, [lb], rootHash)).toBe(true);
    expect(verifyInclusion(b, 1n, 2n, [la], rootHash)).toBe(true);
    expect(verifyInclusion(b, 0n, 2n, [la], rootHash)).toBe(false);
    expect(verifyInclusion(a, 2n, 2n, [lb], rootHash)).toBe(false);
  });
});

describe("keyless bundles in a registry", () => {
  let api: Oci11Registry;
  beforeAll(async () => {
    api = await startOci11Registry();
  });
  afterAll(async () => {
    await api?.stop();
  });

  it("verifies offline, then still refuses it for an image its statement does not name", async () => {
    const repo = repoOn(api.host, "keyless/app");
    const image = await pushImage(repo, "1", "keyless");
    await pushArtifact(repo, {
      artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      layers: [
        {
          bytes: Buffer.from(cosignFixture("oci-attestation.sigstore.json")),
          mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        },
      ],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length },
    });
    const loc = parseLocation(`${api.host}/keyless/app:1`);
    const withoutRoot = await verifyAttestations(loc, []);
    expect(withoutRoot.reasons[0]).toContain("signed keyless");
    const withRoot = await verifyAttestations(loc, [], { keyless: { trustedRoot: root, identity } });
    expect(withRoot.verified).toBe(false);
    expect(withRoot.reasons[0]).toContain(`do not include ${image.digest}`);
    const wrongIdentity = await verifyAttestations(loc, [], {
      keyless: { trustedRoot: root, identity: { ...identity, certificateIdentity: "x@example.com" } },
    });
    expect(wrongIdentity.reasons[0]).toContain("not x@example.com");
  });
});
