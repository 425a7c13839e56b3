// Byte- and field-level comparisons with what cosign itself writes and reads,
// each against cosign's source (sigstore/cosign d6d86c22 and the libraries it
// pins) or its fixtures in ../shared/cosign-testdata:
// - the simple-signing payload goes through Go's encoding/json
//   (sigstore/sigstore pkg/signature/payload): map keys sorted, <>& escaped;
// - docker-reference and statement subjects name Docker Hub as
//   go-containerregistry does (index.docker.io);
// - new keys use go-securesystemslib's default scrypt set (N=2^16), the same
//   envelope shape as cosign's fixtures;
// - `-a` annotations match only string values (correctAnnotations);
// - bundle referrers are found by cosign's media-type prefix, and carry an
//   RFC 3339 creation time in whole seconds as cosign writes it.
import { cpSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { pushArtifact } from "../../src/oci/artifact.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { openDest, openSource } from "../../src/oci/transports/open.js";
import { listAttachments } from "../../src/sign/attachments.js";
import { keyedDsseBundle } from "../../src/sign/bundle.js";
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from "../../src/sign/dsse.js";
import { COSIGN_SIGN_PREDICATE, cosignPredicate, makeStatement } from "../../src/sign/intoto.js";
import {
  generateKeyPair,
  loadPrivateKey,
  loadPrivateKeyTrying,
  pemDecode,
  signBytes,
} from "../../src/sign/keys.js";
import { readPasswordCandidates } from "../../src/sign/password.js";
import { signImage } from "../../src/sign/sign-image.js";
import {
  checkSimpleSigning,
  missingAnnotations,
  simpleSigningPayload,
} from "../../src/sign/simple-signing.js";
import { repositoryName } from "../../src/sign/targets.js";
import { verifyImage } from "../../src/sign/verify.js";
import { makeTempDir } from "../harness/util.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES } from "../helpers/cli.js";
import { cosignFixture } from "./helpers.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("simple-signing payload bytes", () => {
  it("is what json.Marshal(payload.SimpleContainerImage) writes: optional null without annotations", () => {
    expect(simpleSigningPayload("registry.example/team/app", DIGEST).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"registry.example/team/app"},` +
        `"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},` +
        `"optional":null}`,
    );
  });

  it("sorts the optional map's keys and HTML-escapes strings, as Go's encoder does", () => {
    const bytes = simpleSigningPayload("registry.example/app", DIGEST, {
      zeta: "1",
      "build<&>": "a&b <c>",
      alpha: "line\u2028sep",
    });
    expect(bytes.toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"registry.example/app"},` +
        `"image":{"docker-manifest-digest":"${DIGEST}"},"type":"cosign container image signature"},` +
        `"optional":{"alpha":"line\\u2028sep","build\\u003c\\u0026\\u003e":"a\\u0026b \\u003cc\\u003e","zeta":"1"}}`,
    );
    // Still the same JSON document.
    expect(JSON.parse(bytes.toString()).optional["build<&>"]).toBe("a&b <c>");
  });
});

describe("repository names", () => {
  it("names Docker Hub index.docker.io, as go-containerregistry's Repository.Name() does", () => {
    expect(repositoryName(parseLocation("alpine:3.20"))).toBe("index.docker.io/library/alpine");
    expect(repositoryName(parseLocation("docker.io/acme/tool@" + DIGEST))).toBe("index.docker.io/acme/tool");
    expect(repositoryName(parseLocation("localhost:5000/team/app:1"))).toBe("localhost:5000/team/app");
    expect(repositoryName(parseLocation("ghcr.io/acme/app:1"))).toBe("ghcr.io/acme/app");
  });
});

describe("encrypted key envelope", () => {
  it("has the shape of cosign's fixtures and go-securesystemslib's default scrypt parameters", async () => {
    const decode = (pem: string) => JSON.parse(pemDecode(pem, "key").body.toString("utf8"));
    const cosign = decode(cosignFixture("pemsigstorekey.pem"));
    const ours = decode((await generateKeyPair("hello")).privatePem);
    const shape = (o: unknown): unknown =>
      typeof o === "object" && o !== null
        ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shape(v)]))
        : typeof o;
    expect(JSON.stringify(shape(ours))).toBe(JSON.stringify(shape(cosign)));
    expect(ours.kdf.params).toEqual({ N: 65536, r: 8, p: 1 });
    // pemcosigneckey is the fixture made with the go-securesystemslib cosign pins (v0.11.0);
    // the older two were written when the default was still N=2^15.
    expect(ours.kdf.params).toEqual(decode(cosignFixture("pemcosigneckey.pem")).kdf.params);
    expect(Buffer.from(ours.kdf.salt, "base64")).toHaveLength(32);
    expect(Buffer.from(ours.cipher.nonce, "base64")).toHaveLength(24);
  });
});

describe("payload decoding", () => {
  const payload = (optional: string) =>
    Buffer.from(
      `{"critical":{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"${DIGEST}"},` +
        `"type":"cosign container image signature"},"optional":${optional}}`,
    );
  it("refuses an optional section cosign's json.Unmarshal into a map cannot decode", () => {
    for (const bad of ['"x"', "[1]", "3", "true"]) {
      expect(checkSimpleSigning(payload(bad), DIGEST).ok, bad).toBe(false);
    }
    for (const good of ["null", "{}", '{"k":"v","n":1}']) {
      expect(checkSimpleSigning(payload(good), DIGEST).ok, good).toBe(true);
    }
  });
});

describe("annotation matching", () => {
  it("matches string values only, as cosign's correctAnnotations compares them", () => {
    expect(missingAnnotations({ n: 1, ok: true, s: "1" }, { n: "1", ok: "true", s: "1" })).toEqual([
      "n=1",
      "ok=true",
    ]);
  });
});

describe("bundle referrers", () => {
  it("are written with cosign's created-time form and read under either bundle media-type spelling", async () => {
    const dir = join(makeTempDir("shipgate-sign-formats-"), "layout");
    cpSync(SHARED_IMAGES, dir, { recursive: true });
    const at = parseLocation(`oci:${dir}:debian-base`);
    const key = await loadPrivateKey((await generateKeyPair("k")).privatePem, "k");

    await signImage(at, key, { mode: "oci-1-1" });
    const source = await openSource(at);
    let subject = { mediaType: "", digest: DEBIAN_BASE_DIGEST, size: 0 };
    try {
      const image = await source.getManifest(DEBIAN_BASE_DIGEST);
      subject = { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length };
      const [referrer] = await source.listReferrers(DEBIAN_BASE_DIGEST);
      const manifest = JSON.parse((await source.getManifest(referrer?.digest ?? "")).bytes.toString());
      expect(manifest.annotations["org.opencontainers.image.created"]).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      );
      expect(manifest.annotations["dev.sigstore.bundle.content"]).toBe("dsse-envelope");
      expect(manifest.annotations["dev.sigstore.bundle.predicateType"]).toBe(COSIGN_SIGN_PREDICATE);
      expect(manifest.config.mediaType).toBe("application/vnd.oci.empty.v1+json");
    } finally {
      await source.close?.();
    }

    // A second signer's bundle, stored under the media type's older spelling,
    // which cosign's GetBundles accepts (prefix "application/vnd.dev.sigstore.bundle").
    const other = await loadPrivateKey((await generateKeyPair("o")).privatePem, "o");
    const statement = makeStatement(
      [{ digest: { sha256: DEBIAN_BASE_DIGEST.slice(7) } }],
      COSIGN_SIGN_PREDICATE,
      {},
    );
    const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), other);
    const spelling = "application/vnd.dev.sigstore.bundle+json;version=0.3";
    const bundle = { ...keyedDsseBundle(envelope, other.publicKey), mediaType: spelling };
    const dest = await openDest(at);
    try {
      await pushArtifact(dest, {
        artifactType: spelling,
        layers: [{ bytes: Buffer.from(JSON.stringify(bundle)), mediaType: spelling }],
        subject,
      });
    } finally {
      await dest.close?.();
    }
    const result = await verifyImage(at, [other.publicKey], { layouts: ["bundle"] });
    expect(result.reasons).toEqual([]);
    expect(result.verified).toBe(true);
    expect(result.signatures.map((s) => s.layout)).toEqual(["bundle"]);
  });
});

describe("cosign's experimental signature referrers", () => {
  it("a .sig manifest pushed as a referrer (WriteSignaturesExperimentalOCI) verifies and is listed as a signature", async () => {
    const dir = join(makeTempDir("shipgate-sign-formats-"), "layout");
    cpSync(SHARED_IMAGES, dir, { recursive: true });
    const at = parseLocation(`oci:${dir}:debian-base`);
    const key = await loadPrivateKey((await generateKeyPair("k")).privatePem, "k");
    const source = await openSource(at);
    const image = await source.getManifest(DEBIAN_BASE_DIGEST);
    await source.close?.();
    const payload = simpleSigningPayload("index.docker.io/library/debian", DEBIAN_BASE_DIGEST, {
      by: "cosign",
    });
    const artifactType = "application/vnd.dev.cosign.artifact.sig.v1+json";
    const dest = await openDest(at);
    let referrer = "";
    try {
      // As cosign writes it: the .sig image, its config media type replaced by the artifact type.
      referrer = (
        await pushArtifact(dest, {
          artifactType,
          config: { bytes: Buffer.from('{"architecture":"","os":""}'), mediaType: artifactType },
          layers: [
            {
              bytes: payload,
              mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
              annotations: {
                "dev.cosignproject.cosign/signature": signBytes(key, payload).toString("base64"),
              },
            },
          ],
          subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length },
        })
      ).digest;
    } finally {
      await dest.close?.();
    }
    const result = await verifyImage(at, [key.publicKey], { annotations: { by: "cosign" } });
    expect(result.reasons).toEqual([]);
    expect(result.signatures.map((s) => [s.layout, s.foundIn])).toEqual([["legacy", referrer]]);
    // Not found through the tag-only path, which costs no referrers listing.
    expect((await verifyImage(at, [key.publicKey], { layouts: ["legacy"] })).verified).toBe(false);
    const tree = await listAttachments(at);
    expect(tree.attachments.map((a) => a.type)).toEqual(["signature"]);
  });
});

describe("piped passwords", () => {
  it("are tried as cosign reads them too (io.ReadAll of stdin keeps the newline)", async () => {
    const piped = (text: string) => readPasswordCandidates("k", { env: {}, input: Readable.from([text]) });
    expect(await piped("hello\n")).toEqual(["hello", "hello\n"]);
    expect(await piped("hello")).toEqual(["hello"]);
    expect(await piped("hello\r\nmore")).toEqual(["hello", "hello\r\n"]);
    // A key made by `echo hello | cosign generate-key-pair`: its password is "hello\n".
    const { privatePem } = await generateKeyPair("hello\n");
    const key = await loadPrivateKeyTrying(privatePem, await piped("hello\n"), "cosign.key");
    expect(key.publicKey.key.asymmetricKeyType).toBe("ec");
    // cosign's own fixture (password "hello") still loads from the first candidate; a wrong one fails as before.
    await loadPrivateKeyTrying(cosignFixture("pemsigstorekey.pem"), await piped("hello\n"));
    await expect(loadPrivateKeyTrying(privatePem, await piped("nope\n"))).rejects.toMatchObject({
      code: "PASSWORD_INCORRECT",
    });
  });
});

describe("attestation predicates", () => {
  it("are built from the predicate file as cosign's GenerateStatement builds them", () => {
    const now = new Date("2026-12-04T04:05:06.789Z");
    const text = '{"build": "ok"}\n';
    // custom (cosign's default --type): the file's text, wrapped (COSIGN_PREDICATE_SPEC.md).
    expect(cosignPredicate("custom", text, now)).toEqual({ Data: text, Timestamp: "2026-12-04T04:05:06Z" });
    expect(cosignPredicate("custom", "[1, 2]", now)).toEqual({
      Data: "[1, 2]",
      Timestamp: "2026-12-04T04:05:06Z",
    });
    // cosign would wrap any text; shipgate refuses what is not JSON (a wrong file, most likely).
    expect(() => cosignPredicate("custom", "{nope", now)).toThrow(/not JSON/);
    // spdx (tag-value): the text as a string; the JSON types: the object itself.
    expect(cosignPredicate("spdx", "SPDXVersion: SPDX-2.3\n")).toBe("SPDXVersion: SPDX-2.3\n");
    expect(cosignPredicate("cyclonedx", text)).toEqual({ build: "ok" });
    expect(cosignPredicate("https://example.com/predicate/v1", text)).toEqual({ build: "ok" });
    for (const bad of ["[1]", '"s"', "{"]) {
      expect(() => cosignPredicate("slsaprovenance1", bad), bad).toThrow(/predicate/);
    }
  });
});
