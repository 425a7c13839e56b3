import { ShipgateError } from "../errors.js";
import { pushArtifact } from "../oci/artifact.js";
import { readSmallBlob } from "../oci/inspect.js";
import { type Descriptor, parseManifest } from "../oci/manifest.js";
import { MediaType } from "../oci/mediatypes.js";
import { cosignTags } from "../oci/referrers.js";
import { describeLocation, type Location } from "../oci/transports/location.js";
import { type OpenOptions, openDest, openSource, referenceOf } from "../oci/transports/open.js";

export type SbomFormat = "spdx-json" | "cyclonedx-json";

/** Media types: cosign's for the legacy `.sbom` tag (specs/SBOM_SPEC.md), IANA's for OCI 1.1 artifactType. */
export const SBOM_MEDIA_TYPES: Record<SbomFormat, { cosign: string; artifactType: string }> = {
  "spdx-json": { cosign: "text/spdx+json", artifactType: "application/spdx+json" },
  "cyclonedx-json": {
    cosign: "application/vnd.cyclonedx+json",
    artifactType: "application/vnd.cyclonedx+json",
  },
};

const SBOM_TYPES: ReadonlySet<string> = new Set([
  "text/spdx+json",
  "text/spdx",
  "application/spdx+json",
  "application/vnd.cyclonedx+json",
  "application/vnd.cyclonedx",
  // syft and oras attach with these too.
  "application/vnd.syft+json",
  "application/vnd.in-toto+json",
]);

/** Tells SPDX from CycloneDX JSON by their required top-level fields. */
export function detectSbomFormat(bytes: Uint8Array, where: string): SbomFormat {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ShipgateError("SBOM_INVALID", `${where} is not JSON: ${(error as Error).message}`, {
      hint: "pass an SPDX 2.x or CycloneDX JSON document",
    });
  }
  if (typeof doc === "object" && doc !== null) {
    if ("spdxVersion" in doc) return "spdx-json";
    if ((doc as { bomFormat?: unknown }).bomFormat === "CycloneDX") return "cyclonedx-json";
  }
  throw new ShipgateError(
    "SBOM_INVALID",
    `${where} is neither SPDX (no "spdxVersion") nor CycloneDX (no "bomFormat")`,
    {
      hint: "pass an SPDX 2.x or CycloneDX JSON document",
    },
  );
}

export type ReferrersMode = "legacy" | "oci-1-1" | "both";

export interface AttachResult {
  subject: string;
  /** The legacy `sha256-<hex>.sbom` tag and the manifest it points at. */
  tag?: { name: string; digest: string };
  /** The OCI 1.1 referrer manifest. */
  referrer?: string;
}

async function resolveSubject(location: Location, open: OpenOptions | undefined): Promise<Descriptor> {
  const source = await openSource(location, open);
  try {
    const reference = referenceOf(location) ?? source.defaultReference;
    if (reference === undefined) {
      throw new ShipgateError("USAGE", `${describeLocation(location)}: name the image with a tag or digest`);
    }
    const manifest = await source.getManifest(reference);
    return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
  } finally {
    await source.close?.();
  }
}

/**
 * Attaches an SBOM to an image, resolved to its digest once: as cosign's
 * `sha256-<hex>.sbom` tag (what `cosign download sbom` reads) and/or as an
 * OCI 1.1 referrer with `subject` (what `oras discover` and referrer-aware
 * tools read; the fallback index is kept where the registry has no API).
 */
export async function attachSbom(
  location: Location,
  sbom: Uint8Array,
  options: { mode?: ReferrersMode; open?: OpenOptions; where?: string } = {},
): Promise<AttachResult> {
  const format = detectSbomFormat(sbom, options.where ?? "the SBOM");
  const mode = options.mode ?? "both";
  const subject = await resolveSubject(location, options.open);
  const dest = await openDest(location, options.open);
  const result: AttachResult = { subject: subject.digest };
  try {
    const types = SBOM_MEDIA_TYPES[format];
    if (mode !== "oci-1-1") {
      const tag = cosignTags(subject.digest)[2] as string;
      const config = Buffer.from(
        JSON.stringify({ architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: [] } }),
      );
      const written = await pushArtifact(dest, {
        layers: [{ bytes: sbom, mediaType: types.cosign }],
        config: { bytes: config, mediaType: MediaType.ociConfig },
        tag,
      });
      result.tag = { name: tag, digest: written.digest };
    }
    if (mode !== "legacy") {
      const written = await pushArtifact(dest, {
        artifactType: types.artifactType,
        layers: [{ bytes: sbom, mediaType: types.artifactType }],
        subject,
        annotations: { "org.opencontainers.image.created": new Date().toISOString() },
      });
      result.referrer = written.digest;
    }
  } finally {
    await dest.close?.();
  }
  return result;
}

export interface AttachedSbom {
  format: SbomFormat;
  mediaType: string;
  /** Where it was found: the referrer manifest's digest or the `.sbom` tag. */
  via: { kind: "referrer"; digest: string } | { kind: "tag"; tag: string; digest: string };
  bytes: Buffer;
}

/** Every SBOM attached to an image: OCI 1.1 referrers (API or fallback) and cosign's `.sbom` tag. */
export async function getAttachedSboms(
  location: Location,
  options: { open?: OpenOptions } = {},
): Promise<AttachedSbom[]> {
  const source = await openSource(location, options.open);
  const name = describeLocation(location);
  try {
    const reference = referenceOf(location) ?? source.defaultReference;
    if (reference === undefined)
      throw new ShipgateError("USAGE", `${name}: name the image with a tag or digest`);
    const subject = await source.getManifest(reference);
    const found: AttachedSbom[] = [];
    const readLayers = async (manifestDigest: string, via: AttachedSbom["via"]) => {
      const blob = await source.getManifest(manifestDigest);
      const parsed = parseManifest(blob.bytes, blob.mediaType, `${name}@${manifestDigest}`);
      if (parsed.kind !== "manifest") return;
      for (const layer of parsed.manifest.layers) {
        const base = layer.mediaType.split(";")[0] ?? "";
        if (!SBOM_TYPES.has(base) && !SBOM_TYPES.has(parsed.manifest.artifactType ?? "")) continue;
        const bytes = await readSmallBlob(source, layer, `SBOM ${layer.digest} of ${name}`);
        let format: SbomFormat;
        try {
          format = detectSbomFormat(bytes, `SBOM ${layer.digest}`);
        } catch {
          continue; // an in-toto statement or syft's own format: not an SPDX or CycloneDX document
        }
        found.push({ format, mediaType: layer.mediaType, via, bytes });
      }
    };
    for (const referrer of await source.listReferrers(subject.digest)) {
      if (referrer.artifactType !== undefined && !SBOM_TYPES.has(referrer.artifactType)) continue;
      await readLayers(referrer.digest, { kind: "referrer", digest: referrer.digest });
    }
    const tag = cosignTags(subject.digest)[2] as string;
    const tagged = await source.getManifest(tag).catch((error: unknown) => {
      if (error instanceof ShipgateError && error.code === "NOT_FOUND") return undefined;
      throw error;
    });
    if (tagged && !found.some((f) => f.via.digest === tagged.digest)) {
      await readLayers(tagged.digest, { kind: "tag", tag, digest: tagged.digest });
    }
    return found;
  } finally {
    await source.close?.();
  }
}
