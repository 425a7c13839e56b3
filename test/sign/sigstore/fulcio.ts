// A local stand-in for Fulcio's v2 API (fulcio.proto, POST /api/v2/signingCert)
// and for the OIDC provider whose tokens it accepts. The CA is real: a root and
// an intermediate made with the openssl CLI; each leaf is minted by openssl for
// the requester's public key with Fulcio's extensions (SAN, the OIDC issuer as
// OIDs 1.3.6.1.4.1.57264.1.1 (raw string) and .1.8 (DER UTF8String), code
// signing). Requests are checked as Fulcio checks them: the token's signature,
// audience and expiry, and the proof of possession (the key's signature over
// the token's subject).
import { execFileSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { closeServer, listen, makeTempDir, removeTempDir } from "../../harness/util.js";

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export interface OidcIssuer {
  url: string;
  publicKey: KeyObject;
  /** An ES256 JWT for audience `sigstore`; claims override the defaults. */
  token(claims: Record<string, unknown>): string;
}

export function oidcIssuer(url: string): OidcIssuer {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    url,
    publicKey,
    token(claims) {
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", kid: "test" }));
      const body = b64url(JSON.stringify({ iss: url, aud: "sigstore", iat: now, exp: now + 600, ...claims }));
      const sig = sign("sha256", Buffer.from(`${header}.${body}`), {
        key: privateKey,
        dsaEncoding: "ieee-p1363",
      });
      return `${header}.${body}.${b64url(sig)}`;
    },
  };
}

export interface TestCa {
  dir: string;
  /** PEM: intermediate, root. */
  chain: string[];
  /** DER of each, intermediate first, for a trusted root. */
  chainDer: Buffer[];
  /** openssl-minted leaf for `publicKeyPem` with Fulcio's extensions. */
  issue(publicKeyPem: string, san: string, issuer: string): string;
  remove(): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const derOf = (pem: string) =>
  Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");

/** A root and an intermediate CA, as Fulcio's public-good instance has. */
export function makeCa(name: string): TestCa {
  const dir = makeTempDir(`fulcio-${name}-`);
  const ext = join(dir, "ca.cnf");
  writeFileSync(
    ext,
    "[inter]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nextendedKeyUsage=codeSigning\n",
  );
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "root.key"], dir);
  openssl(
    ["req", "-x509", "-new", "-key", "root.key", "-subj", `/O=${name}/CN=${name} root`, "-days", "30"]
      .concat(["-addext", "basicConstraints=critical,CA:TRUE,pathlen:1"])
      .concat(["-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem"]),
    dir,
  );
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "inter.key"], dir);
  openssl(
    ["req", "-new", "-key", "inter.key", "-subj", `/O=${name}/CN=${name} intermediate`, "-out", "inter.csr"],
    dir,
  );
  openssl(
    ["x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-days", "30"].concat([
      "-extfile",
      ext,
      "-extensions",
      "inter",
      "-out",
      "inter.pem",
    ]),
    dir,
  );
  const chain = ["inter.pem", "root.pem"].map((f) => readFileSync(join(dir, f), "utf8"));
  let serial = 0;
  return {
    dir,
    chain,
    chainDer: chain.map(derOf),
    issue(publicKeyPem, san, issuer) {
      const n = ++serial;
      writeFileSync(join(dir, `leaf${n}.pub`), publicKeyPem);
      writeFileSync(
        join(dir, `leaf${n}.cnf`),
        [
          "[v]",
          `subjectAltName=critical,${san}`,
          "keyUsage=critical,digitalSignature",
          "extendedKeyUsage=codeSigning",
          `1.3.6.1.4.1.57264.1.1=DER:${Buffer.from(issuer).toString("hex")}`,
          `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${issuer}`,
          "",
        ].join("\n"),
      );
      openssl(
        [
          "x509",
          "-new",
          "-force_pubkey",
          `leaf${n}.pub`,
          "-subj",
          "/",
          "-CA",
          "inter.pem",
          "-CAkey",
          "inter.key",
        ].concat(["-days", "1", "-extfile", `leaf${n}.cnf`, "-extensions", "v", "-out", `leaf${n}.pem`]),
        dir,
      );
      return readFileSync(join(dir, `leaf${n}.pem`), "utf8");
    },
    remove: () => removeTempDir(dir),
  };
}

export interface CertificateRequest {
  token: string;
  publicKey: string;
  algorithm: string;
  proofOfPossession: string;
}

export interface FakeFulcio {
  url: string;
  requests: CertificateRequest[];
  /** Answer every request with this status instead (and a JSON error body). */
  failWith?: number;
  stop(): Promise<void>;
}

function fail(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: status, message }));
}

function verifyToken(token: string, issuers: OidcIssuer[]): Record<string, unknown> | string {
  const [header, body, sig] = token.split(".");
  if (header === undefined || body === undefined || sig === undefined) return "not a JWT";
  const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
  const issuer = issuers.find((i) => i.url === claims.iss);
  if (issuer === undefined) return `unknown issuer ${String(claims.iss)}`;
  const signed = Buffer.from(`${header}.${body}`);
  const ok = verify(
    "sha256",
    signed,
    { key: issuer.publicKey, dsaEncoding: "ieee-p1363" },
    Buffer.from(sig, "base64url"),
  );
  if (!ok) return "the token's signature does not verify";
  if (claims.aud !== "sigstore") return `audience ${String(claims.aud)} is not sigstore`;
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) return "the token expired";
  return claims;
}

export async function startFulcio(ca: TestCa, issuers: OidcIssuer[]): Promise<FakeFulcio> {
  const fake: FakeFulcio = { url: "", requests: [], stop: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/api/v2/signingCert") return fail(res, 404, "not found");
      if (!String(req.headers["content-type"]).startsWith("application/json"))
        return fail(res, 415, "want JSON");
      const doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const request: CertificateRequest = {
        token: doc.credentials?.oidcIdentityToken ?? "",
        publicKey: doc.publicKeyRequest?.publicKey?.content ?? "",
        algorithm: doc.publicKeyRequest?.publicKey?.algorithm ?? "",
        proofOfPossession: doc.publicKeyRequest?.proofOfPossession ?? "",
      };
      fake.requests.push(request);
      if (fake.failWith !== undefined) return fail(res, fake.failWith, "the CA is not available");
      const claims = verifyToken(request.token, issuers);
      if (typeof claims === "string") return fail(res, 401, claims);
      const subject = typeof claims.email === "string" ? claims.email : String(claims.sub);
      let key: KeyObject;
      try {
        key = createPublicKey(request.publicKey);
      } catch {
        return fail(res, 400, "the public key is not PEM");
      }
      const pop = Buffer.from(request.proofOfPossession, "base64");
      if (!verify("sha256", Buffer.from(subject), key, pop))
        return fail(res, 400, "the proof of possession does not verify over the token's subject");
      const san = typeof claims.email === "string" ? `email:${claims.email}` : `URI:${subject}`;
      const leaf = ca.issue(request.publicKey, san, String(claims.iss));
      res.writeHead(201, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: [leaf, ...ca.chain] } } }),
      );
    });
  });
  const port = await listen(server);
  fake.url = `http://127.0.0.1:${port}`;
  fake.stop = () => closeServer(server);
  return fake;
}
