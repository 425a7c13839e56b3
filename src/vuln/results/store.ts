/**
 * Scan results per image digest: the SBOM that was scanned and the findings
 * of each scan, so `scan --rescan-all` can re-match every stored SBOM
 * against today's database without pulling an image, and say what is new
 * since the last scan (continuous scanning). A separate file from the
 * vulnerability database, which `db` commands may rebuild at will.
 */
import { join } from "node:path";
import { type Kysely, sql } from "kysely";
import { storeDirectory } from "../../oci/transports/location.js";
import type { Sbom } from "../../sbom/model.js";
import { openSqlite } from "../../store/sqlite.js";
import type { Finding, ScanChangesByDigest, ScanReport } from "../report/model.js";

interface SbomTable {
  /** Image manifest digest (per platform). */
  digest: string;
  source: string;
  platform: string | null;
  sbom: string;
  stored_at: string;
}
interface ScanTable {
  digest: string;
  scanned_at: string;
  /** JSON: the finding keys (`id purl`) of that scan. */
  findings: string;
  summary: string;
}
interface ResultsSchema {
  sboms: SbomTable;
  scans: ScanTable;
}

/** New: findings not in the previous scan; resolved: findings of the previous scan that are gone. */
export type ScanChanges = Omit<ScanChangesByDigest, "digest">;

export function defaultResultsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(storeDirectory(env), "scans.sqlite");
}

const key = (f: Pick<Finding, "id"> & { package: { purl: string } }) => `${f.id} ${f.package.purl}`;

export class ResultsStore {
  constructor(
    readonly path: string,
    private readonly db: Kysely<ResultsSchema>,
  ) {}

  async init(): Promise<this> {
    // Derived data (SBOMs can be regenerated, scans re-run): a rescan of a
    // thousand images should not wait for a thousand fsyncs. WAL with
    // synchronous=NORMAL stays consistent; a crash may lose the last scans.
    await sql`PRAGMA synchronous = NORMAL`.execute(this.db);
    await this.db.schema
      .createTable("sboms")
      .ifNotExists()
      .addColumn("digest", "text", (c) => c.primaryKey())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("platform", "text")
      .addColumn("sbom", "text", (c) => c.notNull())
      .addColumn("stored_at", "text", (c) => c.notNull())
      .execute();
    await this.db.schema
      .createTable("scans")
      .ifNotExists()
      .addColumn("digest", "text", (c) => c.notNull())
      .addColumn("scanned_at", "text", (c) => c.notNull())
      .addColumn("findings", "text", (c) => c.notNull())
      .addColumn("summary", "text", (c) => c.notNull())
      .execute();
    await this.db.schema
      .createIndex("scans_digest")
      .ifNotExists()
      .on("scans")
      .columns(["digest", "scanned_at"])
      .execute();
    return this;
  }

  async saveSbom(sbom: Sbom, now: Date): Promise<void> {
    const digest = sbom.source.digest;
    if (digest === undefined) return;
    const values = {
      source: sbom.source.name,
      platform: sbom.source.platform ?? null,
      sbom: JSON.stringify(sbom),
      stored_at: now.toISOString(),
    };
    await this.db
      .insertInto("sboms")
      .values({ digest, ...values })
      .onConflict((oc) => oc.column("digest").doUpdateSet(values))
      .execute();
  }

  async sbomDigests(): Promise<string[]> {
    const rows = await this.db.selectFrom("sboms").select("digest").orderBy("digest").execute();
    return rows.map((r) => r.digest);
  }

  async sbom(digest: string): Promise<Sbom | undefined> {
    const row = await this.db
      .selectFrom("sboms")
      .select("sbom")
      .where("digest", "=", digest)
      .executeTakeFirst();
    return row ? (JSON.parse(row.sbom) as Sbom) : undefined;
  }

  async sbomCount(): Promise<number> {
    const row = await this.db.selectFrom("sboms").select(sql<number>`count(*)`.as("n")).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Every stored SBOM in digest order, read a page at a time (one query per
   * page instead of one per SBOM; one page of text held at once).
   */
  async *sboms(pageSize = 20): AsyncGenerator<{ digest: string; sbom: Sbom }> {
    let after: string | undefined;
    for (;;) {
      let query = this.db.selectFrom("sboms").select(["digest", "sbom"]).orderBy("digest").limit(pageSize);
      if (after !== undefined) query = query.where("digest", ">", after);
      const rows = await query.execute();
      for (const r of rows) yield { digest: r.digest, sbom: JSON.parse(r.sbom) as Sbom };
      const last = rows.at(-1);
      if (last === undefined || rows.length < pageSize) return;
      after = last.digest;
    }
  }

  /** Records a scan of `digest` and returns what changed since the previous one. */
  async recordScan(
    digest: string,
    report: ScanReport,
    summary: Record<string, number>,
  ): Promise<ScanChanges> {
    return record(this.db, digest, report, summary);
  }

  /**
   * recordScan for many digests, the writes grouped: each add() answers at
   * once (what changed since that digest's last scan) and its row is written
   * with the next `batch` - 1 in one INSERT (a rescan records a thousand:
   * twenty commits, not a thousand). flush() writes what is left.
   */
  recorder(batch = 50): ScanRecorder {
    return new ScanRecorder(this.db, batch);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Writes scans in groups; see ResultsStore.recorder. */
export class ScanRecorder {
  private queued: ScanTable[] = [];
  private readonly digests = new Set<string>();

  constructor(
    private readonly db: Kysely<ResultsSchema>,
    private readonly batch: number,
  ) {}

  async add(digest: string, report: ScanReport, summary: Record<string, number>): Promise<ScanChanges> {
    // A second scan of a queued digest must see the first as its previous one.
    if (this.digests.has(digest)) await this.flush();
    const previous = await latestScan(this.db, digest);
    const keys = findingKeys(report);
    this.queued.push(scanRow(digest, report, keys, summary));
    this.digests.add(digest);
    if (this.queued.length >= this.batch) await this.flush();
    return changesSince(previous, keys);
  }

  async flush(): Promise<void> {
    if (this.queued.length === 0) return;
    const rows = this.queued;
    this.queued = [];
    this.digests.clear();
    // One statement: the rows are written together or not at all.
    await this.db.insertInto("scans").values(rows).execute();
  }
}

async function latestScan(db: Kysely<ResultsSchema>, digest: string): Promise<ScanTable | undefined> {
  return db
    .selectFrom("scans")
    .selectAll()
    .where("digest", "=", digest)
    .orderBy("scanned_at", "desc")
    .limit(1)
    .executeTakeFirst();
}

const findingKeys = (report: ScanReport) => [...new Set(report.findings.map(key))].sort();

function scanRow(
  digest: string,
  report: ScanReport,
  keys: readonly string[],
  summary: Record<string, number>,
): ScanTable {
  return {
    digest,
    scanned_at: report.scannedAt,
    findings: JSON.stringify(keys),
    summary: JSON.stringify(summary),
  };
}

function changesSince(previous: ScanTable | undefined, keys: readonly string[]): ScanChanges {
  const split = (k: string) => {
    const i = k.indexOf(" ");
    return { id: k.slice(0, i), purl: k.slice(i + 1) };
  };
  if (previous === undefined) return { new: keys.map(split), resolved: [] };
  const before = new Set(JSON.parse(previous.findings) as string[]);
  const now = new Set(keys);
  return {
    previous: previous.scanned_at,
    new: keys.filter((k) => !before.has(k)).map(split),
    resolved: [...before]
      .filter((k) => !now.has(k))
      .sort()
      .map(split),
  };
}

async function record(
  db: Kysely<ResultsSchema>,
  digest: string,
  report: ScanReport,
  summary: Record<string, number>,
): Promise<ScanChanges> {
  const previous = await latestScan(db, digest);
  const keys = findingKeys(report);
  await db
    .insertInto("scans")
    .values(scanRow(digest, report, keys, summary))
    .execute();
  return changesSince(previous, keys);
}

export async function openResultsStore(path: string = defaultResultsPath()): Promise<ResultsStore> {
  return new ResultsStore(path, openSqlite<ResultsSchema>(path)).init();
}
