// A local stand-in for Rekor v1 (openapi.yaml: POST /api/v1/log/entries), with
// a real append-only Merkle tree (RFC 6962 hashing), a signed entry timestamp
// and a signed checkpoint (a signed note) from a test log key. Entries are
// checked as Rekor checks them before logging: hashedrekord v0.0.1 (the
// signature over the digest verifies with the certificate), dsse v0.0.1
// (every envelope signature verifies with a verifier), intoto v0.0.1 (the
// envelope's signature verifies with the public key; the log computes both
// hashes) and intoto v0.0.2 (payload and signatures base64 of the envelope's
// base64, every signature verifies with its public key; the log computes the
// payload hash and keeps the client's envelope hash, as Rekor does); the stored
// body is the canonical form Rekor's types write (pkg/types/*/entry.go
// Canonicalize), with JCS key order.
import { execFileSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, randomUUID, sign, verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { json } from "@sigstore/core";
import { closeServer, listen, makeTempDir, removeTempDir } from "../../harness/util.js";

const sha256 = (...parts: Buffer[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (leaf: Buffer) => sha256(Buffer.from([0]), leaf);
const nodeHash = (l: Buffer, r: Buffer) => sha256(Buffer.from([1]), l, r);
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1)); // largest power of two below n

/** RFC 6962 2.1: the Merkle tree hash of leaves. */
export function treeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leafHash(leaves[0] as Buffer);
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 6962 2.1.1: the audit path of leaf m. */
export function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

export interface ProposedEntryRecord {
  kind: string;
  apiVersion: string;
  spec: Record<string, unknown>;
}

export interface FakeRekor {
  url: string;
  /** PKIX DER of the log key, and its log ID (sha256 of it). */
  publicKeyDer: Buffer;
  logId: Buffer;
  origin: string;
  entries: ProposedEntryRecord[];
  failWith?: number;
  stop(): Promise<void>;
}

/** ECDSA over a precomputed sha256 digest, as Rekor verifies a hashedrekord: openssl pkeyutl takes the digest itself. */
function verifyDigest(certPem: string, digestHex: string, signature: Buffer): boolean {
  const dir = makeTempDir("rekor-verify");
  try {
    writeFileSync(join(dir, "cert.pem"), certPem);
    writeFileSync(join(dir, "digest"), Buffer.from(digestHex, "hex"));
    writeFileSync(join(dir, "sig"), signature);
    execFileSync(
      "openssl",
      ["pkeyutl", "-verify", "-certin", "-inkey", "cert.pem", "-in", "digest", "-sigfile", "sig"],
      { cwd: dir, stdio: "ignore" },
    );
    return true;
  } catch {
    return false;
  } finally {
    void removeTempDir(dir);
  }
}

const pae = (type: string, payload: Buffer) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);

/** The body Rekor would log for a proposed entry, or why it refuses it. */
function canonicalBody(entry: ProposedEntryRecord): object | string {
  const decode = (b64: unknown) => Buffer.from(String(b64), "base64");
  if (entry.kind === "hashedrekord" && entry.apiVersion === "0.0.1") {
    const spec = entry.spec as {
      data?: { hash?: { algorithm?: string; value?: string } };
      signature?: { content?: string; publicKey?: { content?: string } };
    };
    const cert = decode(spec.signature?.publicKey?.content).toString("utf8");
    if (spec.data?.hash?.algorithm !== "sha256") return "hash algorithm must be sha256";
    if (!verifyDigest(cert, spec.data.hash.value ?? "", decode(spec.signature?.content)))
      return "signature does not verify over the digest";
    return { apiVersion: "0.0.1", kind: "hashedrekord", spec };
  }
  if (entry.kind === "dsse" && entry.apiVersion === "0.0.1") {
    const content = (entry.spec as { proposedContent?: { envelope?: string; verifiers?: string[] } })
      .proposedContent;
    const envelope = JSON.parse(content?.envelope ?? "{}") as {
      payloadType: string;
      payload: string;
      signatures: { sig: string }[];
    };
    const verifiers = (content?.verifiers ?? []).map((v) => decode(v).toString("utf8"));
    const payload = decode(envelope.payload);
    const signatures = envelope.signatures.map((s) => {
      const verifier = verifiers.find((v) =>
        verify("sha256", pae(envelope.payloadType, payload), createPublicKey(v), decode(s.sig)),
      );
      return verifier === undefined
        ? undefined
        : { signature: s.sig, verifier: Buffer.from(verifier).toString("base64") };
    });
    if (signatures.length === 0 || signatures.includes(undefined))
      return "an envelope signature does not verify with the verifiers";
    return {
      apiVersion: "0.0.1",
      kind: "dsse",
      spec: {
        envelopeHash: {
          algorithm: "sha256",
          value: sha256(Buffer.from(content?.envelope ?? "")).toString("hex"),
        },
        payloadHash: { algorithm: "sha256", value: sha256(payload).toString("hex") },
        signatures,
      },
    };
  }
  if (entry.kind === "intoto" && entry.apiVersion === "0.0.1") return intotoV001(entry.spec);
  if (entry.kind === "intoto" && entry.apiVersion === "0.0.2") return intotoV002(entry.spec);
  return `unsupported entry kind ${entry.kind} ${entry.apiVersion}`;
}

interface Envelope {
  payloadType?: unknown;
  payload?: unknown;
  signatures?: { keyid?: unknown; sig?: unknown; publicKey?: unknown }[];
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Every signature of the envelope (base64 payload and sigs) verifies with one of the keys (PEM). */
function envelopeVerifies(envelope: Envelope, keys: string[]): boolean {
  if (typeof envelope.payloadType !== "string" || envelope.payloadType === "") return false;
  if (typeof envelope.payload !== "string" || envelope.payload === "") return false;
  const sigs = envelope.signatures ?? [];
  const message = pae(envelope.payloadType, Buffer.from(envelope.payload, "base64"));
  return (
    sigs.length > 0 &&
    sigs.every((s) =>
      keys.some((k) => {
        try {
          return verify("sha256", message, createPublicKey(k), Buffer.from(String(s.sig), "base64"));
        } catch {
          return false;
        }
      }),
    )
  );
}

/**
 * intoto v0.0.1 (intoto_v0_0_1_schema.json): `content.envelope` is the
 * envelope's JSON as a string, `publicKey` base64 of a PEM key or certificate.
 * The log verifies the envelope, then computes `payloadHash` and `hash` (of
 * the envelope string) itself; the canonical body keeps the hashes and the key,
 * not the envelope.
 */
function intotoV001(spec: Record<string, unknown>): object | string {
  const content = (spec.content ?? {}) as { envelope?: unknown; hash?: unknown };
  if (typeof spec.publicKey !== "string") return "intoto 0.0.1: publicKey is required";
  if (typeof content.envelope !== "string") return "intoto 0.0.1: content.envelope must be a string";
  const key = Buffer.from(spec.publicKey, "base64").toString("utf8");
  let envelope: Envelope;
  try {
    envelope = JSON.parse(content.envelope) as Envelope;
  } catch {
    return "intoto 0.0.1: content.envelope is not JSON";
  }
  if (!envelopeVerifies(envelope, [key])) return "intoto 0.0.1: the envelope signature does not verify";
  return {
    apiVersion: "0.0.1",
    kind: "intoto",
    spec: {
      content: {
        hash: { algorithm: "sha256", value: sha256(Buffer.from(content.envelope)).toString("hex") },
        payloadHash: {
          algorithm: "sha256",
          value: sha256(Buffer.from(String(envelope.payload), "base64")).toString("hex"),
        },
      },
      publicKey: spec.publicKey,
    },
  };
}

/**
 * intoto v0.0.2 (intoto_v0_0_2_schema.json): the envelope as an object whose
 * `payload` and `signatures[].sig` are base64 of the envelope's own (base64)
 * strings, and `signatures[].publicKey` base64 of a PEM key or certificate;
 * `content.hash` (the client's hash of the envelope) is required and kept as
 * given, `payloadHash` computed by the log. The canonical body leaves the
 * payload out.
 */
function intotoV002(spec: Record<string, unknown>): object | string {
  const content = (spec.content ?? {}) as {
    envelope?: Envelope;
    hash?: { algorithm?: unknown; value?: unknown };
  };
  const logged = content.envelope;
  if (logged === undefined) return "intoto 0.0.2: content.envelope is required";
  if (content.hash?.algorithm !== "sha256" || !SHA256.test(String(content.hash.value)))
    return "intoto 0.0.2: content.hash must be a sha256 hex digest";
  const once = (b64: unknown) => Buffer.from(String(b64), "base64").toString("utf8");
  const signatures = logged.signatures ?? [];
  if (signatures.some((s) => typeof s.sig !== "string" || typeof s.publicKey !== "string"))
    return "intoto 0.0.2: every signature needs sig and publicKey";
  const envelope: Envelope = {
    payloadType: logged.payloadType,
    payload: once(logged.payload),
    signatures: signatures.map((s) => ({ sig: once(s.sig) })),
  };
  if (
    !envelopeVerifies(
      envelope,
      signatures.map((s) => once(s.publicKey)),
    )
  )
    return "intoto 0.0.2: an envelope signature does not verify with the public keys";
  return {
    apiVersion: "0.0.2",
    kind: "intoto",
    spec: {
      content: {
        envelope: {
          payloadType: logged.payloadType,
          signatures: signatures.map((s) => ({
            ...(typeof s.keyid === "string" && s.keyid !== "" ? { keyid: s.keyid } : {}),
            sig: s.sig,
            publicKey: s.publicKey,
          })),
        },
        hash: { algorithm: "sha256", value: content.hash.value },
        payloadHash: {
          algorithm: "sha256",
          value: sha256(Buffer.from(String(envelope.payload), "base64")).toString("hex"),
        },
      },
    },
  };
}

export async function startRekor(): Promise<FakeRekor> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicKeyDer = publicKey.export({ format: "der", type: "spki" });
  const logId = sha256(publicKeyDer);
  const leaves: Buffer[] = [];
  const fake: FakeRekor = {
    url: "",
    publicKeyDer,
    logId,
    origin: "",
    entries: [],
    stop: async () => undefined,
  };
  const reply = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/api/v1/log/entries")
        return reply(res, 404, { code: 404, message: "not found" });
      const entry = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ProposedEntryRecord;
      fake.entries.push(entry);
      if (fake.failWith !== undefined)
        return reply(res, fake.failWith, { code: fake.failWith, message: "log unavailable" });
      const body = canonicalBody(entry);
      if (typeof body === "string") return reply(res, 400, { code: 400, message: body });
      const bodyBytes = Buffer.from(json.canonicalize(body));
      leaves.push(bodyBytes);
      const logIndex = leaves.length - 1;
      const integratedTime = Math.floor(Date.now() / 1000);
      const logID = logId.toString("hex");
      const b64body = bodyBytes.toString("base64");
      const set = sign(
        "sha256",
        Buffer.from(json.canonicalize({ body: b64body, integratedTime, logID, logIndex })),
        privateKey,
      );
      const root = treeHash(leaves);
      const note = `${fake.origin}\n${leaves.length}\n${root.toString("base64")}\n`;
      const noteSig = Buffer.concat([logId.subarray(0, 4), sign("sha256", Buffer.from(note), privateKey)]);
      reply(res, 201, {
        [randomUUID().replaceAll("-", "")]: {
          body: b64body,
          integratedTime,
          logID,
          logIndex,
          verification: {
            signedEntryTimestamp: set.toString("base64"),
            inclusionProof: {
              logIndex,
              treeSize: leaves.length,
              rootHash: root.toString("hex"),
              hashes: auditPath(logIndex, leaves).map((h) => h.toString("hex")),
              // The note names the log "host - tree id"; the signature line names the key: the host
              // alone, which verifiers find in the trusted root's baseUrl (as rekor.sigstore.dev).
              checkpoint: `${note}\n\u2014 ${fake.url.slice(7)} ${noteSig.toString("base64")}\n`,
            },
          },
        },
      });
    });
  });
  const port = await listen(server);
  fake.url = `http://127.0.0.1:${port}`;
  fake.origin = `127.0.0.1:${port} - 1`;
  fake.stop = () => closeServer(server);
  return fake;
}
