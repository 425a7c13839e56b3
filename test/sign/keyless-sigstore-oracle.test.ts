// An independent oracle for what shipgate signs keyless: sigstore-js's own
// verifier (@sigstore/verify, which nobody here wrote) checks the bundle
// referrer and the legacy `.sig` layer (reassembled into the v0.1 bundle its
// annotations amount to, as sigstore-go reads cosign's legacy layout) against
// the same trusted root: certificate chain, SET, inclusion proof and
// checkpoint, signature, identity and issuer.
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLocation } from "../../src/oci/transports/location.js";
import { CERTIFICATE_ANNOTATION, REKOR_BUNDLE_ANNOTATION } from "../../src/sign/keyless-legacy.js";
import { signImageKeyless } from "../../src/sign/keyless-sign.js";
import type { KeylessSigning } from "../../src/sign/keyless-signer.js";
import { SIGNATURE_ANNOTATION } from "../../src/sign/simple-signing.js";
import { readBundleReferrers, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { pushImage, repoOn } from "./images.js";
import {
  type FakeFulcio,
  makeCa,
  type OidcIssuer,
  oidcIssuer,
  startFulcio,
  type TestCa,
} from "./sigstore/fulcio.js";
import { type FakeRekor, startRekor } from "./sigstore/rekor.js";
import { trustedRootJson } from "./sigstore/trusted-root.js";

const ISSUER = "https://oidc.test";
let dr: TestRegistry;
let ca: TestCa;
let oidc: OidcIssuer;
let fulcio: FakeFulcio;
let rekor: FakeRekor;
let verifier: Verifier;

beforeAll(async () => {
  ca = makeCa("oracle-fulcio");
  oidc = oidcIssuer(ISSUER);
  [dr, fulcio, rekor] = await Promise.all([startRegistry(), startFulcio(ca, [oidc]), startRekor()]);
  const root = TrustedRoot.fromJSON(JSON.parse(trustedRootJson([ca], [rekor])));
  // No CT log here: the test CA embeds no SCTs.
  verifier = new Verifier(toTrustMaterial(root), { ctlogThreshold: 0, tlogThreshold: 1 });
});

afterAll(async () => {
  await Promise.all([dr?.stop(), fulcio?.stop(), rekor?.stop(), ca?.remove()]);
});

const signing = (): KeylessSigning => ({
  identityToken: oidc.token({ sub: "carol-id", email: "carol@example.com", email_verified: true }),
  fulcioUrl: fulcio.url,
  rekorUrl: rekor.url,
});
const carol = { subjectAlternativeName: "carol@example.com", extensions: { issuer: ISSUER } };

describe("@sigstore/verify accepts what shipgate signs keyless", () => {
  it("the bundle v0.3 referrer", async () => {
    // An earlier entry first, so this one's inclusion proof has a real audit path.
    const repo = repoOn(dr.host, "oracle/bundle");
    await pushImage(repo, "0", "oracle-bundle-0");
    await signImageKeyless(parseLocation(`${dr.host}/oracle/bundle:0`), signing(), { mode: "oci-1-1" });
    const image = await pushImage(repo, "1", "oracle-bundle");
    await signImageKeyless(parseLocation(`${dr.host}/oracle/bundle:1`), signing(), { mode: "oci-1-1" });
    const [stored] = await readBundleReferrers(repo, image.digest);
    const bundle = bundleFromJSON(JSON.parse(stored?.bytes.toString("utf8") ?? "{}"));
    const signer = verifier.verify(toSignedEntity(bundle), carol);
    expect(signer.identity?.subjectAlternativeName).toBe("carol@example.com");
    expect(signer.identity?.extensions?.issuer).toBe(ISSUER);
    expect(() =>
      verifier.verify(toSignedEntity(bundle), { ...carol, subjectAlternativeName: "eve@example.com" }),
    ).toThrow();
  });

  it("the legacy .sig layer, as the v0.1 bundle its annotations make", async () => {
    const repo = repoOn(dr.host, "oracle/legacy");
    const image = await pushImage(repo, "1", "oracle-legacy");
    await signImageKeyless(parseLocation(`${dr.host}/oracle/legacy:1`), signing());
    const [layer] = await readLegacyLayers(repo, image.digest, "sig");
    if (layer === undefined) throw new Error("no .sig layer");
    const a = layer.descriptor.annotations ?? {};
    const rekorBundle = JSON.parse(a[REKOR_BUNDLE_ANNOTATION] ?? "{}");
    const der = Buffer.from(
      (a[CERTIFICATE_ANNOTATION] ?? "").replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""),
      "base64",
    );
    const { createHash } = await import("node:crypto");
    const bundle = bundleFromJSON({
      mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: der.toString("base64") }] },
        tlogEntries: [
          {
            logIndex: String(rekorBundle.Payload.logIndex),
            logId: { keyId: Buffer.from(rekorBundle.Payload.logID, "hex").toString("base64") },
            kindVersion: { kind: "hashedrekord", version: "0.0.1" },
            integratedTime: String(rekorBundle.Payload.integratedTime),
            inclusionPromise: { signedEntryTimestamp: rekorBundle.SignedEntryTimestamp },
            canonicalizedBody: rekorBundle.Payload.body,
          },
        ],
      },
      messageSignature: {
        messageDigest: {
          algorithm: "SHA2_256",
          digest: createHash("sha256").update(layer.bytes).digest("base64"),
        },
        signature: a[SIGNATURE_ANNOTATION],
      },
    });
    const signer = verifier.verify(toSignedEntity(bundle, layer.bytes), carol);
    expect(signer.identity?.subjectAlternativeName).toBe("carol@example.com");
    // The same signature over other bytes is refused.
    expect(() => verifier.verify(toSignedEntity(bundle, Buffer.from("{}")), carol)).toThrow();
  });
});
