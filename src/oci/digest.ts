import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { ShipgateError } from "../errors.js";

const digestShape = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(value: string): boolean {
  return digestShape.test(value);
}

export function assertDigest(value: string, where: string): string {
  if (!isDigest(value)) {
    throw new ShipgateError("MANIFEST_INVALID", `${where}: "${value}" is not a sha256 or sha512 digest`);
  }
  return value;
}

function algorithmOf(digest: string): "sha256" | "sha512" {
  return digest.startsWith("sha512:") ? "sha512" : "sha256";
}

export function digestOf(bytes: Uint8Array, algorithm: "sha256" | "sha512" = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** Throws unless `bytes` hash to `expected`: the one digest check every path uses. */
export function verifyBytes(bytes: Uint8Array, expected: string, what: string): void {
  const actual = digestOf(bytes, algorithmOf(expected));
  if (actual !== expected) {
    throw new ShipgateError(
      "DIGEST_MISMATCH",
      `${what}: content has digest ${actual}, expected ${expected}`,
      {
        hint: "the source served corrupted or substituted content; nothing was written under the destination tag",
      },
    );
  }
}

/**
 * A pass-through stream that hashes and counts what flows through it and fails
 * the stream (before its end is signalled downstream) when the digest or size
 * is wrong, so a consumer never sees a clean end for bad content.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash | undefined;
  private received = 0;

  /**
   * With `hash: false` only the size is checked: for a destination that
   * re-hashes every blob itself and refuses a mismatch (see
   * `ImageDest.verifiesDigests`), hashing here too would only spend CPU.
   */
  constructor(
    private readonly expectedDigest: string,
    private readonly expectedSize: number | undefined,
    private readonly what: string,
    private readonly onBytes?: (n: number) => void,
    options: { hash?: boolean } = {},
  ) {
    super();
    this.hash = options.hash === false ? undefined : createHash(algorithmOf(expectedDigest));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.expectedSize !== undefined && this.received > this.expectedSize) {
      callback(this.sizeError());
      return;
    }
    this.hash?.update(chunk);
    this.onBytes?.(chunk.length);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedSize !== undefined && this.received !== this.expectedSize) {
      callback(this.sizeError());
      return;
    }
    if (this.hash === undefined) {
      callback();
      return;
    }
    const actual = `${algorithmOf(this.expectedDigest)}:${this.hash.digest("hex")}`;
    if (actual !== this.expectedDigest) {
      callback(
        new ShipgateError(
          "DIGEST_MISMATCH",
          `${this.what}: content has digest ${actual}, expected ${this.expectedDigest}`,
          { hint: "the source served corrupted content; retry, and check the source registry's storage" },
        ),
      );
      return;
    }
    callback();
  }

  private sizeError(): ShipgateError {
    return new ShipgateError(
      "SIZE_MISMATCH",
      `${this.what}: received ${this.received} bytes so far, the descriptor says ${this.expectedSize}`,
      { hint: "the source served truncated or padded content" },
    );
  }
}
