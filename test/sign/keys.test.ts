// Keys: cosign's own encrypted key fixtures decrypt (or are refused) exactly as
// cosign's keys_test.go expects, and a key shipgate generates decrypts with an
// independent implementation (test/sign/oracle, Python: hashlib scrypt, a
// from-the-paper XSalsa20, cryptography's Poly1305 and PKCS#8 parser).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { encryptWithPassword } from "../../src/sign/encrypted-key.js";
import {
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  parsePublicKey,
  signBytes,
  verifyBytes,
} from "../../src/sign/keys.js";
import { makeTempDir } from "../harness/util.js";
import { COSIGN_TESTDATA, cosignFixture } from "./helpers.js";

const run = promisify(execFile);
const fixture = cosignFixture;
const ORACLE = join(import.meta.dirname, "oracle", "decrypt_cosign_key.py");

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ShipgateError) return error.code;
    throw error;
  }
  return "no error";
}

describe("cosign's key fixtures (pkg/cosign/keys_test.go, password hello)", () => {
  it("decrypts ENCRYPTED SIGSTORE PRIVATE KEY to a P-256 key", async () => {
    const key = await loadPrivateKey(fixture("pemsigstorekey.pem"), "hello");
    expect(key.key.asymmetricKeyType).toBe("ec");
    expect(key.key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    // The same public key the independent Python reader derives from the same file.
    const { stdout } = await run("python3", [ORACLE, join(COSIGN_TESTDATA, "pemsigstorekey.pem"), "hello"]);
    expect(stdout.slice(stdout.indexOf("-----BEGIN"))).toBe(key.publicKey.pem);
  });

  it("decrypts the older ENCRYPTED COSIGN PRIVATE KEY label", async () => {
    const key = await loadPrivateKey(fixture("pemcosignkey.pem"), "hello");
    const signature = signBytes(key, Buffer.from("payload"));
    expect(verifyBytes(key.publicKey, Buffer.from("payload"), signature)).toBe(true);
  });

  it("refuses the SEC1 plaintext of pemcosigneckey, as cosign does", async () => {
    const error = await loadPrivateKey(fixture("pemcosigneckey.pem"), "hello").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).code).toBe("KEY_INVALID");
    expect((error as Error).message).toContain("SEC1");
  });

  it("a wrong password is PASSWORD_INCORRECT", async () => {
    expect(await codeOf(loadPrivateKey(fixture("pemsigstorekey.pem"), "hell0"))).toBe("PASSWORD_INCORRECT");
  });
});

describe("scrypt parameters: cosign's three sets and no others", () => {
  const pemOf = (envelope: object) =>
    `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(envelope)).toString("base64")}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;

  it("accepts N=2^17 (OWASP set) and refuses N=2^14 and r=16 before deriving", async () => {
    const { privateKey } = await import("node:crypto").then((c) =>
      c.generateKeyPairSync("ec", { namedCurve: "P-256" }),
    );
    const der = privateKey.export({ type: "pkcs8", format: "der" });
    const owasp = await encryptWithPassword(der, Buffer.from("pw"), { N: 131072, r: 8, p: 1 });
    await expect(loadPrivateKey(pemOf(owasp), "pw")).resolves.toBeDefined();
    for (const params of [
      { N: 16384, r: 8, p: 1 },
      { N: 32768, r: 16, p: 1 },
      { N: 1 << 30, r: 8, p: 1 },
    ]) {
      const bad = { ...owasp, kdf: { ...owasp.kdf, params } };
      expect(await codeOf(loadPrivateKey(pemOf(bad), "pw"))).toBe("KEY_INVALID");
    }
  });

  it("refuses other KDFs, ciphers and short nonces", async () => {
    const base = JSON.parse(
      Buffer.from(fixture("pemsigstorekey.pem").split("\n").slice(1, -2).join(""), "base64").toString(),
    );
    for (const broken of [
      { ...base, kdf: { ...base.kdf, name: "pbkdf2" } },
      { ...base, cipher: { ...base.cipher, name: "aes-gcm" } },
      { ...base, cipher: { ...base.cipher, nonce: Buffer.alloc(12).toString("base64") } },
    ]) {
      expect(await codeOf(loadPrivateKey(pemOf(broken), "hello"))).toBe("KEY_INVALID");
    }
  });
});

describe("generated keys", () => {
  it("are cosign's layout and decrypt with the independent implementation", async () => {
    const pair = await generateKeyPair("correct horse");
    expect(pair.privatePem.startsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")).toBe(true);
    const dir = makeTempDir("shipgate-keys-");
    const file = join(dir, "cosign.key");
    writeFileSync(file, pair.privatePem);
    const { stdout } = await run("python3", [ORACLE, file, "correct horse"]);
    const [facts, ...pem] = stdout.split("\n");
    expect(JSON.parse(facts as string)).toEqual({
      salt_bytes: 32,
      nonce_bytes: 24,
      // go-securesystemslib's default ("standard"), which cosign's encrypted.Encrypt uses.
      params: { N: 65536, r: 8, p: 1 },
      curve: "secp256r1",
    });
    expect(pem.join("\n")).toBe(pair.publicPem);
    await expect(run("python3", [ORACLE, file, "wrong"])).rejects.toThrow();
  });

  it("sign and verify round trip; another key does not verify", async () => {
    const a = await loadPrivateKey((await generateKeyPair("a")).privatePem, "a");
    const b = parsePublicKey((await generateKeyPair("b")).publicPem, "b.pub");
    const signature = signBytes(a, Buffer.from("data"));
    expect(verifyBytes(a.publicKey, Buffer.from("data"), signature)).toBe(true);
    expect(verifyBytes(a.publicKey, Buffer.from("dat4"), signature)).toBe(false);
    expect(verifyBytes(b, Buffer.from("data"), signature)).toBe(false);
    expect(verifyBytes(a.publicKey, Buffer.from("data"), signature.subarray(0, 20))).toBe(false);
  });
});

describe("public key sources", () => {
  it("reads a file and env://VAR", async () => {
    const file = join(COSIGN_TESTDATA, "blob-attestation.pub");
    const fromFile = await loadPublicKey(file);
    const fromEnv = await loadPublicKey("env://MY_KEY", { MY_KEY: fixture("blob-attestation.pub") });
    expect(fromEnv.pem).toBe(fromFile.pem);
    expect(fromFile.hint).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(await codeOf(loadPublicKey("env://UNSET_KEY", {}))).toBe("KEY_INVALID");
  });

  it("names each KMS scheme it does not support", async () => {
    for (const uri of [
      "awskms://alias/x",
      "gcpkms://projects/p",
      "azurekms://v.vault",
      "hashivault://k",
      "k8s://ns/s",
    ]) {
      const error = await loadPublicKey(uri).catch((e: unknown) => e);
      expect((error as ShipgateError).code).toBe("UNSUPPORTED");
      expect((error as Error).message).toContain(`${uri.split(":")[0]}://`);
    }
  });

  it("a private key where a public key is expected is KEY_INVALID", async () => {
    expect(
      await codeOf(Promise.resolve().then(() => parsePublicKey(fixture("pemsigstorekey.pem"), "x"))),
    ).toBe("KEY_INVALID");
  });
});

describe("password sources", () => {
  it("COSIGN_PASSWORD first (empty is a password), then SHIPGATE_PASSWORD, then a piped first line", async () => {
    const { Readable } = await import("node:stream");
    const { readPassword } = await import("../../src/sign/password.js");
    expect(await readPassword("k", { env: { COSIGN_PASSWORD: "", SHIPGATE_PASSWORD: "x" } })).toBe("");
    expect(await readPassword("k", { env: { SHIPGATE_PASSWORD: "x" } })).toBe("x");
    expect(await readPassword("k", { env: {}, input: Readable.from(["pw from pipe\r\nrest"]) })).toBe(
      "pw from pipe",
    );
    expect(await codeOf(readPassword("k", { env: {}, input: Readable.from([]) }))).toBe("USAGE");
  });
});
