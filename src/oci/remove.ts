import { randomUUID } from "node:crypto";
import { ShipgateError } from "../errors.js";
import { digestOf } from "./digest.js";
import { limiter } from "./limit.js";
import type { ImageManifest } from "./manifest.js";
import { MediaType } from "./mediatypes.js";
import { cosignTags, fallbackTag, isDigestTag } from "./referrers.js";
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
  /** Signatures, attestations, SBOMs and the fallback index, deleted with a digest. */
  attachments: { digest: string; via: string }[];
}

const EMPTY_CONFIG = Buffer.from("{}");

/** Works out what `rm` would do, without changing anything. */
export async function planRemoval(repo: RegistryRepository, reference: string): Promise<RemovalPlan> {
  const kind = reference.includes(":") ? "digest" : "tag";
  const digest = await repo.resolve(reference);
  const otherTags = (await tagsPointingAt(repo, digest)).filter((t) => t !== reference);
  const attachments: RemovalPlan["attachments"] = [];
  if (kind === "digest") {
    for (const tag of [...cosignTags(digest), fallbackTag(digest)]) {
      const head = await repo.client.headManifest(repo.repository, tag);
      if (head !== undefined) attachments.push({ digest: head.digest, via: `tag ${tag}` });
    }
    for (const referrer of await repo.listReferrers(digest)) {
      if (!attachments.some((a) => a.digest === referrer.digest)) {
        attachments.push({
          digest: referrer.digest,
          via: `referrer ${referrer.artifactType ?? referrer.mediaType}`,
        });
      }
    }
  }
  return { repository: repo.name, reference, kind, digest, otherTags, attachments };
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
