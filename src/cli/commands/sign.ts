import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { describeLocation } from "../../oci/transports/location.js";
import { openSource, referenceOf } from "../../oci/transports/open.js";
import {
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  type PrivateKey,
  type PublicKey,
  readKeyText,
} from "../../sign/keys.js";
import { readPassword } from "../../sign/password.js";
import { generateProvenance, type ProvenanceOptions, provenancePredicate } from "../../sign/provenance.js";
import {
  attestImage,
  DEFAULT_REFERRERS_MODE,
  type ReferrersMode,
  type SignResult,
  signImage,
} from "../../sign/sign-image.js";
import { verifyAttestations, verifyBlobAttestation, verifyImage } from "../../sign/verify.js";
import { examples, location, openOptions, printJson, usage } from "../context.js";
import { shortDigest, table } from "../format.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

function annotations(pairs: string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw usage(`annotation "${pair}" is not KEY=VALUE`, "e.g. -a env=prod");
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function referrersMode(value: string | undefined): ReferrersMode {
  const mode = value ?? DEFAULT_REFERRERS_MODE;
  if (mode !== "legacy" && mode !== "oci-1-1") {
    throw usage(`--registry-referrers-mode must be legacy or oci-1-1, not "${mode}"`);
  }
  return mode;
}

const passwordSources = (confirm = false) => ({
  env: process.env,
  input: process.stdin,
  prompt: process.stderr,
  confirm,
});

async function privateKey(spec: string | undefined): Promise<PrivateKey> {
  if (spec === undefined) throw usage("--key is required", "pass the private key: --key cosign.key");
  const pem = await readKeyText(spec);
  return loadPrivateKey(pem, await readPassword(spec, passwordSources()), spec);
}

async function publicKeys(specs: string[] | undefined): Promise<PublicKey[]> {
  if (specs === undefined || specs.length === 0) {
    throw usage("--key is required", "pass the public key: --key cosign.pub (repeat for several)");
  }
  return Promise.all(specs.map((s) => loadPublicKey(s)));
}

function printSigned(result: SignResult, what: string): void {
  const rows = result.images.map((i) => [
    shortDigest(i.digest),
    i.platform ?? "-",
    i.layout,
    i.duplicate ? "already signed" : (i.tag ?? i.manifest),
  ]);
  process.stdout.write(`${table(["DIGEST", "PLATFORM", "LAYOUT", what], rows)}\n`);
}

const REFERRERS_HELP =
  "legacy: cosign's sha256-<hex>.sig/.att tags (default; read by every cosign, Kyverno, policy-controller); oci-1-1: a Sigstore bundle v0.3 as an OCI 1.1 referrer (cosign v3)";

interface ImageFlags {
  key?: string[] | string;
  annotation?: string[];
  recursive?: boolean;
  registryReferrersMode?: string;
  json?: boolean;
}

export function registerSignCommands(program: Command): void {
  const key = program.command("key").description("cosign-compatible signing keys");
  key
    .command("generate")
    .description("generate an ECDSA P-256 key pair; the private key encrypted as cosign encrypts it")
    .option("--output-prefix <prefix>", "write PREFIX.key and PREFIX.pub", "cosign")
    .option("--force", "overwrite existing files")
    .addHelpText("after", examples("COSIGN_PASSWORD=... shipgate key generate --output-prefix release"))
    .action(async (flags: { outputPrefix: string; force?: boolean }) => {
      const [priv, pub] = [`${flags.outputPrefix}.key`, `${flags.outputPrefix}.pub`];
      for (const file of [priv, pub]) {
        if (existsSync(file) && !flags.force) {
          throw usage(`${file} already exists`, "pass --force to overwrite, or another --output-prefix");
        }
      }
      const pair = await generateKeyPair(await readPassword(priv, passwordSources(true)));
      await writeFile(priv, pair.privatePem, { mode: 0o600 });
      await writeFile(pub, pair.publicPem, { mode: 0o644 });
      process.stderr.write(`Private key written to ${priv}\nPublic key written to ${pub}\n`);
    });
  key
    .command("public")
    .description("print the public key of an encrypted private key")
    .requiredOption("--key <file|env://VAR>", "the private key")
    .addHelpText("after", examples("shipgate key public --key cosign.key > cosign.pub"))
    .action(async (flags: { key: string }) => {
      process.stdout.write((await privateKey(flags.key)).publicKey.pem);
    });

  program
    .command("sign")
    .description("sign an image's digest (a tag is resolved once) with a cosign simple-signing payload")
    .argument("<image>", "e.g. localhost:5000/app:1.0")
    .option("--key <file|env://VAR>", "the private key (cosign.key)")
    .option("-a, --annotation <key=value>", "signed annotation (repeatable)", collect)
    .option("--recursive", "also sign every platform of an index")
    .option("--registry-referrers-mode <mode>", REFERRERS_HELP, DEFAULT_REFERRERS_MODE)
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate sign --key cosign.key -a env=prod localhost:5000/app:1.0",
        "shipgate sign --key cosign.key --recursive --registry-referrers-mode oci-1-1 localhost:5000/app:1.0",
      ),
    )
    .action(async (image: string, flags: ImageFlags, command: Command) => {
      const mode = referrersMode(flags.registryReferrersMode);
      const signer = await privateKey(typeof flags.key === "string" ? flags.key : flags.key?.[0]);
      const result = await signImage(location(command, image), signer, {
        mode,
        recursive: flags.recursive ?? false,
        open: openOptions(command),
        ...optional("annotations", annotations(flags.annotation)),
      });
      if (flags.json) printJson(result);
      else printSigned(result, "STORED IN");
    });

  program
    .command("verify")
    .description("verify an image's signatures (both layouts): signature, digest, type and annotations")
    .argument("<image>")
    .option("--key <file|env://VAR>", "a public key (repeatable: any one may verify)", collect)
    .option("-a, --annotation <key=value>", "require this signed annotation (repeatable)", collect)
    .option("--recursive", "verify every platform of an index too (each must verify)")
    .option("--json", "print the verified payloads as cosign does (a JSON array)")
    .addHelpText("after", examples("shipgate verify --key cosign.pub -a env=prod localhost:5000/app:1.0"))
    .action(async (image: string, flags: ImageFlags, command: Command) => {
      const loc = location(command, image);
      const result = await verifyImage(loc, await publicKeys(flags.key as string[] | undefined), {
        recursive: flags.recursive ?? false,
        open: openOptions(command),
        ...optional("annotations", annotations(flags.annotation)),
      });
      if (flags.json) printJson(result.signatures.map((s) => s.payload));
      else if (result.signatures.length > 0) {
        const rows = result.signatures.map((s) => [
          shortDigest(s.digest),
          result.images.find((i) => i.digest === s.digest)?.platform ?? "-",
          s.layout,
          s.key,
          Object.entries(s.annotations)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(",") || "-",
        ]);
        process.stdout.write(`${table(["DIGEST", "PLATFORM", "LAYOUT", "KEY", "ANNOTATIONS"], rows)}\n`);
      }
      if (!result.verified) {
        throw new ShipgateError(
          "SIGNATURE_INVALID",
          `no valid signature for ${describeLocation(loc)} (${result.subject}):\n  ${result.reasons.join("\n  ")}`,
          { hint: "sign it with: shipgate sign --key cosign.key IMAGE" },
        );
      }
    });

  program
    .command("attest")
    .description("attach a signed in-toto attestation (DSSE) about an image's digest")
    .argument("<image>")
    .option("--key <file|env://VAR>", "the private key")
    .requiredOption("--predicate <file>", "the predicate (JSON)")
    .option(
      "--type <type>",
      "slsaprovenance|slsaprovenance1|spdxjson|cyclonedx|vuln|openvex|custom|URI",
      "custom",
    )
    .option("--recursive", "also attest every platform of an index")
    .option("--registry-referrers-mode <mode>", REFERRERS_HELP, DEFAULT_REFERRERS_MODE)
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate attest --key cosign.key --type slsaprovenance1 --predicate prov.json localhost:5000/app:1.0",
      ),
    )
    .action(
      async (image: string, flags: ImageFlags & { predicate: string; type: string }, command: Command) => {
        const mode = referrersMode(flags.registryReferrersMode);
        const predicate = await readJson(flags.predicate);
        const signer = await privateKey(typeof flags.key === "string" ? flags.key : flags.key?.[0]);
        const result = await attestImage(location(command, image), signer, {
          predicate,
          type: flags.type,
          mode,
          recursive: flags.recursive ?? false,
          open: openOptions(command),
        });
        if (flags.json) printJson(result);
        else printSigned(result, result.predicateType);
      },
    );

  program
    .command("verify-attestation")
    .description("verify an image's attestations (both layouts): envelope signature, subject digest, type")
    .argument("<image>")
    .option("--key <file|env://VAR>", "a public key (repeatable)", collect)
    .option("--type <type>", "require this predicate type (short name or URI)")
    .option("--recursive", "every platform of an index must have one too")
    .option("--json", "print the verified in-toto statements as a JSON array")
    .addHelpText(
      "after",
      examples("shipgate verify-attestation --key cosign.pub --type slsaprovenance1 localhost:5000/app:1.0"),
    )
    .action(async (image: string, flags: ImageFlags & { type?: string }, command: Command) => {
      const loc = location(command, image);
      const result = await verifyAttestations(loc, await publicKeys(flags.key as string[] | undefined), {
        recursive: flags.recursive ?? false,
        open: openOptions(command),
        ...optional("predicateType", flags.type),
      });
      if (flags.json) printJson(result.attestations.map((a) => a.statement));
      else if (result.attestations.length > 0) {
        const rows = result.attestations.map((a) => [
          shortDigest(a.digest),
          a.layout,
          a.predicateType,
          a.key,
        ]);
        process.stdout.write(`${table(["DIGEST", "LAYOUT", "PREDICATE TYPE", "KEY"], rows)}\n`);
      }
      if (!result.verified) {
        throw new ShipgateError(
          "SIGNATURE_INVALID",
          `no valid attestation for ${describeLocation(loc)} (${result.subject}):\n  ${result.reasons.join("\n  ")}`,
          { hint: "attach one with: shipgate attest --key cosign.key --predicate FILE --type TYPE IMAGE" },
        );
      }
    });

  program
    .command("verify-blob-attestation")
    .description("verify a DSSE attestation file about a local file (cosign verify-blob-attestation)")
    .argument("<blob>", "the file the attestation is about")
    .requiredOption("--signature <file>", "the DSSE envelope (JSON)")
    .option("--key <file|env://VAR>", "a public key (repeatable)", collect)
    .option("--type <type>", "require this predicate type")
    .option("--json", "print the statement")
    .addHelpText(
      "after",
      examples(
        "shipgate verify-blob-attestation --key k.pub --signature att.json --type slsaprovenance blob",
      ),
    )
    .action(
      async (blob: string, flags: { signature: string; key?: string[]; type?: string; json?: boolean }) => {
        const sha = createHash("sha256")
          .update(await readBytes(blob))
          .digest("hex");
        const result = verifyBlobAttestation(
          await readBytes(flags.signature),
          await publicKeys(flags.key),
          sha,
          flags.type,
        );
        if (!result.ok) throw new ShipgateError("SIGNATURE_INVALID", `${blob}: ${result.reason}`);
        if (flags.json) printJson(result.statement);
        else
          process.stdout.write(
            `Verified OK: ${result.statement.predicateType} for sha256:${sha} (${result.key})\n`,
          );
      },
    );

  program
    .command("provenance")
    .description("SLSA provenance")
    .command("generate")
    .description(
      "write a SLSA v1 provenance predicate from the CI environment (GitHub Actions, GitLab CI) or flags",
    )
    .option("--subject <image>", "resolve this image and print a whole in-toto statement about it")
    .option("--builder-id <uri>", "the builder (default: from the CI environment)")
    .option("--build-type <uri>", "the build type")
    .option("--source-repo <url>", "the source repository")
    .option("--source-commit <sha>", "the source commit")
    .option("--source-ref <ref>", "the source ref (branch or tag)")
    .option("--base-image <ref@digest>", "a resolved dependency by digest (repeatable)", collect)
    .option("--output <file>", "write to a file instead of stdout")
    .addHelpText(
      "after",
      examples(
        "shipgate provenance generate --output prov.json  # inside GitHub Actions or GitLab CI",
        "shipgate provenance generate --builder-id https://ci.example.com --source-repo https://git.example.com/app --source-commit $SHA",
      ),
    )
    .action(async (flags: ProvenanceFlags, command: Command) => {
      const options = provenanceOptions(flags);
      let document: unknown;
      if (flags.subject !== undefined) {
        const loc = location(command, flags.subject);
        const source = await openSource(loc, openOptions(command));
        const manifest = await source.getManifest(referenceOf(loc) ?? source.defaultReference ?? "latest");
        const name =
          loc.transport === "docker"
            ? `${loc.reference.registry}/${loc.reference.repository}`
            : describeLocation(loc);
        document = generateProvenance(process.env, { name, digest: manifest.digest }, options);
      } else {
        document = provenancePredicate(process.env, options);
      }
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (flags.output) await writeFile(flags.output, text);
      else process.stdout.write(text);
    });
}

interface ProvenanceFlags {
  subject?: string;
  builderId?: string;
  buildType?: string;
  sourceRepo?: string;
  sourceCommit?: string;
  sourceRef?: string;
  baseImage?: string[];
  output?: string;
}

function provenanceOptions(flags: ProvenanceFlags): ProvenanceOptions {
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

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new ShipgateError("IO", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

async function readJson(file: string): Promise<unknown> {
  const bytes = await readBytes(file);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw usage(`${file} is not JSON: ${(error as Error).message}`, "the predicate must be a JSON document");
  }
}
