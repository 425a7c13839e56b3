import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  X509Certificate,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import { ShipgateError } from "../errors.js";
import { decryptWithPassword, encryptWithPassword, parseEnvelope } from "./encrypted-key.js";

/** cosign's PEM labels: v2+ writes SIGSTORE, v1 wrote COSIGN; the payload is the same envelope. */
export const SIGSTORE_PRIVATE_KEY_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const COSIGN_PRIVATE_KEY_PEM = "ENCRYPTED COSIGN PRIVATE KEY";

export interface PrivateKey {
  readonly key: KeyObject;
  readonly publicKey: PublicKey;
}

export interface PublicKey {
  readonly key: KeyObject;
  /** PKIX PEM, as `cosign public-key` prints it. */
  readonly pem: string;
  /** base64(sha256(PKIX DER)): the hint a Sigstore bundle carries for a key. */
  readonly hint: string;
  /** Where the key came from (a path, env://VAR), for messages. */
  readonly source: string;
}

export interface GeneratedKeyPair {
  /** `ENCRYPTED SIGSTORE PRIVATE KEY` PEM: cosign reads it as it reads its own. */
  privatePem: string;
  publicPem: string;
}

/**
 * Key-management services cosign can sign with. shipgate has no KMS client
 * yet; naming them lets the error say so plainly instead of "file not found".
 */
const KMS_SCHEMES = ["awskms", "gcpkms", "azurekms", "hashivault", "k8s", "pkcs11"];

function pemEncode(label: string, body: Uint8Array): string {
  const b64 = Buffer.from(body).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The first PEM block: its label and decoded body. */
export function pemDecode(text: string, where: string): { label: string; body: Buffer } {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (match === null) {
    throw new ShipgateError("KEY_INVALID", `${where} holds no PEM block`, {
      hint: "pass a PEM file such as cosign.key or cosign.pub",
    });
  }
  return { label: match[1] as string, body: Buffer.from((match[2] as string).replace(/\s+/g, ""), "base64") };
}

function publicKeyFrom(key: KeyObject, source: string): PublicKey {
  const der = key.export({ type: "spki", format: "der" });
  return {
    key,
    pem: pemEncode("PUBLIC KEY", der),
    hint: createHash("sha256").update(der).digest("base64"),
    source,
  };
}

/** A fresh ECDSA P-256 key pair, the private key encrypted as cosign encrypts it. */
export async function generateKeyPair(password: string | Uint8Array): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  try {
    const envelope = await encryptWithPassword(pkcs8, passwordBytes(password));
    return {
      privatePem: pemEncode(SIGSTORE_PRIVATE_KEY_PEM, Buffer.from(JSON.stringify(envelope))),
      publicPem: publicKeyFrom(publicKey, "generated").pem,
    };
  } finally {
    pkcs8.fill(0);
  }
}

function passwordBytes(password: string | Uint8Array): Uint8Array {
  return typeof password === "string" ? Buffer.from(password, "utf8") : password;
}

/**
 * Decrypts a cosign private key (either PEM label) in memory. As cosign does,
 * the plaintext must be PKCS#8; a SEC1 `EC PRIVATE KEY` inside is refused.
 */
export async function loadPrivateKey(
  pem: string,
  password: string | Uint8Array,
  where = "the private key",
): Promise<PrivateKey> {
  const { label, body } = pemDecode(pem, where);
  if (label !== SIGSTORE_PRIVATE_KEY_PEM && label !== COSIGN_PRIVATE_KEY_PEM) {
    throw new ShipgateError("KEY_INVALID", `${where} is a "${label}" PEM, not an encrypted cosign key`, {
      hint: `expected "${SIGSTORE_PRIVATE_KEY_PEM}" (or the older "${COSIGN_PRIVATE_KEY_PEM}")`,
    });
  }
  const envelope = parseEnvelope(body.toString("utf8"), where);
  const der = Buffer.from(await decryptWithPassword(envelope, passwordBytes(password), where));
  try {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    } catch {
      const sec1 = (() => {
        try {
          createPrivateKey({ key: der, format: "der", type: "sec1" });
          return true;
        } catch {
          return false;
        }
      })();
      throw new ShipgateError(
        "KEY_INVALID",
        sec1
          ? `${where} decrypts to a SEC1 EC key; cosign (and shipgate) require PKCS#8`
          : `${where} decrypts to something that is not a PKCS#8 private key`,
        { hint: "re-create the key with `shipgate key generate` or `cosign generate-key-pair`" },
      );
    }
    assertSupported(key, where);
    return { key, publicKey: publicKeyFrom(createPublicKey(key), where) };
  } finally {
    der.fill(0);
  }
}

/**
 * loadPrivateKey with each password in turn until one decrypts (a piped
 * password, then the same with the newline cosign would have kept); the
 * first one's error when none does.
 */
export async function loadPrivateKeyTrying(
  pem: string,
  passwords: readonly string[],
  where = "the private key",
): Promise<PrivateKey> {
  let firstError: unknown;
  for (const password of passwords) {
    try {
      return await loadPrivateKey(pem, password, where);
    } catch (error) {
      if (!(error instanceof ShipgateError && error.code === "PASSWORD_INCORRECT")) throw error;
      firstError ??= error;
    }
  }
  throw firstError ?? new ShipgateError("USAGE", `no password for ${where}`);
}

function assertSupported(key: KeyObject, where: string): void {
  const type = key.asymmetricKeyType;
  if (type === "ec" || type === "ed25519" || type === "rsa") return;
  throw new ShipgateError("KEY_INVALID", `${where}: ${type} keys are not supported`, {
    hint: "use an ECDSA P-256 key (shipgate key generate)",
  });
}

function unsupportedScheme(spec: string, scheme: string): ShipgateError {
  const known = KMS_SCHEMES.includes(scheme);
  return new ShipgateError(
    "UNSUPPORTED",
    known
      ? `${spec}: the ${scheme}:// key-management scheme is not supported by shipgate yet`
      : `${spec}: unknown key scheme "${scheme}://"`,
    {
      hint: `use a PEM file or env://VAR; not supported yet: ${KMS_SCHEMES.map((s) => `${s}://`).join(", ")}`,
    },
  );
}

/** Reads a key reference's text: a file path or `env://VAR`; KMS URIs are refused by name. */
export async function readKeyText(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(spec)?.[1];
  if (scheme === "env") {
    const name = spec.slice("env://".length);
    const value = env[name];
    if (value === undefined || value === "") {
      throw new ShipgateError("KEY_INVALID", `${spec}: the environment variable ${name} is not set`, {
        hint: `export ${name} with the PEM text of the key`,
      });
    }
    return value;
  }
  if (scheme !== undefined) throw unsupportedScheme(spec, scheme);
  try {
    return await readFile(spec, "utf8");
  } catch (error) {
    throw new ShipgateError("KEY_INVALID", `cannot read the key file ${spec}: ${(error as Error).message}`, {
      hint: "pass the path of a PEM key file, or env://VAR",
      cause: error,
    });
  }
}

/** A verification key from a PEM public key or certificate: a file, `env://VAR`; KMS URIs refused. */
export async function loadPublicKey(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<PublicKey> {
  return parsePublicKey(await readKeyText(spec, env), spec);
}

export function parsePublicKey(text: string, source: string): PublicKey {
  const { label } = pemDecode(text, source);
  let key: KeyObject;
  try {
    key =
      label === "CERTIFICATE"
        ? new X509Certificate(text).publicKey
        : createPublicKey({ key: text, format: "pem" });
  } catch (error) {
    throw new ShipgateError(
      "KEY_INVALID",
      `${source} is not a valid public key: ${(error as Error).message}`,
      {
        hint: "pass a PKIX PEM (-----BEGIN PUBLIC KEY-----), e.g. cosign.pub",
      },
    );
  }
  if (key.type !== "public") {
    throw new ShipgateError("KEY_INVALID", `${source} holds a private key where a public key is expected`, {
      hint: "pass the .pub file; print it with: shipgate key public --key cosign.key",
    });
  }
  assertSupported(key, source);
  return publicKeyFrom(key, source);
}

/** SHA-256 signatures, as cosign makes them (ECDSA: ASN.1 DER; Ed25519: pure). */
export function signBytes(key: PrivateKey, data: Uint8Array): Buffer {
  return nodeSign(key.key.asymmetricKeyType === "ed25519" ? null : "sha256", data, key.key);
}

export function verifyBytes(key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return nodeVerify(key.key.asymmetricKeyType === "ed25519" ? null : "sha256", data, key.key, signature);
  } catch {
    return false; // a malformed (truncated, garbage) signature is simply not valid
  }
}
