/**
 * `db import`: OSV records from a directory (one record per `.json`/`.yaml`
 * file, as the advisory databases keep them) or from a zip in osv.dev's
 * per-ecosystem `all.zip` layout, streamed through fflate so a 1 GB zip is
 * never held in memory. The whole import is one transaction: a bad record
 * aborts it with the file's name and the database stays as it was.
 */
import { createReadStream } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { Unzip, UnzipInflate } from "fflate";
import { parse as parseYaml } from "yaml";
import { ShipgateError } from "../../errors.js";
import { type OsvRecord, parseOsvRecord } from "../osv/schema.js";
import { baseEcosystem, type VulnDb } from "./store.js";

export interface ImportResult {
  /** Records written (new or replaced). */
  records: number;
  /** Withdrawn records skipped (and removed if they were stored). */
  withdrawn: number;
  /** Base ecosystems the records affect, with how many records each. */
  ecosystems: Record<string, number>;
}

export interface ImportOptions {
  /** Recorded as the origin in `db status` (default: the path). */
  origin?: string;
  now?: Date;
}

interface Entry {
  where: string;
  text: string;
}

const BATCH = 2000;

export async function importPath(
  db: VulnDb,
  path: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new ShipgateError("NOT_FOUND", `${path}: no such file or directory`, {
      cause: error,
      hint: "give a directory of OSV records or an osv.dev all.zip",
    });
  }
  const entries = info.isDirectory() ? directoryEntries(path) : zipEntries(path);
  return importEntries(db, entries, options.origin ?? path, options.now ?? new Date());
}

export async function importEntries(
  db: VulnDb,
  entries: AsyncIterable<Entry>,
  origin: string,
  now: Date,
): Promise<ImportResult> {
  const result: ImportResult = { records: 0, withdrawn: 0, ecosystems: {} };
  await db.transaction(async (writer) => {
    let batch: OsvRecord[] = [];
    let withdrawn: string[] = [];
    const flush = async () => {
      await writer.write(batch, withdrawn);
      batch = [];
      withdrawn = [];
    };
    for await (const entry of entries) {
      const record = parseOsvRecord(entry.text, entry.where);
      if (record.withdrawn !== undefined) {
        withdrawn.push(record.id);
        result.withdrawn++;
      } else {
        batch.push(record);
        result.records++;
        const seen = new Set(
          (record.affected ?? []).flatMap((a) => (a.package ? [baseEcosystem(a.package.ecosystem)] : [])),
        );
        for (const e of seen) result.ecosystems[e] = (result.ecosystems[e] ?? 0) + 1;
      }
      if (batch.length + withdrawn.length >= BATCH) await flush();
    }
    await flush();
    for (const ecosystem of Object.keys(result.ecosystems)) await writer.recordSource(ecosystem, origin, now);
  });
  return result;
}

async function* directoryEntries(root: string): AsyncGenerator<Entry> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) await walk(p);
      else if (d.isFile() && /\.(json|ya?ml)$/i.test(d.name)) files.push(p);
      else if (d.isFile() && /\.zip$/i.test(d.name)) files.push(p);
    }
  };
  await walk(root);
  files.sort();
  for (const file of files) {
    const where = relative(root, file) || file;
    if (/\.zip$/i.test(file)) {
      yield* zipEntries(file);
      continue;
    }
    const text = await readFile(file, "utf8");
    yield { where, text: /\.ya?ml$/i.test(file) ? yamlToJson(text, where) : text };
  }
}

function yamlToJson(text: string, where: string): string {
  try {
    return JSON.stringify(parseYaml(text));
  } catch (error) {
    throw new ShipgateError("DB_INVALID", `${where}: not YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Each `.json` member of a zip, inflated as the zip streams in. */
export async function* zipEntries(path: string): AsyncGenerator<Entry> {
  await assertZip(path);
  const ready: Entry[] = [];
  let failure: unknown;
  const unzip = new Unzip((file) => {
    if (!/\.json$/i.test(file.name)) return;
    const chunks: Uint8Array[] = [];
    file.ondata = (error, data, final) => {
      if (error) {
        failure ??= new ShipgateError("DB_INVALID", `${path}!${file.name}: ${error.message}`, {
          cause: error,
        });
        return;
      }
      chunks.push(data);
      if (final) ready.push({ where: `${path}!${file.name}`, text: Buffer.concat(chunks).toString("utf8") });
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  const drain = function* () {
    if (failure) throw failure;
    while (ready.length > 0) yield ready.shift() as Entry;
  };
  try {
    for await (const chunk of createReadStream(path)) {
      unzip.push(chunk as Uint8Array);
      yield* drain();
    }
    unzip.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof ShipgateError) throw error;
    throw new ShipgateError("DB_INVALID", `${path}: not a readable zip: ${(error as Error).message}`, {
      cause: error,
    });
  }
  yield* drain();
}

async function assertZip(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    // PK\3\4 (a member) or PK\5\6 (an empty archive)
    if (head[0] !== 0x50 || head[1] !== 0x4b || (head[2] !== 3 && head[2] !== 5)) {
      throw new ShipgateError("DB_INVALID", `${path}: not a zip of OSV records`, {
        hint: "give a directory of OSV .json records or an osv.dev <ECOSYSTEM>/all.zip",
      });
    }
  } finally {
    await handle.close();
  }
}
