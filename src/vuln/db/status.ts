/**
 * `db status`: what the database holds and whether it is fresh enough to
 * trust a clean scan (stale data hides new advisories).
 */
import type { EcosystemStatus, VulnDb } from "./store.js";

export const DEFAULT_MAX_AGE_DAYS = 7;

export interface DbStatus {
  path: string;
  records: number;
  ecosystems: (EcosystemStatus & { stale: boolean })[];
  /** The most recent load of any ecosystem. */
  lastUpdate?: string;
  /** Human warnings (empty database, stale ecosystems). */
  warnings: string[];
}

export async function dbStatus(
  db: VulnDb,
  options: {
    maxAgeDays?: number;
    now?: Date;
    /** false: per-ecosystem counts as recorded at the last load, not counted now (what a scan's warnings need). */
    counts?: boolean;
  } = {},
): Promise<DbStatus> {
  const maxAgeDays = options.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
  const now = options.now ?? new Date();
  const limit = now.getTime() - maxAgeDays * 86_400_000;
  const ecosystems = (await db.status({ counts: options.counts !== false })).map((e) => ({
    ...e,
    stale: e.updatedAt === undefined || Date.parse(e.updatedAt) < limit,
  }));
  const warnings: string[] = [];
  const records = await db.totalRecords();
  if (records === 0)
    warnings.push(
      "the vulnerability database is empty: run `shipgate db update` or `shipgate db import PATH`",
    );
  for (const e of ecosystems.filter((x) => x.stale)) {
    warnings.push(
      `${e.ecosystem}: data is older than ${maxAgeDays} day${maxAgeDays === 1 ? "" : "s"}${e.updatedAt ? ` (last update ${e.updatedAt})` : ""}: run \`shipgate db update\``,
    );
  }
  const lastUpdate = ecosystems
    .map((e) => e.updatedAt)
    .filter((d): d is string => d !== undefined)
    .sort()
    .at(-1);
  return { path: db.path, records, ecosystems, ...(lastUpdate ? { lastUpdate } : {}), warnings };
}
