import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ShipgateError } from "../errors.js";
import type { Collector } from "../image/collector.js";
import { collectDirectory } from "../image/directory.js";
import { collectImage, type LayerProgress } from "../image/image.js";
import type { LayerLimits } from "../image/layers.js";
import { readConfig } from "../oci/inspect.js";
import {
  formatPlatform,
  type ImageManifest,
  type Platform,
  parseManifest,
  platformMatches,
} from "../oci/manifest.js";
import { describeLocation, type Location, parseLocation } from "../oci/transports/location.js";
import { type OpenOptions, openSource, referenceOf } from "../oci/transports/open.js";
import { defaultCatalogers } from "./catalogers/index.js";
import type { Cataloger } from "./catalogers/types.js";
import { normaliseSbom, type Sbom, type SbomSource } from "./model.js";

export interface GenerateOptions {
  /** One platform of a multi-platform image; default: every platform, one SBOM each. */
  platform?: Platform;
  catalogers?: readonly Cataloger[];
  limits?: LayerLimits;
  open?: OpenOptions;
  onProgress?: (p: LayerProgress & { platform: string }) => void;
  env?: NodeJS.ProcessEnv;
}

export type SbomTarget = { kind: "directory"; path: string } | { kind: "image"; location: Location };

/**
 * What an SBOM command was pointed at: `dir:PATH` or an existing plain
 * directory is a root filesystem (a directory holding `oci-layout` is read
 * as an OCI layout, as skopeo would); everything else is an image location.
 */
export function parseSbomTarget(input: string, env: NodeJS.ProcessEnv = process.env): SbomTarget {
  if (input.startsWith("dir:")) return { kind: "directory", path: resolve(input.slice(4)) };
  if (!input.includes(":") || input.startsWith("/") || input.startsWith(".")) {
    const path = resolve(input);
    if (existsSync(path) && statSync(path).isDirectory()) {
      if (existsSync(join(path, "oci-layout"))) {
        return { kind: "image", location: { transport: "oci", path, reference: undefined } };
      }
      return { kind: "directory", path };
    }
  }
  return { kind: "image", location: parseLocation(input, env) };
}

/** One SBOM per platform of the image (or the one asked for), or one for a directory. */
export async function generateSboms(
  input: string | SbomTarget,
  options: GenerateOptions = {},
): Promise<Sbom[]> {
  const env = options.env ?? process.env;
  const target = typeof input === "string" ? parseSbomTarget(input, env) : input;
  const catalogers = options.catalogers ?? defaultCatalogers();
  if (target.kind === "directory") {
    const collector = await collectDirectory(target.path, catalogers);
    const created = sourceDateEpoch(env) ?? statSync(target.path).mtime.toISOString();
    return [toSbom(collector, { kind: "directory", name: target.path }, created)];
  }
  const name = describeLocation(target.location);
  const source = await openSource(target.location, options.open);
  try {
    const reference = referenceOf(target.location) ?? source.defaultReference;
    if (reference === undefined) {
      throw new ShipgateError("USAGE", `${name} holds several images; name one with a tag or digest`);
    }
    const top = await source.getManifest(reference);
    const parsed = parseManifest(top.bytes, top.mediaType, name);
    let images: { digest: string; manifest: ImageManifest; platform?: Platform }[];
    if (parsed.kind === "manifest") {
      images = [{ digest: top.digest, manifest: parsed.manifest }];
    } else {
      const children = parsed.manifest.manifests.filter(
        // BuildKit's attestation manifests carry platform unknown/unknown: they are not images.
        (d) =>
          d.platform?.os !== "unknown" &&
          (options.platform === undefined || platformMatches(options.platform, d.platform)),
      );
      if (children.length === 0) {
        throw new ShipgateError(
          "NOT_FOUND",
          `${name} has no image for platform ${formatPlatform(options.platform)}`,
          {
            hint: `its platforms: ${parsed.manifest.manifests.map((d) => formatPlatform(d.platform)).join(", ")}`,
          },
        );
      }
      images = [];
      for (const child of options.platform ? children.slice(0, 1) : children) {
        const blob = await source.getManifest(child.digest);
        const m = parseManifest(blob.bytes, blob.mediaType, `${name}@${child.digest}`);
        if (m.kind !== "manifest") continue;
        images.push({ digest: child.digest, manifest: m.manifest, platform: child.platform });
      }
    }
    const sboms: Sbom[] = [];
    for (const image of images) {
      const { config } = await readConfig(source, image.manifest);
      const platform = formatPlatform(
        image.platform ??
          (config.os
            ? { os: config.os, architecture: config.architecture ?? "", variant: config.variant }
            : undefined),
      );
      const collector = await collectImage(source, image.manifest, catalogers, {
        what: `${name}@${image.digest}`,
        limits: options.limits,
        onProgress: (p) => options.onProgress?.({ ...p, platform }),
      });
      const created = sourceDateEpoch(env) ?? config.created ?? "1970-01-01T00:00:00Z";
      sboms.push(
        toSbom(
          collector,
          {
            kind: "image",
            name,
            digest: image.digest,
            platform,
            configDigest: image.manifest.config.digest,
            layers: image.manifest.layers.map((l) => l.digest),
          },
          created,
        ),
      );
    }
    return sboms;
  } finally {
    await source.close?.();
  }
}

function toSbom(collector: Collector, source: SbomSource, created: string): Sbom {
  const { packages, relationships, warnings, distro } = collector.finish();
  return normaliseSbom({ source, distro, packages, relationships, created: isoSeconds(created), warnings });
}

/** Reproducible builds' convention: SOURCE_DATE_EPOCH fixes every timestamp. */
function sourceDateEpoch(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return new Date(Number(value) * 1000).toISOString();
}

/** Both formats want `YYYY-MM-DDThh:mm:ssZ`. */
function isoSeconds(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "1970-01-01T00:00:00Z";
  return `${date.toISOString().slice(0, 19)}Z`;
}
