/**
 * The build-info record `shipgate publish` writes: everything a later step
 * (deploy, promotion, audit) needs to find what was published, by digest.
 */
import { ShipgateError } from "../errors.js";
import { pushArtifact } from "../oci/artifact.js";
import { readSmallBlob } from "../oci/inspect.js";
import { type Descriptor, parseManifest } from "../oci/manifest.js";
import type { ImageDest, ImageSource } from "../oci/transports/types.js";
import type { CiEnvironment } from "./ci-env.js";

export const BUILD_INFO_MEDIA_TYPE = "application/vnd.shipgate.build-info.v1+json";

export type StepName = "scan" | "sbom" | "push" | "sign" | "attach-sbom" | "attest-sbom" | "provenance";
export type StepStatus = "done" | "skipped" | "failed";

export interface StepRecord {
  name: StepName;
  status: StepStatus;
  seconds: number;
  detail?: string;
}

export interface ScanSummary {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  /** The `--fail-on` threshold, when one was set. */
  failOn?: string;
  passed: boolean;
}

export interface BuildInfo {
  buildInfoVersion: 1;
  shipgateVersion: string;
  startedAt: string;
  finishedAt: string;
  image: {
    /** Repository the image was pushed to, without tag: `registry.example.com/team/app`. */
    repository: string;
    digest: string;
    mediaType: string;
    tags: string[];
    platforms: string[];
  };
  sbom?: { format: string; packages: number; referrer?: string; tag?: string };
  /** The referrer this record itself was stored as (absent in the copy stored). */
  record?: string;
  signatures: { digest: string; layout: string }[];
  attestations: { predicateType: string; digest: string; layout: string }[];
  scan?: ScanSummary;
  source: CiEnvironment;
  steps: StepRecord[];
}

/** Reads a record back, refusing anything that is not one (a clear error, never a partial object). */
export function parseBuildInfo(text: string, where: string): BuildInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ShipgateError("USAGE", `${where} is not JSON: ${(error as Error).message}`);
  }
  const d = doc as Partial<BuildInfo>;
  if (
    typeof doc !== "object" ||
    doc === null ||
    d.buildInfoVersion !== 1 ||
    typeof d.image?.digest !== "string" ||
    !Array.isArray(d.steps)
  ) {
    throw new ShipgateError("USAGE", `${where} is not a shipgate build-info record (buildInfoVersion 1)`, {
      hint: "write one with: shipgate publish SRC DST --build-info FILE",
    });
  }
  return d as BuildInfo;
}

/**
 * Stores the record next to the image it describes: an OCI 1.1 referrer of
 * the image (the fallback index keeps it findable on registries without the
 * referrers API), so `build-info show REF` works from the registry alone.
 */
export async function attachBuildInfo(
  dest: ImageDest,
  subject: Descriptor,
  info: BuildInfo,
): Promise<string> {
  const written = await pushArtifact(dest, {
    artifactType: BUILD_INFO_MEDIA_TYPE,
    layers: [{ bytes: Buffer.from(`${JSON.stringify(info, null, 2)}\n`), mediaType: BUILD_INFO_MEDIA_TYPE }],
    subject,
    annotations: { "org.opencontainers.image.created": info.finishedAt },
  });
  return written.digest;
}

/** The newest build-info record attached to `digest`, if any. */
export async function readAttachedBuildInfo(
  source: ImageSource,
  digest: string,
): Promise<BuildInfo | undefined> {
  const referrers = await source.listReferrers(digest, BUILD_INFO_MEDIA_TYPE);
  const newest = [...referrers].sort((a, b) =>
    (b.annotations?.["org.opencontainers.image.created"] ?? "").localeCompare(
      a.annotations?.["org.opencontainers.image.created"] ?? "",
    ),
  )[0];
  if (newest === undefined) return undefined;
  const manifest = await source.getManifest(newest.digest);
  const parsed = parseManifest(manifest.bytes, manifest.mediaType, `build info ${newest.digest}`);
  const layer = parsed.kind === "manifest" ? parsed.manifest.layers[0] : undefined;
  if (layer === undefined) return undefined;
  const bytes = await readSmallBlob(source, layer, `build info ${newest.digest}`);
  return parseBuildInfo(bytes.toString("utf8"), `the build info attached to ${digest}`);
}
