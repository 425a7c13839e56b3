import { createHash, createPublicKey, type KeyObject, verify as nodeVerify } from "node:crypto";
import { json } from "@sigstore/core";
import type { TlogEntry } from "./bundle.js";

/**
 * Offline checks of a Rekor transparency-log entry carried in a bundle:
 * the signed entry timestamp (the log's promise to include the entry), and
 * the Merkle inclusion proof (RFC 9162, 2.1.3.2) up to a checkpoint the log
 * signed (a "signed note"). Only the log's public key is needed.
 */
export interface TransparencyLogKey {
  /** base64(sha256(PKIX DER)), the bundle's `logId.keyId`. */
  keyId: string;
  key: KeyObject;
  validFrom?: Date;
  validUntil?: Date;
}

export function tlogKey(
  rawBytes: string,
  keyId: string,
  validFor?: { start?: string; end?: string },
): TransparencyLogKey {
  const der = Buffer.from(rawBytes, "base64");
  return {
    keyId,
    key: createPublicKey({ key: der, format: "der", type: "spki" }),
    ...(validFor?.start ? { validFrom: new Date(validFor.start) } : {}),
    ...(validFor?.end ? { validUntil: new Date(validFor.end) } : {}),
  };
}

/** The SET is the log's signature over the canonical JSON of body, integratedTime, logID (hex), logIndex. */
export function verifySignedEntryTimestamp(entry: TlogEntry, log: TransparencyLogKey): boolean {
  const set = entry.inclusionPromise?.signedEntryTimestamp;
  if (set === undefined) return false;
  const payload = json.canonicalize({
    body: entry.canonicalizedBody,
    integratedTime: Number(entry.integratedTime),
    logID: Buffer.from(entry.logId.keyId, "base64").toString("hex"),
    // Proto3 JSON leaves a zero out: the log's first entry has no logIndex field.
    logIndex: Number(entry.logIndex ?? 0),
  });
  return nodeVerify("sha256", Buffer.from(payload), log.key, Buffer.from(set, "base64"));
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 inclusion proof verification: the leaf at `index` in a tree of `size` leaves hashes up to `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: bigint,
  size: bigint,
  path: Buffer[],
  root: Buffer,
): boolean {
  if (index < 0n || index >= size) return false;
  let fn = index;
  let sn = size - 1n;
  let r = sha256(Buffer.from([0]), leaf);
  for (const p of path) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && r.equals(root);
}

interface InclusionProof {
  logIndex?: string;
  rootHash: string;
  treeSize: string;
  hashes?: string[];
  checkpoint: { envelope: string };
}

/**
 * The inclusion proof, and the checkpoint it ends at: the note's body
 * (origin, size, root hash) must carry the log's signature, and name the
 * same size and root the proof reaches.
 */
export function verifyInclusionProof(entry: TlogEntry, log: TransparencyLogKey): string | undefined {
  const proof = entry.inclusionProof as InclusionProof | undefined;
  if (proof === undefined) return "the entry has no inclusion proof";
  const leaf = Buffer.from(entry.canonicalizedBody, "base64");
  const root = Buffer.from(proof.rootHash, "base64");
  const ok = verifyInclusion(
    leaf,
    BigInt(proof.logIndex ?? 0),
    BigInt(proof.treeSize),
    // A one-leaf tree has no audit path, and proto3 JSON leaves the empty list out.
    (proof.hashes ?? []).map((h) => Buffer.from(h, "base64")),
    root,
  );
  if (!ok) return "the inclusion proof does not lead to the root hash";
  const note = proof.checkpoint?.envelope ?? "";
  const split = note.indexOf("\n\n");
  if (split < 0) return "the checkpoint is not a signed note";
  const body = note.slice(0, split + 1);
  const [, size, rootLine] = body.split("\n");
  if (size !== proof.treeSize || rootLine !== proof.rootHash) return "the checkpoint names another tree";
  const hint = Buffer.from(log.keyId, "base64").subarray(0, 4);
  for (const line of note.slice(split + 2).split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (m === null) continue;
    const raw = Buffer.from(m[2] as string, "base64");
    if (raw.length > 4 && raw.subarray(0, 4).equals(hint)) {
      if (nodeVerify("sha256", Buffer.from(body), log.key, raw.subarray(4))) return undefined;
    }
  }
  return "the checkpoint carries no valid signature of the log";
}
