import { randomUUID } from "node:crypto";
import { ShipgateError } from "../errors.js";
import { digestOf } from "./digest.js";
import { limiter } from "./limit.js";
import { type Descriptor, type ImageManifest, parseManifest } from "./manifest.js";
import { MediaType } from "./mediatypes.js";
import { cosignTags, fallbackTag, isDigestTag, removeFromFallbackIndex } from "./referrers.js";
import type { RegistryRepository } from "./transports/registry.js";

export interface RemovalPlan {
  repository: string;
  /** What the user named: a tag or a digest. */
  reference: string;
  kind: "tag" | "digest";
  digest: string;
  /**
   * For a tag: other tags on the same digest, which stay.
   * For a digest: the tags that go with it (a registry drops every tag of a deleted manifest).
   */
  otherTags: string[];
  /**
   * Signatures, attestations, SBOMs and fallback indexes, deleted with a digest: everything
   * attached to it and, recursively, to its attachments (a signature on an SBOM goes too),
   * as copy carries them.
   */
  attachments: { digest: string; via: string }[];
  /**
   * For a digest that is itself a referrer, on a registry without the referrers API: the
   * fallback index of its subject, which drops this entry (distribution-spec, "Deleting Manifests").
   */
  fallbackIndex?: { subject: string; tag: string };
}

const EMPTY_CONFIG = Buffer.from("{}");

/** Works out what `rm` would do, without changing anything. */
export async function planRemoval(repo: RegistryRepository, reference: string): Promise<RemovalPlan> {
  const kind = reference.includes(":") ? "digest" : "tag";
  const digest = await repo.resolve(reference);
  const otherTags = (await tagsPointingAt(repo, digest)).filter((t) => t !== reference);
  const plan: RemovalPlan = {
    repository: repo.name,
    reference,
    kind,
    digest,
    otherTags,
    attachments: [],
  };
  if (kind === "digest") {
    plan.attachments = await attachmentsOf(repo, digest);
    const fallbackIndex = await subjectFallbackIndex(repo, digest);
    if (fallbackIndex !== undefined) plan.fallbackIndex = fallbackIndex;
  }
  return plan;
}

/** Everything attached to `digest`, in both schemes, and what is attached to those, breadth first. */
async function attachmentsOf(repo: RegistryRepository, digest: string): Promise<RemovalPlan["attachments"]> {
  const attachments: RemovalPlan["attachments"] = [];
  const seen = new Set([digest]);
  let frontier = [digest];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const subject of frontier) {
      // An attachment of an attachment names its subject; the manifest's own need not.
      const of = subject === digest ? "" : ` of ${subject}`;
      for (const tag of [...cosignTags(subject), fallbackTag(subject)]) {
        const head = await repo.client.headManifest(repo.repository, tag);
        if (head === undefined || seen.has(head.digest)) continue;
        seen.add(head.digest);
        attachments.push({ digest: head.digest, via: `tag ${tag}` });
        // A fallback index only lists referrers, which the referrers walk below finds.
        if (tag !== fallbackTag(subject)) next.push(head.digest);
      }
      for (const referrer of await repo.listReferrers(subject)) {
        if (seen.has(referrer.digest)) continue;
        seen.add(referrer.digest);
        attachments.push({
          digest: referrer.digest,
          via: `referrer ${referrer.artifactType ?? referrer.mediaType}${of}`,
        });
        next.push(referrer.digest);
      }
    }
    frontier = next;
  }
  return attachments;
}

/** The fallback index that lists `digest` as a referrer of its subject, when the registry has no referrers API. */
async function subjectFallbackIndex(
  repo: RegistryRepository,
  digest: string,
): Promise<RemovalPlan["fallbackIndex"]> {
  let subject: Descriptor | undefined;
  try {
    const blob = await repo.getManifest(digest);
    subject = parseManifest(blob.bytes, blob.mediaType, `manifest ${digest}`).manifest.subject;
  } catch (error) {
    // rm still removes what shipgate cannot read (Docker schema 1, foreign types): none has a subject.
    if (error instanceof ShipgateError && ["UNSUPPORTED_MEDIA_TYPE", "MANIFEST_INVALID"].includes(error.code))
      return undefined;
    throw error;
  }
  if (subject === undefined) return undefined;
  if ((await repo.client.referrers(repo.repository, subject.digest)).supported) return undefined;
  const tag = fallbackTag(subject.digest);
  const head = await repo.client.headManifest(repo.repository, tag);
  if (head === undefined) return undefined;
  const index = await repo.client.getManifest(repo.repository, head.digest);
  if (removeFromFallbackIndex(index, digest) === undefined) return undefined;
  return { subject: subject.digest, tag };
}

async function tagsPointingAt(repo: RegistryRepository, digest: string): Promise<string[]> {
  const run = limiter(8);
  const checks: Promise<string | undefined>[] = [];
  for await (const tag of repo.listTags()) {
    if (isDigestTag(tag)) continue;
    checks.push(
      run(async () =>
        (await repo.client.headManifest(repo.repository, tag))?.digest === digest ? tag : undefined,
      ),
    );
  }
  return (await Promise.all(checks)).filter((t): t is string => t !== undefined).sort();
}

export interface RemovalResult {
  method: "delete-manifest" | "delete-by-tag" | "retag-and-delete";
  deleted: string[];
}

/**
 * Carries out a plan. A tag is removed on its own: with the OCI delete-by-tag
 * where the registry has it, else by pointing the tag at a unique placeholder
 * manifest and deleting that (distribution 2.8 refuses DELETE by tag, and
 * deleting the digest would drop every other tag on it).
 */
export async function applyRemoval(repo: RegistryRepository, plan: RemovalPlan): Promise<RemovalResult> {
  const current = await repo.client.headManifest(repo.repository, plan.reference);
  if (current === undefined || current.digest !== plan.digest) {
    throw new ShipgateError(
      "CONCURRENT_CHANGE",
      `${repo.name}:${plan.reference} changed since the plan was made`,
      {
        hint: "run the command again to see the new plan",
      },
    );
  }
  if (plan.kind === "digest") {
    await repo.client.deleteManifest(repo.repository, plan.digest);
    const deleted = [plan.digest];
    for (const attachment of plan.attachments) {
      try {
        await repo.client.deleteManifest(repo.repository, attachment.digest);
        deleted.push(attachment.digest);
      } catch (error) {
        if (!(error instanceof ShipgateError && error.code === "NOT_FOUND")) throw error;
      }
    }
    // After the delete, not before: should this fail, the index lists a manifest that is gone
    // (which readers skip) rather than hiding one that still exists.
    if (plan.fallbackIndex !== undefined) {
      const dropped = await dropFromFallbackIndex(repo, plan.fallbackIndex.tag, plan.digest);
      if (dropped !== undefined) deleted.push(dropped);
    }
    return { method: "delete-manifest", deleted };
  }
  try {
    await repo.client.deleteManifest(repo.repository, plan.reference);
    return { method: "delete-by-tag", deleted: [plan.reference] };
  } catch (error) {
    if (
      !(error instanceof ShipgateError) ||
      !["UNSUPPORTED", "DIGEST_MISMATCH", "REGISTRY_ERROR", "MANIFEST_INVALID"].includes(error.code)
    ) {
      throw error;
    }
  }
  const config = await repo.client.uploadBytes(repo.repository, EMPTY_CONFIG);
  const placeholder: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { ...config, mediaType: MediaType.ociEmpty },
    layers: [],
    // Unique, so deleting it cannot take any other tag along.
    annotations: {
      "dev.shipgate.placeholder": `${plan.reference} removed ${new Date().toISOString()} ${randomUUID()}`,
    },
  };
  const bytes = Buffer.from(JSON.stringify(placeholder));
  const digest = digestOf(bytes);
  await repo.client.putManifest(repo.repository, plan.reference, {
    bytes,
    mediaType: MediaType.ociManifest,
    digest,
  });
  await repo.client.deleteManifest(repo.repository, digest);
  return { method: "retag-and-delete", deleted: [plan.reference] };
}

/**
 * Rewrites the fallback index under `tag` without `digest`, read afresh (it may have changed since
 * the plan). When nothing is left the index itself is deleted, by its digest: it still lists
 * `digest`, so no other tag can share it. Returns that digest when it deleted the index.
 */
async function dropFromFallbackIndex(
  repo: RegistryRepository,
  tag: string,
  digest: string,
): Promise<string | undefined> {
  const head = await repo.client.headManifest(repo.repository, tag);
  if (head === undefined) return undefined;
  const index = await repo.client.getManifest(repo.repository, head.digest);
  const updated = removeFromFallbackIndex(index, digest);
  if (updated === undefined) return undefined;
  if (updated === "empty") {
    await repo.client.deleteManifest(repo.repository, index.digest);
    return index.digest;
  }
  await repo.client.putManifest(repo.repository, tag, {
    bytes: updated,
    mediaType: index.mediaType,
    digest: digestOf(updated),
  });
  return undefined;
}
