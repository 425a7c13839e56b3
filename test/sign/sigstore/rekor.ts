// A local stand-in for Rekor v1 (openapi.yaml: POST /api/v1/log/entries), with
// a real append-only Merkle tree (RFC 6962 hashing), a signed entry timestamp
// and a signed checkpoint (a signed note) from a test log key. Entries are
// checked as Rekor checks them before logging: hashedrekord v0.0.1 (the
// signature over the digest verifies with the certificate), dsse v0.0.1
// (every envelope signature verifies with a verifier, every verifier with a
// signature; the log computes the envelope hash over the envelope string as
// submitted, and the payload hash), intoto v0.0.1 (the
// envelope's signature verifies with the public key; the log computes both
// hashes) and intoto v0.0.2 (payload and signatures base64 of the envelope's
// base64, every signature verifies with its public key; the log computes the
// payload hash and keeps the client's envelope hash, as Rekor does); the stored
// body is the canonical form Rekor's types write (pkg/types/*/entry.go
// Canonicalize), with JCS key order.
import { execFileSync } from "node:child_process";
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  X509Certificate,
} from "node:crypto";
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
  if (entry.kind === "dsse" && entry.apiVersion === "0.0.1") return dsseV001(entry.spec);
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

/** Rekor's canonical form of a verifier (x509.PublicKey.CanonicalValue): the certificate or key re-encoded as PEM. */
function canonicalPem(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).toString();
  } catch {
    try {
      return createPublicKey(pem).export({ format: "pem", type: "spki" }).toString();
    } catch {
      return undefined;
    }
  }
}

/**
 * dsse v0.0.1 (dsse_v0_0_1_schema.json, pkg/types/dsse/v0.0.1/entry.go): a
 * proposed entry carries only `proposedContent` (the envelope as a JSON
 * string, `verifiers` base64 of PEM keys or certificates); the server-side
 * fields are refused there. Every envelope signature must verify with a
 * verifier, and every verifier must verify one (the envelope verifier
 * errors on a key that accepts none). The log computes `payloadHash` (of
 * the decoded payload) and `envelopeHash`, the sha256 of the envelope
 * string exactly as submitted; the body keeps the signatures sorted, each
 * with its verifier in canonical PEM, and not the envelope.
 */
function dsseV001(spec: Record<string, unknown>): object | string {
  const { proposedContent: content, ...computed } = spec as {
    proposedContent?: { envelope?: unknown; verifiers?: unknown };
  } & Record<string, unknown>;
  if (content === undefined) return "dsse 0.0.1: proposedContent is required";
  if (Object.keys(computed).some((k) => ["envelopeHash", "payloadHash", "signatures"].includes(k)))
    return "dsse 0.0.1: either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both";
  if (typeof content.envelope !== "string") return "dsse 0.0.1: proposedContent.envelope must be a string";
  const verifiers = Array.isArray(content.verifiers) ? (content.verifiers as unknown[]) : [];
  if (verifiers.length === 0) return "dsse 0.0.1: proposedContent.verifiers needs at least one key";
  const keys: string[] = [];
  for (const v of verifiers) {
    const pem = typeof v === "string" ? canonicalPem(Buffer.from(v, "base64").toString("utf8")) : undefined;
    if (pem === undefined) return "dsse 0.0.1: a verifier is not a PEM public key or certificate";
    keys.push(pem);
  }
  let envelope: Envelope;
  try {
    envelope = JSON.parse(content.envelope) as Envelope;
  } catch {
    return "dsse 0.0.1: proposedContent.envelope is not JSON";
  }
  const sigs = Array.isArray(envelope.signatures) ? envelope.signatures : [];
  if (sigs.length === 0) return "dsse 0.0.1: DSSE envelope must contain 1 or more signatures";
  if (typeof envelope.payloadType !== "string" || typeof envelope.payload !== "string")
    return "dsse 0.0.1: the envelope needs payloadType and payload";
  const payload = Buffer.from(envelope.payload, "base64");
  const message = pae(envelope.payloadType, payload);
  const accepts = (key: string, sig: unknown) => {
    try {
      return verify("sha256", message, createPublicKey(key), Buffer.from(String(sig), "base64"));
    } catch {
      return false;
    }
  };
  const verifierOf = new Map<string, string>();
  for (const key of keys) {
    const accepted = sigs.filter((s) => accepts(key, s.sig));
    if (accepted.length === 0)
      return "dsse 0.0.1: could not verify envelope: no signature verifies with a verifier";
    for (const s of accepted) if (!verifierOf.has(String(s.sig))) verifierOf.set(String(s.sig), key);
  }
  if (sigs.some((s) => !verifierOf.has(String(s.sig))))
    return "dsse 0.0.1: all signatures must have a key that verifies it";
  return {
    apiVersion: "0.0.1",
    kind: "dsse",
    spec: {
      envelopeHash: { algorithm: "sha256", value: sha256(Buffer.from(content.envelope)).toString("hex") },
      payloadHash: { algorithm: "sha256", value: sha256(payload).toString("hex") },
      signatures: [...verifierOf.keys()].sort().map((sig) => ({
        signature: sig,
        verifier: Buffer.from(verifierOf.get(sig) as string).toString("base64"),
      })),
    },
  };
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
