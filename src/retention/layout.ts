/**
 * Retention over an OCI image layout (one repository of the embedded store, or any `oci:PATH`).
 * A layout's tags and referrers are entries of its index.json: deleting a tag or a manifest is
 * removing entries (as `shipgate rm` does, through OciLayout.deleteTag); blobs stay on disk.
 */
import { ShipgateError } from "../errors.js";
import { isDigest } from "../oci/digest.js";
import { readSmallBlob } from "../oci/inspect.js";
import type { OciLayout } from "../oci/transports/layout.js";
import type { RepositoryWriter } from "./apply.js";
import type { RepositoryReader } from "./inventory.js";
import type { PromotionTarget } from "./plan.js";

function notFound(error: unknown): boolean {
  return error instanceof ShipgateError && error.code === "NOT_FOUND";
}

/** The layout as retention reads it; `name` is what plans show (e.g. `store:dev/app`). */
export function layoutReader(layout: OciLayout, name: string = layout.name): RepositoryReader {
  return {
    name,
    listTags: () => layout.listTags(),
    async manifest(reference) {
      try {
        return await layout.getManifest(reference);
      } catch (error) {
        if (notFound(error)) return undefined;
        throw error;
      }
    },
    smallBlob: (descriptor) => readSmallBlob(layout, descriptor, `config ${descriptor.digest}`),
    // A layout answers referrers from its index.json entries (and fallback indexes) itself.
    referrers: (digest) => layout.listReferrers(digest),
  };
}

/**
 * The digest `reference` names through index.json, or undefined. A digest counts only while an
 * entry lists it: once its entries are removed the blob may linger, but nothing reaches it.
 */
async function entryDigest(layout: OciLayout, reference: string): Promise<string | undefined> {
  const entries = await layout.listManifests();
  const byDigest = isDigest(reference);
  return entries.find((e) => (byDigest ? e.descriptor.digest === reference : e.tag === reference))?.descriptor
    .digest;
}

/** The layout as retention's apply changes it. */
export function layoutWriter(layout: OciLayout, name: string = layout.name): RepositoryWriter {
  return {
    name,
    listTags: () => layout.listTags(),
    head: (reference) => entryDigest(layout, reference),
    // Removes only the entry with this ref.name: other tags on the digest stay.
    untag: (tag) => layout.deleteTag(tag),
    async deleteManifest(digest) {
      try {
        await layout.deleteTag(digest);
      } catch (error) {
        // Gone between the check and the delete: the outcome wanted.
        if (!notFound(error)) throw error;
      }
    },
    // index.json cannot hold a tag without a manifest: nothing is ever left dangling.
    sweepDangling: async () => [],
  };
}

/** A later environment's layout as promotion protection: any digest stored there is protected. */
export function layoutPromotionTarget(
  name: string,
  open: () => Promise<OciLayout | undefined>,
): PromotionTarget {
  let layout: Promise<OciLayout | undefined> | undefined;
  return {
    name,
    async has(digest) {
      layout ??= open();
      const l = await layout;
      // The blob, not only an entry: a platform image of a promoted index is a blob without one.
      return l !== undefined && (await l.manifestExists(digest));
    },
  };
}
