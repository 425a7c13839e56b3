import type { Readable } from "node:stream";
import type { Descriptor } from "../manifest.js";

/** Manifest bytes exactly as stored; `digest` is computed from these bytes. */
export interface ManifestBlob {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
}

export interface WriteBlobOptions {
  /** Called with the number of bytes written as they pass (for progress bars). */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

/**
 * Where images are read from: a registry repository, an `oci:` layout or a
 * `docker-archive:` tarball. One shape for all, so the copy engine and every
 * command work on each (the go-containerregistry model).
 */
export interface ImageSource {
  /** For messages, e.g. `docker://localhost:5000/app` or `oci:/tmp/layout`. */
  readonly name: string;
  /** The tag or digest this source was opened with (undefined: the only image there). */
  readonly defaultReference: string | undefined;
  /** A manifest or index by tag or digest. Implementations verify the digest when asked by digest. */
  getManifest(reference: string): Promise<ManifestBlob>;
  /** The blob's bytes as a stream. Not verified here: callers pipe it through VerifyingStream. */
  openBlob(descriptor: Descriptor, signal?: AbortSignal): Promise<Readable>;
  /** All tags, paginated under the hood. */
  listTags(): AsyncIterable<string>;
  /** Manifests whose `subject` is `digest` (OCI 1.1 referrers), from the API or the fallback tag. */
  listReferrers(digest: string, artifactType?: string): Promise<Descriptor[]>;
  close?(): Promise<void>;
}

export interface ImageDest {
  readonly name: string;
  /**
   * True when the destination itself hashes every blob it receives and
   * refuses one whose digest differs, before the blob becomes visible: a
   * registry does on `PUT ?digest=` (distribution-spec requires it). The
   * copier then checks sizes only; for every other destination (`oci:`
   * layouts) it hashes the stream itself.
   */
  readonly verifiesDigests?: boolean;
  blobExists(descriptor: Descriptor): Promise<boolean>;
  /**
   * Stores a blob. The stream is already verified by the caller, and a
   * destination must not make the blob visible under its digest unless all
   * of it arrived (registries check the digest on the final PUT; layouts
   * write to a temporary file and rename).
   */
  writeBlob(descriptor: Descriptor, content: Readable, options?: WriteBlobOptions): Promise<void>;
  /** Cross-repository mount when source and destination share a registry; false when not possible. */
  mountBlob?(descriptor: Descriptor, source: ImageSource): Promise<boolean>;
  manifestExists(digest: string): Promise<boolean>;
  /** Stores a manifest by digest, and under `tag` when given. */
  writeManifest(manifest: ManifestBlob, tag?: string): Promise<void>;
  /**
   * After a manifest with a `subject` was written: keeps the referrers
   * tag-schema fallback index up to date where the destination has no
   * referrers API.
   */
  recordReferrer?(subjectDigest: string, referrer: Descriptor): Promise<void>;
  close?(): Promise<void>;
}
