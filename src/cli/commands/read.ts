import { resolve } from "node:path";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { hostPlatform, inspectImage, readConfig, resolveImage } from "../../oci/inspect.js";
import { formatPlatform } from "../../oci/manifest.js";
import { parseReference } from "../../oci/reference.js";
import { isDigestTag } from "../../oci/referrers.js";
import { storeDirectory } from "../../oci/transports/location.js";
import { openSource, referenceOf } from "../../oci/transports/open.js";
import { RegistryRepository } from "../../oci/transports/registry.js";
import { listStoreRepositories } from "../../oci/transports/store.js";
import { examples, globals, location, openOptions, platformOption, printJson } from "../context.js";
import { humanSize, relativeTime, shortDigest, table } from "../format.js";

interface JsonFlag {
  json?: boolean;
}

export function registerReadCommands(program: Command): void {
  program
    .command("tags")
    .description("list the tags of a repository (registry, oci: layout or store:)")
    .argument("<repository>", "e.g. localhost:5000/team/app")
    .option("--omit-digest-tags", "hide attachment tags (sha256-<hex>, .sig, .att, .sbom)")
    .option("--json", "print a JSON array")
    .addHelpText(
      "after",
      examples("shipgate tags localhost:5000/team/app --omit-digest-tags", "shipgate tags oci:./layout"),
    )
    .action(
      async (repository: string, options: JsonFlag & { omitDigestTags?: boolean }, command: Command) => {
        const loc = location(command, repository);
        if (loc.transport === "docker" && loc.explicitReference) {
          throw new ShipgateError("USAGE", `"${repository}" names a tag or digest; tags takes a repository`, {
            hint: `try: shipgate tags ${loc.reference.registry}/${loc.reference.repository}`,
          });
        }
        const source = await openSource(loc, openOptions(command));
        const tags: string[] = [];
        for await (const tag of source.listTags()) {
          if (options.omitDigestTags && isDigestTag(tag)) continue;
          tags.push(tag);
        }
        if (options.json) printJson(tags);
        else if (tags.length > 0) process.stdout.write(`${tags.join("\n")}\n`);
      },
    );

  program
    .command("digest")
    .description("print the digest a reference resolves to")
    .argument("<image>", "e.g. localhost:5000/app:1.0")
    .option("--platform <os/arch[/variant]>", "the digest of one platform's manifest in an index")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate digest localhost:5000/app:1.0",
        "shipgate digest --platform linux/arm64 docker.io/library/alpine:3.20",
      ),
    )
    .action(async (image: string, options: JsonFlag & { platform?: string }, command: Command) => {
      const loc = location(command, image);
      const source = await openSource(loc, openOptions(command));
      const resolved = await resolveImage(source, referenceOf(loc), platformOption(options.platform));
      if (options.json)
        printJson({ digest: resolved.manifest.digest, mediaType: resolved.manifest.mediaType });
      else process.stdout.write(`${resolved.manifest.digest}\n`);
    });

  program
    .command("manifest")
    .description("print a manifest or index exactly as stored (its bytes hash to its digest)")
    .argument("<image>")
    .option("--platform <os/arch[/variant]>", "one platform's manifest from an index")
    .addHelpText("after", examples("shipgate manifest localhost:5000/app:1.0 | sha256sum"))
    .action(async (image: string, options: { platform?: string }, command: Command) => {
      const loc = location(command, image);
      const source = await openSource(loc, openOptions(command));
      const resolved = await resolveImage(source, referenceOf(loc), platformOption(options.platform));
      process.stdout.write(resolved.manifest.bytes);
    });

  program
    .command("config")
    .description("print an image's config JSON")
    .argument("<image>")
    .option("--platform <os/arch[/variant]>", "for an index (default: this machine's platform)")
    .addHelpText("after", examples("shipgate config localhost:5000/app:1.0 | jq .config.Env"))
    .action(async (image: string, options: { platform?: string }, command: Command) => {
      const loc = location(command, image);
      const source = await openSource(loc, openOptions(command));
      let resolved = await resolveImage(source, referenceOf(loc), platformOption(options.platform));
      if (resolved.parsed.kind === "index") {
        process.stderr.write(
          `${image} is an index; showing ${formatPlatform(hostPlatform())} (use --platform)\n`,
        );
        resolved = await resolveImage(source, resolved.manifest.digest, hostPlatform());
      }
      if (resolved.parsed.kind !== "manifest")
        throw new ShipgateError("UNSUPPORTED", "nested indexes are not supported");
      const { bytes } = await readConfig(source, resolved.parsed.manifest);
      process.stdout.write(bytes);
      if (bytes.at(-1) !== 0x0a) process.stdout.write("\n");
    });

  program
    .command("inspect")
    .description("show an image's platforms, size, creation time, labels and layers")
    .argument("<image>")
    .option("--platform <os/arch[/variant]>", "only this platform")
    .option("--json", "print the full data as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate inspect localhost:5000/app:1.0",
        "shipgate inspect oci:../shared/images/oci:shop-1.4.2 --json",
      ),
    )
    .action(async (image: string, options: JsonFlag & { platform?: string }, command: Command) => {
      const loc = location(command, image);
      const source = await openSource(loc, openOptions(command));
      const result = await inspectImage(source, referenceOf(loc), platformOption(options.platform));
      if (options.json) {
        printJson(result);
        return;
      }
      const out: string[] = [];
      out.push(
        `Name:       ${result.name}`,
        `Reference:  ${result.reference}`,
        `Digest:     ${result.digest}`,
      );
      out.push(`Media type: ${result.mediaType}`);
      if (result.kind === "index") {
        out.push(
          "",
          table(
            ["PLATFORM", "DIGEST", "SIZE", "CREATED"],
            result.platforms.map((p) => [
              p.platform,
              shortDigest(p.digest),
              humanSize(p.size),
              p.created ? relativeTime(new Date(p.created)) : "-",
            ]),
            new Set([2]),
          ),
        );
      }
      for (const p of result.platforms) {
        out.push(
          "",
          `Platform:   ${p.platform}${result.kind === "index" ? `  (${shortDigest(p.digest)})` : ""}`,
        );
        out.push(
          `Size:       ${humanSize(p.size)} in ${p.layers.length} layer${p.layers.length === 1 ? "" : "s"}`,
        );
        if (p.created) out.push(`Created:    ${p.created} (${relativeTime(new Date(p.created))})`);
        if (p.artifactType) out.push(`Artifact:   ${p.artifactType}`);
        if (p.entrypoint) out.push(`Entrypoint: ${JSON.stringify(p.entrypoint)}`);
        if (p.cmd) out.push(`Cmd:        ${JSON.stringify(p.cmd)}`);
        const labels = Object.entries(p.labels);
        if (labels.length > 0) {
          out.push("Labels:");
          for (const [k, v] of labels) out.push(`  ${k}=${v}`);
        }
        out.push(
          "",
          table(
            ["LAYER", "SIZE", "MEDIA TYPE"],
            p.layers.map((l) => [shortDigest(l.digest), humanSize(l.size), l.mediaType]),
            new Set([1]),
          ),
        );
      }
      process.stdout.write(`${out.join("\n")}\n`);
    });

  program
    .command("ls")
    .description("list the repositories of a registry (its catalog) or of the embedded store")
    .argument("[registry]", "e.g. localhost:5000; omit for the embedded store")
    .option("--json", "print a JSON array")
    .addHelpText("after", examples("shipgate ls localhost:5000", "shipgate ls --store ./.shipgate/store"))
    .action(async (registry: string | undefined, options: JsonFlag, command: Command) => {
      const repositories = await listRepositories(command, registry);
      if (options.json) printJson(repositories);
      else if (repositories.length > 0) process.stdout.write(`${repositories.join("\n")}\n`);
    });
}

/** Repositories of a registry's catalog, or the layout directories of the embedded store. */
export async function listRepositories(command: Command, registry: string | undefined): Promise<string[]> {
  if (registry === undefined || registry === "store:") {
    const g = globals(command);
    return listStoreRepositories(g.store === undefined ? storeDirectory() : resolve(g.store));
  }
  const host = registry.replace(/^docker:\/\//, "").replace(/\/+$/, "");
  if (host.includes("/")) {
    throw new ShipgateError("USAGE", `"${registry}" is not a registry host`, {
      hint: "try: shipgate ls localhost:5000",
    });
  }
  // Validates the host with the reference grammar; the repository part is a placeholder.
  const repo = new RegistryRepository(parseReference(`${host}/catalog`), openOptions(command));
  const out: string[] = [];
  for await (const name of repo.client.catalog()) out.push(name);
  return out;
}
