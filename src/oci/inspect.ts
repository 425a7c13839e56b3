import { ShipgateError } from "../errors.js";
import { verifyBytes } from "./digest.js";
import {
  type Descriptor,
  type ImageManifest,
  type ParsedManifest,
  type Platform,
  parseManifest,
  selectPlatform,
} from "./manifest.js";
import type { ImageSource, ManifestBlob } from "./transports/types.js";

/** Image configs are small; anything past this is hostile or broken. */
const CONFIG_SIZE_LIMIT = 16 * 1024 * 1024;

export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    Labels?: Record<string, string> | null;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    User?: string;
    WorkingDir?: string;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean }[];
}

export interface ResolvedImage {
  manifest: ManifestBlob;
  parsed: ParsedManifest;
}

/** Fetches the manifest a reference names, once; with `platform`, descends from an index to that platform. */
export async function resolveImage(
  source: ImageSource,
  reference: string | undefined,
  platform?: Platform,
): Promise<ResolvedImage> {
  const ref = reference ?? source.defaultReference;
  if (ref === undefined) {
    throw new ShipgateError("USAGE", `${source.name} holds several images; name one with a tag or digest`);
  }
  const manifest = await source.getManifest(ref);
  const parsed = parseManifest(manifest.bytes, manifest.mediaType, `${source.name}:${ref}`);
  if (platform === undefined || parsed.kind === "manifest") return { manifest, parsed };
  const chosen = selectPlatform(parsed.manifest, platform, `${source.name}:${ref}`);
  const child = await source.getManifest(chosen.digest);
  return {
    manifest: child,
    parsed: parseManifest(child.bytes, child.mediaType, `${source.name}@${chosen.digest}`),
  };
}

/** Reads and verifies a small blob (a config) into memory. */
export async function readSmallBlob(
  source: ImageSource,
  descriptor: Descriptor,
  what: string,
): Promise<Buffer> {
  if (descriptor.size > CONFIG_SIZE_LIMIT) {
    throw new ShipgateError(
      "MANIFEST_INVALID",
      `${what} is ${descriptor.size} bytes, over the ${CONFIG_SIZE_LIMIT}-byte limit`,
    );
  }
  const stream = await source.openBlob(descriptor);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > descriptor.size) {
      stream.destroy();
      throw new ShipgateError(
        "SIZE_MISMATCH",
        `${what}: more bytes than the descriptor's ${descriptor.size}`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  verifyBytes(bytes, descriptor.digest, what);
  return bytes;
}

export async function readConfig(
  source: ImageSource,
  manifest: ImageManifest,
): Promise<{ bytes: Buffer; config: ImageConfig }> {
  const bytes = await readSmallBlob(source, manifest.config, `config ${manifest.config.digest}`);
  try {
    return { bytes, config: JSON.parse(bytes.toString("utf8")) as ImageConfig };
  } catch {
    // Artifacts (signatures, SBOMs) carry non-JSON or empty configs; that is not an error.
    return { bytes, config: {} };
  }
}

export interface PlatformDetails {
  platform: string;
  digest: string;
  mediaType: string;
  /** Config plus layers: what a pull downloads (compressed). */
  size: number;
  created: string | undefined;
  labels: Record<string, string>;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  env: string[];
  layers: Descriptor[];
  config: Descriptor;
  artifactType: string | undefined;
}

export interface InspectResult {
  name: string;
  reference: string;
  digest: string;
  mediaType: string;
  kind: "manifest" | "index";
  annotations: Record<string, string>;
  platforms: PlatformDetails[];
}

async function details(
  source: ImageSource,
  manifest: ManifestBlob,
  parsed: Extract<ParsedManifest, { kind: "manifest" }>,
  declared?: Platform,
): Promise<PlatformDetails> {
  const doc = parsed.manifest;
  const { config } = await readConfig(source, doc);
  const os = config.os ?? declared?.os;
  const arch = config.architecture ?? declared?.architecture;
  const variant = config.variant ?? declared?.variant;
  return {
    platform: os && arch ? [os, arch, variant].filter(Boolean).join("/") : "unknown",
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    size: doc.config.size + doc.layers.reduce((sum, l) => sum + l.size, 0),
    created: config.created ?? doc.annotations?.["org.opencontainers.image.created"],
    labels: config.config?.Labels ?? {},
    entrypoint: config.config?.Entrypoint ?? undefined,
    cmd: config.config?.Cmd ?? undefined,
    env: config.config?.Env ?? [],
    layers: doc.layers,
    config: doc.config,
    artifactType: doc.artifactType,
  };
}

/** What `inspect` shows: for an index, every platform (or just `platform`); for a manifest, itself. */
export async function inspectImage(
  source: ImageSource,
  reference: string | undefined,
  platform?: Platform,
): Promise<InspectResult> {
  const resolved = await resolveImage(source, reference, platform);
  const base = {
    name: source.name,
    reference: reference ?? source.defaultReference ?? resolved.manifest.digest,
    digest: resolved.manifest.digest,
    mediaType: resolved.manifest.mediaType,
    annotations: resolved.parsed.manifest.annotations ?? {},
  };
  if (resolved.parsed.kind === "manifest") {
    return {
      ...base,
      kind: "manifest",
      platforms: [await details(source, resolved.manifest, resolved.parsed)],
    };
  }
  const platforms = await Promise.all(
    resolved.parsed.manifest.manifests.map(async (descriptor) => {
      const child = await source.getManifest(descriptor.digest);
      const parsed = parseManifest(child.bytes, child.mediaType, `${source.name}@${descriptor.digest}`);
      if (parsed.kind !== "manifest")
        throw new ShipgateError(
          "UNSUPPORTED",
          `nested index ${descriptor.digest} is not supported by inspect`,
        );
      return details(source, child, parsed, descriptor.platform);
    }),
  );
  return { ...base, kind: "index", platforms };
}

/** The host's platform in OCI words, the default when a command needs one image out of an index. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    arm: "arm",
    ia32: "386",
    ppc64: "ppc64le",
    s390x: "s390x",
  };
  return { os: "linux", architecture: arch[process.arch] ?? process.arch };
}
