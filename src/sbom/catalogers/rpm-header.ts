/**
 * An rpm header as the rpmdb stores it (rpm's lib/header.c, "headerImport"):
 * no magic, then two big-endian int32s, the number of index entries `il`
 * and the size of the data store `dl`, then `il` entries of 16 bytes (tag,
 * type, offset into the store, count), then the store. Every offset and
 * count is checked against the blob: a corrupt blob gives an error, never a
 * read out of bounds or a loop over a count nobody bounded.
 */

/** Tags shipgate reads (rpm's lib/rpmtag.h). */
export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  URL: 1020,
  ARCH: 1022,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

const WANTED = new Set<number>(Object.values(TAG));

const TYPE = {
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
};
/** rpm's own sanity limits (hdrchkTags, hdrchkData). */
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;

export type HeaderValue = string | string[] | number[] | Uint8Array;

export class HeaderError extends Error {}

export function parseHeader(blob: Uint8Array): Map<number, HeaderValue> {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 8) throw new HeaderError(`${blob.length} bytes is too short for a header`);
  const il = view.getUint32(0);
  const dl = view.getUint32(4);
  if (il < 1 || il > MAX_TAGS) throw new HeaderError(`implausible index count ${il}`);
  if (dl > MAX_DATA) throw new HeaderError(`implausible data size ${dl}`);
  const storeStart = 8 + il * 16;
  if (storeStart + dl > blob.length) {
    throw new HeaderError(
      `index and data (${storeStart + dl} bytes) run past the blob (${blob.length} bytes)`,
    );
  }
  const store = blob.subarray(storeStart, storeStart + dl);
  const tags = new Map<number, HeaderValue>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const offset = view.getUint32(at + 8);
    const count = view.getUint32(at + 12);
    if (offset > dl) throw new HeaderError(`tag ${tag}: offset ${offset} past the data (${dl} bytes)`);
    // A count can never exceed the bytes left: every element takes at least one.
    if (count > dl - offset) throw new HeaderError(`tag ${tag}: count ${count} past the data`);
    // Only the tags shipgate reads, once each: a crafted header repeating one huge
    // string array in 65535 entries costs one decode, not 65535.
    if (!WANTED.has(tag) || tags.has(tag)) continue;
    const value = readValue(store, offset, type, count, tag);
    if (value !== undefined) tags.set(tag, value);
  }
  return tags;
}

function readValue(store: Uint8Array, offset: number, type: number, count: number, tag: number) {
  const view = new DataView(store.buffer, store.byteOffset, store.byteLength);
  const fixed = (size: number, read: (at: number) => number): number[] => {
    if (offset + count * size > store.length)
      throw new HeaderError(`tag ${tag}: ${count} values past the data`);
    return Array.from({ length: count }, (_, i) => read(offset + i * size));
  };
  switch (type) {
    case TYPE.CHAR:
    case TYPE.INT8:
      return fixed(1, (at) => view.getUint8(at));
    case TYPE.INT16:
      return fixed(2, (at) => view.getUint16(at));
    case TYPE.INT32:
      return fixed(4, (at) => view.getUint32(at));
    case TYPE.INT64:
      return fixed(8, (at) => Number(view.getBigUint64(at)));
    case TYPE.BIN:
      if (offset + count > store.length) throw new HeaderError(`tag ${tag}: ${count} bytes past the data`);
      return store.subarray(offset, offset + count);
    case TYPE.STRING:
      return strings(store, offset, 1, tag)[0];
    case TYPE.I18NSTRING:
      // One string per locale; the first is the untranslated (C locale) one.
      return strings(store, offset, Math.min(count, 1), tag)[0];
    case TYPE.STRING_ARRAY:
      return strings(store, offset, count, tag);
    default:
      return undefined;
  }
}

const decoder = new TextDecoder("utf-8");

function strings(store: Uint8Array, offset: number, count: number, tag: number): string[] {
  const out: string[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const end = store.indexOf(0, at);
    if (end < 0) throw new HeaderError(`tag ${tag}: string without its terminating NUL`);
    out.push(decoder.decode(store.subarray(at, end)));
    at = end + 1;
  }
  return out;
}

export const headerString = (h: Map<number, HeaderValue>, tag: number): string | undefined => {
  const v = h.get(tag);
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : undefined;
};

export const headerStrings = (h: Map<number, HeaderValue>, tag: number): string[] => {
  const v = h.get(tag);
  return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : [];
};

export const headerNumbers = (h: Map<number, HeaderValue>, tag: number): number[] => {
  const v = h.get(tag);
  return Array.isArray(v) && v.every((x) => typeof x === "number") ? (v as number[]) : [];
};
