import type { License, Package, Relationship } from "../model.js";
import { toLicense } from "./licenses.js";
import { layerFinder, osLocation, withoutTruncatedTail } from "./os-layers.js";
import { distroQualifier, osPurl } from "./os-purl.js";
import type { Cataloger } from "./types.js";

/** apk-tools 2 keeps its database in /lib/apk/db; apk-tools 3 in /usr/lib/apk/db (with /lib/apk a link to it). */
const DB_PATHS = new Set(["/lib/apk/db/installed", "/usr/lib/apk/db/installed"]);

const EXECUTABLE_DIR = /^(usr\/)?s?bin$/;

export interface ApkEntry {
  name: string;
  version: string;
  arch: string;
  origin?: string;
  license?: string;
  description?: string;
  url?: string;
  maintainer?: string;
  /** `D:` dependencies, conflicts (`!name`) left out, version constraints stripped. */
  depends: string[];
  /** `p:` provides, constraints stripped: `so:libc.musl-x86_64.so.1`, `cmd:sh`. */
  provides: string[];
  /**
   * Executables the package owns (`F:` directory then `R:` names), for path
   * dependencies such as `/bin/sh`. Only bin and sbin directories: those are
   * what `D:` names by path, and a big image's full file list, kept once per
   * layer that rewrote the database, would cost memory for nothing.
   */
  files: string[];
}

/** `so:libz.so.1=1.3.1`, `musl>=1.2`, `python3~3.12`: the name before any constraint. */
function dependencyName(token: string): string | undefined {
  if (token.startsWith("!")) return undefined;
  const name = token.split(/[<>=~]/, 1)[0];
  return name === "" ? undefined : name;
}

/**
 * The installed database (apk-tools' "installed database" format, wiki.alpinelinux.org/wiki/Apk_spec):
 * one record per package, `X:value` lines, records separated by a blank line. Capital
 * letters are fields apk requires; lower-case ones are optional.
 */
export function parseInstalled(
  text: string,
  warnings: string[] = [],
  path = "/lib/apk/db/installed",
): ApkEntry[] {
  const entries: ApkEntry[] = [];
  let fields = new Map<string, string>();
  let depends: string[] = [];
  let provides: string[] = [];
  let files: string[] = [];
  let dir = "";
  const flush = (last = false) => {
    const name = fields.get("P");
    const version = fields.get("V");
    if (name !== undefined || version !== undefined) {
      if (last && !text.endsWith("\n\n") && !fields.has("A")) {
        // apk ends every record with a blank line and writes A: after V:; this one was cut after a whole line.
        warnings.push(`apk: ${path}: the last record (P:${name ?? ""}) is incomplete (truncated?); not read`);
      } else if (!name || !version || /\s/.test(name) || /\s/.test(version)) {
        warnings.push(`apk: ${path}: skipped a record without a valid name and version (P:${name ?? ""})`);
      } else {
        const entry: ApkEntry = { name, version, arch: fields.get("A") ?? "", depends, provides, files };
        const optional = { origin: "o", license: "L", description: "T", url: "U", maintainer: "m" } as const;
        for (const [key, letter] of Object.entries(optional) as [keyof typeof optional, string][]) {
          const value = fields.get(letter);
          if (value) entry[key] = value;
        }
        entries.push(entry);
      }
    }
    fields = new Map();
    depends = [];
    provides = [];
    files = [];
    dir = "";
  };
  const lines = text.split("\n");
  // What follows the file's last newline is not a line; a record it ends without a blank line is checked by flush(true).
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (line.length < 2 || line[1] !== ":") continue;
    const letter = line[0] as string;
    const value = line.slice(2).trim();
    switch (letter) {
      case "D":
        depends.push(...value.split(/\s+/).flatMap((t) => dependencyName(t) ?? []));
        break;
      case "p":
        provides.push(...value.split(/\s+/).flatMap((t) => dependencyName(t) ?? []));
        break;
      case "F":
        dir = value;
        break;
      case "R":
        if (EXECUTABLE_DIR.test(dir)) files.push(`/${dir === "" ? "" : `${dir}/`}${value}`);
        break;
      default:
        // The first value wins: a record does not repeat its scalar fields.
        if (!fields.has(letter)) fields.set(letter, value);
    }
  }
  flush(true);
  return entries;
}

/**
 * Alpine's `license` is an SPDX expression today, but older packages list
 * several licences separated by spaces (`MIT BSD GPL-2.0-or-later`), all of
 * which apply: AND them when every one of them is an SPDX id.
 */
export function apkLicense(raw: string): License {
  const license = toLicense(raw);
  if (license.expression !== undefined) return license;
  const parts = raw.trim().split(/\s+/);
  if (parts.length > 1 && !parts.some((p) => /^(and|or|with)$/i.test(p) || /[()]/.test(p))) {
    const each = parts.map((p) => toLicense(p).expression);
    if (each.every((e) => e !== undefined)) return toLicense(each.join(" AND "));
  }
  return license;
}

type ApkData = { entries: ApkEntry[] };

interface Built {
  entry: ApkEntry;
  pkg: Package;
}

/** D: names resolved to installed packages: by name, by `p:` provides (so:, cmd:, pc:), or by an owned file path. */
function relationships(built: Built[]): Relationship[] {
  const providers = new Map<string, Built>();
  for (const b of built) {
    for (const key of [...b.entry.provides, ...b.entry.files]) if (!providers.has(key)) providers.set(key, b);
  }
  for (const b of built) providers.set(b.entry.name, b);
  const out: Relationship[] = [];
  for (const b of built) {
    for (const dep of b.entry.depends) {
      const target = providers.get(dep);
      if (target && target !== b) out.push({ from: b.pkg.purl, to: target.pkg.purl, type: "depends-on" });
    }
  }
  return out;
}

export const apkCataloger: Cataloger<ApkData> = {
  name: "apk",
  wants: (file) => DB_PATHS.has(file.path),
  parse(file, content, warnings) {
    const text = content.toString("utf8");
    if (text.includes("\u0000")) {
      warnings.push(`apk: ${file.path} is not a text file; no packages read from it`);
      return undefined;
    }
    return {
      entries: parseInstalled(withoutTruncatedTail("apk", file.path, text, warnings), warnings, file.path),
    };
  },
  finish(found, { distro }) {
    const built: Built[] = [];
    const key = (e: ApkEntry) => `${e.name}\u0000${e.version}\u0000${e.arch}`;
    const introducedIn = layerFinder<ApkData>((d) => d.entries.map(key));
    for (const f of found) {
      for (const entry of f.data.entries) {
        const pkg: Package = {
          name: entry.name,
          version: entry.version,
          type: "apk",
          purl: osPurl("apk", distro?.id ?? "alpine", entry.name, entry.version, {
            arch: entry.arch,
            distro: distroQualifier(distro),
            // syft's form: the origin (source) package when it differs from the binary's name.
            upstream: entry.origin !== undefined && entry.origin !== entry.name ? entry.origin : undefined,
          }),
          licenses: entry.license ? [apkLicense(entry.license)] : [],
          locations: [osLocation(f.file.path, introducedIn(f, key(entry)))],
          foundBy: "apk",
          source: { name: entry.origin ?? entry.name, version: entry.version },
          arch: entry.arch,
        };
        if (entry.maintainer) pkg.supplier = entry.maintainer;
        if (entry.description) pkg.description = entry.description;
        if (entry.url) pkg.homepage = entry.url;
        built.push({ entry, pkg });
      }
    }
    return { packages: built.map((b) => b.pkg), relationships: relationships(built) };
  },
};
