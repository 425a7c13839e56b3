// Keyless attestations in the legacy `.att` layout logged as Rekor `dsse`
// 0.0.1 entries, cosign's default since v2.2 (and shipgate's): the layer holds
// byte for byte the envelope string Rekor was sent, so the entry's envelope
// hash (which Rekor computes over that string) is the layer's sha256, as
// cosign's VerifyBundle requires. Against local Fulcio and Rekor stand-ins
// (the Rekor one checks every entry as Rekor's dsse type does before logging
// it), a real docker-registry, shipgate's verifier, and sigstore-js's
// (@sigstore/verify, which nobody here wrote) as the oracle.
import { X509Certificate } from "node:crypto";
import { toSignedEntity } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushArtifact } from "../../src/oci/artifact.js";
import { MediaType } from "../../src/oci/mediatypes.js";
import { parseEnvelope } from "../../src/sign/dsse.js";
import { REKOR_BUNDLE_ANNOTATION } from "../../src/sign/keyless-legacy.js";
import { attestImageKeyless, type KeylessAttestOptions } from "../../src/sign/keyless-sign.js";
import { legacyTag, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { verifyAttestations } from "../../src/sign/verify.js";
import { pushImage } from "./images.js";
import {
  type LegacyAtt as Att,
  b64,
  rekorBody as bodyOf,
  type KeylessFixture,
  legacyAsBundle,
  legacyAttVerdict,
  postEntry,
  sha256hex,
  startKeyless,
} from "./sigstore/fixture.js";

const ISSUER = "https://oidc.test";
const ERIN = "erin@example.com";
const identity = { certificateIdentity: ERIN, certificateOidcIssuer: ISSUER };
const erin = { subjectAlternativeName: ERIN, extensions: { issuer: ISSUER } };

let fx: KeylessFixture;
beforeAll(async () => {
  fx = await startKeyless("dsse-fulcio", ISSUER);
});

afterAll(() => fx?.stop());

const signing = () => fx.signing(fx.emailToken(ERIN), { retries: 0 });
const attestLegacy = (path: string, options: Partial<KeylessAttestOptions> & { index?: boolean } = {}) =>
  fx.attestLegacy(path, signing(), options);
const legacyReason = (att: Att, over: Partial<Att> = {}) =>
  legacyAttVerdict({ ...att, ...over }, fx.root, identity);
const asBundle = (att: Att) => legacyAsBundle(att.certPem, att.annotations, { dsseEnvelope: att.envelope });

describe("attest --keyless, legacy .att, by default: a dsse 0.0.1 entry over the layer's very bytes", () => {
  it("proposes cosign's dsse entry; the log's envelope hash is the stored layer's sha256; verifies by identity and issuer", async () => {
    const { atts, proposed } = await attestLegacy("dsse/legacy");
    const [att] = atts;
    if (att === undefined) throw new Error("no attestation");
    // What was proposed: cosign's dsse entry (TLogUploadDSSEEnvelope), the envelope string the layer holds.
    expect(proposed).toEqual([
      {
        apiVersion: "0.0.1",
        kind: "dsse",
        spec: { proposedContent: { envelope: att.bytes.toString("utf8"), verifiers: [b64(att.certPem)] } },
      },
    ]);
    // cosign's serialization (go-securesystemslib): payloadType, payload, signatures [{keyid, sig}].
    expect(Object.keys(JSON.parse(att.bytes.toString("utf8")))).toEqual([
      "payloadType",
      "payload",
      "signatures",
    ]);
    // What was logged: Rekor's canonical dsse body.
    const body = bodyOf(att.annotations);
    expect(body).toEqual({
      apiVersion: "0.0.1",
      kind: "dsse",
      spec: {
        envelopeHash: { algorithm: "sha256", value: sha256hex(att.bytes) },
        payloadHash: { algorithm: "sha256", value: sha256hex(Buffer.from(att.envelope.payload, "base64")) },
        signatures: [
          {
            signature: att.envelope.signatures[0]?.sig,
            verifier: b64(new X509Certificate(att.certPem).toString()),
          },
        ],
      },
    });
    // The blob the registry serves under the .att manifest's layer digest is those bytes.
    const repo = fx.repo("dsse/legacy");
    const [layer] = await readLegacyLayers(repo, att.digest, "att");
    expect(layer?.descriptor.digest).toBe(`sha256:${body.spec.envelopeHash.value}`);

    const loc = fx.at("dsse/legacy:1");
    const ok = await verifyAttestations(loc, [], {
      keyless: fx.keyless(identity),
      predicateType: "slsaprovenance1",
    });
    expect(ok.verified, ok.reasons.join("\n")).toBe(true);
    expect(ok.attestations[0]?.key).toBe(`keyless:${ERIN} (${ISSUER})`);
    expect(ok.attestations[0]?.statement.predicate).toEqual({ buildType: "dsse/legacy" });
    const other = await verifyAttestations(loc, [], {
      keyless: fx.keyless({ certificateIdentity: "eve@example.com" }),
    });
    expect(other.verified).toBe(false);
    expect(other.reasons[0]).toContain("not eve@example.com");
    const otherIssuer = await verifyAttestations(loc, [], {
      keyless: fx.keyless({ ...identity, certificateOidcIssuer: "https://other.test" }),
    });
    expect(otherIssuer.verified).toBe(false);
    expect(otherIssuer.reasons[0]).toContain("OIDC issuer");
  });

  it("rekorEntryType dsse, asked for, is the same entry; intoto is the other", async () => {
    const dsse = await attestLegacy("dsse/asked", { rekorEntryType: "dsse" });
    expect(dsse.proposed.map((e) => `${e.kind} ${e.apiVersion}`)).toEqual(["dsse 0.0.1"]);
    const intoto = await attestLegacy("dsse/intoto", { rekorEntryType: "intoto" });
    expect(intoto.proposed.map((e) => `${e.kind} ${e.apiVersion}`)).toEqual(["intoto 0.0.1"]);
    for (const path of ["dsse/asked", "dsse/intoto"]) {
      const ok = await verifyAttestations(fx.at(`${path}:1`), [], {
        keyless: fx.keyless(identity),
      });
      expect(ok.verified, `${path}: ${ok.reasons.join("\n")}`).toBe(true);
    }
  });

  it("refuses edited layer bytes in the registry, even the same envelope re-serialized", async () => {
    const { atts } = await attestLegacy("dsse/rewritten");
    const [att] = atts;
    if (att === undefined) throw new Error("no attestation");
    const repo = fx.repo("dsse/rewritten");
    const loc = fx.at("dsse/rewritten:1");
    const rewrite = (bytes: Buffer) =>
      pushArtifact(repo, {
        layers: [{ bytes, mediaType: "application/vnd.dsse.envelope.v1+json", annotations: att.annotations }],
        config: { bytes: Buffer.from("{}"), mediaType: MediaType.ociConfig },
        tag: legacyTag(att.digest, "att"),
      });
    const verdict = async () => verifyAttestations(loc, [], { keyless: fx.keyless(identity) });

    // The same layer pushed again (a control: the rewrite itself changes nothing).
    await rewrite(att.bytes);
    expect((await verdict()).verified).toBe(true);
    // The same envelope, same content, in @sigstore/bundle's field order: other bytes than the log hashed.
    const reordered = Buffer.from(
      JSON.stringify({
        payload: att.envelope.payload,
        payloadType: att.envelope.payloadType,
        signatures: att.envelope.signatures,
      }),
    );
    expect(parseEnvelope(reordered, "reordered")).toEqual(att.envelope);
    await rewrite(reordered);
    const refused = await verdict();
    expect(refused.verified).toBe(false);
    expect(refused.reasons.join("\n")).toContain("the log entry is for another signature");
    // Whitespace only.
    await rewrite(Buffer.from(JSON.stringify(att.envelope, null, 2)));
    expect((await verdict()).reasons.join("\n")).toContain("the log entry is for another signature");
    // An edited statement (the signature no longer verifies, nor does the entry match).
    const statement = JSON.parse(Buffer.from(att.envelope.payload, "base64").toString("utf8"));
    statement.predicate.buildType = "edited";
    await rewrite(Buffer.from(JSON.stringify({ ...att.envelope, payload: b64(JSON.stringify(statement)) })));
    expect((await verdict()).verified).toBe(false);
  });

  it("refuses another envelope's entry under the same certificate, and a body bent after logging", async () => {
    const { atts } = await attestLegacy("dsse/tamper", { index: true });
    const [a, b] = atts;
    if (a === undefined || b === undefined) throw new Error("two attestations expected");
    expect(a.certPem).toBe(b.certPem);
    expect(legacyReason(a)).toBe("ok");
    expect(legacyReason(b)).toBe("ok");
    const swapped = {
      ...a.annotations,
      [REKOR_BUNDLE_ANNOTATION]: b.annotations[REKOR_BUNDLE_ANNOTATION] ?? "",
    };
    expect(legacyReason(a, { annotations: swapped })).toContain("the log entry is for another signature");
    // b's bytes under a's entry: the envelope hash is a's.
    expect(legacyReason(a, { bytes: b.bytes })).toContain("the log entry is for another signature");
    // The envelope hash bent to other bytes: the SET no longer covers the body.
    const rekorBundle = JSON.parse(a.annotations[REKOR_BUNDLE_ANNOTATION] ?? "{}");
    const body = bodyOf(a.annotations);
    const respaced = Buffer.from(JSON.stringify(a.envelope, null, 1));
    body.spec.envelopeHash.value = sha256hex(respaced);
    rekorBundle.Payload.body = b64(JSON.stringify(body));
    expect(
      legacyReason(a, {
        bytes: respaced,
        annotations: { ...a.annotations, [REKOR_BUNDLE_ANNOTATION]: JSON.stringify(rekorBundle) },
      }),
    ).toContain("the signed entry timestamp does not verify");
  });

  it("sigstore-js accepts the v0.1 bundle the .att annotations make, and refuses it for an edited envelope", async () => {
    const { atts } = await attestLegacy("dsse/oracle");
    const [att] = atts;
    if (att === undefined) throw new Error("no attestation");
    const signer = fx.oracle.verify(toSignedEntity(asBundle(att)), erin);
    expect(signer.identity?.subjectAlternativeName).toBe(ERIN);
    expect(signer.identity?.extensions?.issuer).toBe(ISSUER);
    expect(() =>
      fx.oracle.verify(toSignedEntity(asBundle(att)), {
        ...erin,
        subjectAlternativeName: "eve@example.com",
      }),
    ).toThrow();
    const statement = JSON.parse(Buffer.from(att.envelope.payload, "base64").toString("utf8"));
    statement.predicate.buildType = "edited";
    const edited = { ...att, envelope: { ...att.envelope, payload: b64(JSON.stringify(statement)) } };
    expect(() => fx.oracle.verify(toSignedEntity(asBundle(edited)), erin)).toThrow();
  });

  it("a bundle referrer always logs dsse: intoto with oci-1-1 is a usage error, before any request", async () => {
    await pushImage(fx.repo("dsse/bundle"), "1", "dsse-bundle");
    const [fulcioBefore, rekorBefore] = [fx.fulcio.requests.length, fx.rekor.entries.length];
    const loc = fx.at("dsse/bundle:1");
    const base = { predicate: {}, type: "slsaprovenance1", mode: "oci-1-1" as const };
    await expect(
      attestImageKeyless(loc, signing(), { ...base, rekorEntryType: "intoto" }),
    ).rejects.toMatchObject({
      code: "USAGE",
      message: expect.stringContaining("always logs a dsse entry, not intoto"),
    });
    await expect(
      attestImageKeyless(loc, signing(), {
        ...base,
        mode: "legacy",
        rekorEntryType: "hashedrekord" as "dsse",
      }),
    ).rejects.toMatchObject({ code: "USAGE", message: expect.stringContaining("must be dsse or intoto") });
    expect([fx.fulcio.requests.length, fx.rekor.entries.length]).toEqual([fulcioBefore, rekorBefore]);
    await attestImageKeyless(loc, signing(), { ...base, rekorEntryType: "dsse" });
    expect(fx.rekor.entries.slice(rekorBefore).map((e) => `${e.kind} ${e.apiVersion}`)).toEqual([
      "dsse 0.0.1",
    ]);
  });
});

describe("the Rekor stand-in checks dsse entries as Rekor's dsse 0.0.1 type does", () => {
  const post = (proposed: unknown) => postEntry(fx.rekor, proposed);
  const dsse = (spec: Record<string, unknown>) => ({ apiVersion: "0.0.1", kind: "dsse", spec });

  it("hashes the envelope string as submitted, and refuses forged, unverifiable or server-side fields", async () => {
    const { atts } = await attestLegacy("dsse/standin");
    const [att] = atts;
    if (att === undefined) throw new Error("no attestation");
    const verifiers = [b64(att.certPem)];
    // Another serialization of the same envelope is accepted, and logged under its own hash.
    const respaced = JSON.stringify(att.envelope, null, 2);
    const accepted = await post(dsse({ proposedContent: { envelope: respaced, verifiers } }));
    expect(accepted.status, accepted.text).toBe(201);
    const [entry] = Object.values(JSON.parse(accepted.text) as Record<string, { body: string }>);
    const body = JSON.parse(Buffer.from(entry?.body ?? "", "base64").toString("utf8"));
    expect(body.spec.envelopeHash.value).toBe(sha256hex(respaced));
    expect(body.spec.envelopeHash.value).not.toBe(sha256hex(att.bytes));
    expect(body.spec.payloadHash.value).toBe(sha256hex(Buffer.from(att.envelope.payload, "base64")));

    const statement = JSON.parse(Buffer.from(att.envelope.payload, "base64").toString("utf8"));
    statement.predicate.buildType = "forged";
    const forged = JSON.stringify({ ...att.envelope, payload: b64(JSON.stringify(statement)) });
    const refusals: [unknown, string][] = [
      [dsse({ proposedContent: { envelope: forged, verifiers } }), "could not verify envelope"],
      [
        dsse({ proposedContent: { envelope: att.bytes.toString("utf8"), verifiers: [] } }),
        "at least one key",
      ],
      [
        dsse({ proposedContent: { envelope: att.bytes.toString("utf8"), verifiers: [b64("nope")] } }),
        "not a PEM",
      ],
      [
        dsse({
          proposedContent: { envelope: att.bytes.toString("utf8"), verifiers },
          envelopeHash: { algorithm: "sha256", value: "0".repeat(64) },
        }),
        "but not both",
      ],
      [
        dsse({
          proposedContent: { envelope: JSON.stringify({ ...att.envelope, signatures: [] }), verifiers },
        }),
        "1 or more signatures",
      ],
    ];
    for (const [proposed, why] of refusals) {
      const refused = await post(proposed);
      expect(refused.status, why).toBe(400);
      expect(refused.text).toContain(why);
    }
  });
});
