// `copy --include-referrers` carries signatures and attestations in both
// layouts, and they still verify at the destination (another registry, another
// repository name: the signed payloads name the digest, not the repository).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyImage } from "../../src/oci/copy.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { generateKeyPair, loadPrivateKey, type PrivateKey } from "../../src/sign/keys.js";
import { attestImage, signImage } from "../../src/sign/sign-image.js";
import { verifyAttestations, verifyImage } from "../../src/sign/verify.js";
import { type Oci11Registry, startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { pushIndex, repoOn } from "./images.js";

let dr: TestRegistry;
let api: Oci11Registry;
let key: PrivateKey;

beforeAll(async () => {
  [dr, api] = await Promise.all([startRegistry(), startOci11Registry()]);
  key = await loadPrivateKey((await generateKeyPair("k")).privatePem, "k");
});

afterAll(async () => {
  await Promise.all([dr?.stop(), api?.stop()]);
});

describe("copy --include-referrers", () => {
  for (const [from, to] of [
    ["docker-registry", "OCI 1.1"],
    ["OCI 1.1", "docker-registry"],
  ] as const) {
    it(`${from} → ${to}: both layouts, every platform, still verify`, async () => {
      const [src, dst] = from === "docker-registry" ? [dr.host, api.host] : [api.host, dr.host];
      const { index } = await pushIndex(repoOn(src, "copy/app"), "1", `copy-${from}`);
      const at = parseLocation(`${src}/copy/app:1`);
      await signImage(at, key, { recursive: true, mode: "legacy" });
      await signImage(at, key, { mode: "oci-1-1", annotations: { layout: "bundle" } });
      await attestImage(at, key, { predicate: { ok: true }, type: "custom" });
      await attestImage(at, key, { predicate: { ok: true }, type: "vuln", mode: "oci-1-1" });

      const result = await copyImage(repoOn(src, "copy/app"), "1", repoOn(dst, "mirror/app"), "1", {
        includeReferrers: true,
      });
      expect(result.digest).toBe(index.digest);
      expect(result.referrers).toBeGreaterThanOrEqual(4);

      const there = parseLocation(`${dst}/mirror/app:1`);
      const signatures = await verifyImage(there, [key.publicKey], { recursive: true });
      expect(signatures.verified, signatures.reasons.join("\n")).toBe(true);
      expect(signatures.signatures.filter((s) => s.digest === index.digest).map((s) => s.layout)).toEqual([
        "legacy",
        "bundle",
      ]);
      const attestations = await verifyAttestations(there, [key.publicKey]);
      expect(attestations.attestations.map((a) => [a.layout, a.predicateType])).toEqual([
        ["legacy", "https://cosign.sigstore.dev/attestation/v1"],
        ["bundle", "https://cosign.sigstore.dev/attestation/vuln/v1"],
      ]);
    });
  }
});
