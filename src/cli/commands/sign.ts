import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { describeLocation } from "../../oci/transports/location.js";
import { openSource, referenceOf } from "../../oci/transports/open.js";
import { listAttachments } from "../../sign/attachments.js";
import { cosignPredicate, predicateTypeFor } from "../../sign/intoto.js";
import { parseTrustedRoot } from "../../sign/keyless.js";
import type { KeylessAttestResult, KeylessSignResult } from "../../sign/keyless-sign.js";
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
import {
  type Keyless,
  verifyAttestations,
  verifyBlobAttestation,
  verifyBundle,
  verifyImage,
} from "../../sign/verify.js";
import { examples, location, openOptions, printJson, usage } from "../context.js";

// Keyless signing pulls in @sigstore/sign and its HTTP stack: loaded only when --keyless is used.
const keylessModule = () => import("../../sign/keyless-sign.js");

import { shortDigest, table } from "../format.js";
import {
  describeKeyless,
  type KeylessSignFlags,
  keylessSigning,
  rekorEntryType,
  withKeylessSigningOptions,
  withRekorEntryTypeOption,
} from "./keyless-sign-options.js";
import {
  annotations,
  type BlobFlags,
  collect,
  type KeylessFlags,
  optional,
  type ProvenanceFlags,
  passwordSources,
  privateKey,
  provenanceOptions,
  REFERRERS_HELP,
  readBytes,
  referrersMode,
  subjectDigest,
  verifiers,
  withKeylessOptions,
} from "./sign-options.js";

const firstKey = (key: string[] | string | undefined) => (typeof key === "string" ? key : key?.[0]);

function printSigned(result: SignResult, what: string): void {
  const rows = result.images.map((i) => [
    shortDigest(i.digest),
    i.platform ?? "-",
    i.layout,
    i.duplicate ? "already signed" : (i.tag ?? i.manifest),
  ]);
  process.stdout.write(`${table(["DIGEST", "PLATFORM", "LAYOUT", what], rows)}\n`);
}

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

  withKeylessSigningOptions(program.command("sign"))
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
        "SIGSTORE_ID_TOKEN=$(cat oidc-token) shipgate sign --keyless localhost:5000/app:1.0",
        "shipgate sign --keyless --identity-token token.jwt --fulcio-url https://fulcio.example.com --rekor-url https://rekor.example.com localhost:5000/app:1.0",
      ),
    )
    .action(async (image: string, flags: ImageFlags & KeylessSignFlags, command: Command) => {
      const mode = referrersMode(flags.registryReferrersMode);
      const keyless = await keylessSigning(flags);
      const options = {
        mode,
        recursive: flags.recursive ?? false,
        open: openOptions(command),
        ...optional("annotations", annotations(flags.annotation)),
      };
      const loc = location(command, image);
      const result =
        keyless !== undefined
          ? await (await keylessModule()).signImageKeyless(loc, keyless, options)
          : await signImage(loc, await privateKey(firstKey(flags.key)), options);
      if (flags.json) return printJson(result);
      printSigned(result, "STORED IN");
      if (keyless !== undefined) process.stdout.write(describeKeyless(result as KeylessSignResult));
    });

  withKeylessOptions(program.command("verify"))
    .description("verify an image's signatures (both layouts): signature, digest, type and annotations")
    .argument("<image>")
    .option("--key <file|env://VAR>", "a public key (repeatable: any one may verify)", collect)
    .option("-a, --annotation <key=value>", "require this signed annotation (repeatable)", collect)
    .option("--recursive", "verify every platform of an index too (each must verify)")
    .option("--json", "print the verified payloads as cosign does (a JSON array)")
    .addHelpText("after", examples("shipgate verify --key cosign.pub -a env=prod localhost:5000/app:1.0"))
    .action(async (image: string, flags: ImageFlags & KeylessFlags, command: Command) => {
      const loc = location(command, image);
      const { keys, ...offline } = await verifiers(flags.key as string[] | undefined, flags);
      const result = await verifyImage(loc, keys, {
        ...offline,
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

  withRekorEntryTypeOption(withKeylessSigningOptions(program.command("attest")))
    .description("attach a signed in-toto attestation (DSSE) about an image's digest")
    .argument("<image>")
    .option("--key <file|env://VAR>", "the private key")
    .requiredOption("--predicate <file>", "the predicate file (JSON)")
    .option(
      "--type <type>",
      "slsaprovenance|slsaprovenance1|spdxjson|cyclonedx|vuln|openvex|custom|URI",
      "custom",
    )
    .option(
      "--replace",
      "legacy layout: replace earlier attestations of the same type (cosign attest --replace)",
    )
    .option("--recursive", "also attest every platform of an index")
    .option("--registry-referrers-mode <mode>", REFERRERS_HELP, DEFAULT_REFERRERS_MODE)
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate attest --key cosign.key --type slsaprovenance1 --predicate prov.json localhost:5000/app:1.0",
        "SIGSTORE_ID_TOKEN=$(cat oidc-token) shipgate attest --keyless --type slsaprovenance1 --predicate prov.json localhost:5000/app:1.0",
        "shipgate attest --keyless --identity-token token.jwt --rekor-entry-type intoto --predicate prov.json localhost:5000/app:1.0",
      ),
    )
    .action(
      async (
        image: string,
        flags: ImageFlags & KeylessSignFlags & { predicate: string; type: string; replace?: boolean },
        command: Command,
      ) => {
        const mode = referrersMode(flags.registryReferrersMode);
        const entryType = rekorEntryType(flags.rekorEntryType, mode);
        const keyless = await keylessSigning(flags);
        // The predicate as cosign builds it from the file (custom: the text wrapped as Data/Timestamp).
        const predicate = cosignPredicate(flags.type, (await readBytes(flags.predicate)).toString("utf8"));
        const options = {
          predicate,
          type: flags.type,
          mode,
          replace: flags.replace ?? false,
          recursive: flags.recursive ?? false,
          open: openOptions(command),
        };
        const loc = location(command, image);
        const result =
          keyless !== undefined
            ? await (await keylessModule()).attestImageKeyless(loc, keyless, {
                ...options,
                ...optional("rekorEntryType", entryType),
              })
            : await attestImage(loc, await privateKey(firstKey(flags.key)), options);
        if (flags.json) return printJson(result);
        printSigned(result, result.predicateType);
        if (keyless !== undefined) process.stdout.write(describeKeyless(result as KeylessAttestResult));
      },
    );

  withKeylessOptions(program.command("verify-attestation"))
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
    .action(async (image: string, flags: ImageFlags & KeylessFlags & { type?: string }, command: Command) => {
      const loc = location(command, image);
      const { keys, ...offline } = await verifiers(flags.key as string[] | undefined, flags);
      const result = await verifyAttestations(loc, keys, {
        ...offline,
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

  withKeylessOptions(program.command("verify-blob-attestation"))
    .description("verify an attestation (DSSE envelope or Sigstore bundle) about a file or a digest")
    .argument("[blob]", "the file the attestation is about")
    .option("--signature <file>", "the DSSE envelope (JSON), as cosign verify-blob-attestation takes it")
    .option("--bundle <file>", "a Sigstore bundle (keyed with --key, keyless with --trusted-root)")
    .option("--digest <sha256:hex>", "the subject's digest, instead of a file")
    .option("--key <file|env://VAR>", "a public key (repeatable)", collect)
    .option("--type <type>", "require this predicate type")
    .option("--json", "print the statement")
    .addHelpText(
      "after",
      examples(
        "shipgate verify-blob-attestation --key k.pub --signature att.json --type slsaprovenance blob",
        "shipgate verify-blob-attestation --bundle b.sigstore.json --trusted-root trusted_root.json --certificate-identity me@example.com --certificate-oidc-issuer https://github.com/login/oauth --digest sha256:...",
      ),
    )
    .action(async (blob: string | undefined, flags: BlobFlags) => {
      const digest = await subjectDigest(blob, flags.digest);
      if ((flags.signature === undefined) === (flags.bundle === undefined)) {
        throw usage("pass exactly one of --signature (a DSSE envelope) and --bundle (a Sigstore bundle)");
      }
      const { keys, ...offline } = await verifiers(flags.key, flags);
      const result =
        flags.bundle !== undefined
          ? verifyBundle(await readBytes(flags.bundle), flags.bundle, digest, keys, offline.keyless)
          : verifyBlobAttestation(await readBytes(flags.signature as string), keys, digest.slice(7));
      const wanted = flags.type === undefined ? undefined : predicateTypeFor(flags.type);
      if (!result.ok) throw new ShipgateError("SIGNATURE_INVALID", `${blob ?? digest}: ${result.reason}`);
      if (wanted !== undefined && result.statement.predicateType !== wanted) {
        throw new ShipgateError(
          "SIGNATURE_INVALID",
          `${blob ?? digest}: the predicate type is ${result.statement.predicateType}, not ${wanted}`,
        );
      }
      if (flags.json) printJson(result.statement);
      else
        process.stdout.write(
          `Verified OK: ${result.statement.predicateType} for ${digest} (${result.key})\n`,
        );
    });

  program
    .command("tree")
    .description(
      "list what is attached to an image: signatures, attestations, SBOMs (cosign tags and OCI 1.1 referrers)",
    )
    .argument("<image>")
    .option("--json", "print as JSON")
    .addHelpText("after", examples("shipgate tree localhost:5000/app:1.0"))
    .action(async (image: string, flags: { json?: boolean }, command: Command) => {
      const loc = location(command, image);
      const result = await listAttachments(loc, { open: openOptions(command) });
      if (flags.json) return printJson(result);
      process.stdout.write(`${describeLocation(loc)} (${result.subject})\n`);
      if (result.attachments.length === 0) return void process.stdout.write("no attachments\n");
      const rows = result.attachments.map((a) => [
        a.type,
        a.scheme === "tag" ? `tag ${a.tag}` : "referrer",
        shortDigest(a.digest),
        String(a.entries),
        a.predicateTypes.join(", ") || (a.artifactType ?? "-"),
      ]);
      process.stdout.write(
        `${table(["TYPE", "WHERE", "MANIFEST", "ENTRIES", "DETAIL"], rows, new Set([3]))}\n`,
      );
    });

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
