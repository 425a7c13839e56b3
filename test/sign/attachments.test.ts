// What is attached to an image (tree) and removing one kind of attachment
// (clean --type), in both schemes, on docker-registry (fallback index) and
// the OCI 1.1 registry (referrers API).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLocation } from "../../src/oci/transports/location.js";
import { attachSbom } from "../../src/sbom/attach.js";
import { listAttachments, removeAttachments } from "../../src/sign/attachments.js";
import { generateKeyPair, loadPrivateKey, type PrivateKey } from "../../src/sign/keys.js";
import { attestImage, signImage } from "../../src/sign/sign-image.js";
import { verifyAttestations, verifyImage } from "../../src/sign/verify.js";
import { type Oci11Registry, startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { pushImage, repoOn } from "./images.js";

let dr: TestRegistry;
let api: Oci11Registry;
let key: PrivateKey;
const SBOM = Buffer.from(
  JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components: [] }),
);

beforeAll(async () => {
  [dr, api] = await Promise.all([startRegistry(), startOci11Registry()]);
  key = await loadPrivateKey((await generateKeyPair("k")).privatePem, "k");
});

afterAll(async () => {
  await Promise.all([dr?.stop(), api?.stop()]);
});

describe("tree and attachment removal", () => {
  for (const which of ["docker-registry", "OCI 1.1"] as const) {
    it(`${which}: lists every attachment, removes only the signatures`, async () => {
      const host = which === "docker-registry" ? dr.host : api.host;
      const image = await pushImage(repoOn(host, "tree/app"), "1", `tree-${which}`);
      const at = parseLocation(`${host}/tree/app:1`);
      await signImage(at, key);
      await signImage(at, key, { mode: "oci-1-1" });
      await attestImage(at, key, { predicate: {}, type: "slsaprovenance1" });
      await attestImage(at, key, { predicate: {}, type: "vuln", mode: "oci-1-1" });
      await attachSbom(at, SBOM, { mode: "both" });

      const { subject, attachments } = await listAttachments(at);
      expect(subject).toBe(image.digest);
      const summary = attachments.map((a) => [a.type, a.scheme, a.predicateTypes.join(",")]).sort();
      expect(summary).toEqual(
        [
          ["attestation", "referrer", "https://cosign.sigstore.dev/attestation/vuln/v1"],
          ["attestation", "tag", "https://slsa.dev/provenance/v1"],
          ["sbom", "referrer", ""],
          ["sbom", "tag", ""],
          ["signature", "referrer", ""],
          ["signature", "tag", ""],
        ].sort(),
      );

      await removeAttachments(
        at,
        attachments.filter((a) => a.type === "signature"),
      );
      const after = await listAttachments(at);
      expect(after.attachments.map((a) => a.type).sort()).toEqual([
        "attestation",
        "attestation",
        "sbom",
        "sbom",
      ]);
      expect((await verifyImage(at, [key.publicKey])).verified).toBe(false);
      const attestations = await verifyAttestations(at, [key.publicKey]);
      expect(attestations.attestations).toHaveLength(2);
      // The image itself is untouched.
      expect((await repoOn(host, "tree/app").getManifest("1")).digest).toBe(image.digest);
    });
  }
});
