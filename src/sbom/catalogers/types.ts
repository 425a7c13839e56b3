import type { Distro, Package, Relationship } from "../model.js";

/** A file as the squashed image (or a directory) shows it. */
export interface FileInfo {
  /** Absolute, normalised path inside the image: `/usr/lib/os-release`. */
  path: string;
  /** Permission bits (e.g. 0o755). */
  mode: number;
  size: number;
  /** The layer this version of the file comes from (undefined for a directory source). */
  layerDigest?: string;
  /** 0-based position of that layer, bottom first (0 for a directory source). */
  layerIndex: number;
}

/** A file a cataloguer asked for, with what its `parse` made of the content. */
export interface FoundFile<T> {
  file: FileInfo;
  data: T;
  /**
   * Earlier versions of the same path in lower layers (bottom first), which
   * an upper layer replaced. Lets a cataloguer say in which layer a package
   * first appeared (the dpkg status file is rewritten by every layer).
   */
  earlier: { file: FileInfo; data: T }[];
}

export interface CatalogResult {
  packages: Package[];
  relationships?: Relationship[];
  warnings?: string[];
}

export interface FinishContext {
  /** From /etc/os-release (or /usr/lib/os-release), when present. */
  distro: Distro | undefined;
}

/**
 * A cataloguer reads only the files it names. The image reader streams the
 * layers bottom to top once, hands each wanted file's bytes to `parse` as it
 * passes (so only parsed results are kept, never file contents), applies
 * whiteouts to those results, and gives the survivors to `finish`.
 *
 * `parse` must not throw on bad content: it returns undefined (and may push a
 * warning) so one odd file never fails a whole SBOM.
 */
export interface Cataloger<T = unknown> {
  readonly name: string;
  /** Cheap test on path, size and mode; only files answering true are read. */
  wants(file: FileInfo): boolean;
  /**
   * Largest file this cataloguer will read, in bytes (default 16 MiB). Bigger
   * wanted files are skipped with a warning: memory stays bounded.
   */
  readonly maxFileSize?: number;
  parse(file: FileInfo, content: Buffer, warnings: string[]): T | undefined;
  finish(found: FoundFile<T>[], context: FinishContext): CatalogResult;
}
