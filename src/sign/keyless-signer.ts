import { createHash, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { bundleToJSON, type Bundle as SigstoreBundle } from "@sigstore/bundle";
import { X509Certificate } from "@sigstore/core";
import {
  DSSEBundleBuilder,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signature,
  type Signer,
} from "@sigstore/sign";
// The library's own Fulcio client (retries, timeouts, both SCT forms of the
// response). FulcioSigner wraps it but keeps only the leaf of the chain and asks
// for a new certificate on every signature; cosign keeps the chain (the
// `dev.sigstore.cosign/chain` annotation) and signs every image of one run
// under one certificate, so the 20 lines of FulcioSigner that do that are ours.
import { CAClient } from "@sigstore/sign/dist/signer/fulcio/ca.js";
// The library's Rekor client, for the entries of a legacy `.att`, which must hash
// the layer's very bytes (see KeylessSession.legacyEnvelope).
import { type Entry, type ProposedEntry, TLogClient } from "@sigstore/sign/dist/witness/tlog/client.js";
import { ShipgateError } from "../errors.js";
import type { Bundle, TlogEntry } from "./bundle.js";
import { parseEnvelope, preAuthEncoding } from "./dsse.js";
import {
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  type KeylessSigning,
  type RekorEntryType,
} from "./keyless-config.js";
import { dsseEntryMismatch } from "./rekor-bodies.js";

export {
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_ENTRY_TYPE,
  DEFAULT_REKOR_URL,
  type KeylessSigning,
  REKOR_ENTRY_TYPES,
  type RekorEntryType,
} from "./keyless-config.js";

export interface TokenClaims {
  issuer: string;
  /** What Fulcio certifies and the proof of possession signs: the verified email, else `sub`. */
  subject: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function serviceUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ShipgateError("USAGE", `${what} URL ${value} is not a URL`, {
      hint: "e.g. https://fulcio.sigstore.dev",
    });
  }
  // The identity token travels to Fulcio: plain HTTP only where nobody else can listen.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new ShipgateError("USAGE", `${what} URL ${value} must be https (plain http only on loopback)`);
  }
  return value.replace(/\/+$/, "");
}

/** Reads the claims Fulcio uses, refusing what it would refuse anyway (not a JWT, expired) before any request. */
export function tokenClaims(token: string, now = new Date()): TokenClaims {
  const hint = "pass a fresh OIDC token for audience sigstore: --identity-token FILE or SIGSTORE_ID_TOKEN";
  const parts = token.trim().split(".");
  let claims: { iss?: unknown; sub?: unknown; email?: unknown; email_verified?: unknown; exp?: unknown };
  try {
    if (parts.length !== 3) throw new Error("not three parts");
    claims = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8"));
  } catch {
    throw new ShipgateError("USAGE", "the identity token is not a JWT (header.payload.signature)", { hint });
  }
  if (typeof claims.iss !== "string") {
    throw new ShipgateError("USAGE", "the identity token has no issuer (iss)", { hint });
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= now.getTime()) {
    throw new ShipgateError(
      "USAGE",
      `the identity token expired at ${new Date(claims.exp * 1000).toISOString()}`,
      { hint },
    );
  }
  let subject: unknown = claims.sub;
  if (typeof claims.email === "string") {
    if (claims.email_verified !== true) {
      throw new ShipgateError("USAGE", `the identity token's email ${claims.email} is not verified`, {
        hint,
      });
    }
    subject = claims.email;
  }
  if (typeof subject !== "string" || subject === "") {
    throw new ShipgateError("USAGE", "the identity token names no subject (sub or email)", { hint });
  }
  return { issuer: claims.iss, subject };
}

/**
 * An ephemeral P-256 key, certified once by Fulcio for the token's identity
 * (the proof of possession is the key's signature over the token's subject).
 * The key never leaves memory.
 */
class FulcioCertifiedSigner implements Signer {
  private readonly pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  private certificates: Promise<string[]> | undefined;

  constructor(
    private readonly ca: CAClient,
    private readonly token: string,
    private readonly claims: TokenClaims,
    private readonly fulcioUrl: string,
  ) {}

  /** The leaf, then the intermediates and root, as Fulcio returned them (PEM). */
  chain(): Promise<string[]> {
    this.certificates ??= this.request();
    return this.certificates;
  }

  private async request(): Promise<string[]> {
    const publicPem = this.pair.publicKey.export({ format: "pem", type: "spki" }).toString();
    const proof = nodeSign("sha256", Buffer.from(this.claims.subject), this.pair.privateKey);
    const chain = await this.ca
      .createSigningCertificate(this.token, publicPem, proof)
      .catch((error: unknown) => {
        throw serviceError(error, "Fulcio", this.fulcioUrl, "the certificate request");
      });
    if (!Array.isArray(chain) || typeof chain[0] !== "string") {
      throw new ShipgateError("NETWORK", `Fulcio at ${this.fulcioUrl} answered without a certificate chain`);
    }
    return chain;
  }

  async sign(data: Buffer): Promise<Signature> {
    const [leaf] = await this.chain();
    return {
      signature: nodeSign("sha256", data, this.pair.privateKey),
      key: { $case: "x509Certificate", certificate: leaf as string },
    };
  }
}

/** @sigstore/sign's errors carry the HTTP status in `cause.statusCode`; say which service, and what to do. */
function serviceError(error: unknown, service: string, url: string, what: string): ShipgateError {
  const cause = (error as { cause?: { statusCode?: unknown; message?: unknown } }).cause;
  const status = typeof cause?.statusCode === "number" ? cause.statusCode : undefined;
  const detail = String((cause?.message as string | undefined) ?? (error as Error).message ?? error);
  const auth = status === 401 || status === 403;
  return new ShipgateError(
    auth ? "UNAUTHORIZED" : "NETWORK",
    `${service} at ${url} refused ${what}${status === undefined ? "" : ` (HTTP ${status})`}: ${detail}`,
    {
      cause: error,
      hint: auth
        ? "the identity token was not accepted: it may be expired, or for another audience or issuer"
        : `check that ${service} is reachable (--${service.toLowerCase()}-url), then retry; nothing was written`,
    },
  );
}

export interface KeylessSignature {
  /** The bundle (JSON form), with the certificate and the Rekor entry. */
  bundle: Bundle;
  /** Fulcio's chain: leaf first (PEM). */
  chain: string[];
}

/** One run's signing session: one certificate, then any number of DSSE or message signatures, each logged in Rekor. */
export class KeylessSession {
  private readonly signer: FulcioCertifiedSigner;
  private readonly witness: RekorWitness;
  private readonly tlog: TLogClient;
  private readonly rekorUrl: string;
  readonly claims: TokenClaims;

  constructor(options: KeylessSigning) {
    this.claims = tokenClaims(options.identityToken);
    const fulcioUrl = serviceUrl(options.fulcioUrl ?? DEFAULT_FULCIO_URL, "--fulcio-url");
    this.rekorUrl = serviceUrl(options.rekorUrl ?? DEFAULT_REKOR_URL, "--rekor-url");
    const fetch = {
      timeout: options.timeout ?? 30_000,
      retry: { retries: options.retries ?? 2, minTimeout: options.retryDelay ?? 1000 },
    };
    const ca = new CAClient({ fulcioBaseURL: fulcioUrl, ...fetch });
    this.signer = new FulcioCertifiedSigner(ca, options.identityToken.trim(), this.claims, fulcioUrl);
    // Rekor's `dsse` entry kind (the library's default) for bundled envelopes; hashedrekord for message
    // signatures. A legacy `.att` envelope is logged through `tlog` (see legacyEnvelope()).
    this.witness = new RekorWitness({ rekorBaseURL: this.rekorUrl, ...fetch });
    this.tlog = new TLogClient({ rekorBaseURL: this.rekorUrl, ...fetch });
  }

  /** A DSSE envelope over `payload` (an in-toto statement), as a bundle v0.3 with a single certificate. */
  dsse(payload: Buffer, payloadType: string): Promise<KeylessSignature> {
    const builder = new DSSEBundleBuilder({ signer: this.signer, witnesses: [this.witness] });
    return this.build(() => builder.create({ data: payload, type: payloadType }));
  }

  /** A signature over the bytes themselves (cosign's legacy simple-signing layer), logged as hashedrekord. */
  message(payload: Buffer): Promise<KeylessSignature> {
    const builder = new MessageSignatureBundleBuilder({ signer: this.signer, witnesses: [this.witness] });
    return this.build(() => builder.create({ data: payload }));
  }

  /**
   * A DSSE envelope logged as cosign v2 logs a legacy `.att`: the envelope is
   * serialized once (go-securesystemslib's field order, keyid "", as cosign
   * writes it) and those very bytes are both what the layer will hold and
   * what Rekor is sent, so the entry's envelope hash is the layer's sha256,
   * which cosign's VerifyBundle requires for either kind:
   *
   * - `dsse` 0.0.1 (cosign's default since v2.2): `proposedContent.envelope`
   *   is the envelope string, `verifiers` base64 of the certificate PEM; Rekor
   *   hashes that string into `envelopeHash`. @sigstore/sign's RekorWitness
   *   would send its own serialization (protobuf JSON: payload first, keyid
   *   left out), not cosign's; sending ours, the bytes the layer holds are the
   *   bytes Rekor hashed by construction.
   * - `intoto` 0.0.1 (`--rekor-entry-type intoto`, cosign's default before
   *   v2.2, the kind every cosign v2 reads): `content.envelope` the same
   *   string, `content.hash` its sha256, `publicKey` base64 of the PEM.
   *   @sigstore/sign writes intoto only as 0.0.2, hashing a document of its
   *   own (with the PEM inside) that cosign's check against the layer refuses.
   *
   * Either entry is posted through the library's Rekor client (retries,
   * timeouts), and the log's answer must be exactly that entry.
   */
  async legacyEnvelope(
    payload: Buffer,
    payloadType: string,
    entryType: RekorEntryType,
  ): Promise<LoggedEnvelope> {
    const chain = await this.signer.chain();
    const { signature } = await this.signer.sign(preAuthEncoding(payloadType, payload));
    // go-securesystemslib's serialization, which cosign writes: payloadType, payload, signatures [{keyid, sig}].
    const envelope = Buffer.from(
      JSON.stringify({
        payloadType,
        payload: payload.toString("base64"),
        signatures: [{ keyid: "", sig: signature.toString("base64") }],
      }),
    );
    const leaf = chain[0] as string;
    const pem = Buffer.from(leaf).toString("base64");
    const text = envelope.toString("utf8");
    const proposed = (entryType === "dsse"
      ? { apiVersion: "0.0.1", kind: "dsse", spec: { proposedContent: { envelope: text, verifiers: [pem] } } }
      : {
          apiVersion: "0.0.1",
          kind: "intoto",
          spec: {
            content: {
              envelope: text,
              hash: { algorithm: "sha256", value: createHash("sha256").update(envelope).digest("hex") },
            },
            publicKey: pem,
          },
        }) as unknown as ProposedEntry;
    const logged = await this.tlog.createEntry(proposed).catch((error: unknown) => {
      throw serviceError(error, "Rekor", this.rekorUrl, "the log entry");
    });
    const entry = tlogEntryOf(logged, this.rekorUrl);
    // The log must hold exactly what was asked: nothing is written on a promise for another envelope.
    const mismatch = dsseEntryMismatch(
      entry.canonicalizedBody,
      { kind: entryType, version: "0.0.1" },
      parseEnvelope(envelope, "the envelope"),
      X509Certificate.parse(leaf).root.toDER(),
      envelope,
    );
    if (mismatch !== undefined) {
      throw new ShipgateError("NETWORK", `Rekor at ${this.rekorUrl} logged another entry: ${mismatch}`);
    }
    return { envelope, entry, chain };
  }

  private async build(create: () => Promise<SigstoreBundle>): Promise<KeylessSignature> {
    const chain = await this.signer.chain(); // Fulcio's failures are reported as Fulcio's
    const bundle = await create().catch((error: unknown) => {
      if (error instanceof ShipgateError) throw error;
      throw serviceError(error, "Rekor", this.rekorUrl, "the log entry");
    });
    const json = tidy(bundleToJSON(bundle) as unknown as Bundle);
    if ((json.verificationMaterial.tlogEntries ?? []).length === 0) {
      throw new ShipgateError("NETWORK", `Rekor at ${this.rekorUrl} returned no log entry`);
    }
    return { bundle: json, chain };
  }
}

export interface LoggedEnvelope {
  /** The DSSE envelope's bytes, as logged and as the layer stores them. */
  envelope: Buffer;
  /** The log entry, in the bundle's (JSON) form. */
  entry: TlogEntry;
  /** Fulcio's chain: leaf first (PEM). */
  chain: string[];
}

/** Rekor v1's answer (hex log ID and root, numbers as numbers) in the bundle's JSON form. */
function tlogEntryOf(logged: Entry, rekorUrl: string): TlogEntry {
  const set = logged.verification?.signedEntryTimestamp;
  let body: { kind?: unknown; apiVersion?: unknown } = {};
  try {
    body = JSON.parse(Buffer.from(String(logged.body), "base64").toString("utf8")) ?? {};
  } catch {
    // refused below, by the body check
  }
  if (set === undefined) {
    // cosign's legacy layout carries the SET as the proof of logging: an entry without one cannot be verified offline.
    throw new ShipgateError("NETWORK", `Rekor at ${rekorUrl} returned no signed entry timestamp`);
  }
  return {
    logIndex: String(logged.logIndex),
    logId: { keyId: Buffer.from(String(logged.logID), "hex").toString("base64") },
    kindVersion: { kind: String(body.kind), version: String(body.apiVersion) },
    integratedTime: String(logged.integratedTime),
    inclusionPromise: { signedEntryTimestamp: set },
    canonicalizedBody: String(logged.body),
  };
}

/** Proto3 JSON as cosign writes it: an empty keyid and empty timestamp data are left out. */
function tidy(bundle: Bundle): Bundle {
  const material = { ...bundle.verificationMaterial };
  const timestamps = material.timestampVerificationData as { rfc3161Timestamps?: unknown[] } | undefined;
  if ((timestamps?.rfc3161Timestamps ?? []).length === 0) delete material.timestampVerificationData;
  const out: Bundle = { ...bundle, verificationMaterial: material };
  if (bundle.dsseEnvelope !== undefined) {
    out.dsseEnvelope = {
      ...bundle.dsseEnvelope,
      signatures: bundle.dsseEnvelope.signatures.map((s) => (s.keyid ? s : { sig: s.sig })),
    };
  }
  return out;
}
