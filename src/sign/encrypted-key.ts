import { randomBytes, scrypt as scryptCallback } from "node:crypto";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { ShipgateError } from "../errors.js";

/**
 * The password-encrypted envelope cosign writes inside its private key PEM
 * (go-securesystemslib's `encrypted` package): a JSON object naming the KDF
 * (scrypt) and the cipher (NaCl secretbox, XSalsa20-Poly1305), with base64
 * salt, nonce and ciphertext. The ciphertext is secretbox's output: the
 * 16-byte Poly1305 tag followed by the encrypted PKCS#8 DER.
 */
export interface EncryptedEnvelope {
  kdf: { name: "scrypt"; params: ScryptParams; salt: string };
  cipher: { name: "nacl/secretbox"; nonce: string };
  ciphertext: string;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * The only scrypt parameters cosign's decrypter accepts: go-securesystemslib's
 * "legacy" (2^15, what cosign v1 wrote), "standard" (2^16, what it writes now)
 * and "OWASP" (2^17) sets, all with r=8, p=1. Anything else is refused, which
 * also bounds the memory and time a hostile key file can make us spend.
 */
export const ACCEPTED_SCRYPT_PARAMS: readonly ScryptParams[] = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];

/**
 * What shipgate writes: what cosign writes. cosign calls go-securesystemslib's
 * `encrypted.Encrypt`, which (v0.7.0 on, cosign pins v0.11.0) uses the
 * "standard" set, N=2^16; 2^15 is only what older cosign keys carry.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 65536, r: 8, p: 1 };

const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const TAG_BYTES = 16;

function deriveKey(password: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // 128 * N * r bytes are needed; node's default cap (32 MiB) is below what 2^17 needs.
    const maxmem = 256 * params.N * params.r;
    scryptCallback(
      password,
      salt,
      KEY_BYTES,
      { N: params.N, r: params.r, p: params.p, maxmem },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function encryptWithPassword(
  plaintext: Uint8Array,
  password: Uint8Array,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<EncryptedEnvelope> {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = await deriveKey(password, salt, params);
  try {
    const sealed = xsalsa20poly1305(key, nonce).encrypt(plaintext);
    return {
      kdf: { name: "scrypt", params: { ...params }, salt: salt.toString("base64") },
      cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
      ciphertext: Buffer.from(sealed).toString("base64"),
    };
  } finally {
    key.fill(0);
  }
}

function invalid(where: string, why: string): ShipgateError {
  return new ShipgateError("KEY_INVALID", `${where}: ${why}`, {
    hint: "pass a key written by `shipgate key generate` or `cosign generate-key-pair`",
  });
}

function decodeBase64(value: unknown, where: string, field: string, length?: number): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw invalid(where, `"${field}" is not base64`);
  }
  const bytes = Buffer.from(value, "base64");
  if (length !== undefined && bytes.length !== length) {
    throw invalid(where, `"${field}" is ${bytes.length} bytes, expected ${length}`);
  }
  return bytes;
}

/** Checks the envelope's shape and parameters before any expensive work is done. */
export function parseEnvelope(json: string, where: string): EncryptedEnvelope {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (error) {
    throw invalid(where, `the encrypted key is not JSON (${(error as Error).message})`);
  }
  const d = doc as Partial<EncryptedEnvelope> | null;
  if (typeof d !== "object" || d === null || typeof d.kdf !== "object" || typeof d.cipher !== "object") {
    throw invalid(where, "the encrypted key has no kdf or cipher section");
  }
  if (d.kdf?.name !== "scrypt") throw invalid(where, `unsupported KDF "${String(d.kdf?.name)}"`);
  if (d.cipher?.name !== "nacl/secretbox") {
    throw invalid(where, `unsupported cipher "${String(d.cipher?.name)}"`);
  }
  const p = d.kdf.params as Partial<ScryptParams> | undefined;
  if (!ACCEPTED_SCRYPT_PARAMS.some((a) => a.N === p?.N && a.r === p?.r && a.p === p?.p)) {
    throw invalid(
      where,
      `unsupported scrypt parameters ${JSON.stringify(p)} (cosign accepts N=32768|65536|131072, r=8, p=1)`,
    );
  }
  return d as EncryptedEnvelope;
}

/** Decrypts the envelope; a failed authentication tag means the password is wrong. */
export async function decryptWithPassword(
  envelope: EncryptedEnvelope,
  password: Uint8Array,
  where: string,
): Promise<Uint8Array> {
  const salt = decodeBase64(envelope.kdf.salt, where, "kdf.salt");
  const nonce = decodeBase64(envelope.cipher.nonce, where, "cipher.nonce", NONCE_BYTES);
  const sealed = decodeBase64(envelope.ciphertext, where, "ciphertext");
  if (sealed.length < TAG_BYTES) throw invalid(where, "the ciphertext is shorter than its tag");
  const key = await deriveKey(password, salt, envelope.kdf.params);
  try {
    return xsalsa20poly1305(key, nonce).decrypt(sealed);
  } catch {
    throw new ShipgateError("PASSWORD_INCORRECT", `${where}: the password is incorrect (decryption failed)`, {
      hint: "set COSIGN_PASSWORD (or SHIPGATE_PASSWORD) to the password the key was generated with",
    });
  } finally {
    key.fill(0);
  }
}
