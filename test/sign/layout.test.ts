// Signing works on an oci: layout as on a registry: the `.sig` tag is a tag of
// the layout, the bundle a referrer found by its subject. The image is one of
// the shared Debian images, copied into a fresh layout.
import { cpSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseLocation } from "../../src/oci/transports/location.js";
import { generateKeyPair, loadPrivateKey } from "../../src/sign/keys.js";
import { attestImage, signImage } from "../../src/sign/sign-image.js";
import { verifyAttestations, verifyImage } from "../../src/sign/verify.js";
import { makeTempDir } from "../harness/util.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES } from "../helpers/cli.js";

describe("oci: layouts", () => {
  it("sign, attest and verify in both layouts", async () => {
    const dir = join(makeTempDir("shipgate-sign-layout-"), "layout");
    cpSync(SHARED_IMAGES, dir, { recursive: true });
    const key = await loadPrivateKey((await generateKeyPair("k")).privatePem, "k");
    const at = parseLocation(`oci:${dir}:debian-base`);
    const signed = await signImage(at, key, { annotations: { where: "layout" } });
    expect(signed.subject).toBe(DEBIAN_BASE_DIGEST);
    await signImage(at, key, { mode: "oci-1-1" });
    await attestImage(at, key, { predicate: { n: 1 }, type: "custom", mode: "oci-1-1" });
    const result = await verifyImage(at, [key.publicKey], { annotations: { where: "layout" } });
    expect(result.verified).toBe(true);
    expect(result.signatures.map((s) => s.layout)).toEqual(["legacy"]);
    expect((await verifyImage(at, [key.publicKey])).signatures.map((s) => s.layout)).toEqual([
      "legacy",
      "bundle",
    ]);
    const attestations = await verifyAttestations(at, [key.publicKey], { predicateType: "custom" });
    expect(attestations.attestations.map((a) => a.layout)).toEqual(["bundle"]);
    // The other image of the layout is not signed.
    expect((await verifyImage(parseLocation(`oci:${dir}:shop-1.4.2`), [key.publicKey])).verified).toBe(false);
  });
});
