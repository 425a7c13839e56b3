// An independent oracle for what shipgate signs keyless: sigstore-js's own
// verifier (@sigstore/verify, which nobody here wrote) checks the bundle
// referrer and the legacy `.sig` layer (reassembled into the v0.1 bundle its
// annotations amount to, as sigstore-go reads cosign's legacy layout) against
// the same trusted root: certificate chain, SET, inclusion proof and
// checkpoint, signature, identity and issuer.
import { createHash } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { toSignedEntity } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_ANNOTATION } from "../../src/sign/keyless-legacy.js";
import { signImageKeyless } from "../../src/sign/keyless-sign.js";
import { SIGNATURE_ANNOTATION } from "../../src/sign/simple-signing.js";
import { readBundleReferrers, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { pushImage } from "./images.js";
import { type KeylessFixture, legacyAsBundle, startKeyless } from "./sigstore/fixture.js";

const ISSUER = "https://oidc.test";
const carol = { subjectAlternativeName: "carol@example.com", extensions: { issuer: ISSUER } };

let fx: KeylessFixture;
beforeAll(async () => {
  fx = await startKeyless("oracle-fulcio", ISSUER);
});

afterAll(() => fx?.stop());

const signing = () => fx.signing(fx.emailToken("carol@example.com"));

describe("@sigstore/verify accepts what shipgate signs keyless", () => {
  it("the bundle v0.3 referrer", async () => {
    // An earlier entry first, so this one's inclusion proof has a real audit path.
    const repo = fx.repo("oracle/bundle");
    await pushImage(repo, "0", "oracle-bundle-0");
    await signImageKeyless(fx.at("oracle/bundle:0"), signing(), { mode: "oci-1-1" });
    const image = await pushImage(repo, "1", "oracle-bundle");
    await signImageKeyless(fx.at("oracle/bundle:1"), signing(), { mode: "oci-1-1" });
    const [stored] = await readBundleReferrers(repo, image.digest);
    const bundle = bundleFromJSON(JSON.parse(stored?.bytes.toString("utf8") ?? "{}"));
    const signer = fx.oracle.verify(toSignedEntity(bundle), carol);
    expect(signer.identity?.subjectAlternativeName).toBe("carol@example.com");
    expect(signer.identity?.extensions?.issuer).toBe(ISSUER);
    expect(() =>
      fx.oracle.verify(toSignedEntity(bundle), { ...carol, subjectAlternativeName: "eve@example.com" }),
    ).toThrow();
  });

  it("the legacy .sig layer, as the v0.1 bundle its annotations make", async () => {
    const repo = fx.repo("oracle/legacy");
    const image = await pushImage(repo, "1", "oracle-legacy");
    await signImageKeyless(fx.at("oracle/legacy:1"), signing());
    const [layer] = await readLegacyLayers(repo, image.digest, "sig");
    if (layer === undefined) throw new Error("no .sig layer");
    const a = layer.descriptor.annotations ?? {};
    const bundle = legacyAsBundle(
      a[CERTIFICATE_ANNOTATION] ?? "",
      a,
      {
        messageSignature: {
          messageDigest: {
            algorithm: "SHA2_256",
            digest: createHash("sha256").update(layer.bytes).digest("base64"),
          },
          signature: a[SIGNATURE_ANNOTATION],
        },
      },
      { kind: "hashedrekord", version: "0.0.1" },
    );
    const signer = fx.oracle.verify(toSignedEntity(bundle, layer.bytes), carol);
    expect(signer.identity?.subjectAlternativeName).toBe("carol@example.com");
    // The same signature over other bytes is refused.
    expect(() => fx.oracle.verify(toSignedEntity(bundle, Buffer.from("{}")), carol)).toThrow();
  });
});
