import { X509Certificate } from "@sigstore/core";
import { ShipgateError } from "../errors.js";
import type { ArtifactLayer } from "../oci/artifact.js";
import type { Descriptor } from "../oci/manifest.js";
import type { Location } from "../oci/transports/location.js";
import type { ImageDest, ImageSource } from "../oci/transports/types.js";
import type { TlogEntry } from "./bundle.js";
import { DSSE_ENVELOPE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from "./dsse.js";
import { COSIGN_SIGN_PREDICATE, makeStatement, predicateTypeFor, type Statement } from "./intoto.js";
import { checkIdentity } from "./keyless.js";
import { CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, REKOR_BUNDLE_ANNOTATION } from "./keyless-legacy.js";
import {
  DEFAULT_REKOR_ENTRY_TYPE,
  KeylessSession,
  type KeylessSigning,
  REKOR_ENTRY_TYPES,
  type RekorEntryType,
} from "./keyless-signer.js";
import {
  type AttestOptions,
  type AttestResult,
  annotationsOf,
  DEFAULT_REFERRERS_MODE,
  hexOf,
  type SignedImage,
  type SignOptions,
  type SignResult,
  withEnds,
} from "./sign-image.js";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, simpleSigningPayload } from "./simple-signing.js";
import { appendLegacyLayer, pushBundleReferrer } from "./store-signatures.js";
import { resolveTargets, type Target } from "./targets.js";

/**
 * Keyless signing, cosign's default: an ephemeral key certified by Fulcio for
 * the identity of an OIDC token, every signature logged in Rekor. Stored as
 * keyed signatures are: a bundle v0.3 referrer (oci-1-1), or a `.sig`/`.att`
 * layer carrying the certificate, chain and Rekor bundle as annotations
 * (legacy, as cosign v2 writes it). Every signature is made and logged before
 * anything is written, so a refused certificate or log entry leaves the
 * registry as it was.
 */
export interface KeylessSigned {
  /** The certificate's identity (SAN email or URI) and OIDC issuer. */
  identity: string;
  issuer: string;
  /** The Fulcio leaf certificate (PEM). */
  certificate: string;
  /** Rekor log indexes, one per signature, in the order of `images`. */
  logIndexes: string[];
}

export type KeylessSignResult = SignResult & KeylessSigned;

export interface KeylessAttestOptions extends AttestOptions {
  /**
   * The Rekor entry a legacy `.att` envelope is logged as (cosign's
   * `--rekor-entry-type`). `dsse` (the default) is cosign's default since
   * v2.2; `intoto` (0.0.1) is what cosign v2.0 and v2.1 write, and the one
   * kind every cosign v2 verifier reads. Either way the entry hashes the
   * layer's very bytes. The bundle referrer (oci-1-1) always logs `dsse`, as
   * cosign v3 does: a bundle does not keep the envelope's bytes, which an
   * intoto 0.0.1 entry names only by their hash.
   */
  rekorEntryType?: RekorEntryType;
}
export type KeylessAttestResult = AttestResult & KeylessSigned;

/** A signature made and logged, not yet written. */
interface Prepared {
  target: Target;
  write: (source: ImageSource, dest: ImageDest) => Promise<Omit<SignedImage, "digest" | "platform">>;
  logIndex: string;
}

/** cosign's `dev.sigstore.cosign/bundle`: the SET and the entry it covers (logID hex, numbers as numbers). */
function rekorBundleAnnotation(entry: TlogEntry): string {
  return JSON.stringify({
    SignedEntryTimestamp: entry.inclusionPromise?.signedEntryTimestamp ?? "",
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex ?? 0),
      logID: Buffer.from(entry.logId.keyId, "base64").toString("hex"),
    },
  });
}

function keylessAnnotations(chain: string[], entry: TlogEntry): Record<string, string> {
  const pem = (c: string) => (c.endsWith("\n") ? c : `${c}\n`);
  return {
    [CERTIFICATE_ANNOTATION]: chain[0] as string,
    ...(chain.length > 1 ? { [CHAIN_ANNOTATION]: chain.slice(1).map(pem).join("") } : {}),
    [REKOR_BUNDLE_ANNOTATION]: rekorBundleAnnotation(entry),
  };
}

const subjectOf = (target: Target): Descriptor => ({
  mediaType: target.descriptor.mediaType,
  digest: target.descriptor.digest,
  size: target.descriptor.size,
});

async function bundleReferrer(session: KeylessSession, target: Target, statement: Statement) {
  const signed = await session.dsse(Buffer.from(JSON.stringify(statement)), IN_TOTO_PAYLOAD_TYPE);
  const bytes = Buffer.from(JSON.stringify(signed.bundle));
  return {
    chain: signed.chain,
    logIndex: firstEntry(signed.bundle.verificationMaterial.tlogEntries).logIndex,
    write: async (_source: ImageSource, dest: ImageDest) => ({
      layout: "bundle" as const,
      manifest: await pushBundleReferrer(dest, subjectOf(target), bytes, statement.predicateType),
      duplicate: false,
    }),
  };
}

function firstEntry(entries: TlogEntry[] | undefined): TlogEntry {
  const entry = (entries ?? [])[0] as TlogEntry; // KeylessSession refuses a bundle without one
  // Proto3 JSON leaves a zero out: a log's first entry has no logIndex.
  return { ...entry, logIndex: entry.logIndex ?? "0" };
}

/** Runs `prepare` for every target (Fulcio and Rekor), then writes them all; the result names the signer. */
async function signAll(
  location: Location,
  options: { recursive?: boolean; open?: SignOptions["open"] },
  keyless: KeylessSigning,
  prepare: (
    session: KeylessSession,
    name: string,
    target: Target,
  ) => Promise<{ chain: string[] } & Omit<Prepared, "target">>,
): Promise<SignResult & KeylessSigned> {
  const session = new KeylessSession(keyless); // checks the token before the registry is touched
  return withEnds(location, options.open, async (source, dest) => {
    const { name, root, targets } = await resolveTargets(source, location, options.recursive ?? false);
    const prepared: Prepared[] = [];
    let chain: string[] = [];
    for (const target of targets) {
      const made = await prepare(session, name, target);
      chain = made.chain;
      prepared.push({ target, write: made.write, logIndex: made.logIndex });
    }
    const images: SignedImage[] = [];
    for (const { target, write } of prepared) {
      const digest = target.descriptor.digest;
      const base = target.platform === undefined ? { digest } : { digest, platform: target.platform };
      images.push({ ...base, ...(await write(source, dest)) });
    }
    const who = checkIdentity(X509Certificate.parse(chain[0] as string), {});
    const { identity, issuer } = typeof who === "string" ? { identity: "", issuer: "" } : who;
    return {
      subject: root.digest,
      images,
      identity,
      issuer,
      certificate: chain[0] as string,
      logIndexes: prepared.map((p) => p.logIndex),
    };
  });
}

/** `cosign sign` without a key: the digest a location resolves to, signed under a Fulcio certificate. */
export function signImageKeyless(
  location: Location,
  keyless: KeylessSigning,
  options: SignOptions = {},
): Promise<KeylessSignResult> {
  const mode = options.mode ?? DEFAULT_REFERRERS_MODE;
  return signAll(location, options, keyless, async (session, name, target) => {
    const digest = target.descriptor.digest;
    if (mode === "oci-1-1") {
      const subject = { name, digest: { sha256: hexOf(digest) }, ...annotationsOf(options.annotations) };
      return bundleReferrer(session, target, makeStatement([subject], COSIGN_SIGN_PREDICATE, {}));
    }
    const payload = simpleSigningPayload(name, digest, options.annotations);
    const signed = await session.message(payload);
    const entry = firstEntry(signed.bundle.verificationMaterial.tlogEntries);
    const layer: ArtifactLayer = {
      bytes: payload,
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      annotations: {
        [SIGNATURE_ANNOTATION]: signed.bundle.messageSignature?.signature ?? "",
        ...keylessAnnotations(signed.chain, entry),
      },
    };
    return {
      chain: signed.chain,
      logIndex: entry.logIndex,
      // A fresh key every run: never the duplicate of an earlier signature.
      write: async (source, dest) => ({
        layout: "legacy",
        ...(await appendLegacyLayer(source, dest, digest, "sig", layer, () => false)),
      }),
    };
  });
}

/** `cosign attest` without a key: an in-toto statement in a DSSE envelope, signed under a Fulcio certificate. */
export async function attestImageKeyless(
  location: Location,
  keyless: KeylessSigning,
  options: KeylessAttestOptions,
): Promise<KeylessAttestResult> {
  const predicateType = predicateTypeFor(options.type);
  const mode = options.mode ?? DEFAULT_REFERRERS_MODE;
  const entryType = rekorEntryTypeFor(options.rekorEntryType, mode);
  const result = await signAll(location, options, keyless, async (session, name, target) => {
    const digest = target.descriptor.digest;
    const statement = makeStatement(
      [{ name, digest: { sha256: hexOf(digest) } }],
      predicateType,
      options.predicate,
    );
    // cosign v3's bundle referrer logs a dsse entry; cosign v2's .att layer dsse or intoto, as asked.
    if (mode === "oci-1-1") return bundleReferrer(session, target, statement);
    const signed = await session.legacyEnvelope(
      Buffer.from(JSON.stringify(statement)),
      IN_TOTO_PAYLOAD_TYPE,
      entryType,
    );
    const entry = firstEntry([signed.entry]);
    const layer: ArtifactLayer = {
      bytes: signed.envelope,
      mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
      annotations: {
        predicateType,
        [SIGNATURE_ANNOTATION]: "",
        ...keylessAnnotations(signed.chain, entry),
      },
    };
    const replaces = options.replace
      ? (existing: { descriptor: Descriptor }) =>
          existing.descriptor.annotations?.predicateType === predicateType
      : undefined;
    return {
      chain: signed.chain,
      logIndex: entry.logIndex,
      write: async (source, dest) => ({
        layout: "legacy",
        ...(await appendLegacyLayer(source, dest, digest, "att", layer, () => false, replaces)),
      }),
    };
  });
  return { ...result, predicateType };
}

/** The entry kind for this layout; refused before any request when it cannot be honoured. */
function rekorEntryTypeFor(value: RekorEntryType | undefined, mode: string): RekorEntryType {
  const type = value ?? DEFAULT_REKOR_ENTRY_TYPE;
  if (!REKOR_ENTRY_TYPES.includes(type)) {
    throw new ShipgateError("USAGE", `the Rekor entry type must be dsse or intoto, not "${String(type)}"`);
  }
  if (mode === "oci-1-1" && type !== "dsse") {
    throw new ShipgateError(
      "USAGE",
      `a bundle (--registry-referrers-mode oci-1-1) always logs a dsse entry, not ${type}`,
      { hint: "drop --rekor-entry-type, or use --registry-referrers-mode legacy for an intoto entry" },
    );
  }
  return type;
}
