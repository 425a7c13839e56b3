import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { type AttachedSbom, attachSbom, getAttachedSboms, type ReferrersMode } from "../../sbom/attach.js";
import { diffSboms } from "../../sbom/diff.js";
import { toCycloneDx } from "../../sbom/formats/cyclonedx.js";
import { readSbom } from "../../sbom/formats/read.js";
import { toSpdx } from "../../sbom/formats/spdx.js";
import { deniedPackages, licenseHistogram } from "../../sbom/licenses.js";
import type { Sbom } from "../../sbom/model.js";
import { examples, location, openOptions, printJson, usage } from "../context.js";
import { table } from "../format.js";
import { VERSION } from "../version.js";
import { indexPlatforms, loadOne, loadSboms, platformPath, type SourceFlags } from "./sbom-load.js";

const FORMATS = ["table", "json", "cyclonedx-json", "spdx-json"] as const;
type Format = (typeof FORMATS)[number];

function licenceText(sbom: Sbom["packages"][number]): string {
  return sbom.licenses.map((l) => l.expression ?? l.name).join(", ");
}

function render(sbom: Sbom, format: Format): string {
  switch (format) {
    case "cyclonedx-json":
      return toCycloneDx(sbom, { toolVersion: VERSION });
    case "spdx-json":
      return toSpdx(sbom, { toolVersion: VERSION });
    case "json":
      return `${JSON.stringify(sbom, null, 2)}\n`;
    case "table": {
      const rows = sbom.packages.map((p) => [p.name, p.version, p.type, licenceText(p)]);
      return `${table(["NAME", "VERSION", "TYPE", "LICENSES"], rows)}\n`;
    }
  }
}

function summary(sbom: Sbom): string {
  const byType = new Map<string, number>();
  for (const p of sbom.packages) byType.set(p.type, (byType.get(p.type) ?? 0) + 1);
  const types = [...byType].map(([t, n]) => `${t} ${n}`).join(", ");
  const d = sbom.distro;
  const distro = d ? ` · ${d.prettyName ?? `${d.id} ${d.versionId ?? ""}`.trim()}` : "";
  const platform = sbom.source.platform ? ` · ${sbom.source.platform}` : "";
  return `${sbom.packages.length} packages${types ? ` (${types})` : ""}${distro}${platform}`;
}

/** `--deny 'GPL-*,AGPL-*'` or `--deny GPL-* --deny AGPL-*`. */
function collectPatterns(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
  ];
}

const PLATFORM_FLAG = "--platform <os/arch[/variant]>";

const SBOM_EXAMPLES = [
  "shipgate sbom oci:../shared/images/oci:shop-1.4.2",
  "shipgate sbom oci:../shared/images/oci:shop-1.4.2 --format cyclonedx-json -o shop.cdx.json",
  "shipgate sbom localhost:5000/team/app:1.0 --format spdx-json -o app.spdx.json",
  "shipgate sbom localhost:5000/team/multi:1.0 --platform linux/arm64 -f cyclonedx-json",
  "shipgate sbom dir:/srv/rootfs --json",
];

const SBOM_NOTES = `
Timestamps come from the image's creation time (or SOURCE_DATE_EPOCH) and ids from the content,
so the same input always gives the same bytes. Documents validate against the CycloneDX 1.6
and SPDX 2.3 JSON schemas.
`;

/**
 * `sbom SOURCE` is `sbom generate SOURCE`, the default subcommand. The group
 * itself takes no options: commander lets a parent's options appear after a
 * subcommand too, so a parent `--json` or `-o` would swallow `sbom get -o`.
 */
function registerSbomCommand(program: Command): Command {
  const sbom = program
    .command("sbom")
    .description("catalogue the packages in an image or root filesystem; attach, get and diff SBOMs")
    .addHelpText(
      "after",
      `${examples(...SBOM_EXAMPLES, "shipgate sbom attach localhost:5000/team/app:1.0 --sbom app.spdx.json")}
\`shipgate sbom SOURCE\` is \`shipgate sbom generate SOURCE\`: its options (--format, -o, --platform)
are listed by \`shipgate sbom generate --help\`.${SBOM_NOTES}`,
    );
  sbom
    .command("generate", { isDefault: true })
    .description("catalogue the packages in an image or root filesystem as CycloneDX, SPDX or a table")
    .argument(
      "[source]",
      "an image location, an oci: layout, docker-archive:FILE, or dir:PATH (a root filesystem)",
    )
    .option("-f, --format <format>", `output format: ${FORMATS.join(", ")}`, "table")
    .option("-o, --output <file>", "write to FILE (several platforms: one file each, FILE-<os>-<arch>.ext)")
    .option(PLATFORM_FLAG, "only this platform of a multi-platform image (default: every platform)")
    .option("--json", "the same as --format json: shipgate's own model, every field")
    .option("--max-layer-size <size>", "refuse layers that decompress to more than this (default 32GiB)")
    .addHelpText("after", `${examples(...SBOM_EXAMPLES)}${SBOM_NOTES}`)
    .action(
      async (
        source: string | undefined,
        flags: SourceFlags & { format: string; output?: string; json?: boolean },
        command: Command,
      ) => {
        if (source === undefined)
          throw usage(
            "name an image or directory to catalogue",
            "shipgate sbom IMAGE --format cyclonedx-json",
          );
        const format = (flags.json ? "json" : flags.format) as Format;
        if (!FORMATS.includes(format)) {
          throw usage(`unknown format "${flags.format}"`, `use one of ${FORMATS.join(", ")}`);
        }
        if (format !== "table" && flags.output === undefined && flags.platform === undefined) {
          const platforms = await indexPlatforms(command, source);
          if (platforms.length > 1) {
            throw usage(
              `${source} has ${platforms.length} platforms (${platforms.join(", ")}): one SBOM each`,
              "pick one with --platform, or write one file per platform with -o FILE",
            );
          }
        }
        const sboms = await loadSboms(command, source, flags);
        const many = sboms.length > 1;
        for (const doc of sboms) {
          const text = render(doc, format);
          if (flags.output !== undefined) {
            const path = many ? platformPath(flags.output, doc.source.platform) : flags.output;
            await writeFile(path, text);
            process.stderr.write(`wrote ${path}: ${summary(doc)}\n`);
          } else {
            if (many) process.stdout.write(`\n${doc.source.platform}\n`);
            process.stdout.write(text);
            if (format === "table") process.stderr.write(`${summary(doc)}\n`);
          }
          for (const warning of doc.warnings) process.stderr.write(`warning: ${warning}\n`);
        }
      },
    );
  return sbom;
}

function registerAttach(sbom: Command): void {
  sbom
    .command("attach")
    .description("attach an SBOM file to an image: cosign's .sbom tag and an OCI 1.1 referrer")
    .argument("<image>", "the image the SBOM describes (resolved to its digest once)")
    .requiredOption("--sbom <file>", "an SPDX or CycloneDX JSON file")
    .option(
      "--referrers-mode <mode>",
      "legacy (cosign's sha256-<hex>.sbom tag), oci-1-1 (a referrer) or both",
      "both",
    )
    .option("--json", "print what was written as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate sbom localhost:5000/team/app:1.0 -f spdx-json -o app.spdx.json",
        "shipgate sbom attach localhost:5000/team/app:1.0 --sbom app.spdx.json",
        "shipgate sbom attach localhost:5000/team/app:1.0 --sbom app.cdx.json --referrers-mode oci-1-1",
      ),
    )
    .action(
      async (
        image: string,
        flags: { sbom: string; referrersMode: string; json?: boolean },
        command: Command,
      ) => {
        const mode = flags.referrersMode as ReferrersMode;
        if (!["legacy", "oci-1-1", "both"].includes(mode)) {
          throw usage(`unknown --referrers-mode "${mode}"`, "use legacy, oci-1-1 or both");
        }
        const bytes = await readFile(flags.sbom).catch((error: NodeJS.ErrnoException) => {
          throw usage(
            `cannot read ${flags.sbom}: ${error.code === "ENOENT" ? "no such file" : error.message}`,
          );
        });
        // Refuse what no reader would accept before anything is pushed.
        readSbom(bytes, flags.sbom);
        const result = await attachSbom(location(command, image), bytes, {
          mode,
          open: openOptions(command),
          where: flags.sbom,
        });
        if (flags.json) return printJson(result);
        if (result.tag) process.stdout.write(`tag ${result.tag.name} → ${result.tag.digest}\n`);
        if (result.referrer)
          process.stdout.write(`referrer ${result.referrer} (subject ${result.subject})\n`);
      },
    );
}

function registerGet(sbom: Command): void {
  sbom
    .command("get")
    .description("download an SBOM attached to an image (OCI 1.1 referrers first, then cosign's .sbom tag)")
    .argument("<image>", "the image")
    .option("-o, --output <file>", "write the SBOM to FILE instead of stdout")
    .option("--format <format>", "only SBOMs in this format: spdx-json or cyclonedx-json")
    .option("--list", "list every attached SBOM instead of printing one")
    .option("--json", "with --list: as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate sbom get localhost:5000/team/app:1.0 -o app.spdx.json",
        "shipgate sbom get localhost:5000/team/app:1.0 --format cyclonedx-json | jq .components",
        "shipgate sbom get --list localhost:5000/team/app:1.0",
      ),
    )
    .action(
      async (
        image: string,
        flags: { output?: string; format?: string; list?: boolean; json?: boolean },
        command: Command,
      ) => {
        if (flags.format !== undefined && !["spdx-json", "cyclonedx-json"].includes(flags.format)) {
          throw usage(`unknown format "${flags.format}"`, "use spdx-json or cyclonedx-json");
        }
        let found: AttachedSbom[] = await getAttachedSboms(location(command, image), {
          open: openOptions(command),
        });
        if (flags.format !== undefined) found = found.filter((f) => f.format === flags.format);
        if (found.length === 0) {
          throw new ShipgateError(
            "NOT_FOUND",
            `no SBOM is attached to ${image}${flags.format ? ` in ${flags.format}` : ""}`,
            {
              hint: `attach one with: shipgate sbom attach ${image} --sbom FILE`,
            },
          );
        }
        if (flags.list) {
          const rows = found.map((f) => ({
            format: f.format,
            mediaType: f.mediaType,
            size: f.bytes.length,
            via: f.via,
          }));
          if (flags.json) return printJson(rows);
          const cells = rows.map((r) => [
            r.format,
            r.via.kind === "tag" ? `tag ${r.via.tag}` : "referrer",
            r.via.digest,
            String(r.size),
          ]);
          process.stdout.write(`${table(["FORMAT", "VIA", "MANIFEST", "SIZE"], cells, new Set([3]))}\n`);
          return;
        }
        const first = found[0] as AttachedSbom;
        if (flags.output !== undefined) {
          await writeFile(flags.output, first.bytes);
          process.stderr.write(
            `wrote ${flags.output} (${first.format}, via ${first.via.kind} ${first.via.digest})\n`,
          );
        } else {
          process.stdout.write(first.bytes);
        }
        if (found.length > 1)
          process.stderr.write(`${found.length} SBOMs are attached; this is the first (see --list)\n`);
      },
    );
}

function registerDiff(sbom: Command): void {
  sbom
    .command("diff")
    .description("packages added, removed and changed between two images, directories or SBOM files")
    .argument("<before>", "image, directory, SBOM file, or - for an SBOM on stdin")
    .argument("<after>", "image, directory or SBOM file")
    .option(PLATFORM_FLAG, "the platform to compare in multi-platform images (default: this machine's)")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      examples(
        "shipgate sbom diff oci:../shared/images/oci:debian-base oci:../shared/images/oci:shop-1.4.2",
        "shipgate sbom diff app-1.0.spdx.json localhost:5000/team/app:1.1 --json",
      ),
    )
    .action(
      async (before: string, after: string, flags: SourceFlags & { json?: boolean }, command: Command) => {
        const a = await loadOne(command, before, flags);
        const b = await loadOne(command, after, flags);
        const diff = diffSboms(a, b);
        if (flags.json) return printJson(diff);
        const rows = [
          ...diff.added.map((p) => ["+", p.name, "", p.version, p.type]),
          ...diff.removed.map((p) => ["-", p.name, p.version, "", p.type]),
          ...diff.changed.map((c) => ["~", c.name, c.before, c.after, c.type]),
        ];
        if (rows.length > 0)
          process.stdout.write(`${table(["", "NAME", "BEFORE", "AFTER", "TYPE"], rows)}\n`);
        process.stderr.write(
          `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged\n`,
        );
      },
    );
}

function registerLicenses(program: Command): void {
  program
    .command("licenses")
    .description(
      "licence histogram of an image, directory or SBOM file; --deny fails (exit 1) on matching licences",
    )
    .argument("<source>", "image, directory, SBOM file, or - for an SBOM on stdin")
    .option(
      "--deny <patterns>",
      "licence ids to refuse, as globs, comma-separated or repeated (e.g. 'GPL-*,AGPL-*')",
      collectPatterns,
      [],
    )
    .option(PLATFORM_FLAG, "the platform of a multi-platform image (default: this machine's)")
    .option("--json", "JSON output")
    .addHelpText(
      "after",
      `${examples(
        "shipgate licenses oci:../shared/images/oci:shop-1.4.2",
        "shipgate licenses app.spdx.json --deny 'GPL-*,AGPL-*'",
        "shipgate sbom get localhost:5000/team/app:1.0 | shipgate licenses - --deny 'AGPL-*'",
        "shipgate licenses localhost:5000/team/app:1.0 --deny 'GPL-3.0*' --json",
      )}
A package under \`A OR B\` is denied only when both are (the user may pick the other); under
\`A AND B\` when either is. Exit code 1 when any package carries a denied licence.
`,
    )
    .action(
      async (source: string, flags: SourceFlags & { deny: string[]; json?: boolean }, command: Command) => {
        const sbom = await loadOne(command, source, flags);
        const histogram = licenseHistogram(sbom);
        const offenders = flags.deny.length > 0 ? deniedPackages(sbom, flags.deny) : [];
        if (flags.json) {
          printJson({
            packages: sbom.packages.length,
            licenses: histogram,
            ...(flags.deny.length > 0
              ? {
                  deny: flags.deny,
                  denied: offenders.map((o) => ({
                    name: o.package.name,
                    version: o.package.version,
                    type: o.package.type,
                    purl: o.package.purl,
                    matched: o.matched,
                  })),
                }
              : {}),
          });
        } else if (flags.deny.length > 0) {
          if (offenders.length > 0) {
            const rows = offenders.map((o) => [
              o.package.name,
              o.package.version,
              o.package.type,
              o.matched.join(", "),
            ]);
            process.stdout.write(`${table(["PACKAGE", "VERSION", "TYPE", "DENIED LICENCE"], rows)}\n`);
          } else {
            process.stderr.write(
              `no package carries a denied licence (${sbom.packages.length} packages checked)\n`,
            );
          }
        } else {
          const rows = histogram.map((h) => [h.license, String(h.packages)]);
          process.stdout.write(`${table(["LICENSE", "PACKAGES"], rows, new Set([1]))}\n`);
        }
        if (offenders.length > 0) {
          throw new ShipgateError(
            "POLICY_DENIED",
            `${offenders.length} of ${sbom.packages.length} packages in ${source} carry a denied licence (${flags.deny.join(", ")})`,
            { hint: "replace those packages, or narrow --deny" },
          );
        }
      },
    );
}

export function registerSbomCommands(program: Command): void {
  const sbom = registerSbomCommand(program);
  registerAttach(sbom);
  registerGet(sbom);
  registerDiff(sbom);
  registerLicenses(program);
}
