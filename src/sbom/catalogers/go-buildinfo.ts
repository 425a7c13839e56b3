/**
 * Go's embedded build information, read the way `go version -m` (the
 * runtime/debug and debug/buildinfo packages) reads it: a 32-byte header
 * starting `\xff Go buildinf:` in the binary's data, 16-byte aligned; then
 * either two varint-prefixed strings (Go 1.18+, flag bit 2) or, before
 * 1.18, two pointers to Go string headers in the loaded image. The module
 * text is `path`, `mod`, `dep`, `=>` (replacement) and `build` lines.
 */
import { type Executable, openExecutable, readPointer, readVirtual, sectionBytes } from "./executable.js";

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The main package's import path (`path` line). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  /** `build` lines: -compiler, CGO_ENABLED, GOOS, GOARCH, vcs.revision, ... */
  settings: [string, string][];
}

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
/** How far into a data segment the header may lie (as debug/buildinfo searches). */
const SEARCH = 64 * 1024;
/** Longest version or module text read through a pointer (pre-1.18): far more than any real binary's. */
const MAX_STRING = 8 * 1024 * 1024;

/** The build info of a Go binary; undefined when the bytes are not a Go binary with build info. */
export function readGoBuildInfo(bytes: Buffer): GoBuildInfo | undefined {
  const exe = openExecutable(bytes);
  if (!exe) return undefined;
  for (const region of candidates(exe)) {
    const at = findHeader(region);
    if (at < 0) continue;
    const header = region.subarray(at);
    const strings =
      (header[15] ?? 0) & 2 ? inlineStrings(header) : pointerStrings(exe, header, header[14] ?? 0);
    if (!strings) return undefined;
    const [goVersion, modinfo] = strings;
    if (!goVersion.startsWith("go") && !goVersion.startsWith("devel")) return undefined;
    return { goVersion, ...parseModInfo(stripSentinels(modinfo)) };
  }
  return undefined;
}

/** The named build-info section when the linker made one, else the start of each writable segment. */
function candidates(exe: Executable): Buffer[] {
  const named =
    sectionBytes(exe, ".go.buildinfo") ?? sectionBytes(exe, "__go_buildinfo", "__DATA") ?? undefined;
  const out: Buffer[] = named ? [named] : [];
  for (const seg of exe.segments) {
    if (!seg.writable || seg.filesz === 0) continue;
    const start = seg.offset;
    const end = Math.min(seg.offset + seg.filesz, seg.offset + SEARCH, exe.bytes.length);
    if (start < end) out.push(exe.bytes.subarray(start, end));
  }
  return out;
}

function findHeader(region: Buffer): number {
  for (let at = region.indexOf(MAGIC); at >= 0; at = region.indexOf(MAGIC, at + 1)) {
    if (at % 16 === 0 && at + 32 <= region.length) return at;
  }
  return -1;
}

/** Go 1.18+: two uvarint-length strings right after the 32-byte header. */
function inlineStrings(header: Buffer): [string, string] | undefined {
  let offset = 32;
  const read = (): string | undefined => {
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = header[offset++];
      if (byte === undefined || shift > 35) return undefined;
      length += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    if (offset + length > header.length) return undefined;
    const text = header.toString("utf8", offset, offset + length);
    offset += length;
    return text;
  };
  const version = read();
  const modinfo = version === undefined ? undefined : read();
  return version === undefined || modinfo === undefined ? undefined : [version, modinfo];
}

/** Before Go 1.18: pointers at 16 and 16+ptrSize to `{data *byte, len int}` string headers. */
function pointerStrings(exe: Executable, header: Buffer, ptrSize: number): [string, string] | undefined {
  if (ptrSize !== 4 && ptrSize !== 8) return undefined;
  const le = ((header[15] ?? 0) & 1) === 0;
  const goString = (at: number): string | undefined => {
    const headerAddr = readPointer(header, at, ptrSize, le);
    const stringHeader = headerAddr === undefined ? undefined : readVirtual(exe, headerAddr, 2 * ptrSize);
    if (!stringHeader || stringHeader.length < 2 * ptrSize) return undefined;
    const data = readPointer(stringHeader, 0, ptrSize, le);
    const length = readPointer(stringHeader, ptrSize, ptrSize, le);
    if (data === undefined || length === undefined || length > MAX_STRING) return undefined;
    if (length === 0) return "";
    const bytes = readVirtual(exe, data, length);
    return bytes && bytes.length === length ? bytes.toString("utf8") : undefined;
  };
  const version = goString(16);
  const modinfo = goString(16 + ptrSize);
  return version === undefined || modinfo === undefined ? undefined : [version, modinfo];
}

/** The linker wraps the module text in 16-byte sentinels (cmd/go's infoStart/infoEnd). */
function stripSentinels(modinfo: string): string {
  return modinfo.length >= 33 && modinfo[modinfo.length - 17] === "\n" ? modinfo.slice(16, -16) : modinfo;
}

/** runtime/debug.ParseBuildInfo's line format; malformed lines are skipped, not fatal. */
export function parseModInfo(text: string): Omit<GoBuildInfo, "goVersion"> {
  const out: Omit<GoBuildInfo, "goVersion"> = { deps: [], settings: [] };
  let last: GoModule | undefined;
  for (const line of text.split("\n")) {
    const [kind, ...fields] = line.split("\t");
    const module = (): GoModule | undefined => {
      const [path, version = "", sum] = fields;
      if (!path) return undefined;
      const m: GoModule = { path, version };
      if (sum) m.sum = sum;
      return m;
    };
    if (kind === "path" && fields[0]) out.path = fields[0];
    else if (kind === "mod") {
      last = module();
      if (last) out.main = last;
    } else if (kind === "dep") {
      last = module();
      if (last) out.deps.push(last);
    } else if (kind === "=>") {
      const replacement = module();
      if (last && replacement) last.replace = replacement;
      last = undefined;
    } else if (kind === "build" && fields.length > 0) {
      const setting = fields.join("\t");
      const eq = setting.indexOf("=", setting.startsWith('"') ? quotedEnd(setting) : 0);
      if (eq > 0) out.settings.push([unquote(setting.slice(0, eq)), unquote(setting.slice(eq + 1))]);
    }
  }
  return out;
}

function quotedEnd(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === '"') return i + 1;
  }
  return s.length;
}

/** Keys and values with spaces, tabs or quotes are written with strconv.Quote (JSON-compatible here). */
function unquote(s: string): string {
  if (!s.startsWith('"')) return s;
  try {
    const value: unknown = JSON.parse(s);
    return typeof value === "string" ? value : s;
  } catch {
    return s;
  }
}
