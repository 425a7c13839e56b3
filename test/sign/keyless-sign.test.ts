// Keyless signing through @sigstore/sign against local stand-ins for Fulcio and
// Rekor (real X.509 from openssl, a real Merkle tree and log signatures) and a
// real docker-registry; what was written is verified offline by shipgate's own
// verifier against a trusted root for the test CA and log, by identity and issuer.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { parseManifest } from "../../src/oci/manifest.js";
import { type Bundle, parseBundle } from "../../src/sign/bundle.js";
import { type IdentityPolicy, parseTrustedRoot, verifyKeylessBundle } from "../../src/sign/keyless.js";
import {
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  REKOR_BUNDLE_ANNOTATION,
} from "../../src/sign/keyless-legacy.js";
import { attestImageKeyless, signImageKeyless } from "../../src/sign/keyless-sign.js";
import { SIGNATURE_ANNOTATION } from "../../src/sign/simple-signing.js";
import { legacyTag, readBundleReferrers, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { verifyAttestations, verifyImage } from "../../src/sign/verify.js";
import { pushImage, pushIndex } from "./images.js";
import { type KeylessFixture, startKeyless } from "./sigstore/fixture.js";
import { makeCa, oidcIssuer, type TestCa } from "./sigstore/fulcio.js";
import { startRekor } from "./sigstore/rekor.js";
import { trustedRootJson } from "./sigstore/trusted-root.js";

const ISSUER = "https://oidc.test";
const ALICE = { identity: "alice@example.com", issuer: ISSUER };

let fx: KeylessFixture;
let otherCa: TestCa;

beforeAll(async () => {
  otherCa = makeCa("other-ca");
  fx = await startKeyless("fulcio-test", ISSUER);
});

afterAll(async () => {
  await Promise.all([fx?.stop(), otherCa?.remove()]);
});

const signing = (token = fx.emailToken(ALICE.identity)) => fx.signing(token, { retries: 1, retryDelay: 10 });
const policy = (p: IdentityPolicy = { certificateIdentity: ALICE.identity, certificateOidcIssuer: ISSUER }) =>
  fx.keyless(p);
const at = (ref: string) => fx.at(ref);

describe("keyless sign, legacy layout (.sig as cosign v2 keyless writes it)", () => {
  it("stores certificate, chain and Rekor bundle annotations, and verifies by identity and issuer", async () => {
    const repo = fx.repo("keyless/legacy");
    const image = await pushImage(repo, "1", "keyless-legacy");
    const [fulcioBefore, rekorBefore] = [fx.fulcio.requests.length, fx.rekor.entries.length];
    const signed = await signImageKeyless(at("keyless/legacy:1"), signing());
    expect(signed).toMatchObject({ subject: image.digest, identity: ALICE.identity, issuer: ISSUER });
    expect(signed.images[0]?.tag).toBe(legacyTag(image.digest, "sig"));

    // One certificate request, for an ECDSA key, with the token Fulcio checked.
    expect(fx.fulcio.requests.slice(fulcioBefore).map((r) => r.algorithm)).toEqual(["ECDSA"]);
    const [layer] = await readLegacyLayers(repo, image.digest, "sig");
    if (layer === undefined) throw new Error("no .sig layer");
    const annotations = layer.descriptor.annotations ?? {};
    expect(annotations[CERTIFICATE_ANNOTATION]).toBe(signed.certificate);
    expect(annotations[CHAIN_ANNOTATION]).toBe(fx.ca.chain.join(""));
    // The log got a hashedrekord of exactly this payload and signature.
    const [entry] = fx.rekor.entries.slice(rekorBefore);
    expect(entry?.kind).toBe("hashedrekord");
    expect(entry?.spec).toMatchObject({
      data: { hash: { algorithm: "sha256", value: createHash("sha256").update(layer.bytes).digest("hex") } },
      signature: { content: annotations[SIGNATURE_ANNOTATION] },
    });
    const rekorBundle = JSON.parse(annotations[REKOR_BUNDLE_ANNOTATION] ?? "{}");
    expect(rekorBundle.Payload.logID).toBe(fx.rekor.logId.toString("hex"));
    expect(String(rekorBundle.Payload.logIndex)).toBe(signed.logIndexes[0]);

    const ok = await verifyImage(at("keyless/legacy:1"), [], { keyless: policy() });
    expect(ok.verified).toBe(true);
    expect(ok.signatures[0]?.key).toBe(`keyless:${ALICE.identity} (${ISSUER})`);

    const wrongIdentity = await verifyImage(at("keyless/legacy:1"), [], {
      keyless: policy({ certificateIdentity: "mallory@example.com", certificateOidcIssuer: ISSUER }),
    });
    expect(wrongIdentity.verified).toBe(false);
    expect(wrongIdentity.reasons[0]).toContain("not mallory@example.com");
    const wrongIssuer = await verifyImage(at("keyless/legacy:1"), [], {
      keyless: policy({
        certificateIdentity: ALICE.identity,
        certificateOidcIssuer: "https://accounts.google.com",
      }),
    });
    expect(wrongIssuer.reasons[0]).toContain("the OIDC issuer is https://oidc.test");
    const otherRoot = parseTrustedRoot(trustedRootJson([otherCa], [fx.rekor]), "other");
    const otherCaResult = await verifyImage(at("keyless/legacy:1"), [], {
      keyless: { trustedRoot: otherRoot, identity: { certificateIdentity: ALICE.identity } },
    });
    expect(otherCaResult.reasons[0]).toContain("does not chain to a trusted Fulcio CA");
  });
});

describe("keyless sign, bundle v0.3 referrer (oci-1-1)", () => {
  it("pushes a DSSE bundle with the certificate and a dsse log entry with its inclusion proof", async () => {
    const repo = fx.repo("keyless/bundle");
    const image = await pushImage(repo, "1", "keyless-bundle");
    const rekorBefore = fx.rekor.entries.length;
    const signed = await signImageKeyless(at("keyless/bundle:1"), signing(), {
      mode: "oci-1-1",
      annotations: { env: "prod" },
    });
    expect(signed.images[0]?.layout).toBe("bundle");
    expect(fx.rekor.entries.slice(rekorBefore).map((e) => `${e.kind} ${e.apiVersion}`)).toEqual([
      "dsse 0.0.1",
    ]);
    const [stored] = await readBundleReferrers(repo, image.digest);
    if (stored === undefined) throw new Error("no bundle referrer");
    const bundle = parseBundle(stored.bytes, "referrer");
    expect(bundle.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    expect(bundle.verificationMaterial.certificate?.rawBytes).toBeDefined();
    expect(bundle.verificationMaterial.tlogEntries?.[0]?.inclusionProof).toBeDefined();

    const ok = await verifyImage(at("keyless/bundle:1"), [], {
      keyless: policy(),
      annotations: { env: "prod" },
    });
    expect(ok.verified).toBe(true);
    expect(ok.signatures[0]?.layout).toBe("bundle");
    const wrong = await verifyImage(at("keyless/bundle:1"), [], {
      keyless: policy({ certificateIdentity: "bob@example.com", certificateOidcIssuer: ISSUER }),
    });
    expect(wrong.verified).toBe(false);
  });

  it("a log's first entry (index 0, which proto3 JSON leaves out) verifies", async () => {
    const fresh = await startRekor();
    try {
      const repo = fx.repo("keyless/first");
      const image = await pushImage(repo, "1", "keyless-first");
      const signed = await signImageKeyless(
        at("keyless/first:1"),
        { ...signing(), rekorUrl: fresh.url },
        { mode: "oci-1-1" },
      );
      expect(signed.logIndexes).toEqual(["0"]);
      const [stored] = await readBundleReferrers(repo, image.digest);
      const entry = parseBundle(stored?.bytes ?? Buffer.from(""), "referrer").verificationMaterial
        .tlogEntries?.[0];
      expect(entry?.logIndex).toBeUndefined();
      const freshRoot = parseTrustedRoot(trustedRootJson([fx.ca], [fresh]), "fresh");
      const ok = await verifyImage(at("keyless/first:1"), [], {
        keyless: { ...policy(), trustedRoot: freshRoot },
      });
      expect(ok.verified).toBe(true);
    } finally {
      await fresh.stop();
    }
  });

  it("refuses a tampered payload, another signature's log entry, and a bundle from another CA", async () => {
    const repo = fx.repo("keyless/tamper");
    const image = await pushImage(repo, "1", "keyless-tamper");
    await signImageKeyless(at("keyless/tamper:1"), signing(), { mode: "oci-1-1" });
    await signImageKeyless(at("keyless/tamper:1"), signing(), { mode: "oci-1-1" });
    const [a, b] = (await readBundleReferrers(repo, image.digest)).map((s) =>
      parseBundle(s.bytes, "referrer"),
    );
    if (a === undefined || b === undefined || a.dsseEnvelope === undefined)
      throw new Error("two bundles expected");
    const identity = { certificateIdentity: ALICE.identity, certificateOidcIssuer: ISSUER };
    const reason = (x: Bundle, r = fx.root) => {
      const result = verifyKeylessBundle(x, r, identity);
      return result.ok ? "ok" : result.reason;
    };
    expect(reason(a)).toBe("ok");
    expect(reason(b)).toBe("ok");
    // Both entries are in one tree; the later one has a real audit path.
    const proofOf = (x: Bundle) =>
      x.verificationMaterial.tlogEntries?.[0]?.inclusionProof as { hashes: string[] };
    expect(proofOf(b).hashes.length).toBeGreaterThan(0);

    const statement = JSON.parse(Buffer.from(a.dsseEnvelope.payload, "base64").toString("utf8"));
    statement.subject[0].digest.sha256 = "0".repeat(64);
    const tampered: Bundle = {
      ...a,
      dsseEnvelope: { ...a.dsseEnvelope, payload: Buffer.from(JSON.stringify(statement)).toString("base64") },
    };
    expect(reason(tampered)).toContain("the log entry is for another signature");
    const swapped: Bundle = {
      ...a,
      verificationMaterial: {
        ...a.verificationMaterial,
        tlogEntries: b.verificationMaterial.tlogEntries ?? [],
      },
    };
    expect(reason(swapped)).toContain("the log entry is for another signature");
    expect(reason(a, parseTrustedRoot(trustedRootJson([otherCa], [fx.rekor]), "other"))).toBe(
      "the certificate does not chain to a trusted Fulcio CA",
    );
  });

  it("signs every platform of an index under one certificate", async () => {
    const repo = fx.repo("keyless/index");
    const { index, amd64, arm64 } = await pushIndex(repo, "1", "keyless-index");
    const fulcioBefore = fx.fulcio.requests.length;
    const signed = await signImageKeyless(at("keyless/index:1"), signing(), {
      recursive: true,
      mode: "oci-1-1",
    });
    expect(signed.images.map((i) => i.digest)).toEqual([index.digest, amd64.digest, arm64.digest]);
    expect(fx.fulcio.requests.length - fulcioBefore).toBe(1);
    expect(new Set(signed.logIndexes).size).toBe(3);
    const ok = await verifyImage(at("keyless/index:1"), [], { keyless: policy(), recursive: true });
    expect(ok.images.map((i) => i.verified)).toEqual([true, true, true]);
  });
});

describe("keyless attest", () => {
  for (const mode of ["legacy", "oci-1-1"] as const) {
    it(`attaches a keyless attestation (${mode}) that verifies by identity and issuer`, async () => {
      const repo = fx.repo(`keyless/att-${mode}`);
      await pushImage(repo, "1", `keyless-att-${mode}`);
      const loc = at(`keyless/att-${mode}:1`);
      const result = await attestImageKeyless(loc, signing(), {
        predicate: { buildType: "test" },
        type: "slsaprovenance1",
        mode,
      });
      expect(result.predicateType).toBe("https://slsa.dev/provenance/v1");
      const ok = await verifyAttestations(loc, [], { keyless: policy(), predicateType: "slsaprovenance1" });
      expect(ok.verified).toBe(true);
      expect(ok.attestations[0]?.key).toBe(`keyless:${ALICE.identity} (${ISSUER})`);
      const wrong = await verifyAttestations(loc, [], {
        keyless: policy({ certificateIdentity: ALICE.identity, certificateOidcIssuer: "https://other.test" }),
      });
      expect(wrong.verified).toBe(false);
      expect(wrong.reasons[0]).toContain("OIDC issuer");
    });
  }
});

describe("failures leave nothing behind", () => {
  const nothingWritten = async (repoPath: string, digest: string) => {
    const repo = fx.repo(repoPath);
    expect(await readLegacyLayers(repo, digest, "sig")).toEqual([]);
    expect(await readBundleReferrers(repo, digest)).toEqual([]);
  };

  it("Fulcio refusing the token (401): UNAUTHORIZED, no log entry, nothing pushed", async () => {
    const repo = fx.repo("keyless/refused");
    const image = await pushImage(repo, "1", "keyless-refused");
    const stranger = oidcIssuer("https://stranger.test");
    const rekorBefore = fx.rekor.entries.length;
    const error = await signImageKeyless(
      at("keyless/refused:1"),
      signing(stranger.token({ sub: "x", email: "x@example.com", email_verified: true })),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).code).toBe("UNAUTHORIZED");
    expect((error as Error).message).toContain("(HTTP 401)");
    expect((error as Error).message).toContain("unknown issuer https://stranger.test");
    expect(fx.rekor.entries.length).toBe(rekorBefore);
    await nothingWritten("keyless/refused", image.digest);
  });

  it("Fulcio failing (500) is retried, then reported; nothing pushed", async () => {
    const repo = fx.repo("keyless/down");
    const image = await pushImage(repo, "1", "keyless-down");
    const before = fx.fulcio.requests.length;
    fx.fulcio.failWith = 500;
    try {
      const error = await signImageKeyless(at("keyless/down:1"), signing(), { mode: "oci-1-1" }).catch(
        (e: unknown) => e,
      );
      expect((error as ShipgateError).code).toBe("NETWORK");
      expect((error as Error).message).toMatch(
        /^Fulcio at http:\/\/127\.0\.0\.1:\d+ refused the certificate request \(HTTP 500\)/,
      );
    } finally {
      fx.fulcio.failWith = undefined;
    }
    expect(fx.fulcio.requests.length - before).toBe(2); // the request and one retry
    await nothingWritten("keyless/down", image.digest);
  });

  it("Rekor failing on the second platform of an index: nothing pushed for the first either", async () => {
    const repo = fx.repo("keyless/rekor-down");
    const { index } = await pushIndex(repo, "1", "keyless-rekor-down");
    const before = fx.rekor.entries.length;
    fx.rekor.failWith = 503;
    try {
      const error = await signImageKeyless(at("keyless/rekor-down:1"), signing(), { recursive: true }).catch(
        (e: unknown) => e,
      );
      expect((error as Error).message).toContain("Rekor at");
      expect((error as Error).message).toContain("(HTTP 503)");
    } finally {
      fx.rekor.failWith = undefined;
    }
    expect(fx.rekor.entries.length - before).toBe(2);
    await nothingWritten("keyless/rekor-down", index.digest);
  });

  it("a token that is not a JWT, or expired, is a usage error before any request", async () => {
    const before = fx.fulcio.requests.length;
    for (const [token, message] of [
      ["not-a-token", "not a JWT"],
      [fx.oidc.token({ sub: "a", exp: 1 }), "expired at 1970-01-01T00:00:01.000Z"],
      [fx.oidc.token({ email: "a@example.com", email_verified: false }), "is not verified"],
    ] as const) {
      const error = await signImageKeyless(at("keyless/legacy:1"), signing(token)).catch((e: unknown) => e);
      expect((error as ShipgateError).code).toBe("USAGE");
      expect((error as Error).message).toContain(message);
    }
    const insecure = await signImageKeyless(at("keyless/legacy:1"), {
      ...signing(),
      fulcioUrl: "http://fulcio.example.com",
    }).catch((e: unknown) => e);
    expect((insecure as Error).message).toContain("must be https");
    expect(fx.fulcio.requests.length).toBe(before);
  });

  it("the manifest of a keyless .sig is cosign's (one layer per signature, appended)", async () => {
    const repo = fx.repo("keyless/append");
    const image = await pushImage(repo, "1", "keyless-append");
    await signImageKeyless(at("keyless/append:1"), signing());
    await signImageKeyless(at("keyless/append:1"), signing());
    const sig = await repo.getManifest(legacyTag(image.digest, "sig"));
    const parsed = parseManifest(sig.bytes, sig.mediaType, "sig");
    if (parsed.kind !== "manifest") throw new Error("expected a manifest");
    expect(parsed.manifest.layers).toHaveLength(2);
    const certs = parsed.manifest.layers.map((l) => l.annotations?.[CERTIFICATE_ANNOTATION]);
    expect(certs[0]).not.toBe(certs[1]); // a fresh key and certificate each run
    const ok = await verifyImage(at("keyless/append:1"), [], { keyless: policy() });
    expect(ok.signatures).toHaveLength(2);
  });
});
