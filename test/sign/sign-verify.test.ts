// Signatures against real registries: the legacy `.sig` layout on Debian's
// docker-registry (CNCF distribution 2.8, no referrers API) and cosign v3's
// bundle referrers on the OCI 1.1 test registry. Every assertion reads what the
// registry really holds; tampering is done in the registry, as an attacker would.
import { assertBundleLatest, bundleFromJSON, bundleToJSON } from "@sigstore/bundle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushArtifact } from "../../src/oci/artifact.js";
import { parseManifest } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { BlobCache } from "../../src/sign/blob-cache.js";
import { parseBundle } from "../../src/sign/bundle.js";
import { envelopePayload } from "../../src/sign/dsse.js";
import {
  generateKeyPair,
  loadPrivateKey,
  type PrivateKey,
  type PublicKey,
  parsePublicKey,
} from "../../src/sign/keys.js";
import { signImage } from "../../src/sign/sign-image.js";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from "../../src/sign/simple-signing.js";
import { legacyTag, readBundleReferrers, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { verifyImage } from "../../src/sign/verify.js";
import { type Oci11Registry, startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { pushImage, pushIndex, repoOn } from "./images.js";

let dr: TestRegistry;
let api: Oci11Registry;
let alice: PrivateKey;
let bob: PrivateKey;
let mallory: PublicKey;

beforeAll(async () => {
  [dr, api] = await Promise.all([startRegistry(), startOci11Registry()]);
  const [a, b, m] = await Promise.all([generateKeyPair("a"), generateKeyPair("b"), generateKeyPair("m")]);
  [alice, bob] = await Promise.all([loadPrivateKey(a.privatePem, "a"), loadPrivateKey(b.privatePem, "b")]);
  mallory = parsePublicKey(m.publicPem, "mallory.pub");
});

afterAll(async () => {
  await Promise.all([dr?.stop(), api?.stop()]);
});

const at = (host: string, ref: string) => parseLocation(`${host}/${ref}`);

describe("legacy layout (.sig tag) on docker-registry", () => {
  it("signs the digest as cosign stores it, and verifies", async () => {
    const repo = repoOn(dr.host, "legacy/app");
    const image = await pushImage(repo, "1.0", "legacy-app");
    const signed = await signImage(at(dr.host, "legacy/app:1.0"), alice);
    expect(signed.subject).toBe(image.digest);
    expect(signed.images).toHaveLength(1);
    expect(signed.images[0]?.tag).toBe(`sha256-${image.digest.slice(7)}.sig`);

    // The manifest under the tag, read back raw.
    const sig = await repo.getManifest(legacyTag(image.digest, "sig"));
    const parsed = parseManifest(sig.bytes, sig.mediaType, "sig");
    if (parsed.kind !== "manifest") throw new Error("expected a manifest");
    expect(parsed.manifest.mediaType).toBe(MediaType.ociManifest);
    expect(parsed.manifest.config.mediaType).toBe(MediaType.ociConfig);
    const [layer] = parsed.manifest.layers;
    expect(layer?.mediaType).toBe(SIMPLE_SIGNING_MEDIA_TYPE);
    expect(layer?.annotations?.[SIGNATURE_ANNOTATION]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const [stored] = await readLegacyLayers(repo, image.digest, "sig");
    expect(stored?.bytes.toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"${dr.host}/legacy/app"},"image":{"docker-manifest-digest":"${image.digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
    const config = JSON.parse(
      (await (await repo.openBlob(parsed.manifest.config)).toArray()).map((c) => Buffer.from(c)).join(""),
    );
    expect(config.rootfs.diff_ids).toEqual([layer?.digest]);

    const result = await verifyImage(at(dr.host, "legacy/app:1.0"), [alice.publicKey]);
    expect(result.verified).toBe(true);
    expect(result.signatures).toHaveLength(1);
    expect(result.signatures[0]?.layout).toBe("legacy");
    expect(result.signatures[0]?.payload).toEqual(JSON.parse(stored?.bytes.toString() ?? ""));
  });

  it("the tag is resolved once: a signature follows the digest, not the tag", async () => {
    const repo = repoOn(dr.host, "legacy/moving");
    await pushImage(repo, "latest", "moving-1");
    await signImage(at(dr.host, "legacy/moving:latest"), alice);
    const second = await pushImage(repo, "latest", "moving-2");
    const result = await verifyImage(at(dr.host, "legacy/moving:latest"), [alice.publicKey]);
    expect(result.verified).toBe(false);
    expect(result.subject).toBe(second.digest);
    expect(result.reasons.join("\n")).toContain("no signatures found");
  });

  it("appends a second signer, keeps the first, and skips an identical re-sign", async () => {
    const repo = repoOn(dr.host, "legacy/two");
    const image = await pushImage(repo, "1", "two-signers");
    await signImage(at(dr.host, "legacy/two:1"), alice);
    await signImage(at(dr.host, "legacy/two:1"), bob);
    expect(await readLegacyLayers(repo, image.digest, "sig")).toHaveLength(2);
    const again = await signImage(at(dr.host, "legacy/two:1"), alice);
    expect(again.images[0]?.duplicate).toBe(true);
    expect(await readLegacyLayers(repo, image.digest, "sig")).toHaveLength(2);
    for (const key of [alice, bob]) {
      const result = await verifyImage(at(dr.host, "legacy/two:1"), [key.publicKey]);
      expect(result.verified).toBe(true);
      expect(result.signatures).toHaveLength(1);
    }
    const both = await verifyImage(at(dr.host, "legacy/two:1"), [alice.publicKey, bob.publicKey]);
    expect(both.signatures.map((s) => s.key).sort()).toEqual(
      [alice.publicKey.source, bob.publicKey.source].sort(),
    );
  });

  it("a wrong key does not verify", async () => {
    const repo = repoOn(dr.host, "legacy/wrongkey");
    await pushImage(repo, "1", "wrong-key");
    await signImage(at(dr.host, "legacy/wrongkey:1"), alice);
    const result = await verifyImage(at(dr.host, "legacy/wrongkey:1"), [mallory]);
    expect(result.verified).toBe(false);
    expect(result.reasons[0]).toContain("does not verify with mallory.pub");
  });

  it("tampering in the registry is detected: edited payload, truncated or swapped signature", async () => {
    const repo = repoOn(dr.host, "legacy/tamper");
    const image = await pushImage(repo, "1", "tamper");
    await signImage(at(dr.host, "legacy/tamper:1"), alice, { annotations: { env: "dev" } });
    const [original] = await readLegacyLayers(repo, image.digest, "sig");
    if (original === undefined) throw new Error("no signature");
    const signature = original.descriptor.annotations?.[SIGNATURE_ANNOTATION] ?? "";
    const forge = (payload: Buffer, sig: string) =>
      pushArtifact(repo, {
        layers: [
          {
            bytes: payload,
            mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
            annotations: { [SIGNATURE_ANNOTATION]: sig },
          },
        ],
        config: { bytes: Buffer.from("{}"), mediaType: MediaType.ociConfig },
        tag: legacyTag(image.digest, "sig"),
      });
    const edited = Buffer.from(original.bytes.toString().replace('"env":"dev"', '"env":"prd"'));
    expect(edited.equals(original.bytes)).toBe(false);
    const otherSig = (await signImage(at(dr.host, "legacy/tamper:1"), bob)).images[0];
    expect(otherSig?.duplicate).toBe(false);
    const bobLayer = (await readLegacyLayers(repo, image.digest, "sig"))[1];
    const cases: [string, Buffer, string][] = [
      ["edited payload", edited, signature],
      [
        "truncated signature",
        original.bytes,
        Buffer.from(signature, "base64").subarray(0, 30).toString("base64"),
      ],
      ["swapped signature", original.bytes, bobLayer?.descriptor.annotations?.[SIGNATURE_ANNOTATION] ?? ""],
    ];
    for (const [what, payload, sig] of cases) {
      await forge(payload, sig);
      const result = await verifyImage(at(dr.host, "legacy/tamper:1"), [alice.publicKey]);
      expect(result.verified, what).toBe(false);
      expect(result.reasons.join("\n"), what).toContain("does not verify");
    }
    // Put the genuine one back: it verifies again (the forgeries were the only cause).
    await forge(original.bytes, signature);
    expect((await verifyImage(at(dr.host, "legacy/tamper:1"), [alice.publicKey])).verified).toBe(true);
  });

  it("a payload signed for another image, re-pointed at this one, does not count (confusion attack)", async () => {
    const repo = repoOn(dr.host, "legacy/confused");
    const good = await pushImage(repo, "good", "confused-good");
    const evil = await pushImage(repo, "evil", "confused-evil");
    await signImage(at(dr.host, "legacy/confused:good"), alice);
    const sig = await repo.getManifest(legacyTag(good.digest, "sig"));
    await repo.writeManifest(sig, legacyTag(evil.digest, "sig"));
    const result = await verifyImage(at(dr.host, "legacy/confused:evil"), [alice.publicKey]);
    expect(result.verified).toBe(false);
    expect(result.reasons[0]).toContain(`the payload names ${good.digest}, not ${evil.digest}`);
  });

  it("required annotations", async () => {
    const repo = repoOn(dr.host, "legacy/annotated");
    await pushImage(repo, "1", "annotated");
    await signImage(at(dr.host, "legacy/annotated:1"), alice, { annotations: { env: "prod", team: "core" } });
    const loc = at(dr.host, "legacy/annotated:1");
    const ok = await verifyImage(loc, [alice.publicKey], { annotations: { env: "prod" } });
    expect(ok.verified).toBe(true);
    expect(ok.signatures[0]?.annotations).toEqual({ env: "prod", team: "core" });
    const no = await verifyImage(loc, [alice.publicKey], { annotations: { env: "dev" } });
    expect(no.verified).toBe(false);
    expect(no.reasons[0]).toContain("missing annotations env=dev");
  });

  it("--recursive signs and verifies every platform of an index", async () => {
    const repo = repoOn(dr.host, "legacy/multi");
    const { index, amd64, arm64 } = await pushIndex(repo, "1", "multi");
    const loc = at(dr.host, "legacy/multi:1");
    await signImage(loc, alice);
    const shallow = await verifyImage(loc, [alice.publicKey], { recursive: true });
    expect(shallow.verified).toBe(false);
    expect(shallow.images.map((i) => [i.platform, i.verified])).toEqual([
      [undefined, true],
      ["linux/amd64", false],
      ["linux/arm64", false],
    ]);
    const signed = await signImage(loc, alice, { recursive: true });
    expect(signed.images.map((i) => [i.digest, i.duplicate])).toEqual([
      [index.digest, true],
      [amd64.digest, false],
      [arm64.digest, false],
    ]);
    const deep = await verifyImage(loc, [alice.publicKey], { recursive: true });
    expect(deep.verified).toBe(true);
    expect(deep.signatures.map((s) => s.digest)).toEqual([index.digest, amd64.digest, arm64.digest]);
  });
});

describe("bundle layout (cosign v3: Sigstore bundle v0.3 as an OCI 1.1 referrer)", () => {
  for (const where of ["the referrers API", "the fallback tag"] as const) {
    it(`signs and verifies through ${where}`, async () => {
      const host = where === "the referrers API" ? api.host : dr.host;
      const repo = repoOn(host, "bundle/app");
      const image = await pushImage(repo, "1", `bundle-${where}`);
      const loc = at(host, "bundle/app:1");
      const signed = await signImage(loc, alice, { mode: "oci-1-1", annotations: { env: "prod" } });
      expect(signed.images[0]?.layout).toBe("bundle");

      const referrer = await repo.getManifest(signed.images[0]?.manifest ?? "");
      const doc = JSON.parse(Buffer.from(referrer.bytes).toString());
      expect(doc.artifactType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
      expect(doc.config).toEqual({ mediaType: MediaType.ociEmpty, digest: expect.any(String), size: 2 });
      expect(doc.subject.digest).toBe(image.digest);
      expect(doc.annotations["dev.sigstore.bundle.predicateType"]).toBe(
        "https://sigstore.dev/cosign/sign/v1",
      );

      const [stored] = await readBundleReferrers(repo, image.digest);
      const bundle = parseBundle(stored?.bytes ?? "", "bundle");
      expect(bundle.verificationMaterial.publicKey?.hint).toBe(alice.publicKey.hint);
      // sigstore-js's own bundle model accepts it, and its protobuf-JSON form is exactly ours.
      const json = JSON.parse(stored?.bytes.toString() ?? "");
      const model = bundleFromJSON(json);
      assertBundleLatest(model);
      expect(bundleToJSON(model)).toEqual(json);
      const statement = JSON.parse(
        envelopePayload(bundle.dsseEnvelope ?? { payload: "", payloadType: "", signatures: [] }).toString(),
      );
      expect(statement).toEqual({
        _type: "https://in-toto.io/Statement/v1",
        subject: [
          {
            name: `${host}/bundle/app`,
            digest: { sha256: image.digest.slice(7) },
            annotations: { env: "prod" },
          },
        ],
        predicateType: "https://sigstore.dev/cosign/sign/v1",
        predicate: {},
      });

      const result = await verifyImage(loc, [alice.publicKey], { annotations: { env: "prod" } });
      expect(result.verified).toBe(true);
      expect(result.signatures[0]?.layout).toBe("bundle");
      expect((await verifyImage(loc, [mallory])).verified).toBe(false);
      expect((await verifyImage(loc, [alice.publicKey], { annotations: { env: "dev" } })).verified).toBe(
        false,
      );
    });
  }

  it("a tampered bundle (statement re-pointed at another image) is rejected", async () => {
    const repo = repoOn(api.host, "bundle/tamper");
    const good = await pushImage(repo, "good", "bundle-good");
    const evil = await pushImage(repo, "evil", "bundle-evil");
    await signImage(at(api.host, "bundle/tamper:good"), alice, { mode: "oci-1-1" });
    const [stored] = await readBundleReferrers(repo, good.digest);
    const bundle = parseBundle(stored?.bytes ?? "", "bundle");
    // 1. the same bundle attached to the evil image: its statement names the good digest.
    const attach = (bytes: Buffer) =>
      pushArtifact(repo, {
        artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        layers: [{ bytes, mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json" }],
        subject: { mediaType: evil.mediaType, digest: evil.digest, size: evil.bytes.length },
      });
    await attach(Buffer.from(JSON.stringify(bundle)));
    let result = await verifyImage(at(api.host, "bundle/tamper:evil"), [alice.publicKey]);
    expect(result.verified).toBe(false);
    expect(result.reasons.join("\n")).toContain(`do not include ${evil.digest}`);
    // 2. the statement edited to name the evil digest: the signature no longer verifies.
    const envelope = bundle.dsseEnvelope ?? { payload: "", payloadType: "", signatures: [] };
    const edited = envelopePayload(envelope).toString().replace(good.digest.slice(7), evil.digest.slice(7));
    await attach(
      Buffer.from(
        JSON.stringify({
          ...bundle,
          dsseEnvelope: { ...envelope, payload: Buffer.from(edited).toString("base64") },
        }),
      ),
    );
    result = await verifyImage(at(api.host, "bundle/tamper:evil"), [alice.publicKey]);
    expect(result.verified).toBe(false);
    expect(result.reasons.join("\n")).toContain("does not verify");
  });

  it("verify reads both layouts on the same image", async () => {
    const repo = repoOn(api.host, "bundle/both");
    await pushImage(repo, "1", "both-layouts");
    const loc = at(api.host, "bundle/both:1");
    await signImage(loc, alice, { mode: "legacy" });
    await signImage(loc, bob, { mode: "oci-1-1" });
    const result = await verifyImage(loc, [alice.publicKey, bob.publicKey]);
    expect(result.signatures.map((s) => [s.layout, s.key])).toEqual([
      ["legacy", alice.publicKey.source],
      ["bundle", bob.publicKey.source],
    ]);
  });
});

describe("registry round trips per verify", () => {
  it("legacy layout only: at most 3 requests per image, 2 with the blob cache warm", async () => {
    const repo = repoOn(api.host, "rt/app");
    const image = await pushImage(repo, "1", "round-trips");
    const loc = parseLocation(`${api.host}/rt/app@${image.digest}`);
    await signImage(loc, alice);
    const cache = new BlobCache();
    let mark = api.requests.length;
    const cold = await verifyImage(loc, [alice.publicKey], { layouts: ["legacy"], cache });
    expect(cold.verified).toBe(true);
    const coldRequests = api.requests.slice(mark);
    expect(coldRequests.map((r) => r.method)).toEqual(["GET", "GET", "GET"]);
    mark = api.requests.length;
    expect((await verifyImage(loc, [alice.publicKey], { layouts: ["legacy"], cache })).verified).toBe(true);
    expect(api.requests.length - mark).toBe(2);
    // Both layouts add the referrers listing.
    mark = api.requests.length;
    await verifyImage(loc, [alice.publicKey], { cache });
    expect(api.requests.slice(mark).some((r) => r.path.includes("/referrers/"))).toBe(true);
  });
});

describe("hostile attachments", () => {
  it("a .sig manifest with more layers than cosign's cap is refused, not walked", async () => {
    const repo = repoOn(dr.host, "hostile/flood");
    const image = await pushImage(repo, "1", "flood");
    const layer = { bytes: Buffer.from("x"), mediaType: SIMPLE_SIGNING_MEDIA_TYPE };
    await pushArtifact(repo, {
      layers: Array.from({ length: 1001 }, () => layer),
      config: { bytes: Buffer.from("{}"), mediaType: MediaType.ociConfig },
      tag: legacyTag(image.digest, "sig"),
    });
    const error = await verifyImage(at(dr.host, "hostile/flood:1"), [alice.publicKey]).catch(
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe("LIMIT_EXCEEDED");
  });
});
