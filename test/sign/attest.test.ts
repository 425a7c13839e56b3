// Attestations: in-toto statements in DSSE envelopes, stored in the `.att` tag
// (docker-registry) or as bundle referrers (OCI 1.1 registry), and cosign's own
// DSSE fixtures from verify_blob_attestation_test.go, which must verify or be
// rejected exactly as cosign's test expects.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseManifest } from "../../src/oci/manifest.js";
import { parseLocation } from "../../src/oci/transports/location.js";
import { parseBundle } from "../../src/sign/bundle.js";
import { envelopePayload, parseEnvelope, preAuthEncoding } from "../../src/sign/dsse.js";
import { PREDICATE_TYPES, predicateTypeFor } from "../../src/sign/intoto.js";
import {
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  type PrivateKey,
  type PublicKey,
  parsePublicKey,
} from "../../src/sign/keys.js";
import { attestImage, signImage } from "../../src/sign/sign-image.js";
import { legacyTag, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { verifyAttestations, verifyBlobAttestation } from "../../src/sign/verify.js";
import { type Oci11Registry, startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { COSIGN_TESTDATA, cosignFixture } from "./helpers.js";
import { pushImage, repoOn } from "./images.js";

let dr: TestRegistry;
let api: Oci11Registry;
let alice: PrivateKey;
let mallory: PublicKey;
const provenance = {
  buildDefinition: { buildType: "https://example.com/build/v1" },
  runDetails: { builder: { id: "b" } },
};

beforeAll(async () => {
  [dr, api] = await Promise.all([startRegistry(), startOci11Registry()]);
  const [a, m] = await Promise.all([generateKeyPair("a"), generateKeyPair("m")]);
  alice = await loadPrivateKey(a.privatePem, "a");
  mallory = parsePublicKey(m.publicPem, "mallory.pub");
});

afterAll(async () => {
  await Promise.all([dr?.stop(), api?.stop()]);
});

const at = (host: string, ref: string) => parseLocation(`${host}/${ref}`);

describe("DSSE", () => {
  it("PAE is the spec's encoding (protocol.md test vector)", () => {
    expect(preAuthEncoding("http://example.com/HelloWorld", Buffer.from("hello world")).toString()).toBe(
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
    // Lengths are bytes, not characters.
    expect(preAuthEncoding("t", Buffer.from("é")).toString()).toBe("DSSEv1 1 t 2 é");
  });

  it("cosign's --type names map to cosign's predicate URIs; URIs pass through; others are refused", () => {
    expect(predicateTypeFor("slsaprovenance")).toBe("https://slsa.dev/provenance/v0.2");
    expect(predicateTypeFor("slsaprovenance1")).toBe("https://slsa.dev/provenance/v1");
    expect(predicateTypeFor("spdxjson")).toBe("https://spdx.dev/Document");
    expect(predicateTypeFor("cyclonedx")).toBe("https://cyclonedx.org/bom");
    expect(predicateTypeFor("vuln")).toBe("https://cosign.sigstore.dev/attestation/vuln/v1");
    expect(predicateTypeFor("openvex")).toBe("https://openvex.dev/ns");
    expect(predicateTypeFor("custom")).toBe("https://cosign.sigstore.dev/attestation/v1");
    expect(predicateTypeFor("https://example.com/p/v1")).toBe("https://example.com/p/v1");
    expect(() => predicateTypeFor("slsa")).toThrow(/unknown attestation type/);
    expect(Object.keys(PREDICATE_TYPES)).toContain("link");
  });
});

describe("cosign's blob attestation fixtures (verify_blob_attestation_test.go)", () => {
  const subjects = JSON.parse(cosignFixture("blob-attestation-subjects.json"));
  let key: PublicKey;
  beforeAll(async () => {
    key = await loadPublicKey(`${COSIGN_TESTDATA}/blob-attestation.pub`);
    expect(createHash("sha256").update(subjects.blobContents).digest("hex")).toBe(subjects.blobSha256);
  });

  it("verifies the SLSA provenance envelope and the multiple-subjects one for the blob", () => {
    for (const name of ["blobSLSAProvenanceSignature", "dssePredicateMultipleSubjects"]) {
      const result = verifyBlobAttestation(cosignFixture(`${name}.dsse.json`), [key], subjects.blobSha256);
      expect(result.ok, name).toBe(true);
      if (result.ok) expect(result.statement.predicateType).toBe("https://slsa.dev/provenance/v0.2");
    }
    expect(
      verifyBlobAttestation(
        cosignFixture("blobSLSAProvenanceSignature.dsse.json"),
        [key],
        subjects.blobSha256,
        "slsaprovenance",
      ).ok,
    ).toBe(true);
  });

  it("rejects the empty-subject, missing-sha256 and wrong-subjects envelopes, as cosign does", () => {
    for (const name of [
      "dssePredicateEmptySubject",
      "dssePredicateMissingSha256",
      "dssePredicateMultipleSubjectsInvalid",
    ]) {
      const result = verifyBlobAttestation(cosignFixture(`${name}.dsse.json`), [key], subjects.blobSha256);
      expect(result.ok, name).toBe(false);
      if (!result.ok) expect(result.reason, name).toContain("do not include");
    }
  });

  it("rejects another blob, another key, another predicate type and a tampered payload", () => {
    const valid = cosignFixture("blobSLSAProvenanceSignature.dsse.json");
    const other = createHash("sha256").update(subjects.anotherBlobContents).digest("hex");
    expect(verifyBlobAttestation(valid, [key], other).ok).toBe(false);
    expect(verifyBlobAttestation(valid, [mallory], subjects.blobSha256).ok).toBe(false);
    expect(verifyBlobAttestation(valid, [key], subjects.blobSha256, "slsaprovenance1").ok).toBe(false);
    const envelope = parseEnvelope(valid, "fixture");
    const edited = envelopePayload(envelope).toString().replace('"id":"2"', '"id":"3"');
    const tampered = JSON.stringify({ ...envelope, payload: Buffer.from(edited).toString("base64") });
    const result = verifyBlobAttestation(tampered, [key], subjects.blobSha256);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("does not verify");
  });

  it("reads the keyless bundle oci-attestation.sigstore.json and will not accept it for a key", () => {
    const bundle = parseBundle(cosignFixture("oci-attestation.sigstore.json"), "fixture");
    expect(bundle.verificationMaterial.certificate?.rawBytes).toBeTruthy();
    expect(bundle.verificationMaterial.tlogEntries?.[0]?.kindVersion).toEqual({
      kind: "dsse",
      version: "0.0.1",
    });
    const statement = JSON.parse(
      envelopePayload(bundle.dsseEnvelope ?? { payload: "", payloadType: "", signatures: [] }).toString(),
    );
    expect(statement.predicateType).toBe("https://cosign.sigstore.dev/attestation/v1");
    expect(() => parseBundle(JSON.stringify({ ...bundle, mediaType: "application/json" }), "x")).toThrow(
      /not a Sigstore bundle/,
    );
  });
});

describe("image attestations", () => {
  it("legacy: a DSSE layer in the .att tag with the predicateType annotation; verify-attestation checks it", async () => {
    const repo = repoOn(dr.host, "att/app");
    const image = await pushImage(repo, "1", "att-app");
    const loc = at(dr.host, "att/app:1");
    const attested = await attestImage(loc, alice, { predicate: provenance, type: "slsaprovenance1" });
    expect(attested.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(attested.images[0]?.tag).toBe(legacyTag(image.digest, "att"));

    const att = await repo.getManifest(legacyTag(image.digest, "att"));
    const parsed = parseManifest(att.bytes, att.mediaType, "att");
    if (parsed.kind !== "manifest") throw new Error("expected a manifest");
    expect(parsed.manifest.layers[0]?.mediaType).toBe("application/vnd.dsse.envelope.v1+json");
    expect(parsed.manifest.layers[0]?.annotations?.predicateType).toBe("https://slsa.dev/provenance/v1");
    const [layer] = await readLegacyLayers(repo, image.digest, "att");
    const envelope = parseEnvelope(layer?.bytes ?? "", "att");
    expect(envelope.payloadType).toBe("application/vnd.in-toto+json");
    expect(JSON.parse(envelopePayload(envelope).toString())).toEqual({
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: `${dr.host}/att/app`, digest: { sha256: image.digest.slice(7) } }],
      predicateType: "https://slsa.dev/provenance/v1",
      predicate: provenance,
    });

    const ok = await verifyAttestations(loc, [alice.publicKey], { predicateType: "slsaprovenance1" });
    expect(ok.verified).toBe(true);
    expect(ok.attestations[0]?.statement.predicate).toEqual(provenance);
    const wrongType = await verifyAttestations(loc, [alice.publicKey], { predicateType: "cyclonedx" });
    expect(wrongType.verified).toBe(false);
    expect(wrongType.reasons[0]).toContain("not https://cyclonedx.org/bom");
    expect((await verifyAttestations(loc, [mallory])).verified).toBe(false);

    // A second predicate type is appended next to the first.
    await attestImage(loc, alice, { predicate: { bomFormat: "CycloneDX" }, type: "cyclonedx" });
    expect(await readLegacyLayers(repo, image.digest, "att")).toHaveLength(2);
    expect(
      (await verifyAttestations(loc, [alice.publicKey])).attestations.map((a) => a.predicateType),
    ).toEqual(["https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom"]);
    // The same statement again is skipped; --replace swaps the earlier one of its type, keeps the other.
    const again = await attestImage(loc, alice, { predicate: provenance, type: "slsaprovenance1" });
    expect(again.images[0]?.duplicate).toBe(true);
    const newer = { ...provenance, runDetails: { builder: { id: "b2" } } };
    const replaced = await attestImage(loc, alice, {
      predicate: newer,
      type: "slsaprovenance1",
      replace: true,
    });
    expect(replaced.images[0]?.replaced).toBe(1);
    const now = await verifyAttestations(loc, [alice.publicKey]);
    expect(now.attestations.map((a) => [a.predicateType, a.statement.predicate])).toEqual([
      ["https://cyclonedx.org/bom", { bomFormat: "CycloneDX" }],
      ["https://slsa.dev/provenance/v1", newer],
    ]);
  });

  it("legacy: an attestation copied to another image fails on its subject", async () => {
    const repo = repoOn(dr.host, "att/confused");
    const good = await pushImage(repo, "good", "att-good");
    const evil = await pushImage(repo, "evil", "att-evil");
    await attestImage(at(dr.host, "att/confused:good"), alice, {
      predicate: provenance,
      type: "slsaprovenance1",
    });
    await repo.writeManifest(
      await repo.getManifest(legacyTag(good.digest, "att")),
      legacyTag(evil.digest, "att"),
    );
    const result = await verifyAttestations(at(dr.host, "att/confused:evil"), [alice.publicKey]);
    expect(result.verified).toBe(false);
    expect(result.reasons[0]).toContain(`do not include ${evil.digest}`);
  });

  it("bundle: an attestation referrer verifies; a signature bundle is not taken for an attestation", async () => {
    const repo = repoOn(api.host, "att/bundle");
    await pushImage(repo, "1", "att-bundle");
    const loc = at(api.host, "att/bundle:1");
    await signImage(loc, alice, { mode: "oci-1-1" });
    expect((await verifyAttestations(loc, [alice.publicKey])).verified).toBe(false);
    await attestImage(loc, alice, { predicate: { vulnerabilities: [] }, type: "vuln", mode: "oci-1-1" });
    const result = await verifyAttestations(loc, [alice.publicKey], { predicateType: "vuln" });
    expect(result.verified).toBe(true);
    expect(result.attestations.map((a) => [a.layout, a.predicateType])).toEqual([
      ["bundle", "https://cosign.sigstore.dev/attestation/vuln/v1"],
    ]);
  });
});

describe("the promotion gate's provenance check on an image", () => {
  it("accepts signed provenance from the expected builder and repository, nothing else", async () => {
    const { generateProvenance } = await import("../../src/sign/provenance.js");
    const { verifyImageProvenance } = await import("../../src/sign/provenance-gate.js");
    const repo = repoOn(dr.host, "att/gate");
    const image = await pushImage(repo, "1", "att-gate");
    const loc = at(dr.host, "att/gate:1");
    const env = {
      GITHUB_ACTIONS: "true",
      GITHUB_REPOSITORY: "acme/shop",
      GITHUB_SHA: "a".repeat(40),
      GITHUB_RUN_ID: "1",
    };
    const expected = {
      builderId: "https://github.com/actions/runner",
      sourceRepo: "https://github.com/acme/shop",
    };
    expect((await verifyImageProvenance(loc, [alice.publicKey], expected)).reasons[0]).toContain(
      "no signed SLSA provenance",
    );

    const statement = generateProvenance(env, { name: `${dr.host}/att/gate`, digest: image.digest });
    await attestImage(loc, alice, { predicate: statement.predicate, type: "slsaprovenance1" });
    const ok = await verifyImageProvenance(loc, [alice.publicKey], expected);
    expect(ok.ok).toBe(true);
    expect(ok.accepted).toHaveLength(1);
    const otherRepo = await verifyImageProvenance(loc, [alice.publicKey], {
      ...expected,
      sourceRepo: "https://github.com/acme/fork",
    });
    expect(otherRepo.ok).toBe(false);
    expect(otherRepo.reasons[0]).toContain("is not https://github.com/acme/fork");
    // Signed by a key the gate does not trust: it does not count.
    expect((await verifyImageProvenance(loc, [mallory], expected)).ok).toBe(false);
  });
});
