/**
 * The local vulnerability database: OSV records in the embedded SQLite
 * store, indexed by (ecosystem, package name) for matching and by alias for
 * merging. Records are kept whole (JSON) so matching sees every field the
 * format defines, including ones added after this code was written.
 */
import { join } from "node:path";
import { type Kysely, sql, type Transaction } from "kysely";
import { storeDirectory } from "../../oci/transports/location.js";
import { openSqlite } from "../../store/sqlite.js";
import type { OsvAffected, OsvRecord } from "../osv/schema.js";
import { indexName } from "./names.js";

interface AdvisoryTable {
  id: string;
  modified: string;
  published: string | null;
  summary: string | null;
  /** Kept apart from `record`: it is most of a record's size and matching never reads it. */
  details: string | null;
  /** The record without `details`; a missing summary is the first line of `details`. */
  record: string;
  /**
   * The record's `affected` entries (JSON), all that matching reads: most
   * candidates do not match, and only those that do need the whole record.
   * Null in rows written before the column existed.
   */
  affected: string | null;
}
interface AffectedTable {
  advisory_id: string;
  /** Full OSV ecosystem as written, e.g. `Debian:12`. */
  ecosystem: string;
  /** The part before any `:release`, e.g. `Debian`. */
  base_ecosystem: string;
  /** Normalised for lookup (PyPI names per PEP 503). */
  name: string;
}
interface AliasTable {
  alias: string;
  advisory_id: string;
}
interface SourceTable {
  ecosystem: string;
  origin: string;
  updated_at: string;
  records: number;
}
export interface VulnDbSchema {
  advisories: AdvisoryTable;
  affected: AffectedTable;
  aliases: AliasTable;
  sources: SourceTable;
}

export function defaultVulnDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(storeDirectory(env), "vulndb.sqlite");
}

export interface EcosystemStatus {
  ecosystem: string;
  records: number;
  origin?: string;
  updatedAt?: string;
}

/** A handle on the database; `close()` when done. */
export class VulnDb {
  constructor(
    readonly path: string,
    readonly db: Kysely<VulnDbSchema>,
  ) {}

  async init(): Promise<this> {
    await this.db.schema
      .createTable("advisories")
      .ifNotExists()
      .addColumn("id", "text", (c) => c.primaryKey())
      // Ahead of the long columns: SQLite reads a row's columns in order, so
      // matching's reads stop at the row's first page.
      .addColumn("affected", "text")
      .addColumn("modified", "text", (c) => c.notNull())
      .addColumn("published", "text")
      .addColumn("summary", "text")
      .addColumn("details", "text")
      .addColumn("record", "text", (c) => c.notNull())
      .execute();
    // Databases made before `details` and `affected` had their own columns.
    const columns = await sql<{ name: string }>`PRAGMA table_info(advisories)`.execute(this.db);
    for (const column of ["details", "affected"] as const) {
      if (!columns.rows.some((c) => c.name === column)) {
        await this.db.schema.alterTable("advisories").addColumn(column, "text").execute();
      }
    }
    await this.db.schema
      .createTable("affected")
      .ifNotExists()
      .addColumn("advisory_id", "text", (c) => c.notNull())
      .addColumn("ecosystem", "text", (c) => c.notNull())
      .addColumn("base_ecosystem", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .execute();
    await this.db.schema
      .createIndex("affected_lookup")
      .ifNotExists()
      .on("affected")
      .columns(["base_ecosystem", "name"])
      .execute();
    await this.db.schema
      .createIndex("affected_advisory")
      .ifNotExists()
      .on("affected")
      .column("advisory_id")
      .execute();
    await this.db.schema
      .createTable("aliases")
      .ifNotExists()
      .addColumn("alias", "text", (c) => c.notNull())
      .addColumn("advisory_id", "text", (c) => c.notNull())
      .execute();
    await this.db.schema.createIndex("aliases_alias").ifNotExists().on("aliases").column("alias").execute();
    await this.db.schema
      .createIndex("aliases_advisory")
      .ifNotExists()
      .on("aliases")
      .column("advisory_id")
      .execute();
    await this.db.schema
      .createTable("sources")
      .ifNotExists()
      .addColumn("ecosystem", "text", (c) => c.primaryKey())
      .addColumn("origin", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addColumn("records", "integer", (c) => c.notNull())
      .execute();
    return this;
  }

  /** Runs `fn` in one transaction: an import that fails leaves the database as it was. */
  async transaction<T>(fn: (writer: VulnDbWriter) => Promise<T>): Promise<T> {
    this.cache.clear();
    this.byName.clear();
    this.views.clear();
    this.pending.clear();
    this.raw.clear();
    this.complete = false;
    this.total = undefined;
    return this.db.transaction().execute((trx) => fn(new VulnDbWriter(trx)));
  }

  /** Replaces (or adds) records in one transaction; withdrawn ids are removed. */
  async write(records: readonly OsvRecord[], withdrawn: readonly string[] = []): Promise<void> {
    await this.transaction((w) => w.write(records, withdrawn));
  }

  /**
   * Records per base ecosystem, with where and when each was last loaded.
   * Counting is a pass over every affected entry (a quarter of a second at
   * 200,000 records); a scan only needs to know which ecosystems are there
   * and how fresh they are, so `counts: false` takes the count recorded at
   * the last load instead.
   */
  async status(options: { counts?: boolean } = {}): Promise<EcosystemStatus[]> {
    const counts =
      options.counts === false
        ? (await this.db.selectFrom("affected").select("base_ecosystem").distinct().execute()).map((r) => ({
            base_ecosystem: r.base_ecosystem,
            n: undefined,
          }))
        : await this.db
            .selectFrom("affected")
            .select(["base_ecosystem", sql<number>`count(distinct advisory_id)`.as("n")])
            .groupBy("base_ecosystem")
            .execute();
    const sources = await this.db.selectFrom("sources").selectAll().execute();
    const recorded = new Map(sources.map((s) => [s.ecosystem, Number(s.records ?? 0)]));
    const out = new Map<string, EcosystemStatus>();
    for (const c of counts) {
      const records = c.n === undefined ? (recorded.get(c.base_ecosystem) ?? 0) : Number(c.n);
      out.set(c.base_ecosystem, { ecosystem: c.base_ecosystem, records });
    }
    for (const s of sources) {
      const e = out.get(s.ecosystem) ?? { ecosystem: s.ecosystem, records: 0 };
      out.set(s.ecosystem, { ...e, origin: s.origin, updatedAt: s.updated_at });
    }
    return [...out.values()].sort((a, b) =>
      a.ecosystem < b.ecosystem ? -1 : a.ecosystem > b.ecosystem ? 1 : 0,
    );
  }

  private total: number | undefined;

  async totalRecords(): Promise<number> {
    if (this.total === undefined) {
      const row = await this.db
        .selectFrom("advisories")
        .select(sql<number>`count(*)`.as("n"))
        .executeTakeFirst();
      this.total = Number(row?.n ?? 0);
    }
    return this.total;
  }

  /** Every record with an affected entry for one of these (base ecosystem, index name) pairs, by id. */
  async recordsFor(keys: readonly { ecosystem: string; name: string }[]): Promise<OsvRecord[]> {
    const byName = await this.candidates(keys);
    const ids = new Set<string>();
    for (const list of byName.values()) for (const c of list) ids.add(c.id);
    return this.records([...ids]);
  }

  /**
   * The candidates naming each (base ecosystem, index name) pair, by id,
   * keyed `${base}\u0000${indexName}` (see candidateKey): each record's id
   * and `affected` entries, what matching reads (records() has the rest).
   * Remembered for this handle's life, as records are: a rescan of a
   * thousand SBOMs asks for the same names again and again. Writes clear it.
   */
  async candidates(keys: readonly { ecosystem: string; name: string }[]): Promise<Map<string, Candidate[]>> {
    const out = new Map<string, Candidate[]>();
    const missing = new Map<string, Set<string>>();
    for (const k of keys) {
      const base = baseEcosystem(k.ecosystem);
      const name = indexName(base, k.name);
      const key = candidateKey(base, name);
      if (out.has(key)) continue;
      const cached = this.byName.get(key);
      if (cached) {
        out.set(key, cached);
        continue;
      }
      // Preloaded: the ids are known, and the entries' text is in memory.
      if (this.complete) {
        const ids = this.pending.get(key);
        if (ids === undefined) out.set(key, NONE);
        else {
          const list = [...new Set(ids)].flatMap((id) => this.candidate(id) ?? []).sort(byId);
          this.pending.delete(key);
          this.byName.set(key, list);
          out.set(key, list);
        }
        continue;
      }
      let names = missing.get(base);
      if (!names) missing.set(base, (names = new Set()));
      names.add(name);
    }
    const idsByKey = new Map<string, string[]>();
    for (const [ecosystem, names] of missing) {
      const list = [...names];
      for (const name of list) idsByKey.set(candidateKey(ecosystem, name), []);
      for (let i = 0; i < list.length; i += 900) {
        const rows = await this.db
          .selectFrom("affected")
          .select(["advisory_id", "name"])
          .distinct()
          .where("base_ecosystem", "=", ecosystem)
          .where("name", "in", list.slice(i, i + 900))
          .execute();
        for (const r of rows) idsByKey.get(candidateKey(ecosystem, r.name))?.push(r.advisory_id);
      }
    }
    const loaded = await this.loadCandidates([...new Set([...idsByKey.values()].flat())]);
    for (const [key, ids] of idsByKey) {
      // One entry per record (a record may name a package under two ecosystems' releases), in id order.
      const list = [...new Set(ids)].flatMap((id) => loaded.get(id) ?? []).sort(byId);
      this.byName.set(key, list);
      out.set(key, list);
    }
    return out;
  }

  /**
   * Parsed records and candidates, remembered for this handle's life: a
   * rescan of a thousand SBOMs meets the same records again and again.
   * Writes clear them.
   */
  private readonly cache = new Map<string, OsvRecord>();
  private readonly views = new Map<string, Candidate>();
  private readonly byName = new Map<string, Candidate[]>();
  /** preload() ran (and nothing was written since): pending and raw hold what byName and views do not. */
  private complete = false;
  /** After preload(): the ids naming each key not yet in byName. */
  private readonly pending = new Map<string, string[]>();
  /** After preload(): each record's `affected` text not parsed yet (parsed when first asked for, then dropped). */
  private readonly raw = new Map<string, string>();

  /**
   * Reads what matching needs of the whole database in two passes, one over
   * `affected` and one over `advisories`, instead of a lookup per name and
   * per record: for work that will meet most records anyway (a rescan of a
   * thousand stored SBOMs meets ~85 % of them). candidates() answers from
   * memory afterwards, parsing an entry list the first time it is asked for;
   * records() still reads whole records (the few that match) when asked.
   */
  async preload(): Promise<void> {
    if (this.complete) return;
    const affected = await this.db
      .selectFrom("affected")
      .select(["advisory_id", "base_ecosystem", "name"])
      .execute();
    for (const r of affected) {
      const key = candidateKey(r.base_ecosystem, r.name);
      if (this.byName.has(key)) continue;
      const ids = this.pending.get(key);
      if (ids === undefined) this.pending.set(key, [r.advisory_id]);
      else ids.push(r.advisory_id);
    }
    // Pages in table (rowid) order: sequential reads, one query per page.
    let after = 0;
    let total = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom("advisories")
        .select(["id", sql<number>`rowid`.as("rowid"), ...CANDIDATE_COLUMNS])
        .where(sql`rowid`, ">", after)
        .orderBy(sql`rowid`)
        .limit(PRELOAD_PAGE)
        .execute();
      total += rows.length;
      for (const r of rows) {
        if (this.views.has(r.id)) continue;
        if (r.affected !== null) this.raw.set(r.id, r.affected);
        else this.fromRecord(r.id, r.record);
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < PRELOAD_PAGE) break;
      after = Number(last.rowid);
    }
    this.total = total;
    this.complete = true;
  }

  /** A candidate from memory: parsed before, or from the text preload() read. */
  private candidate(id: string): Candidate | undefined {
    const known = this.views.get(id);
    if (known !== undefined) return known;
    const text = this.raw.get(id);
    if (text === undefined) return undefined;
    const view: Candidate = { id, affected: JSON.parse(text) as OsvAffected[] };
    this.raw.delete(id);
    this.views.set(id, view);
    return view;
  }

  /** A row without the `affected` column (written before it existed): the whole record, kept. */
  private fromRecord(id: string, text: string | null): Candidate | undefined {
    if (text === null) return undefined;
    const record = this.cache.get(id) ?? (JSON.parse(text) as OsvRecord);
    this.cache.set(id, record);
    const view: Candidate = { id, affected: record.affected ?? [] };
    this.views.set(id, view);
    return view;
  }

  private async loadCandidates(ids: readonly string[]): Promise<Map<string, Candidate>> {
    const out = new Map<string, Candidate>();
    const missing: string[] = [];
    for (const id of ids) {
      const known = this.candidate(id);
      if (known) out.set(id, known);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += 900) {
      const rows = await this.db
        .selectFrom("advisories")
        .select(["id", ...CANDIDATE_COLUMNS])
        .where("id", "in", missing.slice(i, i + 900))
        .execute();
      for (const r of rows) {
        const view =
          r.affected !== null ? { id: r.id, affected: JSON.parse(r.affected) as OsvAffected[] } : undefined;
        if (view !== undefined) this.views.set(r.id, view);
        const got = view ?? this.fromRecord(r.id, r.record);
        if (got) out.set(r.id, got);
      }
    }
    return out;
  }

  /** Whole records by id, each once (the ones not found are left out). */
  async recordsById(ids: readonly string[]): Promise<Map<string, OsvRecord>> {
    return this.load(ids);
  }

  async records(ids: readonly string[]): Promise<OsvRecord[]> {
    return [...(await this.load(ids)).values()].sort(byId);
  }

  private async load(ids: readonly string[]): Promise<Map<string, OsvRecord>> {
    const out = new Map<string, OsvRecord>();
    const missing: string[] = [];
    for (const id of ids) {
      const cached = this.cache.get(id);
      if (cached) out.set(id, cached);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += 900) {
      const rows = await this.db
        .selectFrom("advisories")
        .select(["id", "record"])
        .where("id", "in", missing.slice(i, i + 900))
        .execute();
      for (const r of rows) {
        const record = JSON.parse(r.record) as OsvRecord;
        this.cache.set(r.id, record);
        out.set(r.id, record);
      }
    }
    return out;
  }

  /** A record's `details` (Markdown), which records() leaves out. */
  async details(id: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("advisories")
      .select("details")
      .where("id", "=", id)
      .executeTakeFirst();
    return row?.details ?? undefined;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Writes inside one transaction (see VulnDb.transaction). */
export class VulnDbWriter {
  constructor(private readonly trx: Transaction<VulnDbSchema>) {}

  async write(input: readonly OsvRecord[], withdrawn: readonly string[] = []): Promise<void> {
    const trx = this.trx;
    // The same id twice in one batch: the later copy wins, as it would across batches.
    const records = [...new Map(input.map((r) => [r.id, r])).values()];
    const ids = [...records.map((r) => r.id), ...withdrawn];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await trx.deleteFrom("affected").where("advisory_id", "in", chunk).execute();
      await trx.deleteFrom("aliases").where("advisory_id", "in", chunk).execute();
      await trx.deleteFrom("advisories").where("id", "in", chunk).execute();
    }
    const advisories = records.map((r) => ({
      id: r.id,
      modified: r.modified,
      published: r.published ?? null,
      summary: r.summary ?? null,
      details: r.details ?? null,
      record: JSON.stringify(withoutDetails(r)),
      affected: JSON.stringify(r.affected ?? []),
    }));
    const affected = records.flatMap((r) => {
      const seen = new Set<string>();
      return (r.affected ?? []).flatMap((a) => {
        if (a.package === undefined) return [];
        const ecosystem = a.package.ecosystem;
        const base = baseEcosystem(ecosystem);
        const name = indexName(base, a.package.name);
        const key = `${ecosystem}\u0000${name}`;
        if (seen.has(key)) return [];
        seen.add(key);
        return [{ advisory_id: r.id, ecosystem, base_ecosystem: base, name }];
      });
    });
    const aliases = records.flatMap((r) =>
      [...new Set([...(r.aliases ?? []), ...(r.upstream ?? [])])].map((alias) => ({
        alias,
        advisory_id: r.id,
      })),
    );
    // SQLite allows 32766 bound parameters per statement.
    for (let i = 0; i < advisories.length; i += 1000) {
      await trx
        .insertInto("advisories")
        .values(advisories.slice(i, i + 1000))
        .execute();
    }
    for (let i = 0; i < affected.length; i += 2000) {
      await trx
        .insertInto("affected")
        .values(affected.slice(i, i + 2000))
        .execute();
    }
    for (let i = 0; i < aliases.length; i += 4000) {
      await trx
        .insertInto("aliases")
        .values(aliases.slice(i, i + 4000))
        .execute();
    }
  }

  async recordSource(ecosystem: string, origin: string, updatedAt: Date): Promise<void> {
    const row = await this.trx
      .selectFrom("affected")
      .select(sql<number>`count(distinct advisory_id)`.as("n"))
      .where("base_ecosystem", "=", ecosystem)
      .executeTakeFirst();
    const records = Number(row?.n ?? 0);
    const values = { origin, updated_at: updatedAt.toISOString(), records };
    await this.trx
      .insertInto("sources")
      .values({ ecosystem, ...values })
      .onConflict((oc) => oc.column("ecosystem").doUpdateSet(values))
      .execute();
  }
}

function withoutDetails(r: OsvRecord): OsvRecord {
  const { details, ...rest } = r;
  const title = details?.trim().split("\n")[0]?.trim();
  return rest.summary === undefined && title ? { ...rest, summary: title } : rest;
}

/** What matching reads of a record (see VulnDb.candidates). */
export interface Candidate {
  id: string;
  affected: OsvAffected[];
}

const NONE: Candidate[] = [];
/** The record's text only where the row has no `affected` column value (written before it existed). */
const CANDIDATE_COLUMNS = [
  "affected",
  sql<string | null>`CASE WHEN affected IS NULL THEN record END`.as("record"),
] as const;
const PRELOAD_PAGE = 20_000;

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The key VulnDb.candidates files a (base ecosystem, index name) pair under. */
export function candidateKey(base: string, name: string): string {
  return `${base}\u0000${name}`;
}

export function baseEcosystem(ecosystem: string): string {
  return (ecosystem.split(":", 1)[0] ?? ecosystem).trim();
}

/** Opens (creating if needed) the vulnerability database at `path` (default: the store's vulndb.sqlite). */
export async function openVulnDb(path: string = defaultVulnDbPath()): Promise<VulnDb> {
  return new VulnDb(path, openSqlite<VulnDbSchema>(path)).init();
}
