import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { createGunzip, type Gunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { ShipgateError } from "../../errors.js";

/**
 * A random-access index of an uncompressed tar file, built in one streaming
 * pass: each regular file's data offset, size and sha256 (and, for gzip
 * data, the digest and size of what it decompresses to). Afterwards any
 * entry is read straight from the file by byte range; nothing is extracted
 * to disk and no entry is held in memory.
 */

export type Compression = "gzip" | "zstd" | "xz" | "bzip2";

export interface FileEntry {
  kind: "file";
  name: string;
  /** Where the entry's data starts in the tar file. */
  offset: number;
  size: number;
  /** sha256 of the entry's bytes as stored. */
  digest: string;
  compression: Compression | undefined;
  /** For gzip data: what it decompresses to; undefined when it is not valid gzip after all. */
  uncompressed: { digest: string; size: number } | undefined;
}

interface LinkEntry {
  kind: "link";
  name: string;
  /** The normalised target path; undefined when it points outside the archive. */
  target: string | undefined;
}

type Entry = FileEntry | LinkEntry;

export function compressionOf(head: Uint8Array): Compression | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return "gzip";
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return "zstd";
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "xz";
  if (starts(0x42, 0x5a, 0x68)) return "bzip2";
  return undefined;
}

/**
 * A path inside the archive as manifest.json may name it: relative, no `..`
 * component, no NUL. Returns the canonical form (no `./`, no doubled `/`),
 * or undefined for anything that could point outside the archive.
 */
export function safeArchivePath(raw: string): string | undefined {
  if (raw === "" || raw.includes("\0") || raw.startsWith("/")) return undefined;
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) return undefined;
  return parts.join("/");
}

/** Resolves a link target against the directory `base` (components), staying inside the archive. */
function resolveWithin(base: string[], target: string): string | undefined {
  if (target.startsWith("/") || target.includes("\0")) return undefined;
  const stack = [...base];
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stack.length === 0) return undefined;
      stack.pop();
    } else {
      stack.push(part);
    }
  }
  return stack.length === 0 ? undefined : stack.join("/");
}

/** Hashes what gzip data decompresses to, fed chunk by chunk, with backpressure. */
class GunzipDigest {
  private readonly gunzip: Gunzip = createGunzip();
  private readonly hash = createHash("sha256");
  private size = 0;
  private failed = false;

  constructor() {
    this.gunzip.on("data", (chunk: Buffer) => {
      this.hash.update(chunk);
      this.size += chunk.length;
    });
    // Not every file that starts with 1f 8b is gzip; a failure only matters if the file is used as a layer.
    this.gunzip.on("error", () => {
      this.failed = true;
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failed) return;
    if (!this.gunzip.write(chunk)) await once(this.gunzip, "drain").catch(() => undefined);
  }

  async finish(): Promise<{ digest: string; size: number } | undefined> {
    if (!this.failed) {
      this.gunzip.end();
      await once(this.gunzip, "end").catch(() => undefined);
    }
    return this.failed ? undefined : { digest: `sha256:${this.hash.digest("hex")}`, size: this.size };
  }
}

async function digestEntry(
  entry: AsyncIterable<unknown>,
): Promise<Omit<FileEntry, "kind" | "name" | "offset">> {
  const hash = createHash("sha256");
  let size = 0;
  // Compression is decided on the first 6 bytes, which may arrive split across chunks.
  let pending: Buffer[] | undefined = [];
  let compression: Compression | undefined;
  let gunzip: GunzipDigest | undefined;
  const decide = async () => {
    const head = Buffer.concat(pending ?? []);
    compression = compressionOf(head);
    if (compression === "gzip") {
      gunzip = new GunzipDigest();
      await gunzip.write(head);
    }
    pending = undefined;
  };
  for await (const data of entry) {
    const chunk = data as Buffer;
    hash.update(chunk);
    size += chunk.length;
    if (pending !== undefined) {
      pending.push(chunk);
      if (size >= 6) await decide();
    } else if (gunzip !== undefined) {
      await gunzip.write(chunk);
    }
  }
  if (pending !== undefined) await decide();
  const uncompressed = gunzip === undefined ? undefined : await gunzip.finish();
  return { size, digest: `sha256:${hash.digest("hex")}`, compression, uncompressed };
}

function archiveError(file: string, why: string, cause?: unknown): ShipgateError {
  return new ShipgateError("ARCHIVE_INVALID", `${file}: ${why}`, {
    cause,
    hint: "a docker-archive is the tar `docker save` or `skopeo copy … docker-archive:FILE` writes",
  });
}

export class TarIndex {
  private constructor(
    readonly file: string,
    private readonly entries: ReadonlyMap<string, Entry>,
  ) {}

  static async build(file: string): Promise<TarIndex> {
    const entries = new Map<string, Entry>();
    const extractor = extract();
    const source = createReadStream(file, { highWaterMark: 1 << 20 });
    source.on("error", (error) => extractor.destroy(error));
    source.pipe(extractor);
    try {
      for await (const entry of extractor) {
        // tar-stream 3 records where each entry's data starts (after pax/GNU long-name headers too).
        const header = entry.header as Header & { byteOffset?: number };
        const name = safeArchivePath(header.name);
        if (header.type === "file" || header.type === "contiguous-file") {
          if (typeof header.byteOffset !== "number")
            throw archiveError(file, "tar reader did not report entry offsets");
          const facts = await digestEntry(entry);
          if (name !== undefined)
            entries.set(name, { kind: "file", name, offset: header.byteOffset, ...facts });
          continue;
        }
        if (name !== undefined && (header.type === "symlink" || header.type === "link")) {
          const linkname = header.linkname ?? "";
          // Symlinks are relative to their own directory; hard links name a path from the archive root.
          const base = header.type === "symlink" ? name.split("/").slice(0, -1) : [];
          entries.set(name, { kind: "link", name, target: resolveWithin(base, linkname) });
        }
        // Directories, devices, links: nothing to keep, but the data must be drained before the next header.
        for await (const _ of entry) void _;
      }
    } catch (error) {
      if (error instanceof ShipgateError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new ShipgateError("NOT_FOUND", `${file} does not exist`, { cause: error });
      if (code === "EISDIR") throw archiveError(file, "is a directory, not a tar file", error);
      const message = (error as Error).message;
      if (/unexpected end/i.test(message)) throw archiveError(file, "the tar file is truncated", error);
      throw archiveError(file, `is not a tar archive (${message})`, error);
    } finally {
      source.destroy();
    }
    return new TarIndex(file, entries);
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  /**
   * The regular file a path (as manifest.json names it) stands for, following
   * symlinks and hard links inside the archive. Anything hostile or missing
   * is ARCHIVE_INVALID: a docker-archive that names what it does not hold is
   * broken, not merely incomplete.
   */
  resolve(raw: string, what: string): FileEntry {
    let path = safeArchivePath(raw);
    if (path === undefined)
      throw archiveError(this.file, `${what} "${raw}" is not a relative path inside the archive`);
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.entries.get(path);
      if (entry === undefined) throw archiveError(this.file, `${what} "${raw}" is not in the archive`);
      if (entry.kind === "file") return entry;
      if (entry.target === undefined)
        throw archiveError(this.file, `${what} "${raw}" is a link pointing outside the archive`);
      path = entry.target;
    }
    throw archiveError(this.file, `${what} "${raw}": too many levels of links`);
  }

  /** A small entry (manifest.json, a config) into memory, refusing anything over `limit`. */
  async read(entry: FileEntry, limit: number, what: string): Promise<Buffer> {
    if (entry.size > limit)
      throw archiveError(this.file, `${what} is ${entry.size} bytes, over the ${limit}-byte limit`);
    const handle = await open(this.file, "r");
    try {
      const bytes = Buffer.alloc(entry.size);
      const { bytesRead } = await handle.read(bytes, 0, entry.size, entry.offset);
      if (bytesRead !== entry.size)
        throw archiveError(this.file, `${what}: the file changed since it was indexed`);
      return bytes;
    } finally {
      await handle.close();
    }
  }

  /** An entry's bytes as stored, read by range from the tar file. */
  open(entry: FileEntry): Readable {
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, {
      start: entry.offset,
      end: entry.offset + entry.size - 1,
      highWaterMark: 1 << 20,
    });
  }
}
