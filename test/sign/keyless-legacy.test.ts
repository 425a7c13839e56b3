// cosign v2's keyless signatures in the `.sig` layout (certificate and Rekor
// bundle as layer annotations), verified offline. The PKI is made here with
// the openssl CLI (a Fulcio-like root, a leaf with cosign's SAN and OIDC
// issuer extensions) and a log key of our own, so every field is known.
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { json } from "@sigstore/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushArtifact } from "../../src/oci/artifact.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { parseTrustedRoot, type TrustedRoot } from "../../src/sign/keyless.js";
import { CERTIFICATE_ANNOTATION, REKOR_BUNDLE_ANNOTATION } from "../../src/sign/keyless-legacy.js";
import {
  SIGNATURE_ANNOTATION,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningPayload,
} from "../../src/sign/simple-signing.js";
import { legacyTag } from "../../src/sign/store-signatures.js";
import { verifyImage } from "../../src/sign/verify.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { makeTempDir } from "../harness/util.js";
import { pushImage, repoOn } from "./images.js";

const ISSUER = "https://issuer.example.com";
const IDENTITY = "dev@example.com";
let dr: TestRegistry;
let dir: string;
let leafKey: KeyObject;
let leafPem: string;
let rekor: { privateKey: KeyObject; publicKey: KeyObject };
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
const der = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");

function makeCa(name: string): void {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "30",
    "-subj",
    `/O=test/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
}

function trustedRoot(caName: string): TrustedRoot {
  const spki = rekor.publicKey.export({ type: "spki", format: "der" });
  return parseTrustedRoot(
    JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
      tlogs: [
        {
          publicKey: { rawBytes: spki.toString("base64"), validFor: { start: "2020-01-01T00:00:00Z" } },
          logId: { keyId: createHash("sha256").update(spki).digest("base64") },
        },
      ],
      certificateAuthorities: [
        {
          certChain: {
            certificates: [
              { rawBytes: der(readFileSync(join(dir, `${caName}.pem`), "utf8")).toString("base64") },
            ],
          },
          validFor: { start: "2020-01-01T00:00:00Z" },
        },
      ],
    }),
    "test root",
  );
}

beforeAll(async () => {
  dr = await startRegistry();
  dir = makeTempDir("shipgate-keyless-");
  makeCa("fulcio");
  makeCa("other");
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "leaf.key");
  openssl("req", "-new", "-key", "leaf.key", "-subj", "/O=test", "-out", "leaf.csr");
  writeFileSync(
    join(dir, "leaf.ext"),
    [
      `subjectAltName=critical,email:${IDENTITY}`,
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=codeSigning",
      `1.3.6.1.4.1.57264.1.1=DER:${Buffer.from(ISSUER).toString("hex")}`,
      `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${ISSUER}`,
    ].join("\n"),
  );
  openssl(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "fulcio.pem",
    "-CAkey",
    "fulcio.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
  );
  leafKey = createPrivateKey(readFileSync(join(dir, "leaf.key")));
  leafPem = readFileSync(join(dir, "leaf.pem"), "utf8");
  rekor = generateKeyPairSync("ec", { namedCurve: "P-256" });
});

afterAll(async () => {
  await dr?.stop();
});

/** Signs `payload` as cosign does keyless, with a log entry; `tamper` bends one part. */
function keylessLayer(payload: Buffer, tamper: "none" | "time" | "entry" = "none") {
  const signature = sign("sha256", payload, leafKey).toString("base64");
  const body = Buffer.from(
    JSON.stringify({
      apiVersion: "0.0.1",
      kind: "hashedrekord",
      spec: {
        data: {
          hash: {
            algorithm: "sha256",
            value: createHash("sha256")
              .update(tamper === "entry" ? Buffer.from("other") : payload)
              .digest("hex"),
          },
        },
        signature: { content: signature, publicKey: { content: Buffer.from(leafPem).toString("base64") } },
      },
    }),
  ).toString("base64");
  const spki = rekor.publicKey.export({ type: "spki", format: "der" });
  const entry = {
    body,
    integratedTime: Math.floor(Date.now() / 1000),
    logIndex: 7,
    logID: createHash("sha256").update(spki).digest("hex"),
  };
  const set = sign("sha256", Buffer.from(json.canonicalize(entry)), rekor.privateKey).toString("base64");
  const payloadField = tamper === "time" ? { ...entry, integratedTime: entry.integratedTime + 1 } : entry;
  return {
    bytes: payload,
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    annotations: {
      [SIGNATURE_ANNOTATION]: signature,
      [CERTIFICATE_ANNOTATION]: leafPem,
      [REKOR_BUNDLE_ANNOTATION]: JSON.stringify({ SignedEntryTimestamp: set, Payload: payloadField }),
    },
  };
}

describe("legacy keyless signatures, offline", () => {
  it("verify with a trusted root and the signer's identity; refuse everything else", async () => {
    const repo = repoOn(dr.host, "keyless/legacy");
    const image = await pushImage(repo, "1", "keyless-legacy");
    const loc = parseLocation(`${dr.host}/keyless/legacy:1`);
    const payload = simpleSigningPayload(`${dr.host}/keyless/legacy`, image.digest);
    const attach = (tamper: "none" | "time" | "entry") =>
      pushArtifact(repo, {
        layers: [keylessLayer(payload, tamper)],
        config: { bytes: Buffer.from("{}"), mediaType: MediaType.ociConfig },
        tag: legacyTag(image.digest, "sig"),
      });
    const root = trustedRoot("fulcio");
    const keyless = {
      trustedRoot: root,
      identity: { certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER },
    };

    await attach("none");
    const ok = await verifyImage(loc, [], { keyless });
    expect(ok.verified, ok.reasons.join("\n")).toBe(true);
    expect(ok.signatures[0]?.key).toBe(`keyless:${IDENTITY} (${ISSUER})`);
    expect((await verifyImage(loc, [])).reasons[0]).toContain("does not verify with no key");

    const reason = async (k: typeof keyless) =>
      (await verifyImage(loc, [], { keyless: k })).reasons.join("\n");
    expect(
      await reason({ ...keyless, identity: { ...keyless.identity, certificateIdentity: "eve@example.com" } }),
    ).toContain("not eve@example.com");
    expect(
      await reason({ ...keyless, identity: { ...keyless.identity, certificateOidcIssuer: "https://other" } }),
    ).toContain("OIDC issuer");
    expect(await reason({ ...keyless, trustedRoot: trustedRoot("other") })).toContain(
      "does not chain to a trusted Fulcio CA",
    );

    await attach("time");
    expect(await reason(keyless)).toContain("signed entry timestamp does not verify");
    await attach("entry");
    expect(await reason(keyless)).toContain("log entry is for another signature");
  });
});
