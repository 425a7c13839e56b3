import { ShipgateError } from "../errors.js";
import { assertDigest } from "./digest.js";
import { imageManifestMediaTypes, indexMediaTypes, MediaType } from "./mediatypes.js";

/** Registries and the OCI spec cap manifests at 4 MiB; larger ones are refused before parsing. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  urls?: string[];
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: "manifest"; mediaType: string; manifest: ImageManifest }
  | { kind: "index"; mediaType: string; manifest: ImageIndex };

function bad(where: string, why: string): ShipgateError {
  return new ShipgateError("MANIFEST_INVALID", `${where}: ${why}`, {
    hint: "the registry or layout holds a document that is not an OCI or Docker v2 manifest",
  });
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== "object" || value === null) throw bad(where, "descriptor is not an object");
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== "string") throw bad(where, "descriptor has no mediaType");
  if (typeof d.digest !== "string") throw bad(where, "descriptor has no digest");
  assertDigest(d.digest, where);
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw bad(where, "descriptor size is not a non-negative integer");
  }
  return value as Descriptor;
}

/**
 * Parses manifest bytes. `contentType` is what the server said (if anything);
 * the document's own `mediaType` wins when both exist and differ only by
 * parameters, and a real conflict is an error.
 */
export function parseManifest(
  bytes: Uint8Array,
  contentType: string | undefined,
  where: string,
): ParsedManifest {
  if (bytes.length > MANIFEST_SIZE_LIMIT) {
    throw new ShipgateError(
      "MANIFEST_TOO_LARGE",
      `${where}: manifest is ${bytes.length} bytes, over the ${MANIFEST_SIZE_LIMIT}-byte limit`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw bad(where, `manifest is not JSON (${(error as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw bad(where, "manifest is not a JSON object");
  const doc = json as Record<string, unknown>;
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const served = contentType?.split(";")[0]?.trim();
  if (
    doc.schemaVersion === 1 ||
    declared === MediaType.dockerSchema1 ||
    declared === MediaType.dockerSchema1Signed
  ) {
    throw new ShipgateError(
      "UNSUPPORTED_MEDIA_TYPE",
      `${where}: Docker schema 1 manifests are not supported`,
      {
        hint: "schema 1 is deprecated since 2017; re-push the image with a current client",
      },
    );
  }
  if (doc.schemaVersion !== 2)
    throw bad(where, `schemaVersion is ${JSON.stringify(doc.schemaVersion)}, expected 2`);
  let mediaType = declared;
  if (mediaType === undefined) {
    if (served !== undefined && (indexMediaTypes.has(served) || imageManifestMediaTypes.has(served))) {
      mediaType = served;
    } else if (Array.isArray(doc.manifests)) {
      mediaType = MediaType.ociIndex;
    } else if (doc.config !== undefined) {
      mediaType = MediaType.ociManifest;
    }
  }
  if (mediaType === undefined) throw bad(where, "cannot tell whether this is a manifest or an index");
  if (indexMediaTypes.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw bad(where, "index has no manifests array");
    doc.manifests.forEach((d, i) => {
      checkDescriptor(d, `${where} manifests[${i}]`);
    });
    if (doc.subject !== undefined) checkDescriptor(doc.subject, `${where} subject`);
    return { kind: "index", mediaType, manifest: doc as unknown as ImageIndex };
  }
  if (imageManifestMediaTypes.has(mediaType)) {
    checkDescriptor(doc.config, `${where} config`);
    if (!Array.isArray(doc.layers)) throw bad(where, "manifest has no layers array");
    doc.layers.forEach((d, i) => {
      checkDescriptor(d, `${where} layers[${i}]`);
    });
    if (doc.subject !== undefined) checkDescriptor(doc.subject, `${where} subject`);
    return { kind: "manifest", mediaType, manifest: doc as unknown as ImageManifest };
  }
  throw new ShipgateError("UNSUPPORTED_MEDIA_TYPE", `${where}: unknown manifest media type "${mediaType}"`, {
    hint: "shipgate reads OCI image manifests and indexes and Docker v2 schema 2 manifests and lists",
  });
}

/** Every blob and child manifest a manifest points at. */
export function childDescriptors(parsed: ParsedManifest): { blobs: Descriptor[]; manifests: Descriptor[] } {
  if (parsed.kind === "index") return { blobs: [], manifests: parsed.manifest.manifests };
  return { blobs: [parsed.manifest.config, ...parsed.manifest.layers], manifests: [] };
}

export function parsePlatform(input: string): Platform {
  const parts = input.split("/");
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new ShipgateError("INVALID_PLATFORM", `invalid platform "${input}"`, {
      hint: "use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8",
    });
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform | undefined): string {
  if (p === undefined) return "unknown";
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== "").join("/");
}

/** containerd's normalisation: arm64 with no variant means v8, arm with none means v7. */
function normalisedVariant(p: Platform): string | undefined {
  if (p.variant !== undefined && p.variant !== "") return p.variant;
  if (p.architecture === "arm64") return "v8";
  if (p.architecture === "arm") return "v7";
  return undefined;
}

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (have === undefined) return false;
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant === undefined) return true;
  return normalisedVariant(want) === normalisedVariant(have);
}

/** Picks the manifest for `want` from an index, or explains which platforms exist. */
export function selectPlatform(index: ImageIndex, want: Platform, where: string): Descriptor {
  const found = index.manifests.find((d) => platformMatches(want, d.platform));
  if (found !== undefined) return found;
  const available = index.manifests
    .filter((d) => d.platform !== undefined)
    .map((d) => formatPlatform(d.platform))
    .join(", ");
  throw new ShipgateError("NOT_FOUND", `${where}: no manifest for platform ${formatPlatform(want)}`, {
    hint: available === "" ? "the index lists no platforms" : `available: ${available}`,
  });
}
