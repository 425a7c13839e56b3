/**
 * What retention knows about a repository and what it decided. The plan is plain JSON so it can
 * be saved (`--plan-out`), reviewed, and applied later exactly as shown (`--plan`).
 */

export interface BlobRef {
  digest: string;
  size: number;
}

/** One manifest of the repository, read once per digest however many tags point at it. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  /** Size of the manifest document itself. */
  size: number;
  kind: "manifest" | "index";
  /** Creation time in ms since the epoch; undefined when neither config nor annotation says. */
  created?: number;
  createdFrom?: "config" | "annotation" | "children";
  /** Index entries (image indexes only; a referrers fallback index lists attachments instead). */
  children: string[];
  /** The manifest this one is attached to (OCI 1.1 `subject`). */
  subject?: string;
  artifactType?: string;
  /** Config and layers (for an image manifest). */
  blobs: BlobRef[];
}

export interface Attachment {
  digest: string;
  /** How it is attached: `tag sha256-….sig`, `referrer application/…`. */
  via: string;
}

export interface Inventory {
  /** `docker://host/repo`. */
  repository: string;
  /** Every tag and the digest it pointed at when listed (attachment tags included). */
  tags: Map<string, string>;
  manifests: Map<string, ManifestRecord>;
  /** subject digest → what is attached to it (directly). */
  attachments: Map<string, Attachment[]>;
  /** Digests named by attachment tags whose manifest no longer exists. */
  missingSubjects: Set<string>;
  /** Tags the registry lists but that resolve to no manifest (deleted under the listing, or left behind). */
  dangling: Set<string>;
}

export type Action = "keep" | "delete";

/** Why a tag or digest is kept or deleted: the rule that decided, and the detail that shows it. */
export interface Decision {
  action: Action;
  rule: string;
  detail?: string;
}

export interface TagDecision extends Decision {
  tag: string;
  digest: string;
}

export type DigestRole = "image" | "index" | "child" | "untagged" | "attachment";

export interface DigestDecision extends Decision {
  digest: string;
  role: DigestRole;
  tags: string[];
  created?: string;
}

/** One step of the apply, in order. */
export type PlanStep =
  | { op: "delete-tag"; tag: string; digest: string }
  | {
      op: "delete-manifest";
      digest: string;
      /** Tags that go with it (the registry drops every tag of a deleted manifest). */
      tags: string[];
      /** Deleted just before it: signatures, attestations, SBOMs, fallback indexes. */
      attachments: Attachment[];
      /** Bytes this step frees (blobs first left unreferenced by it). */
      bytes: number;
    };

export interface PlanTotals {
  tags: number;
  keptTags: number;
  deletedTags: number;
  manifests: number;
  deletedManifests: number;
  /** Blobs and manifests no kept manifest references any more (freed once the registry garbage-collects). */
  bytesFreed: number;
}

export interface RetentionPlan {
  version: 1;
  repository: string;
  /** The time ages were measured from; a re-check of a saved plan uses the same instant. */
  now: string;
  source: string;
  tags: TagDecision[];
  digests: DigestDecision[];
  steps: PlanStep[];
  totals: PlanTotals;
  /** Images kept because they carry no creation time, and other things a reviewer should see. */
  warnings: string[];
}

/** A judged release image: a digest with its (non-attachment) tags. */
export interface JudgedImage {
  digest: string;
  tags: string[];
  created?: number;
}

export const DAY_MS = 86_400_000;
