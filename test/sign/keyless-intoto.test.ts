// Rekor `intoto` entries for keyless attestations, as cosign v2.0/2.1 log a
// legacy `.att` layer (and later ones with `--rekor-entry-type intoto`):
// shipgate writes intoto 0.0.1 when asked (cosign's own entry; dsse is the
// default, see keyless-dsse.test.ts) and reads
// 0.0.1, 0.0.2 and dsse, in the `.att` layer's bundle annotation and in a
// Sigstore bundle's tlogEntries. Against local Fulcio and Rekor stand-ins (the
// Rekor one checks every entry per Rekor's types before logging it), a real
// docker-registry, shipgate's verifier and sigstore-js's (@sigstore/verify),
// which nobody here wrote, as the oracle where it reads the entry kind.
import { bundleFromJSON } from "@sigstore/bundle";
import { toSignedEntity } from "@sigstore/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bundle, parseBundle, type TlogEntry } from "../../src/sign/bundle.js";
import type { DsseEnvelope } from "../../src/sign/dsse.js";
import { verifyKeylessBundle } from "../../src/sign/keyless.js";
import { CERTIFICATE_ANNOTATION, REKOR_BUNDLE_ANNOTATION } from "../../src/sign/keyless-legacy.js";
import { attestImageKeyless } from "../../src/sign/keyless-sign.js";
import { KeylessSession } from "../../src/sign/keyless-signer.js";
import { readBundleReferrers } from "../../src/sign/store-signatures.js";
import { verifyAttestations } from "../../src/sign/verify.js";
import { pushImage } from "./images.js";
import {
  b64,
  type KeylessFixture,
  type LegacyAtt,
  legacyAsBundle,
  legacyAttVerdict,
  postEntry,
  rekorBody,
  sha256hex,
  startKeyless,
} from "./sigstore/fixture.js";
import type { ProposedEntryRecord } from "./sigstore/rekor.js";

const ISSUER = "https://oidc.test";
const DAVE = "dave@example.com";
const identity = { certificateIdentity: DAVE, certificateOidcIssuer: ISSUER };
const dave = { subjectAlternativeName: DAVE, extensions: { issuer: ISSUER } };

let fx: KeylessFixture;
beforeAll(async () => {
  fx = await startKeyless("intoto-fulcio", ISSUER);
});

afterAll(() => fx?.stop());

const signing = () => fx.signing(fx.emailToken(DAVE), { retries: 0 });

/** A legacy `.att` layer, whoever wrote it. */
type Att = Omit<LegacyAtt, "digest">;

/** `attest --keyless --rekor-entry-type intoto` in the legacy layout; the .att layers it wrote, one per image. */
const attestLegacy = async (path: string, recursive = false): Promise<Att[]> =>
  (await fx.attestLegacy(path, signing(), { index: recursive, rekorEntryType: "intoto" })).atts;

/** POSTs a proposed entry to the stand-in Rekor; its answer in the bundle's JSON form. */
async function logEntry(proposed: ProposedEntryRecord): Promise<TlogEntry> {
  const res = await postEntry(fx.rekor, proposed);
  if (res.status !== 201) throw new Error(`Rekor: ${res.status} ${res.text}`);
  const [e] = Object.values(JSON.parse(res.text) as Record<string, Record<string, any>>);
  if (e === undefined) throw new Error("Rekor answered no entry");
  const body = JSON.parse(Buffer.from(e.body, "base64").toString("utf8"));
  const p = e.verification.inclusionProof;
  const hex64 = (h: string) => Buffer.from(h, "hex").toString("base64");
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: hex64(e.logID) },
    kindVersion: { kind: body.kind, version: body.apiVersion },
    integratedTime: String(e.integratedTime),
    inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
    inclusionProof: {
      logIndex: String(p.logIndex),
      rootHash: hex64(p.rootHash),
      treeSize: String(p.treeSize),
      hashes: p.hashes.map(hex64),
      checkpoint: { envelope: p.checkpoint },
    },
    canonicalizedBody: e.body,
  };
}

/** An intoto 0.0.2 entry as Rekor's own Go client builds one (types.NewProposedEntry, rekor-cli): the envelope hash is of its bytes. */
function intotoV002(envelopeBytes: Buffer, certPem: string): ProposedEntryRecord {
  const env = JSON.parse(envelopeBytes.toString("utf8")) as DsseEnvelope;
  return {
    apiVersion: "0.0.2",
    kind: "intoto",
    spec: {
      content: {
        envelope: {
          payloadType: env.payloadType,
          payload: b64(env.payload),
          signatures: env.signatures.map((s) => ({ sig: b64(s.sig), publicKey: b64(certPem) })),
        },
        hash: { algorithm: "sha256", value: sha256hex(envelopeBytes) },
      },
    },
  };
}

/** cosign's `dev.sigstore.cosign/bundle` annotation for an entry. */
const rekorAnnotation = (entry: TlogEntry) =>
  JSON.stringify({
    SignedEntryTimestamp: entry.inclusionPromise?.signedEntryTimestamp,
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId, "base64").toString("hex"),
    },
  });

const legacyReason = (att: Att, over: Partial<Att> = {}) =>
  legacyAttVerdict({ ...att, ...over }, fx.root, identity);
const asBundle = (att: Att) => legacyAsBundle(att.certPem, att.annotations, { dsseEnvelope: att.envelope });

describe("attest --keyless --rekor-entry-type intoto, legacy .att: an intoto 0.0.1 entry, as cosign v2.0/2.1 log it", () => {
  it("logs the layer's very bytes, and verifies by identity and issuer", async () => {
    const before = fx.rekor.entries.length;
    const [att] = await attestLegacy("intoto/legacy");
    if (att === undefined) throw new Error("no attestation");
    // What was proposed: cosign's entry, byte for byte the layer.
    const proposed = fx.rekor.entries.slice(before);
    expect(proposed.map((e) => `${e.kind} ${e.apiVersion}`)).toEqual(["intoto 0.0.1"]);
    expect(proposed[0]?.spec).toEqual({
      content: {
        envelope: att.bytes.toString("utf8"),
        hash: { algorithm: "sha256", value: sha256hex(att.bytes) },
      },
      publicKey: b64(att.certPem),
    });
    // cosign's envelope serialization (go-securesystemslib): payloadType, payload, signatures [{keyid, sig}].
    expect(Object.keys(JSON.parse(att.bytes.toString("utf8")))).toEqual([
      "payloadType",
      "payload",
      "signatures",
    ]);
    expect(att.envelope.signatures).toEqual([{ keyid: "", sig: expect.any(String) }]);
    // What was logged: Rekor's canonical intoto 0.0.1 body, without the envelope.
    const body = rekorBody(att.annotations);
    expect(body).toEqual({
      apiVersion: "0.0.1",
      kind: "intoto",
      spec: {
        content: {
          hash: { algorithm: "sha256", value: sha256hex(att.bytes) },
          payloadHash: {
            algorithm: "sha256",
            value: sha256hex(Buffer.from(att.envelope.payload, "base64")),
          },
        },
        publicKey: b64(att.certPem),
      },
    });

    const loc = fx.at("intoto/legacy:1");
    const ok = await verifyAttestations(loc, [], {
      keyless: fx.keyless(identity),
      predicateType: "slsaprovenance1",
    });
    expect(ok.verified).toBe(true);
    expect(ok.attestations[0]?.key).toBe(`keyless:${DAVE} (${ISSUER})`);
    const other = await verifyAttestations(loc, [], {
      keyless: fx.keyless({ certificateIdentity: "eve@example.com" }),
    });
    expect(other.verified).toBe(false);
    expect(other.reasons[0]).toContain("not eve@example.com");
  });

  it("refuses an edited envelope, other bytes for it, and the entry of another envelope under the same certificate", async () => {
    // One run over an index: both platforms' envelopes under one certificate, each with its own entry.
    const [a, b] = await attestLegacy("intoto/tamper", true);
    if (a === undefined || b === undefined) throw new Error("two attestations expected");
    expect(a.certPem).toBe(b.certPem);
    expect(legacyReason(a)).toBe("ok");
    expect(legacyReason(b)).toBe("ok");

    const statement = JSON.parse(Buffer.from(a.envelope.payload, "base64").toString("utf8"));
    statement.predicate.buildType = "edited";
    const edited = { ...a.envelope, payload: b64(JSON.stringify(statement)) };
    expect(legacyReason(a, { envelope: edited, bytes: Buffer.from(JSON.stringify(edited)) })).toBe(
      "no verified transparency-log entry (the log entry is for another signature)",
    );
    // The same envelope, serialized otherwise: not the bytes the log hashed (cosign refuses it too).
    const respaced = Buffer.from(JSON.stringify(a.envelope, null, 1));
    expect(legacyReason(a, { bytes: respaced })).toContain("the log entry is for another signature");
    // b's entry (same key, SET valid) does not speak of a's envelope.
    const swapped = {
      ...a.annotations,
      [REKOR_BUNDLE_ANNOTATION]: b.annotations[REKOR_BUNDLE_ANNOTATION] ?? "",
    };
    expect(legacyReason(a, { annotations: swapped })).toContain("the log entry is for another signature");
    // A body bent after logging: the SET no longer covers it.
    const rekorBundle = JSON.parse(a.annotations[REKOR_BUNDLE_ANNOTATION] ?? "{}");
    const body = rekorBody(a.annotations);
    body.spec.content.payloadHash.value = sha256hex(Buffer.from(edited.payload, "base64"));
    rekorBundle.Payload.body = b64(JSON.stringify(body));
    expect(
      legacyReason(a, {
        envelope: edited,
        annotations: { ...a.annotations, [REKOR_BUNDLE_ANNOTATION]: JSON.stringify(rekorBundle) },
      }),
    ).toContain("the signed entry timestamp does not verify");
  });

  it("sigstore-js reads intoto only as 0.0.2: the oracle cannot judge cosign's 0.0.1 entry", async () => {
    const [att] = await attestLegacy("intoto/oracle-001");
    if (att === undefined) throw new Error("no attestation");
    expect(() => fx.oracle.verify(toSignedEntity(asBundle(att)), dave)).toThrow(
      /unsupported intoto version: 0.0.1/,
    );
  });
});

describe("intoto 0.0.2 entries (Rekor's Go client, sigstore-js), read by shipgate and by the oracle", () => {
  it("in a legacy .att layer's bundle annotation", async () => {
    const [att, other] = [...(await attestLegacy("intoto/v002")), ...(await attestLegacy("intoto/v002-b"))];
    if (att === undefined || other === undefined) throw new Error("no attestation");
    const entry = await logEntry(intotoV002(att.bytes, att.certPem));
    const logged: Att = {
      ...att,
      annotations: { ...att.annotations, [REKOR_BUNDLE_ANNOTATION]: rekorAnnotation(entry) },
    };
    expect(legacyReason(logged)).toBe("ok");
    const signer = fx.oracle.verify(toSignedEntity(asBundle(logged)), dave);
    expect(signer.identity?.subjectAlternativeName).toBe(DAVE);

    // Another envelope (another run, another certificate) under this entry: refused by both.
    const foreign: Att = {
      ...other,
      annotations: { ...other.annotations, [REKOR_BUNDLE_ANNOTATION]: rekorAnnotation(entry) },
    };
    expect(legacyReason(foreign)).toContain("the log entry is for another signature");
    expect(() => fx.oracle.verify(toSignedEntity(asBundle(foreign)), dave)).toThrow();
    // An edited envelope under the right entry: refused by both.
    const statement = JSON.parse(Buffer.from(att.envelope.payload, "base64").toString("utf8"));
    statement.predicate.buildType = "edited";
    const edited = { ...att.envelope, payload: b64(JSON.stringify(statement)) };
    const tampered: Att = { ...logged, envelope: edited, bytes: Buffer.from(JSON.stringify(edited)) };
    expect(legacyReason(tampered)).toContain("the log entry is for another signature");
    expect(() => fx.oracle.verify(toSignedEntity(asBundle(tampered)), dave)).toThrow();
  });

  it("in a Sigstore bundle's tlogEntries (canonicalizedBody, kindVersion intoto 0.0.2)", async () => {
    const repo = fx.repo("intoto/bundle");
    const image = await pushImage(repo, "1", "intoto-bundle");
    for (const buildType of ["a", "b"]) {
      await attestImageKeyless(fx.at("intoto/bundle:1"), signing(), {
        predicate: { buildType },
        type: "slsaprovenance1",
        mode: "oci-1-1",
      });
    }
    const [a, b] = (await readBundleReferrers(repo, image.digest)).map((s) =>
      parseBundle(s.bytes, "referrer"),
    );
    if (a?.dsseEnvelope === undefined || b?.dsseEnvelope === undefined)
      throw new Error("two bundles expected");
    const certPem = (x: Bundle) => {
      const der = x.verificationMaterial.certificate?.rawBytes ?? "";
      return `-----BEGIN CERTIFICATE-----\n${(der.match(/.{1,64}/g) ?? []).join("\n")}\n-----END CERTIFICATE-----\n`;
    };
    const withEntry = (x: Bundle, entry: TlogEntry): Bundle => ({
      ...x,
      verificationMaterial: { ...x.verificationMaterial, tlogEntries: [entry] },
    });
    const entryA = await logEntry(intotoV002(Buffer.from(JSON.stringify(a.dsseEnvelope)), certPem(a)));
    const reason = (x: Bundle) => {
      const result = verifyKeylessBundle(x, fx.root, identity);
      return result.ok ? "ok" : result.reason;
    };
    const bundleA = withEntry(a, entryA);
    expect(reason(bundleA)).toBe("ok");
    expect(fx.oracle.verify(toSignedEntity(bundleFromJSON(bundleA)), dave).identity?.extensions?.issuer).toBe(
      ISSUER,
    );

    // a's entry under b's envelope and certificate: refused by both.
    const crossed = withEntry(b, entryA);
    expect(reason(crossed)).toContain("the log entry is for another signature");
    expect(() => fx.oracle.verify(toSignedEntity(bundleFromJSON(crossed)), dave)).toThrow(/mismatch/);
    // The kindVersion must be the body's.
    const misnamed = withEntry(a, { ...entryA, kindVersion: { kind: "dsse", version: "0.0.1" } });
    expect(reason(misnamed)).toContain("the log entry is intoto 0.0.2, not the dsse 0.0.1 the bundle names");
    // cosign's intoto 0.0.1 names the envelope only by the hash of bytes a bundle does not keep.
    const v001 = await logEntry({
      apiVersion: "0.0.1",
      kind: "intoto",
      spec: {
        content: {
          envelope: JSON.stringify(a.dsseEnvelope),
          hash: { algorithm: "sha256", value: "0".repeat(64) },
        },
        publicKey: b64(certPem(a)),
      },
    });
    expect(reason(withEntry(a, v001))).toContain("an intoto 0.0.1 entry names the envelope only by the hash");
  });
});

describe("the Rekor stand-in checks intoto entries as Rekor does", () => {
  it("refuses an envelope whose signature does not verify with the key, and a 0.0.2 entry without its hash", async () => {
    const [att] = await attestLegacy("intoto/refuse");
    if (att === undefined) throw new Error("no attestation");
    const statement = JSON.parse(Buffer.from(att.envelope.payload, "base64").toString("utf8"));
    statement.predicate.buildType = "forged";
    const forged = Buffer.from(JSON.stringify({ ...att.envelope, payload: b64(JSON.stringify(statement)) }));
    await expect(
      logEntry({
        apiVersion: "0.0.1",
        kind: "intoto",
        spec: {
          content: {
            envelope: forged.toString("utf8"),
            hash: { algorithm: "sha256", value: sha256hex(forged) },
          },
          publicKey: b64(att.certPem),
        },
      }),
    ).rejects.toThrow("Rekor: 400 ");
    await expect(logEntry(intotoV002(forged, att.certPem))).rejects.toThrow("does not verify");
    const noHash = intotoV002(att.bytes, att.certPem);
    delete (noHash.spec.content as { hash?: unknown }).hash;
    await expect(logEntry(noHash)).rejects.toThrow("content.hash must be a sha256 hex digest");
    // The genuine envelope is accepted in both versions.
    expect((await logEntry(intotoV002(att.bytes, att.certPem))).kindVersion).toEqual({
      kind: "intoto",
      version: "0.0.2",
    });
  });
});

describe("a dsse entry in a legacy .att (cosign v2.2 and later by default) still verifies", () => {
  it("against the layer's bytes", async () => {
    const session = new KeylessSession(signing());
    const statement = {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: "x", digest: { sha256: "a".repeat(64) } }],
      predicateType: "https://slsa.dev/provenance/v1",
      predicate: {},
    };
    const signed = await session.dsse(Buffer.from(JSON.stringify(statement)), "application/vnd.in-toto+json");
    const entry = signed.bundle.verificationMaterial.tlogEntries?.[0];
    if (entry === undefined || signed.bundle.dsseEnvelope === undefined) throw new Error("no entry");
    expect(entry.kindVersion).toEqual({ kind: "dsse", version: "0.0.1" });
    const bytes = Buffer.from(JSON.stringify(signed.bundle.dsseEnvelope));
    const att: Att = {
      bytes,
      envelope: signed.bundle.dsseEnvelope,
      certPem: signed.chain[0] as string,
      annotations: {
        [CERTIFICATE_ANNOTATION]: signed.chain[0] as string,
        [REKOR_BUNDLE_ANNOTATION]: rekorAnnotation(entry),
      },
    };
    expect(legacyReason(att)).toBe("ok");
    // The entry's envelopeHash is of the bytes Rekor was sent: other bytes are refused, as cosign refuses them.
    expect(legacyReason(att, { bytes: Buffer.from(JSON.stringify(att.envelope, null, 2)) })).toContain(
      "the log entry is for another signature",
    );
  });
});
