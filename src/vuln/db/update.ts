/**
 * `db update`: downloads osv.dev's per-ecosystem zips
 * (`<base>/<ECOSYSTEM>/all.zip`) and imports each in its own transaction, so
 * one unreachable ecosystem does not undo the others. `--mirror URL` points
 * at any server with the same layout (air-gapped installs).
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ShipgateError } from "../../errors.js";
import { type ImportResult, importPath } from "./import.js";
import type { VulnDb } from "./store.js";

export const OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com";

/** What `db update` fetches when no ecosystem is named: the ones shipgate's cataloguers find. */
export const DEFAULT_ECOSYSTEMS = [
  "Alpine",
  "Debian",
  "Ubuntu",
  "npm",
  "PyPI",
  "Go",
  "Maven",
  "RubyGems",
  "crates.io",
  "NuGet",
  "Packagist",
] as const;

export interface UpdateOptions {
  ecosystems?: readonly string[];
  /** Base URL of an osv.dev-layout mirror (default: osv.dev's public bucket). */
  mirror?: string;
  onProgress?: (event: { ecosystem: string; phase: "download" | "import"; bytes?: number }) => void;
  now?: Date;
}

export interface UpdateResult {
  ecosystem: string;
  url: string;
  result: ImportResult;
}

export function zipUrl(base: string, ecosystem: string): string {
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(ecosystem)}/all.zip`;
}

export async function updateDb(db: VulnDb, options: UpdateOptions = {}): Promise<UpdateResult[]> {
  const base = options.mirror ?? OSV_BUCKET;
  const ecosystems = options.ecosystems?.length ? options.ecosystems : DEFAULT_ECOSYSTEMS;
  const dir = await mkdtemp(join(tmpdir(), "shipgate-osv-"));
  const results: UpdateResult[] = [];
  try {
    for (const ecosystem of ecosystems) {
      const url = zipUrl(base, ecosystem);
      const file = join(dir, `${ecosystem.replace(/[^A-Za-z0-9._-]/g, "_")}.zip`);
      options.onProgress?.({ ecosystem, phase: "download" });
      await download(url, file, options.mirror !== undefined);
      options.onProgress?.({ ecosystem, phase: "import" });
      const result = await importPath(db, file, {
        origin: url,
        ...(options.now ? { now: options.now } : {}),
      });
      results.push({ ecosystem, url, result });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

async function download(url: string, file: string, mirrored: boolean): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "follow" });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new ShipgateError(
      "OFFLINE",
      `cannot reach ${new URL(url).host} to download ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      {
        cause: error,
        hint: mirrored
          ? "check that the mirror is running and serves <ECOSYSTEM>/all.zip"
          : "without internet access, use --mirror URL (a server with osv.dev's layout) or `shipgate db import PATH`",
      },
    );
  }
  if (response.status === 404) {
    throw new ShipgateError("NOT_FOUND", `${url}: 404 Not Found`, {
      hint: "check the ecosystem name (OSV spelling: npm, PyPI, Go, Debian, Alpine, crates.io...)",
    });
  }
  if (!response.ok || response.body === null) {
    throw new ShipgateError("NETWORK", `${url}: HTTP ${response.status} ${response.statusText}`, {
      hint: "retry later, or use --mirror URL",
    });
  }
  try {
    await pipeline(
      Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
      createWriteStream(file),
    );
  } catch (error) {
    throw new ShipgateError("NETWORK", `${url}: download interrupted: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
