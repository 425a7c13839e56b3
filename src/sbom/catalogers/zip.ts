/**
 * Just enough of a zip reader for Java archives, safe on hostile input: the
 * central directory gives the entries, only the ones asked for are
 * inflated (fflate's streaming Inflate, in chunks), and every entry stops
 * at a byte limit whatever its header claims, so a decompression bomb costs
 * at most that limit. Malformed archives give an error string, not a throw.
 */
import { Inflate } from "fflate";

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

/** More entries than any real archive has (a jar of the JDK holds ~30 000). */
const MAX_ENTRIES = 200_000;
const CHUNK = 64 * 1024;

/** The archive's entries from its central directory, or an error message. */
export function zipEntries(zip: Buffer): ZipEntry[] | string {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes (its comment is at most 64 KiB).
  const from = Math.max(0, zip.length - 0xffff - 22);
  let eocd = -1;
  for (let i = zip.length - 22; i >= from; i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return "no end of central directory: not a zip archive";
  let count = zip.readUInt16LE(eocd + 10);
  let cdOffset = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    // Zip64: the real values are in the zip64 end record the locator points to.
    const locator = eocd - 20;
    if (locator < 0 || zip.readUInt32LE(locator) !== 0x07064b50) return "zip64 archive without a locator";
    const record = Number(zip.readBigUInt64LE(locator + 8));
    if (record + 56 > zip.length || zip.readUInt32LE(record) !== 0x06064b50) return "bad zip64 end record";
    count = Number(zip.readBigUInt64LE(record + 32));
    cdOffset = Number(zip.readBigUInt64LE(record + 48));
  }
  if (count > MAX_ENTRIES) return `${count} entries: more than ${MAX_ENTRIES}`;
  const entries: ZipEntry[] = [];
  let o = cdOffset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > zip.length || zip.readUInt32LE(o) !== 0x02014b50) return "truncated central directory";
    const nameLength = zip.readUInt16LE(o + 28);
    const extraLength = zip.readUInt16LE(o + 30);
    const commentLength = zip.readUInt16LE(o + 32);
    if (o + 46 + nameLength > zip.length) return "truncated central directory";
    const entry: ZipEntry = {
      name: zip.toString("utf8", o + 46, o + 46 + nameLength),
      method: zip.readUInt16LE(o + 10),
      compressedSize: zip.readUInt32LE(o + 20),
      size: zip.readUInt32LE(o + 24),
      localOffset: zip.readUInt32LE(o + 42),
    };
    if (
      entry.compressedSize === 0xffffffff ||
      entry.size === 0xffffffff ||
      entry.localOffset === 0xffffffff
    ) {
      zip64Sizes(zip, o + 46 + nameLength, extraLength, entry);
    }
    entries.push(entry);
    o += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Zip64 extended information (extra field 0x0001) holds the sizes and offset that did not fit 32 bits. */
function zip64Sizes(zip: Buffer, start: number, length: number, entry: ZipEntry): void {
  const end = Math.min(start + length, zip.length);
  for (let o = start; o + 4 <= end; ) {
    const id = zip.readUInt16LE(o);
    const size = zip.readUInt16LE(o + 2);
    if (id === 0x0001) {
      let p = o + 4;
      const next = () => {
        if (p + 8 > o + 4 + size || p + 8 > zip.length) return undefined;
        const v = Number(zip.readBigUInt64LE(p));
        p += 8;
        return v;
      };
      if (entry.size === 0xffffffff) entry.size = next() ?? entry.size;
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next() ?? entry.compressedSize;
      if (entry.localOffset === 0xffffffff) entry.localOffset = next() ?? entry.localOffset;
      return;
    }
    o += 4 + size;
  }
}

/** Thrown inside the inflate callback to stop a bomb early. */
class TooLarge extends Error {}

/**
 * An entry's bytes, at most `limit` of them: stored or deflated (the only
 * methods jars use). An error message when the entry is malformed,
 * compressed otherwise, or would inflate past `limit`.
 */
export function readZipEntry(zip: Buffer, entry: ZipEntry, limit: number): Buffer | string {
  const o = entry.localOffset;
  if (o + 30 > zip.length || zip.readUInt32LE(o) !== 0x04034b50) return `${entry.name}: bad local header`;
  const start = o + 30 + zip.readUInt16LE(o + 26) + zip.readUInt16LE(o + 28);
  const end = Math.min(start + entry.compressedSize, zip.length);
  if (start > zip.length) return `${entry.name}: data past the end of the archive`;
  const data = zip.subarray(start, end);
  if (entry.method === 0) {
    return data.length > limit ? `${entry.name}: larger than ${limit} bytes` : data;
  }
  if (entry.method !== 8) return `${entry.name}: compression method ${entry.method} not supported`;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done = false;
  const inflate = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > limit) throw new TooLarge();
    chunks.push(chunk);
    if (final) done = true;
  });
  try {
    for (let p = 0; p < data.length && !done; p += CHUNK) {
      inflate.push(data.subarray(p, Math.min(p + CHUNK, data.length)), p + CHUNK >= data.length);
    }
    if (data.length === 0) inflate.push(new Uint8Array(0), true);
  } catch (error) {
    if (error instanceof TooLarge) return `${entry.name}: inflates to more than ${limit} bytes`;
    return `${entry.name}: corrupt deflate data (${(error as Error).message})`;
  }
  if (!done) return `${entry.name}: truncated deflate data`;
  return Buffer.concat(chunks);
}
