import { ShipgateError } from "../errors.js";
import { type Descriptor, formatPlatform, parseManifest } from "../oci/manifest.js";
import { DOCKER_HUB } from "../oci/reference.js";
import type { Location } from "../oci/transports/location.js";
import { type OpenOptions, openSource, referenceOf } from "../oci/transports/open.js";
import type { ImageSource } from "../oci/transports/types.js";

export interface Target {
  descriptor: Descriptor;
  /** `linux/arm64` for an index's children; undefined for the image named. */
  platform?: string;
}

export interface ResolvedTargets {
  /** The repository name a payload or statement carries (`registry/repo`, no tag). */
  name: string;
  /** What the reference resolved to, once: every later step uses this digest, never the tag. */
  root: Descriptor;
  /** The root, then (with `recursive`) every manifest an index lists. */
  targets: Target[];
}

export function repositoryName(location: Location): string {
  switch (location.transport) {
    case "docker":
      // cosign names the repository as go-containerregistry does, and its name
      // for Docker Hub is index.docker.io (payload.Cosign: Image.Repository.Name()).
      return `${location.reference.registry === DOCKER_HUB ? "index.docker.io" : location.reference.registry}/${location.reference.repository}`;
    case "oci":
      return `oci:${location.path}`;
    case "docker-archive":
      return `docker-archive:${location.path}`;
  }
}

/** Resolves the reference to a digest once; with `recursive`, an index's children join the list. */
export async function resolveTargets(
  source: ImageSource,
  location: Location,
  recursive: boolean,
): Promise<ResolvedTargets> {
  const reference = referenceOf(location) ?? source.defaultReference;
  if (reference === undefined) {
    throw new ShipgateError("USAGE", `${source.name}: name the image with a tag or digest`);
  }
  const manifest = await source.getManifest(reference);
  const root: Descriptor = {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.bytes.length,
  };
  const targets: Target[] = [{ descriptor: root }];
  if (recursive) {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType, `${source.name}@${manifest.digest}`);
    if (parsed.kind === "index") {
      for (const child of parsed.manifest.manifests) {
        // Attestation manifests some builders put in an index (buildkit's "unknown/unknown") are not platforms.
        if (child.platform?.os === "unknown") continue;
        targets.push({ descriptor: child, platform: formatPlatform(child.platform) });
      }
    }
  }
  return { name: repositoryName(location), root, targets };
}

/** Opens the location for reading, runs `work`, and always closes it. */
export async function withSource<T>(
  location: Location,
  open: OpenOptions | undefined,
  work: (s: ImageSource) => Promise<T>,
) {
  const source = await openSource(location, open);
  try {
    return await work(source);
  } finally {
    await source.close?.();
  }
}
