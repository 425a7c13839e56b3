// Flags of `sign --keyless` and `attest --keyless` (cosign's names), and the
// choice between a key and a Fulcio certificate.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import {
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_ENTRY_TYPE,
  DEFAULT_REKOR_URL,
  type KeylessSigning,
  REKOR_ENTRY_TYPES,
  type RekorEntryType,
} from "../../sign/keyless-config.js";
import type { KeylessSigned } from "../../sign/keyless-sign.js";
import type { ReferrersMode } from "../../sign/sign-image.js";
import { usage } from "../context.js";
import { optional, readBytes } from "./sign-options.js";

export interface KeylessSignFlags {
  key?: string[] | string;
  keyless?: boolean;
  fulcioUrl?: string;
  rekorUrl?: string;
  identityToken?: string;
  /** attest only. */
  rekorEntryType?: string;
}

/** cosign reads the token from this variable too (GitHub Actions and GitLab CI set it up this way). */
export const ID_TOKEN_ENV = "SIGSTORE_ID_TOKEN";

export function withKeylessSigningOptions(command: Command): Command {
  return command
    .option(
      "--keyless",
      "sign without a key: an ephemeral key certified by Fulcio for your OIDC identity, the signature logged in Rekor",
    )
    .option("--fulcio-url <url>", `the Fulcio CA (default ${DEFAULT_FULCIO_URL})`)
    .option("--rekor-url <url>", `the Rekor transparency log (default ${DEFAULT_REKOR_URL})`)
    .option(
      "--identity-token <file>",
      `a file holding the OIDC identity token, audience sigstore (or set ${ID_TOKEN_ENV})`,
    );
}

/** `attest --rekor-entry-type` (cosign's flag, attest only). */
export function withRekorEntryTypeOption(command: Command): Command {
  return command.option(
    "--rekor-entry-type <dsse|intoto>",
    `--keyless, legacy layout: log the attestation in Rekor as dsse (cosign's default since v2.2) or intoto ` +
      `(cosign v2.0/2.1's entry, read by every cosign v2); a bundle always logs dsse (default ${DEFAULT_REKOR_ENTRY_TYPE})`,
  );
}

/** The validated `--rekor-entry-type`, or undefined for the default. */
export function rekorEntryType(value: string | undefined, mode: ReferrersMode): RekorEntryType | undefined {
  if (value === undefined) return undefined;
  if (!(REKOR_ENTRY_TYPES as readonly string[]).includes(value)) {
    throw usage(`--rekor-entry-type must be dsse or intoto, not "${value}"`);
  }
  if (mode === "oci-1-1" && value !== "dsse") {
    throw usage(
      `--rekor-entry-type ${value} does not apply to --registry-referrers-mode oci-1-1: a bundle always logs a dsse entry (as cosign v3)`,
      "drop --rekor-entry-type, or pass --registry-referrers-mode legacy for an intoto entry",
    );
  }
  return value as RekorEntryType;
}

const TOKEN_HINT =
  `set ${ID_TOKEN_ENV} to an OIDC token for audience "sigstore" (GitHub Actions: permissions id-token: write, ` +
  "then request one from ACTIONS_ID_TOKEN_REQUEST_URL), or pass --identity-token FILE; shipgate opens no browser";

/** `--keyless` and its flags, or undefined for keyed signing (then `--key` is required). */
export async function keylessSigning(
  flags: KeylessSignFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KeylessSigning | undefined> {
  const hasKey = (typeof flags.key === "string" ? [flags.key] : (flags.key ?? [])).length > 0;
  if (!flags.keyless) {
    const stray = [
      flags.fulcioUrl && "--fulcio-url",
      flags.rekorUrl && "--rekor-url",
      flags.identityToken && "--identity-token",
      flags.rekorEntryType && "--rekor-entry-type",
    ].filter(Boolean);
    if (stray.length > 0) throw usage(`${stray.join(", ")} only apply with --keyless`);
    if (!hasKey) {
      throw usage(
        "--key or --keyless is required",
        "sign with a key (--key cosign.key), or keyless with an OIDC identity (--keyless)",
      );
    }
    return undefined;
  }
  if (hasKey) throw usage("pass either --key or --keyless, not both");
  return {
    identityToken: await identityToken(flags.identityToken, env),
    ...optional("fulcioUrl", flags.fulcioUrl),
    ...optional("rekorUrl", flags.rekorUrl),
  };
}

async function identityToken(file: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (file !== undefined) {
    // cosign also takes the token itself here; a secret on the command line shows in ps and shell history.
    if (!existsSync(file) && /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(file)) {
      throw usage(
        "--identity-token takes a file, not the token itself (a token on the command line shows in ps and shell history)",
        `write it to a file, or set ${ID_TOKEN_ENV}`,
      );
    }
    const token = (await readBytes(file)).toString("utf8").trim();
    if (token === "") throw usage(`--identity-token ${file} is empty`, TOKEN_HINT);
    return token;
  }
  const fromEnv = env[ID_TOKEN_ENV]?.trim();
  if (fromEnv) return fromEnv;
  throw usage("keyless signing needs an OIDC identity token, and none was given", TOKEN_HINT);
}

/** The signer's identity and where the log holds the signatures, under the result table. */
export function describeKeyless(result: KeylessSigned): string {
  return `Signed keyless as ${result.identity} (issuer ${result.issuer}); Rekor log index ${result.logIndexes.join(", ")}\n`;
}
