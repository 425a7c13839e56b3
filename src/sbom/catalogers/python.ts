/**
 * Python distributions as installers record them (the core metadata spec):
 * `NAME-VER.dist-info/METADATA` (wheels, pip), `NAME.egg-info/PKG-INFO`
 * (setuptools, Debian's python3-* packages), a lone `NAME.egg-info` file
 * (distutils) and `.egg/EGG-INFO/PKG-INFO`. Dependencies come from
 * `Requires-Dist` (or an egg's `requires.txt`) and link to distributions
 * installed in the same directory, as Python's import path would.
 */
import { posix } from "node:path";
import type { License, Package, Relationship } from "../model.js";
import { licensesOf, locationOf, purlOf } from "./language.js";
import { toLicense } from "./licenses.js";
import type { Cataloger, FileInfo, FoundFile } from "./types.js";

interface Metadata {
  kind: "metadata";
  name: string;
  version: string;
  licenses: License[];
  requires: string[];
  summary?: string;
  homepage?: string;
  author?: string;
}

interface Requires {
  kind: "requires";
  requires: string[];
}

export type PythonData = Metadata | Requires;

const METADATA = /\/[^/]+\.dist-info\/METADATA$|\/[^/]+\.egg-info\/PKG-INFO$|\/EGG-INFO\/PKG-INFO$/;
const EGG_FILE = /\/[^/]+\.egg-info$/;
const EGG_REQUIRES = /\/[^/]+\.egg-info\/requires\.txt$|\/EGG-INFO\/requires\.txt$/;

/** PEP 503: lower case, runs of `-`, `_`, `.` become one `-`. The purl spec asks for the same. */
export function normalisePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

export const pythonCataloger: Cataloger<PythonData> = {
  name: "python",
  maxFileSize: 8 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return METADATA.test(file.path) || EGG_REQUIRES.test(file.path) || EGG_FILE.test(file.path);
  },
  parse(file, content, warnings) {
    const text = content.toString("utf8");
    if (EGG_REQUIRES.test(file.path)) return { kind: "requires", requires: parseRequiresTxt(text) };
    const headers = parseHeaders(text);
    const name = headers.get("name")?.[0];
    const version = headers.get("version")?.[0];
    if (!name || !version) {
      warnings.push(`python: ${file.path}: no Name or Version header, not core metadata`);
      return undefined;
    }
    const meta: Metadata = {
      kind: "metadata",
      name,
      version,
      licenses: pythonLicenses(headers),
      requires: (headers.get("requires-dist") ?? []).flatMap((r) => requirementName(r) ?? []),
    };
    const summary = headers.get("summary")?.[0];
    const homepage = headers.get("home-page")?.[0];
    const author = headers.get("author")?.[0];
    if (summary && summary !== "UNKNOWN") meta.summary = summary;
    if (homepage && homepage !== "UNKNOWN") meta.homepage = homepage;
    if (author && author !== "UNKNOWN") meta.author = author;
    return meta;
  },
  finish(found: FoundFile<PythonData>[]) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    const requiresByDir = new Map<string, string[]>();
    for (const f of found) {
      if (f.data.kind === "requires") requiresByDir.set(posix.dirname(f.file.path), f.data.requires);
    }
    /** site directory → normalised name → purl. */
    const bySite = new Map<string, Map<string, string>>();
    const entries: { site: string; purl: string; requires: string[] }[] = [];
    for (const f of found) {
      if (f.data.kind !== "metadata") continue;
      const m = f.data;
      const infoDir = EGG_FILE.test(f.file.path) ? f.file.path : posix.dirname(f.file.path);
      // `.egg/EGG-INFO` sits one level deeper than dist-info and egg-info directories.
      const site = posix.dirname(infoDir.endsWith("/EGG-INFO") ? posix.dirname(infoDir) : infoDir);
      const normalised = normalisePythonName(m.name);
      const pkg: Package = {
        name: m.name,
        version: m.version,
        type: "python",
        purl: purlOf("pypi", undefined, normalised, m.version),
        licenses: m.licenses,
        locations: [locationOf(f.file)],
        foundBy: "python",
      };
      if (m.summary) pkg.description = m.summary;
      if (m.homepage) pkg.homepage = m.homepage;
      if (m.author) pkg.supplier = m.author;
      packages.push(pkg);
      const names = bySite.get(site) ?? new Map<string, string>();
      names.set(normalised, pkg.purl);
      bySite.set(site, names);
      entries.push({
        site,
        purl: pkg.purl,
        requires: [...m.requires, ...(requiresByDir.get(infoDir) ?? [])],
      });
    }
    for (const e of entries) {
      for (const dep of new Set(e.requires.map(normalisePythonName))) {
        const to = bySite.get(e.site)?.get(dep);
        if (to) relationships.push({ from: e.purl, to, type: "depends-on" });
      }
    }
    return { packages, relationships };
  },
};

/**
 * RFC 822-style headers up to the first blank line: repeated fields kept in
 * order, continuation lines (leading whitespace) joined with newlines. The
 * body (the long description) is ignored.
 */
export function parseHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; index: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (/^[ \t]/.test(line) && last) {
      const values = headers.get(last.key) as string[];
      // Old metadata indents continuation lines by 8 spaces, or `|` then 7.
      values[last.index] = `${values[last.index]}\n${line.replace(/^ {8}|^ {7}\|/, "").trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = headers.get(key) ?? [];
    values.push(value);
    headers.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return headers;
}

/** The distribution a `Requires-Dist` names, unless it is only wanted for an extra (optional). */
function requirementName(requirement: string): string | undefined {
  const [spec = "", marker = ""] = requirement.split(";");
  if (/\bextra\s*==/.test(marker)) return undefined;
  return /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec)?.[1];
}

/** `requires.txt`: one requirement a line; `[extra]` sections are optional dependencies. */
function parseRequiresTxt(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("[")) break;
    const name = requirementName(line);
    if (name) out.push(name);
  }
  return out;
}

/** Trove classifiers that name exactly one SPDX licence (version and "or later" included). */
const CLASSIFIERS: Record<string, string> = {
  "MIT License": "MIT",
  "MIT No Attribution License (MIT-0)": "MIT-0",
  "ISC License (ISCL)": "ISC",
  "Apache Software License": "",
  "BSD License": "",
  "Python Software Foundation License": "PSF-2.0",
  "Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
  "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
  "The Unlicense (Unlicense)": "Unlicense",
  "Universal Permissive License (UPL)": "UPL-1.0",
  "zlib/libpng License": "Zlib",
  "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
  "Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
  "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
  "European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
  "GNU Affero General Public License v3": "AGPL-3.0-only",
  "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
  "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
  "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
  "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
  "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
  "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
  "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
  "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
  "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
  "GNU Library or Lesser General Public License (LGPL)": "",
  "GNU General Public License (GPL)": "",
};

/**
 * Licence, most precise source first: `License-Expression` (metadata 2.4,
 * SPDX by definition); a short `License` field that maps to SPDX; the
 * licence classifiers (each one a licence of its own: the metadata does
 * not say whether several mean "and" or "or"); else the `License`
 * field's own words. A `License` holding a whole licence text is not a name.
 */
export function pythonLicenses(headers: Map<string, string[]>): License[] {
  const expression = headers.get("license-expression")?.[0];
  if (expression) return [toLicense(expression)];
  const field = headers.get("license")?.[0];
  const short = field && !field.includes("\n") && field.length <= 100 ? field : undefined;
  if (short) {
    const license = toLicense(short);
    if (license.expression) return [license];
  }
  const fromClassifiers: string[] = [];
  const unnamed: string[] = [];
  for (const c of headers.get("classifier") ?? []) {
    const m = /^License :: (?:OSI Approved :: )?(.+)$/.exec(c);
    if (!m || m[1] === "OSI Approved") continue;
    const id = CLASSIFIERS[m[1] as string];
    if (id) fromClassifiers.push(id);
    else unnamed.push(m[1] as string);
  }
  if (fromClassifiers.length > 0 && unnamed.length === 0) {
    return [...new Set(fromClassifiers)].map((id) => toLicense(id));
  }
  return licensesOf([short ?? unnamed[0]]);
}
