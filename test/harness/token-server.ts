// A minimal Docker token server (https://distribution.github.io/distribution/spec/auth/token/)
// for distribution 2.8.2's `auth.token`. It signs ES256 JWTs whose `kid` is the
// libtrust key ID of the signing key; the registry trusts the keys of the
// certificates in `rootcertbundle` and looks the key up by that ID.
import { execFile } from "node:child_process";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { closeServer, listen } from "./util.js";

const execFileAsync = promisify(execFile);

export interface TokenRequestRecord {
  /** Every scope asked for (`scope` may repeat and may hold space-separated scopes). */
  scopes: string[];
  service: string | null;
  account: string | null;
  /** "none": anonymous; "invalid": Basic credentials were rejected (401). */
  credentials: "none" | "valid" | "invalid";
  username?: string;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key, for the registry's `rootcertbundle`. */
  certPath: string;
  tokenRequests: TokenRequestRecord[];
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/** RFC 4648 base32 (no padding), as Go's base32.StdEncoding for lengths that are multiples of 5. */
function base32(data: Buffer): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, ':' every 4 chars. */
export function libtrustKeyId(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  const b32 = base32(createHash("sha256").update(der).digest().subarray(0, 30));
  return b32.match(/.{4}/g)?.join(":") ?? b32;
}

/** "repository:library/x:pull,push" -> access entry. Names may not contain ':', but be lenient. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(",")
      .filter(Boolean),
  };
}

export async function startTokenServer(opts: {
  dir: string;
  users: Record<string, string>;
  service?: string;
  issuer?: string;
}): Promise<TokenServer> {
  const service = opts.service ?? "test-registry";
  const issuer = opts.issuer ?? "shipgate-test-issuer";
  const keyPath = join(opts.dir, "token-key.pem");
  const certPath = join(opts.dir, "token-cert.pem");
  // Node can make keys but not certificates; openssl does both in one call.
  await execFileAsync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=shipgate-test-token-issuer",
  ]);
  const privateKey = createPrivateKey(await readFile(keyPath));
  const kid = libtrustKeyId(privateKey);
  const tokenRequests: TokenRequestRecord[] = [];

  function issue(subject: string, access: Access[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", kid };
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + 300,
      nbf: now - 10, // tolerate small clock differences
      iat: now,
      jti: randomBytes(12).toString("hex"),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    // JWS ES256 wants r||s, not DER.
    const sig = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(sig)}`;
  }

  function reply(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: http.OutgoingHttpHeaders = {},
  ) {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://token.invalid");
    if (url.pathname !== "/token") return reply(res, 404, { error: "not found" });
    if (req.method !== "GET") return reply(res, 405, { error: "only GET is supported" });

    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ").filter(Boolean));
    const record: TokenRequestRecord = {
      scopes,
      service: url.searchParams.get("service"),
      account: url.searchParams.get("account"),
      credentials: "none",
    };
    tokenRequests.push(record);

    const auth = req.headers.authorization;
    let subject = "";
    if (auth !== undefined) {
      const [scheme, encoded = ""] = auth.split(" ");
      const decoded = Buffer.from(encoded, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const user = decoded.slice(0, colon);
      const valid =
        scheme?.toLowerCase() === "basic" &&
        colon > 0 &&
        Object.hasOwn(opts.users, user) &&
        opts.users[user] === decoded.slice(colon + 1);
      record.credentials = valid ? "valid" : "invalid";
      if (colon > 0) record.username = user;
      if (!valid) {
        return reply(
          res,
          401,
          { errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] },
          {
            "www-authenticate": 'Basic realm="shipgate-test-token"',
          },
        );
      }
      subject = user;
    }
    // Authenticated users get everything they ask for; anonymous users get a token with no access.
    const access = subject === "" ? [] : scopes.map(parseScope).filter((a): a is Access => a !== undefined);
    const token = issue(subject, access);
    reply(res, 200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  });

  const port = await listen(server);
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    tokenRequests,
    stop: () => closeServer(server),
  };
}
