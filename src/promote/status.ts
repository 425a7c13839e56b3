/**
 * Where an app's digests are: for each digest, every environment it was
 * promoted into, under which tag, when and by whom, read from the audit
 * trail (the record of truth for decisions; registries hold only the result).
 */
import { listAudit } from "../store/audit.js";
import type { StoreTarget } from "../store/store.js";

export interface Placement {
  environment: string;
  tag: string;
  from: string | null;
  promotedAt: string;
  promotedBy: string;
  /** Re-verified (idempotent re-runs) since, latest first. */
  lastVerifiedAt: string;
}

export interface DigestStatus {
  digest: string;
  placements: Placement[];
}

export async function appStatus(app: string, target?: StoreTarget): Promise<DigestStatus[]> {
  const records = await listAudit({ kind: "promotion", app }, target);
  const byDigest = new Map<string, Map<string, Placement>>();
  for (const r of records) {
    if (r.digest === null || r.environment === null) continue;
    if (r.action !== "promoted" && r.action !== "already-promoted") continue;
    const envs = byDigest.get(r.digest) ?? new Map<string, Placement>();
    byDigest.set(r.digest, envs);
    const known = envs.get(r.environment);
    if (known) {
      known.lastVerifiedAt = r.at;
      continue;
    }
    envs.set(r.environment, {
      environment: r.environment,
      tag: String(r.details.tag ?? ""),
      from: typeof r.details.from === "string" ? r.details.from : null,
      promotedAt: r.at,
      promotedBy: r.actor,
      lastVerifiedAt: r.at,
    });
  }
  return [...byDigest.entries()].map(([digest, envs]) => ({ digest, placements: [...envs.values()] }));
}
