import { posix } from "node:path";
import type { Distro, Package, Relationship } from "../model.js";
import { toLicense } from "./licenses.js";
import { layerFinder, osLocation } from "./os-layers.js";
import { distroQualifier, osPurl } from "./os-purl.js";
import { HeaderError, headerNumbers, headerString, headerStrings, parseHeader, TAG } from "./rpm-header.js";
import { readRpmdbSqlite } from "./rpmdb-sqlite.js";
import type { Cataloger } from "./types.js";

/** Where rpm keeps its database: the traditional place, and /usr/lib/sysimage (Fedora 36+, openSUSE). */
const DB_DIRS = ["/var/lib/rpm/", "/usr/lib/sysimage/rpm/"];
/** Formats shipgate does not read, by file name, with what to tell the user. */
const UNREAD: Record<string, string> = {
  Packages: "a BerkeleyDB rpm database (rpm before 4.16: RHEL/CentOS 7 and 8, Amazon Linux 2)",
  "Packages.db": "an NDB rpm database (SUSE)",
};
const SQLITE = "rpmdb.sqlite";
const WAL = "rpmdb.sqlite-wal";
const EXECUTABLE_DIR = /\/s?bin\/$/;

export interface RpmEntry {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch: string;
  license?: string;
  sourceRpm?: string;
  vendor?: string;
  summary?: string;
  url?: string;
  modularityLabel?: string;
  requires: string[];
  provides: string[];
  /** Files in bin and sbin directories, for file requirements such as `/bin/sh`. */
  executables: string[];
}

export type RpmData =
  | { kind: "db"; entries: RpmEntry[] }
  | { kind: "unread"; what: string }
  | { kind: "wal"; size: number };

function fileName(path: string): string | undefined {
  const dir = DB_DIRS.find((d) => path.startsWith(d));
  if (dir === undefined) return undefined;
  const name = path.slice(dir.length);
  return name === SQLITE || name === WAL || name in UNREAD ? name : undefined;
}

/** One header blob as an entry, or undefined (with a warning) when it is corrupt or is no package. */
export function entryOf(blob: Uint8Array, where: string, warnings: string[]): RpmEntry | undefined {
  let h: ReturnType<typeof parseHeader>;
  try {
    h = parseHeader(blob);
  } catch (error) {
    if (!(error instanceof HeaderError)) throw error;
    warnings.push(`rpm: ${where}: corrupt header (${error.message}); not read`);
    return undefined;
  }
  const name = headerString(h, TAG.NAME);
  const version = headerString(h, TAG.VERSION);
  const release = headerString(h, TAG.RELEASE);
  if (!name || !version || release === undefined) {
    warnings.push(`rpm: ${where}: header without name, version and release; not read`);
    return undefined;
  }
  // Imported signing keys are stored as pseudo-packages (`rpm -qa` lists them); they are not software.
  if (name === "gpg-pubkey") return undefined;
  const dirs = headerStrings(h, TAG.DIRNAMES);
  const basenames = headerStrings(h, TAG.BASENAMES);
  const dirIndexes = headerNumbers(h, TAG.DIRINDEXES);
  const executables: string[] = [];
  for (const [i, base] of basenames.entries()) {
    const dir = dirs[dirIndexes[i] ?? -1];
    if (dir !== undefined && EXECUTABLE_DIR.test(dir)) executables.push(`${dir}${base}`);
  }
  const entry: RpmEntry = {
    name,
    version,
    release,
    arch: headerString(h, TAG.ARCH) ?? "",
    requires: headerStrings(h, TAG.REQUIRENAME).filter((r) => !r.startsWith("rpmlib(")),
    provides: headerStrings(h, TAG.PROVIDENAME),
    executables,
  };
  const epoch = headerNumbers(h, TAG.EPOCH)[0];
  if (epoch !== undefined) entry.epoch = epoch;
  const optional = {
    license: TAG.LICENSE,
    sourceRpm: TAG.SOURCERPM,
    vendor: TAG.VENDOR,
    summary: TAG.SUMMARY,
    url: TAG.URL,
    modularityLabel: TAG.MODULARITYLABEL,
  } as const;
  for (const [key, tag] of Object.entries(optional) as [keyof typeof optional, number][]) {
    const value = headerString(h, tag);
    if (value) entry[key] = value;
  }
  return entry;
}

/** `[epoch:]version-release`, as rpm compares them (and the comparator of the scanner expects). */
export function evr(e: RpmEntry): string {
  const vr = `${e.version}-${e.release}`;
  return e.epoch === undefined ? vr : `${e.epoch}:${vr}`;
}

/** `openssl-3.0.7-27.el9.src.rpm` as name and version-release. */
export function parseSourceRpm(file: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(file);
  return m ? { name: m[1] as string, version: `${m[2]}-${m[3]}` } : undefined;
}

/**
 * The purl namespace is the vendor (purl-spec, rpm type). The os-release ID
 * says it, in the spellings syft and trivy use where the ID is not the vendor's name.
 */
const NAMESPACES: Record<string, string> = {
  rhel: "redhat",
  amzn: "amazon",
  ol: "oracle",
  sles: "suse",
  sled: "suse",
  "opensuse-leap": "opensuse",
  "opensuse-tumbleweed": "opensuse",
};

function namespaceOf(distro: Distro | undefined): string | undefined {
  return distro ? (NAMESPACES[distro.id] ?? distro.id) : undefined;
}

interface Built {
  entry: RpmEntry;
  pkg: Package;
}

/** Requires resolved by name, by Provides (`libc.so.6()(64bit)`, `config(x)`), or by an owned executable path. */
function relationships(built: Built[]): Relationship[] {
  const providers = new Map<string, Built>();
  for (const b of built) {
    for (const key of [...b.entry.provides, ...b.entry.executables])
      if (!providers.has(key)) providers.set(key, b);
  }
  for (const b of built) if (!providers.has(b.entry.name)) providers.set(b.entry.name, b);
  const out: Relationship[] = [];
  for (const b of built) {
    for (const req of new Set(b.entry.requires)) {
      const target = providers.get(req);
      if (target && target !== b) out.push({ from: b.pkg.purl, to: target.pkg.purl, type: "depends-on" });
    }
  }
  return out;
}

export const rpmCataloger: Cataloger<RpmData> = {
  name: "rpm",
  // A whole system's rpmdb.sqlite is tens of MiB; it must be read whole.
  maxFileSize: 256 * 1024 * 1024,
  wants: (file) => fileName(file.path) !== undefined,
  parse(file, content, warnings) {
    const name = fileName(file.path) as string;
    if (name === WAL) return content.length > 0 ? { kind: "wal", size: content.length } : undefined;
    const unread = UNREAD[name];
    if (unread !== undefined) return { kind: "unread", what: unread };
    const { blobs, warnings: dbWarnings } = readRpmdbSqlite(content, file.path);
    warnings.push(...dbWarnings);
    const entries: RpmEntry[] = [];
    for (const { hnum, blob } of blobs) {
      const entry = entryOf(blob, `${file.path} header ${hnum}`, warnings);
      if (entry) entries.push(entry);
    }
    return { kind: "db", entries };
  },
  finish(found, { distro }) {
    const warnings: string[] = [];
    const built: Built[] = [];
    const key = (e: RpmEntry) => `${e.name}\u0000${evr(e)}\u0000${e.arch}`;
    const introducedIn = layerFinder<RpmData>((d) => (d.kind === "db" ? d.entries.map(key) : []));
    for (const f of found) {
      const data = f.data;
      if (data.kind === "unread") {
        warnings.push(
          `rpm: ${f.file.path} is ${data.what}, which shipgate does not read: the image's rpm packages are NOT in this SBOM`,
        );
        continue;
      }
      if (data.kind === "wal") {
        warnings.push(
          `rpm: ${f.file.path} holds ${data.size} bytes of changes not yet written to ${posix.basename(f.file.path, "-wal")}; they were not read`,
        );
        continue;
      }
      for (const entry of data.entries) {
        const version = evr(entry);
        const source = entry.sourceRpm ? parseSourceRpm(entry.sourceRpm) : undefined;
        const pkg: Package = {
          name: entry.name,
          version,
          type: "rpm",
          purl: osPurl("rpm", namespaceOf(distro), entry.name, `${entry.version}-${entry.release}`, {
            arch: entry.arch,
            epoch: entry.epoch === undefined ? undefined : String(entry.epoch),
            distro: distroQualifier(distro),
            // syft's form, which grype matches on: the source rpm's file name.
            upstream: entry.sourceRpm,
          }),
          licenses: entry.license ? [toLicense(entry.license)] : [],
          locations: [osLocation(f.file.path, introducedIn(f, key(entry)))],
          foundBy: "rpm",
          arch: entry.arch,
        };
        if (source) {
          pkg.source = {
            name: source.name,
            version: entry.epoch === undefined ? source.version : `${entry.epoch}:${source.version}`,
          };
        }
        if (entry.vendor) pkg.supplier = entry.vendor;
        if (entry.summary) pkg.description = entry.summary;
        if (entry.url) pkg.homepage = entry.url;
        const properties: Record<string, string> = {};
        if (entry.epoch !== undefined) properties.epoch = String(entry.epoch);
        if (entry.sourceRpm) properties.sourceRpm = entry.sourceRpm;
        if (entry.modularityLabel) properties.modularityLabel = entry.modularityLabel;
        if (Object.keys(properties).length > 0) pkg.properties = properties;
        built.push({ entry, pkg });
      }
    }
    return { packages: built.map((b) => b.pkg), relationships: relationships(built), warnings };
  },
};
