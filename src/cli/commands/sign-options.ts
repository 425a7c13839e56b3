// Flag parsing and key loading shared by the signing commands (sign.ts).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { parseTrustedRoot } from "../../sign/keyless.js";
import {
  loadPrivateKeyTrying,
  loadPublicKey,
  type PrivateKey,
  type PublicKey,
  readKeyText,
} from "../../sign/keys.js";
import { readPasswordCandidates } from "../../sign/password.js";
import type { ProvenanceOptions } from "../../sign/provenance.js";
import { DEFAULT_REFERRERS_MODE, type ReferrersMode } from "../../sign/sign-image.js";
import type { Keyless } from "../../sign/verify.js";
import { usage } from "../context.js";

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function annotations(pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw usage(`annotation "${pair}" is not KEY=VALUE`, "e.g. -a env=prod");
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function referrersMode(value: string | undefined): ReferrersMode {
  const mode = value ?? DEFAULT_REFERRERS_MODE;
  if (mode !== "legacy" && mode !== "oci-1-1") {
    throw usage(`--registry-referrers-mode must be legacy or oci-1-1, not "${mode}"`);
  }
  return mode;
}

export const passwordSources = (confirm = false) => ({
  env: process.env,
  input: process.stdin,
  prompt: process.stderr,
  confirm,
});

export async function privateKey(spec: string | undefined): Promise<PrivateKey> {
  if (spec === undefined) throw usage("--key is required", "pass the private key: --key cosign.key");
  const pem = await readKeyText(spec);
  return loadPrivateKeyTrying(pem, await readPasswordCandidates(spec, passwordSources()), spec);
}

export async function publicKeys(specs: string[] | undefined): Promise<PublicKey[]> {
  if (specs === undefined || specs.length === 0) {
    throw usage("--key is required", "pass the public key: --key cosign.pub (repeat for several)");
  }
  return Promise.all(specs.map((s) => loadPublicKey(s)));
}

export interface KeylessFlags {
  trustedRoot?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
}

export function withKeylessOptions(command: Command): Command {
  return command
    .option(
      "--trusted-root <file>",
      "accept keyless bundles verified offline against this Sigstore trusted_root.json",
    )
    .option("--certificate-identity <san>", "the signer's certificate identity (email or URI), exactly")
    .option(
      "--certificate-identity-regexp <re>",
      "the signer's certificate identity, as a regular expression",
    )
    .option("--certificate-oidc-issuer <url>", "the OIDC issuer in the signer's certificate");
}

export async function keyless(flags: KeylessFlags): Promise<Keyless | undefined> {
  if (flags.trustedRoot === undefined) {
    if (flags.certificateIdentity ?? flags.certificateIdentityRegexp ?? flags.certificateOidcIssuer) {
      throw usage("--certificate-identity and --certificate-oidc-issuer need --trusted-root");
    }
    return undefined;
  }
  if (
    (flags.certificateIdentity ?? flags.certificateIdentityRegexp) === undefined ||
    !flags.certificateOidcIssuer
  ) {
    throw usage(
      "keyless verification needs the expected signer",
      "pass --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer",
    );
  }
  const text = (await readBytes(flags.trustedRoot)).toString("utf8");
  return {
    trustedRoot: parseTrustedRoot(text, flags.trustedRoot),
    identity: {
      ...optional("certificateIdentity", flags.certificateIdentity),
      ...optional("certificateIdentityRegexp", flags.certificateIdentityRegexp),
      ...optional("certificateOidcIssuer", flags.certificateOidcIssuer),
    },
  };
}

/** Public keys, or none when keyless verification is configured. */
export async function verifiers(specs: string[] | undefined, flags: KeylessFlags) {
  const offline = await keyless(flags);
  const keys = offline !== undefined && (specs ?? []).length === 0 ? [] : await publicKeys(specs);
  return { keys, ...optional("keyless", offline) };
}

export const REFERRERS_HELP =
  "legacy: cosign's sha256-<hex>.sig/.att tags (default; read by every cosign, Kyverno, policy-controller); oci-1-1: a Sigstore bundle v0.3 as an OCI 1.1 referrer (cosign v3)";

export interface BlobFlags extends KeylessFlags {
  signature?: string;
  bundle?: string;
  digest?: string;
  key?: string[];
  type?: string;
  json?: boolean;
}

export async function subjectDigest(blob: string | undefined, digest: string | undefined): Promise<string> {
  if ((blob === undefined) === (digest === undefined))
    throw usage("name the subject: a file, or --digest sha256:<hex>");
  if (digest !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw usage(`--digest ${digest} is not sha256:<64 hex>`);
    return digest;
  }
  return `sha256:${createHash("sha256")
    .update(await readBytes(blob as string))
    .digest("hex")}`;
}

export interface ProvenanceFlags {
  subject?: string;
  builderId?: string;
  buildType?: string;
  sourceRepo?: string;
  sourceCommit?: string;
  sourceRef?: string;
  baseImage?: string[];
  output?: string;
}

export function provenanceOptions(flags: ProvenanceFlags): ProvenanceOptions {
  const dependencies = (flags.baseImage ?? []).map((ref) => {
    const at = ref.lastIndexOf("@");
    if (at <= 0)
      throw usage(
        `--base-image ${ref} has no @digest`,
        "e.g. --base-image docker.io/library/debian@sha256:...",
      );
    return { uri: ref.slice(0, at), digest: ref.slice(at + 1) };
  });
  return {
    ...optional("builderId", flags.builderId),
    ...optional("buildType", flags.buildType),
    ...optional("sourceRepo", flags.sourceRepo),
    ...optional("sourceCommit", flags.sourceCommit),
    ...optional("sourceRef", flags.sourceRef),
    ...(dependencies.length > 0 ? { dependencies } : {}),
  };
}

export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new ShipgateError("IO", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

export async function readJson(file: string): Promise<unknown> {
  const bytes = await readBytes(file);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw usage(`${file} is not JSON: ${(error as Error).message}`, "the predicate must be a JSON document");
  }
}
