// The set-up keyless tests share: a real docker-registry, the local Fulcio
// (with its test CA and OIDC issuer) and Rekor stand-ins, the trusted root for
// that CA and log (parsed for shipgate, and as @sigstore/verify's trust
// material for the oracle), tokens, and what a legacy `.att` / `.sig` layer
// amounts to. Each test file starts one in `beforeAll` and stops it in
// `afterAll`:
//
//   let fx: KeylessFixture;
//   beforeAll(async () => { fx = await startKeyless("my-fulcio"); });
//   afterAll(() => fx?.stop());
import { createHash } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot as TrustedRootProto } from "@sigstore/protobuf-specs";
import { toTrustMaterial, Verifier } from "@sigstore/verify";
import { type Location, parseLocation } from "../../../src/oci/transports/location.js";
import type { RegistryRepository } from "../../../src/oci/transports/registry.js";
import { type DsseEnvelope, parseEnvelope } from "../../../src/sign/dsse.js";
import {
  type IdentityPolicy,
  type Keyless,
  parseTrustedRoot,
  type TrustedRoot,
} from "../../../src/sign/keyless.js";
import {
  CERTIFICATE_ANNOTATION,
  REKOR_BUNDLE_ANNOTATION,
  verifyLegacyKeylessAttestation,
} from "../../../src/sign/keyless-legacy.js";
import { attestImageKeyless, type KeylessAttestOptions } from "../../../src/sign/keyless-sign.js";
import type { KeylessSigning } from "../../../src/sign/keyless-signer.js";
import { readLegacyLayers } from "../../../src/sign/store-signatures.js";
import { startRegistry, type TestRegistry } from "../../harness/registry.js";
import { pushImage, pushIndex, repoOn } from "../images.js";
import { type FakeFulcio, makeCa, type OidcIssuer, oidcIssuer, startFulcio, type TestCa } from "./fulcio.js";
import { type FakeRekor, type ProposedEntryRecord, startRekor } from "./rekor.js";
import { trustedRootJson } from "./trusted-root.js";

export const sha256hex = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");
export const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
export const pemToDer = (pem: string) =>
  Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");

/** A legacy `.att` layer as `attest --keyless` wrote it: its bytes, the envelope they parse to, its annotations. */
export interface LegacyAtt {
  /** The image it attests. */
  digest: string;
  bytes: Buffer;
  envelope: DsseEnvelope;
  annotations: Record<string, string>;
  certPem: string;
}

export interface KeylessFixture {
  registry: TestRegistry;
  /** The registry's host:port. */
  host: string;
  ca: TestCa;
  issuer: string;
  oidc: OidcIssuer;
  fulcio: FakeFulcio;
  rekor: FakeRekor;
  /** trusted_root.json for `ca` and `rekor`, as `cosign trusted-root create` writes it. */
  rootJson: string;
  root: TrustedRoot;
  /** @sigstore/verify over the same root: no CT log (the test CA embeds no SCTs), one tlog entry. */
  oracle: Verifier;
  repo(path: string): RegistryRepository;
  /** `host/ref` as a location. */
  at(ref: string): Location;
  /** A token for a verified email (subject `<local part>-id`); Fulcio certifies the email. */
  emailToken(email: string): string;
  /** Signing options against the stand-ins with this token. */
  signing(identityToken: string, options?: Partial<KeylessSigning>): KeylessSigning;
  /** The `keyless` option of verify: this root, and the identity asked for. */
  keyless(identity: IdentityPolicy): Keyless;
  /**
   * `attest --keyless` in the legacy layout of a fresh image (or, with `index`, both platforms of an
   * index) pushed at `path:1`: the `.att` layers it wrote, one per image, and the entries it proposed.
   */
  attestLegacy(
    path: string,
    signing: KeylessSigning,
    options?: Partial<KeylessAttestOptions> & { index?: boolean },
  ): Promise<{ atts: LegacyAtt[]; proposed: ProposedEntryRecord[] }>;
  stop(): Promise<void>;
}

export async function startKeyless(caName: string, issuer = "https://oidc.test"): Promise<KeylessFixture> {
  const ca = makeCa(caName);
  const oidc = oidcIssuer(issuer);
  const [registry, fulcio, rekor] = await Promise.all([
    startRegistry(),
    startFulcio(ca, [oidc]),
    startRekor(),
  ]).catch(async (e: unknown) => {
    await ca.remove();
    throw e;
  });
  const rootJson = trustedRootJson([ca], [rekor]);
  const fx: KeylessFixture = {
    registry,
    host: registry.host,
    ca,
    issuer,
    oidc,
    fulcio,
    rekor,
    rootJson,
    root: parseTrustedRoot(rootJson, "trusted_root.json"),
    oracle: new Verifier(toTrustMaterial(TrustedRootProto.fromJSON(JSON.parse(rootJson))), {
      ctlogThreshold: 0,
      tlogThreshold: 1,
    }),
    repo: (path) => repoOn(registry.host, path),
    at: (ref) => parseLocation(`${registry.host}/${ref}`),
    emailToken: (email) => oidc.token({ sub: `${email.split("@")[0]}-id`, email, email_verified: true }),
    signing: (identityToken, options = {}) => ({
      identityToken,
      fulcioUrl: fulcio.url,
      rekorUrl: rekor.url,
      ...options,
    }),
    keyless: (identity) => ({ trustedRoot: fx.root, identity }),
    async attestLegacy(path, signing, options = {}) {
      const { index, ...rest } = options;
      const repo = repoOn(registry.host, path);
      const digests = index
        ? await pushIndex(repo, "1", path).then((p) => [p.amd64.digest, p.arm64.digest])
        : [(await pushImage(repo, "1", path)).digest];
      const before = rekor.entries.length;
      await attestImageKeyless(fx.at(`${path}:1`), signing, {
        predicate: { buildType: path },
        type: "slsaprovenance1",
        recursive: index ?? false,
        ...rest,
      });
      const atts: LegacyAtt[] = [];
      for (const digest of digests) {
        const [layer] = await readLegacyLayers(repo, digest, "att");
        if (layer === undefined) throw new Error(`no .att layer for ${digest}`);
        const annotations = layer.descriptor.annotations ?? {};
        atts.push({
          digest,
          bytes: layer.bytes,
          envelope: parseEnvelope(layer.bytes, "layer"),
          annotations,
          certPem: annotations[CERTIFICATE_ANNOTATION] ?? "",
        });
      }
      return { atts, proposed: rekor.entries.slice(before) };
    },
    stop: async () => {
      await Promise.all([registry.stop(), fulcio.stop(), rekor.stop(), ca.remove()]);
    },
  };
  return fx;
}

/** shipgate's verdict on a legacy `.att` layer: "ok", or why not. */
export function legacyAttVerdict(
  att: Omit<LegacyAtt, "digest">,
  root: TrustedRoot,
  identity: IdentityPolicy,
): string {
  const result = verifyLegacyKeylessAttestation(att.envelope, att.bytes, att.annotations, root, identity);
  return result.ok ? "ok" : result.reason;
}

/** The Rekor body a legacy layer's `dev.sigstore.cosign/bundle` annotation carries, parsed. */
export function rekorBody(annotations: Record<string, string>) {
  const rekorBundle = JSON.parse(annotations[REKOR_BUNDLE_ANNOTATION] ?? "{}");
  return JSON.parse(Buffer.from(rekorBundle.Payload.body, "base64").toString("utf8"));
}

/**
 * The v0.1 bundle a legacy `.att` or `.sig` layer's annotations amount to (as sigstore-go reads
 * cosign's layout): the certificate and the Rekor bundle annotation's entry, around `content`
 * (the envelope, or the message signature). The entry's kind and version are the body's unless given.
 */
export function legacyAsBundle(
  certPem: string,
  annotations: Record<string, string>,
  content: { dsseEnvelope: DsseEnvelope } | { messageSignature: unknown },
  kindVersion?: { kind: string; version: string },
) {
  const rekorBundle = JSON.parse(annotations[REKOR_BUNDLE_ANNOTATION] ?? "{}");
  const body = rekorBody(annotations);
  return bundleFromJSON({
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: b64(pemToDer(certPem)) }] },
      tlogEntries: [
        {
          logIndex: String(rekorBundle.Payload.logIndex),
          logId: { keyId: Buffer.from(rekorBundle.Payload.logID, "hex").toString("base64") },
          kindVersion: kindVersion ?? { kind: body.kind, version: body.apiVersion },
          integratedTime: String(rekorBundle.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rekorBundle.SignedEntryTimestamp },
          canonicalizedBody: rekorBundle.Payload.body,
        },
      ],
    },
    ...content,
  });
}

/** POSTs a proposed entry to the Rekor stand-in as a client would; its status and body. */
export async function postEntry(
  rekor: FakeRekor,
  proposed: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${rekor.url}/api/v1/log/entries`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(proposed),
  });
  return { status: res.status, text: await res.text() };
}
