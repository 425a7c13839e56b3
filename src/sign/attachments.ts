import { ShipgateError } from "../errors.js";
import { parseManifest } from "../oci/manifest.js";
import { fallbackTag } from "../oci/referrers.js";
import { applyRemoval, planRemoval } from "../oci/remove.js";
import type { Location } from "../oci/transports/location.js";
import { type OpenOptions, openSource, referenceOf } from "../oci/transports/open.js";
import { RegistryRepository } from "../oci/transports/registry.js";
import type { ImageSource } from "../oci/transports/types.js";
import { BUNDLE_PREDICATE_TYPE_ANNOTATION } from "./bundle.js";
import { COSIGN_SIGN_PREDICATE } from "./intoto.js";
import { COSIGN_SIG_ARTIFACT_TYPE } from "./store-signatures.js";

export type AttachmentType = "signature" | "attestation" | "sbom" | "other";

export interface Attachment {
  type: AttachmentType;
  /** `tag`: cosign's `.sig`/`.att`/`.sbom` tag; `referrer`: an OCI 1.1 referrer (API or fallback index). */
  scheme: "tag" | "referrer";
  /** The manifest holding it. */
  digest: string;
  tag?: string;
  artifactType?: string;
  /** Signatures or attestations in a `.sig`/`.att` manifest (one per layer). */
  entries: number;
  /** Predicate types, for attestations. */
  predicateTypes: string[];
}

const SBOM_TYPES = new Set([
  "application/spdx+json",
  "text/spdx+json",
  "application/vnd.cyclonedx+json",
  "application/vnd.syft+json",
]);

function classifyReferrer(
  artifactType: string | undefined,
  annotations: Record<string, string>,
): AttachmentType {
  // cosign's experimental `--registry-referrers-mode=oci-1-1` signatures (a `.sig` manifest as a referrer).
  if (artifactType === COSIGN_SIG_ARTIFACT_TYPE) return "signature";
  if (artifactType?.startsWith("application/vnd.dev.sigstore.bundle")) {
    return annotations[BUNDLE_PREDICATE_TYPE_ANNOTATION] === COSIGN_SIGN_PREDICATE
      ? "signature"
      : "attestation";
  }
  if (artifactType !== undefined && SBOM_TYPES.has(artifactType)) return "sbom";
  return "other";
}

async function tagged(source: ImageSource, tag: string) {
  return source.getManifest(tag).catch((error: unknown) => {
    if (error instanceof ShipgateError && error.code === "NOT_FOUND") return undefined;
    throw error;
  });
}

/** Everything attached to an image's digest, in both schemes (what `shipgate tree` lists). */
export async function listAttachments(
  location: Location,
  options: { open?: OpenOptions } = {},
): Promise<{ subject: string; attachments: Attachment[] }> {
  const source = await openSource(location, options.open);
  try {
    const reference = referenceOf(location) ?? source.defaultReference;
    if (reference === undefined)
      throw new ShipgateError("USAGE", `${source.name}: name the image with a tag or digest`);
    const subject = (await source.getManifest(reference)).digest;
    const attachments: Attachment[] = [];
    const kinds: [AttachmentType, "sig" | "att" | "sbom"][] = [
      ["signature", "sig"],
      ["attestation", "att"],
      ["sbom", "sbom"],
    ];
    for (const [type, kind] of kinds) {
      const tag = `${fallbackTag(subject)}.${kind}`;
      const blob = await tagged(source, tag);
      if (blob === undefined) continue;
      const parsed = parseManifest(blob.bytes, blob.mediaType, `${source.name}:${tag}`);
      const layers = parsed.kind === "manifest" ? parsed.manifest.layers : [];
      attachments.push({
        type,
        scheme: "tag",
        digest: blob.digest,
        tag,
        entries: layers.length,
        predicateTypes: [
          ...new Set(layers.map((l) => l.annotations?.predicateType).filter((p): p is string => !!p)),
        ],
      });
    }
    for (const referrer of await source.listReferrers(subject)) {
      const annotations = referrer.annotations ?? {};
      const predicateType = annotations[BUNDLE_PREDICATE_TYPE_ANNOTATION];
      attachments.push({
        type: classifyReferrer(referrer.artifactType, annotations),
        scheme: "referrer",
        digest: referrer.digest,
        ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}),
        entries: 1,
        predicateTypes: predicateType && predicateType !== COSIGN_SIGN_PREDICATE ? [predicateType] : [],
      });
    }
    return { subject, attachments };
  } finally {
    await source.close?.();
  }
}

/**
 * Removes the attachments of the given types (plan with listAttachments and
 * filter first). Each goes through the registry removal engine, which also
 * drops it from its subject's fallback index.
 */
export async function removeAttachments(
  location: Location,
  attachments: readonly Attachment[],
  options: { open?: OpenOptions } = {},
): Promise<string[]> {
  if (location.transport !== "docker") {
    throw new ShipgateError("UNSUPPORTED", "removing attachments is supported on registries only");
  }
  const repo = new RegistryRepository(location.reference, options.open);
  const removed: string[] = [];
  for (const attachment of attachments) {
    const plan = await planRemoval(repo, attachment.digest);
    await applyRemoval(repo, plan);
    removed.push(attachment.digest);
  }
  return removed;
}
