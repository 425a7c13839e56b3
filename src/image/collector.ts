import { posix } from "node:path";
import type { Cataloger, CatalogResult, FileInfo, FoundFile } from "../sbom/catalogers/types.js";
import type { Distro, Package, Relationship } from "../sbom/model.js";
import { parseOsRelease } from "./os-release.js";

export const DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024;
const OS_RELEASE_PATHS = ["/etc/os-release", "/usr/lib/os-release"];
const OS_RELEASE_MAX = 64 * 1024;
const SYMLINK_HOPS = 40;

/** What the squashed view keeps for one path: never file contents, only what was made of them. */
interface PathRecord {
  layerIndex: number;
  file?: FileInfo;
  linkTarget?: string;
  osRelease?: string;
  /** cataloguer name → its parse result for this version of the file. */
  parsed: Map<string, unknown>;
  /** cataloguer name → results for versions of this path in lower layers, bottom first. */
  earlier: Map<string, { file: FileInfo; data: unknown }[]>;
}

/**
 * The squashed view of an image, built one layer at a time, bottom first,
 * as an overlay filesystem would show it: a whiteout hides a path and all
 * under it, an opaque directory hides what lower layers had inside it, a
 * file or symlink hides a directory of the same path. Only paths that some
 * cataloguer asked for (plus symlinks, for resolving os-release) are kept.
 */
export class Collector {
  private readonly records = new Map<string, PathRecord>();
  /** How many records lie under each directory: finding what a whiteout hides costs nothing when none do. */
  private readonly descendants = new Map<string, number>();
  /** Files by path in the current layer, for hardlinks (which point back into the same layer). */
  private layerFiles = new Map<string, PathRecord>();
  readonly warnings: string[] = [];

  constructor(private readonly catalogers: readonly Cataloger[]) {}

  beginLayer(): void {
    this.layerFiles = new Map();
  }

  /** `.wh.NAME` in layer N: NAME and everything under it from layers below N is gone. */
  whiteout(path: string, layerIndex: number): void {
    const record = this.records.get(path);
    if (record && record.layerIndex < layerIndex) this.delete(path);
    this.removeUnder(path, layerIndex);
  }

  /** `.wh..wh..opq` in DIR: what lower layers had under DIR is gone; DIR itself stays. */
  opaque(dir: string, layerIndex: number): void {
    this.removeUnder(dir, layerIndex);
  }

  /** Directories merge with lower ones, but a directory replaces a file or symlink of the same path. */
  directory(path: string, layerIndex: number): void {
    const record = this.records.get(path);
    if (record && record.layerIndex < layerIndex) this.delete(path);
  }

  symlink(path: string, target: string, layerIndex: number): void {
    this.replace(path, layerIndex).linkTarget = target;
  }

  /**
   * A regular file: which cataloguers want it and how many bytes may be
   * read. `maxSize` 0 means nobody wants it: drain it unread.
   */
  wanted(file: FileInfo): { catalogers: Cataloger[]; maxSize: number } {
    const catalogers = this.catalogers.filter((c) => c.wants(file));
    const osRelease = OS_RELEASE_PATHS.includes(file.path);
    if (catalogers.length === 0 && !osRelease) {
      // An unwanted file still hides whatever lower layers had at its path.
      if (this.records.has(file.path) || this.descendants.has(file.path)) this.replaceWithNothing(file);
      return { catalogers, maxSize: 0 };
    }
    const sizes = catalogers.map((c) => c.maxFileSize ?? DEFAULT_MAX_FILE_SIZE);
    return { catalogers, maxSize: Math.max(osRelease ? OS_RELEASE_MAX : 0, ...sizes) };
  }

  /** Hands a wanted file's bytes to the cataloguers that asked for it. */
  content(file: FileInfo, catalogers: readonly Cataloger[], content: Buffer): void {
    const record = this.replace(file.path, file.layerIndex);
    record.file = file;
    this.layerFiles.set(file.path, record);
    if (OS_RELEASE_PATHS.includes(file.path) && content.length <= OS_RELEASE_MAX) {
      record.osRelease = content.toString("utf8");
    }
    for (const c of catalogers) {
      if (content.length > (c.maxFileSize ?? DEFAULT_MAX_FILE_SIZE)) {
        this.warnings.push(`${c.name}: skipped ${file.path} (${content.length} bytes, over its size limit)`);
        continue;
      }
      try {
        const data = c.parse(file, content, this.warnings);
        if (data !== undefined) record.parsed.set(c.name, data);
      } catch (error) {
        this.warnings.push(`${c.name}: could not read ${file.path}: ${(error as Error).message}`);
      }
    }
  }

  /** A wanted file over every interested cataloguer's size limit: it still hides lower versions. */
  tooLarge(file: FileInfo, catalogers: readonly Cataloger[]): void {
    this.replaceWithNothing(file);
    for (const c of catalogers) {
      this.warnings.push(`${c.name}: skipped ${file.path} (${file.size} bytes, over its size limit)`);
    }
  }

  /** A device, FIFO or other special file: it hides what lower layers had at its path. */
  special(path: string, layerIndex: number): void {
    this.replaceWithNothing({ path, mode: 0, size: 0, layerIndex });
  }

  /** A hardlink to a file earlier in the same layer shares that file's parse results. */
  hardlink(file: FileInfo, targetPath: string): void {
    const target = this.layerFiles.get(targetPath);
    const record = this.replace(file.path, file.layerIndex);
    record.file = file;
    if (!target) return;
    for (const c of this.catalogers) {
      const data = target.parsed.get(c.name);
      if (data !== undefined && c.wants(file)) record.parsed.set(c.name, data);
    }
    if (target.osRelease !== undefined) record.osRelease = target.osRelease;
  }

  finish(): {
    packages: Package[];
    relationships: Relationship[];
    warnings: string[];
    distro: Distro | undefined;
  } {
    const distro = this.distro();
    const paths = [...this.records.keys()].sort();
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    const warnings = [...this.warnings];
    for (const c of this.catalogers) {
      const found: FoundFile<unknown>[] = [];
      for (const path of paths) {
        const record = this.records.get(path) as PathRecord;
        if (!record.file || !record.parsed.has(c.name)) continue;
        found.push({
          file: record.file,
          data: record.parsed.get(c.name),
          earlier: record.earlier.get(c.name) ?? [],
        });
      }
      let result: CatalogResult;
      try {
        result = c.finish(found, { distro });
      } catch (error) {
        warnings.push(`${c.name}: failed: ${(error as Error).message}`);
        continue;
      }
      packages.push(...result.packages);
      relationships.push(...(result.relationships ?? []));
      warnings.push(...(result.warnings ?? []));
    }
    return { packages, relationships, warnings, distro };
  }

  /** Follows symlinks (absolute or relative, in any component) with a hop limit against loops. */
  resolve(path: string): string | undefined {
    let current = path;
    for (let hops = 0; hops <= SYMLINK_HOPS; hops++) {
      const parts = current.split("/").filter(Boolean);
      let next: string | undefined;
      for (let i = 1; i <= parts.length && next === undefined; i++) {
        const prefix = `/${parts.slice(0, i).join("/")}`;
        const target = this.records.get(prefix)?.linkTarget;
        if (target === undefined) continue;
        const base = target.startsWith("/") ? target : posix.join(posix.dirname(prefix), target);
        next = posix.normalize(posix.join("/", base, ...parts.slice(i)));
      }
      if (next === undefined) return current;
      current = next;
    }
    this.warnings.push(`symlink loop at ${path}: gave up after ${SYMLINK_HOPS} hops`);
    return undefined;
  }

  /** os-release as the container sees it: /etc/os-release (often a symlink), else /usr/lib/os-release. */
  private distro(): Distro | undefined {
    for (const start of OS_RELEASE_PATHS) {
      const path = this.resolve(start);
      const content = path === undefined ? undefined : this.records.get(path)?.osRelease;
      if (content !== undefined) return parseOsRelease(content);
    }
    return undefined;
  }

  /** A new entry at `path` in layer N: it hides the lower version and, if that was a directory, all under it. */
  private replace(path: string, layerIndex: number): PathRecord {
    const old = this.records.get(path);
    const record: PathRecord = { layerIndex, parsed: new Map(), earlier: new Map() };
    if (old) {
      // Keep the history of a file rewritten by an upper layer (dpkg's status file is, by every layer).
      for (const [name, list] of old.earlier) record.earlier.set(name, [...list]);
      if (old.file) {
        for (const [name, data] of old.parsed) {
          const list = record.earlier.get(name) ?? [];
          list.push({ file: old.file, data });
          record.earlier.set(name, list);
        }
      }
      this.delete(path);
    }
    this.removeUnder(path, layerIndex);
    this.insert(path, record);
    return record;
  }

  private replaceWithNothing(file: FileInfo): void {
    if (this.records.get(file.path)) this.delete(file.path);
    this.removeUnder(file.path, file.layerIndex);
  }

  private removeUnder(dir: string, layerIndex: number): void {
    if (!this.descendants.has(dir) && dir !== "/") return;
    const prefix = dir === "/" ? "/" : `${dir}/`;
    for (const [path, record] of this.records) {
      if (record.layerIndex < layerIndex && path.startsWith(prefix)) this.delete(path);
    }
  }

  private insert(path: string, record: PathRecord): void {
    this.records.set(path, record);
    for (let dir = posix.dirname(path); dir !== "/"; dir = posix.dirname(dir)) {
      this.descendants.set(dir, (this.descendants.get(dir) ?? 0) + 1);
    }
  }

  private delete(path: string): void {
    if (!this.records.delete(path)) return;
    for (let dir = posix.dirname(path); dir !== "/"; dir = posix.dirname(dir)) {
      const n = (this.descendants.get(dir) ?? 1) - 1;
      if (n === 0) this.descendants.delete(dir);
      else this.descendants.set(dir, n);
    }
  }
}
