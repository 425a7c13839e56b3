import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { extract as tarExtract } from "tar-stream";
import { ShipgateError } from "../errors.js";
import type { Collector } from "./collector.js";
import { entryPath } from "./paths.js";

export interface LayerLimits {
  /** Most bytes one layer may decompress to: the decompression-bomb guard. */
  maxLayerBytes: number;
  /** Most tar entries one layer may hold. */
  maxEntries: number;
}

export const DEFAULT_LAYER_LIMITS: LayerLimits = {
  maxLayerBytes: 32 * 1024 ** 3,
  maxEntries: 5_000_000,
};

export interface LayerRef {
  digest: string;
  index: number;
  /** For messages: `layer 2/4 sha256:… of oci:/x:tag`. */
  what: string;
}

/**
 * Streams one layer (gzip, zstd or plain tar: told apart by their magic
 * bytes, since media types lie in docker archives) through the collector.
 * Only files a cataloguer wants are read into memory, each up to its size
 * limit; everything else passes through unread.
 */
export async function collectLayer(
  blob: Readable,
  layer: LayerRef,
  collector: Collector,
  limits: LayerLimits = DEFAULT_LAYER_LIMITS,
): Promise<void> {
  collector.beginLayer();
  const extract = tarExtract();
  let skipped = 0;
  let entries = 0;
  const consume = async () => {
    for await (const entry of extract) {
      entries++;
      if (entries > limits.maxEntries) {
        throw new ShipgateError(
          "LIMIT_EXCEEDED",
          `${layer.what} has more than ${limits.maxEntries} entries`,
          {
            hint: "raise the limit with --max-layer-entries if this image is trusted",
          },
        );
      }
      await handleEntry(entry as unknown as TarEntry, layer, collector, () => skipped++);
    }
  };
  try {
    const stages = await decompressed(blob);
    await Promise.all([
      pipeline([...stages, new ByteLimit(limits.maxLayerBytes, layer.what), extract]),
      consume(),
    ]);
  } catch (error) {
    blob.destroy();
    if (error instanceof ShipgateError) throw error;
    const message = (error as Error).message;
    throw new ShipgateError("LAYER_INVALID", `${layer.what}: not a readable layer: ${message}`, {
      cause: error,
      hint: /unexpected end|premature|truncat/i.test(message)
        ? "the layer is truncated; fetch the image again"
        : "the layer is not a tar stream shipgate can read (gzip, zstd or plain tar)",
    });
  }
  if (skipped > 0) {
    collector.warnings.push(`${layer.what}: skipped ${skipped} entries with unsafe names (".." or NUL)`);
  }
}

type TarEntry = Readable & {
  header: { name: string; type: string | null; size?: number; mode?: number; linkname?: string | null };
};

async function handleEntry(entry: TarEntry, layer: LayerRef, collector: Collector, skip: () => void) {
  const { header } = entry;
  const path = entryPath(header.name);
  if (path === undefined) {
    skip();
    return drain(entry);
  }
  const slash = path.lastIndexOf("/");
  const dir = slash <= 0 ? "/" : path.slice(0, slash);
  const base = path.slice(slash + 1);
  if (base.startsWith(".wh.")) {
    if (base === ".wh..wh..opq") collector.opaque(dir, layer.index);
    else collector.whiteout(`${dir === "/" ? "" : dir}/${base.slice(4)}`, layer.index);
    return drain(entry);
  }
  switch (header.type) {
    case "directory":
      collector.directory(path, layer.index);
      return drain(entry);
    case "symlink":
      collector.symlink(path, header.linkname ?? "", layer.index);
      return drain(entry);
    case "link": {
      const target = entryPath(header.linkname ?? "");
      const file = {
        path,
        mode: header.mode ?? 0,
        size: 0,
        layerDigest: layer.digest,
        layerIndex: layer.index,
      };
      if (target === undefined) collector.special(path, layer.index);
      else collector.hardlink(file, target);
      return drain(entry);
    }
    case "file":
    case "contiguous-file":
    case null: {
      const size = header.size ?? 0;
      const file = { path, mode: header.mode ?? 0, size, layerDigest: layer.digest, layerIndex: layer.index };
      const { catalogers, maxSize } = collector.wanted(file);
      if (maxSize === 0) return drain(entry);
      if (size > maxSize) {
        collector.tooLarge(file, catalogers);
        return drain(entry);
      }
      const chunks: Buffer[] = [];
      let read = 0;
      for await (const chunk of entry) {
        read += (chunk as Buffer).length;
        chunks.push(chunk as Buffer);
      }
      // tar-stream ends an entry early only when the layer itself ends: that surfaces as the layer's error.
      if (read !== size) return;
      collector.content(file, catalogers, Buffer.concat(chunks, read));
      return;
    }
    default:
      collector.special(path, layer.index);
      return drain(entry);
  }
}

async function drain(entry: Readable): Promise<void> {
  entry.resume();
  await new Promise<void>((resolve, reject) => {
    if (entry.readableEnded) resolve();
    entry.once("end", resolve);
    entry.once("error", reject);
  });
}

/** Looks at the first bytes to choose gzip, zstd or plain tar. */
async function decompressed(blob: Readable): Promise<[Readable] | [Readable, Transform]> {
  const iterator = blob[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < 4 && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else {
      head.push(next.value as Buffer);
      headBytes += (next.value as Buffer).length;
    }
  }
  const first = Buffer.concat(head);
  const rest = Readable.from(
    (async function* () {
      if (first.length > 0) yield first;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value as Buffer;
      }
    })(),
    { objectMode: false },
  );
  if (first[0] === 0x1f && first[1] === 0x8b) return [rest, createGunzip()];
  if (first.length >= 4 && first.readUInt32LE(0) === 0xfd2fb528) return [rest, createZstdDecompress()];
  return [rest];
}

/** Fails the stream once more than `limit` bytes came out of the decompressor. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(
        new ShipgateError(
          "LIMIT_EXCEEDED",
          `${this.what} decompresses to more than ${this.limit} bytes (a decompression bomb, or a very large layer)`,
          { hint: "raise the limit with --max-layer-size if this image is trusted" },
        ),
      );
      return;
    }
    callback(null, chunk);
  }
}
