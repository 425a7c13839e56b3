import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Readable, type Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * Files that appear whole or not at all: everything is written to a temporary
 * file next to the target, fsynced, then renamed over it (rename is atomic
 * within a directory), and the directory is fsynced so the rename survives a
 * crash. A reader never sees a half-written blob or index.json.
 */

/** A temporary name in the target's directory, so the final rename never crosses file systems. */
export function temporaryPathFor(target: string): string {
  return join(
    dirname(target),
    `.${basename(target).slice(0, 24)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`,
  );
}

/** Flushes a directory entry change (a rename) to disk; not every platform can, so failures are ignored. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Windows and some network file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * A Writable onto an open handle that leaves it open, so it can be fsynced and
 * closed after the last write (fs.WriteStream with autoClose off never reports
 * its end to stream.pipeline).
 */
function fileSink(handle: FileHandle): Writable {
  const writeAll = async (chunk: Buffer) => {
    for (let done = 0; done < chunk.length; ) done += (await handle.write(chunk, done)).bytesWritten;
  };
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      writeAll(chunk).then(() => callback(), callback);
    },
  });
}

/** Writes `bytes` to `target` atomically. */
export async function writeFileAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const temp = temporaryPathFor(target);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx", 0o644);
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await removeQuietly(temp);
    throw error;
  }
  await syncDirectory(dirname(target));
}

/**
 * Streams `content` through `through` (e.g. a VerifyingStream, which fails the
 * pipeline before its end when the digest is wrong) into `target` atomically.
 * On any error — bad digest, short stream, abort, full disk — the temporary
 * file is removed and nothing appears under `target`.
 */
export async function writeStreamAtomic(
  target: string,
  content: Readable,
  through: Transform[],
  signal?: AbortSignal,
): Promise<void> {
  const temp = temporaryPathFor(target);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx", 0o644);
    await pipeline([content, ...through, fileSink(handle)], signal === undefined ? {} : { signal });
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    // The producer must not wait forever on a consumer that gave up (e.g. open failed before the pipeline).
    if (!content.destroyed) content.destroy();
    await handle?.close().catch(() => undefined);
    await removeQuietly(temp);
    throw error;
  }
  await syncDirectory(dirname(target));
}
