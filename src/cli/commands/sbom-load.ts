import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { DEFAULT_LAYER_LIMITS, type LayerLimits } from "../../image/layers.js";
import { hostPlatform, resolveImage } from "../../oci/inspect.js";
import { formatPlatform } from "../../oci/manifest.js";
import { openSource, referenceOf } from "../../oci/transports/open.js";
import { readSbom } from "../../sbom/formats/read.js";
import { generateSboms, parseSbomTarget } from "../../sbom/generate.js";
import type { Sbom } from "../../sbom/model.js";
import { globals, openOptions, platformOption, usage } from "../context.js";
import { ProgressBar } from "../progress.js";

// Where `shipgate sbom` and its subcommands get their SBOMs: images, directories, files, stdin.

/** SBOM documents read from disk are bounded: past this, it is not an SBOM anyone meant. */
export const MAX_SBOM_BYTES = 1024 ** 3;

export interface SourceFlags {
  platform?: string;
  maxLayerSize?: string;
}

export function limitsFrom(flags: SourceFlags): LayerLimits {
  if (flags.maxLayerSize === undefined) return DEFAULT_LAYER_LIMITS;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt])?i?b?$/i.exec(flags.maxLayerSize.trim());
  if (!match)
    throw usage(`--max-layer-size "${flags.maxLayerSize}" is not a size`, "write e.g. 8GiB or 500MiB");
  const power = { k: 1, m: 2, g: 3, t: 4 }[(match[2] ?? "").toLowerCase() as "k"] ?? 0;
  return { ...DEFAULT_LAYER_LIMITS, maxLayerBytes: Math.floor(Number(match[1]) * 1024 ** power) };
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_SBOM_BYTES)
      throw new ShipgateError("LIMIT_EXCEEDED", "the SBOM on stdin is larger than 1 GiB");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A `docker save` tarball named without its transport: tar's magic at offset 257. */
export function isTar(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const magic = Buffer.alloc(5);
    readSync(fd, magic, 0, 5, 257);
    return magic.toString("latin1") === "ustar";
  } finally {
    closeSync(fd);
  }
}

/**
 * What a command was pointed at, as SBOMs: an SBOM file is read back; an
 * image, layout, archive or directory is catalogued (one SBOM per platform,
 * or only `platform`).
 */
export async function loadSboms(
  command: Command,
  input: string,
  flags: SourceFlags,
  defaultPlatform?: string,
): Promise<Sbom[]> {
  // `-` is an SBOM on stdin: `shipgate sbom get IMAGE | shipgate licenses - --deny 'GPL-*'`.
  if (input === "-") return [readSbom(await readStdin(), "the SBOM on stdin")];
  if (existsSync(input) && statSync(input).isFile()) {
    if (isTar(input)) return loadSboms(command, `docker-archive:${input}`, flags, defaultPlatform);
    if (statSync(input).size > MAX_SBOM_BYTES) {
      throw new ShipgateError("LIMIT_EXCEEDED", `${input} is larger than 1 GiB; not read as an SBOM`);
    }
    return [readSbom(await readFile(input), input)];
  }
  const g = globals(command);
  const env = g.store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: g.store };
  const bar = new ProgressBar(`cataloguing ${input}`);
  try {
    return await generateSboms(parseSbomTarget(input, env), {
      platform: platformOption(flags.platform ?? defaultPlatform),
      open: openOptions(command),
      limits: limitsFrom(flags),
      env,
      onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal, `${p.platform} layer ${p.layer}/${p.layers}`),
    });
  } finally {
    bar.finish();
  }
}

/**
 * The platforms of an image index (an empty list for a single image, a
 * directory or a file): asked before cataloguing, so a command that can show
 * only one SBOM refuses at once instead of after reading every platform.
 */
export async function indexPlatforms(command: Command, input: string): Promise<string[]> {
  if (input === "-" || (existsSync(input) && statSync(input).isFile())) return [];
  const g = globals(command);
  const env = g.store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: g.store };
  const target = parseSbomTarget(input, env);
  if (target.kind !== "image") return [];
  const source = await openSource(target.location, openOptions(command));
  try {
    const { parsed } = await resolveImage(source, referenceOf(target.location));
    if (parsed.kind !== "index") return [];
    return parsed.manifest.manifests
      .filter((d) => d.platform?.os !== "unknown")
      .map((d) => formatPlatform(d.platform));
  } finally {
    await source.close?.();
  }
}

/** Commands that compare or judge one SBOM take one platform: the asked one, else this machine's. */
export async function loadOne(command: Command, input: string, flags: SourceFlags): Promise<Sbom> {
  const host = hostPlatform();
  const [sbom] = await loadSboms(command, input, flags, `${host.os}/${host.architecture}`);
  return sbom as Sbom;
}

/** With several platforms, `app.cdx.json` becomes `app-linux-arm64-v8.cdx.json`, one file each. */
export function platformPath(output: string, platform: string | undefined): string {
  const suffix = (platform ?? "unknown").replaceAll("/", "-");
  const name = basename(output);
  const dot = name.indexOf(".", 1);
  const file = dot === -1 ? `${name}-${suffix}` : `${name.slice(0, dot)}-${suffix}${name.slice(dot)}`;
  return join(dirname(output), file);
}
