/**
 * npm-ecosystem lockfiles as one graph shape: `package-lock.json` (v1, v2,
 * v3), `yarn.lock` v1 and `pnpm-lock.yaml` (v6, v9). They are read only for
 * projects with no installed `node_modules` (see npm.ts): the lockfile is
 * then the best record of what would be installed.
 */
import { posix } from "node:path";
import type { License } from "../model.js";
import { isRecord, licensesOf, str, stringMap } from "./language.js";

export interface LockPackage {
  /** Unique within the lockfile: a path key (npm), a `name@version` (yarn, pnpm). */
  id: string;
  name: string;
  version: string;
  licenses: License[];
  integrity?: string;
}

export interface LockGraph {
  format: "package-lock" | "yarn" | "pnpm";
  packages: LockPackage[];
  /** id → id. */
  edges: [string, string][];
  /** The project itself as the lockfile names it (package-lock's root entry). */
  root?: { name?: string; version?: string };
  /** The project's direct dependencies, when the lockfile itself records them. */
  rootDeps?: string[];
  /** How the project's package.json entries resolve when it does not: `name@range` (yarn) or `name` (package-lock v1). */
  bySpec?: Record<string, string>;
}

/** Node's module resolution: `name` from `dir` is the nearest `node_modules/name` up the path. */
export function nodeResolve(
  dir: string,
  name: string,
  exists: (path: string) => boolean,
): string | undefined {
  for (let current = dir; ; current = posix.dirname(current)) {
    if (posix.basename(current) !== "node_modules") {
      const candidate = posix.join(current, "node_modules", name);
      if (exists(candidate)) return candidate;
    }
    if (current === "/" || current === ".") return undefined;
  }
}

/** The dependency names a manifest entry declares; devDependencies only count for a project root. */
export function declaredDeps(entry: Record<string, unknown>, withDev: boolean): Record<string, string> {
  return {
    ...(withDev ? stringMap(entry.devDependencies) : {}),
    ...stringMap(entry.peerDependencies),
    ...stringMap(entry.optionalDependencies),
    ...stringMap(entry.dependencies),
  };
}

/** `license` (a string or the legacy `{type}`) and the legacy `licenses` array, as npm documents them. */
export function npmLicenses(entry: Record<string, unknown>): License[] {
  const raws: (string | undefined)[] = [];
  const one = (value: unknown) =>
    typeof value === "string" ? value : isRecord(value) ? str(value.type) : undefined;
  raws.push(one(entry.license));
  if (Array.isArray(entry.licenses)) for (const item of entry.licenses) raws.push(one(item));
  // npm's own words for "no licence granted" and "read the file": not SPDX ids, and
  // spdx-correct would wrongly turn UNLICENSED into the Unlicense.
  const special = raws.filter((r): r is string => !!r && /^(UNLICENSED$|SEE LICEN[CS]E IN )/i.test(r.trim()));
  return [
    ...special.map((name) => ({ name: name.trim() })),
    ...licensesOf(raws.filter((r) => !r || !special.includes(r))),
  ];
}

/** package-lock.json: v2/v3 key packages by install path; v1 nests `dependencies` the same way. */
export function parsePackageLock(doc: Record<string, unknown>): LockGraph | undefined {
  const entries = new Map<string, Record<string, unknown>>();
  if (isRecord(doc.packages)) {
    for (const [key, value] of Object.entries(doc.packages)) if (isRecord(value)) entries.set(key, value);
  } else if (isRecord(doc.dependencies)) {
    // v1: turn the nested tree into v2's path keys, so one resolver serves both.
    const walk = (deps: Record<string, unknown>, parent: string) => {
      for (const [name, value] of Object.entries(deps)) {
        if (!isRecord(value)) continue;
        const key = `${parent ? `${parent}/` : ""}node_modules/${name}`;
        entries.set(key, {
          ...value,
          dependencies: stringMap(value.requires),
          name: aliasTarget(value.version) ?? name,
        });
        if (isRecord(value.dependencies)) walk(value.dependencies, key);
      }
    };
    walk(doc.dependencies, "");
  } else {
    return undefined;
  }
  const abs = (key: string) => `/${key}`;
  const target = (key: string): string => {
    const entry = entries.get(key);
    // A workspace link: node_modules/foo stands for the package at `resolved`.
    return entry?.link === true && typeof entry.resolved === "string" ? entry.resolved : key;
  };
  const packages: LockPackage[] = [];
  const edges: [string, string][] = [];
  for (const [key, entry] of entries) {
    if (entry.link === true) continue;
    const version = str(entry.version);
    const name = str(entry.name) ?? nameFromPath(key);
    if (key !== "" && version && name) {
      const integrity = str(entry.integrity);
      const pkg: LockPackage = { id: key, name, version: stripAlias(version), licenses: npmLicenses(entry) };
      if (integrity) pkg.integrity = integrity;
      packages.push(pkg);
    }
    const isProject = key === "" || !key.split("/").includes("node_modules");
    for (const dep of Object.keys(declaredDeps(entry, isProject))) {
      const found = nodeResolve(abs(key), dep, (p) => entries.has(p.slice(1)));
      if (found) edges.push([key, target(found.slice(1))]);
    }
  }
  const root = entries.get("") ?? doc;
  const rootDeps = doc.packages ? edges.filter(([from]) => from === "").map(([, to]) => to) : undefined;
  const graph: LockGraph = {
    format: "package-lock",
    packages,
    edges: edges.filter(([from]) => from !== ""),
    root: { name: str(root.name) ?? str(doc.name), version: str(root.version) ?? str(doc.version) },
  };
  if (rootDeps) graph.rootDeps = rootDeps;
  else
    graph.bySpec = Object.fromEntries([...entries.keys()].map((k) => [k.slice("node_modules/".length), k]));
  return graph;
}

/** `node_modules/@scope/name` → `@scope/name`; a workspace path → its last segment. */
function nameFromPath(key: string): string | undefined {
  const at = key.lastIndexOf("node_modules/");
  const rest = at < 0 ? key : key.slice(at + "node_modules/".length);
  return rest === "" ? undefined : at < 0 ? posix.basename(rest) : rest;
}

/** npm aliases: a dependency installed as `foo` from `npm:bar@1.2.3`. */
function aliasTarget(version: unknown): string | undefined {
  if (typeof version !== "string" || !version.startsWith("npm:")) return undefined;
  const spec = version.slice(4);
  return spec.slice(0, spec.lastIndexOf("@") > 0 ? spec.lastIndexOf("@") : spec.length);
}

function stripAlias(version: string): string {
  return version.startsWith("npm:") ? version.slice(version.lastIndexOf("@") + 1) : version;
}

/** `name@range` → [name, range]; the name may itself start with `@`. */
function splitSpec(spec: string): [string, string] {
  const at = spec.indexOf("@", 1);
  return at < 0 ? [spec, ""] : [spec.slice(0, at), spec.slice(at + 1)];
}

const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, "$1");

/** yarn.lock v1, the format classic Yarn writes (Yarn 2+ writes YAML with `__metadata`, not read here). */
export function parseYarnLock(text: string): LockGraph | undefined {
  if (/^__metadata:/m.test(text)) return undefined;
  const bySpec: Record<string, string> = {};
  const records: { id: string; name: string; version: string; integrity?: string; deps: string[] }[] = [];
  let current: (typeof records)[number] | undefined;
  let inDeps = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    if (!line.startsWith(" ")) {
      const specs = line.replace(/:\s*$/, "").split(/,\s*/).map(unquote);
      const [name, range] = splitSpec(specs[0] ?? "");
      // An alias (`foo@npm:bar@^1`) installs bar.
      const realName = range.startsWith("npm:") ? splitSpec(range.slice(4))[0] : name;
      current = { id: "", name: realName, version: "", deps: [] };
      records.push(current);
      for (const spec of specs) bySpec[spec] = String(records.length - 1);
      inDeps = false;
      continue;
    }
    if (!current) continue;
    const indent = line.length - line.trimStart().length;
    const [, key = "", rest = ""] = /^\s*("[^"]*"|\S+)\s*(.*)$/.exec(line) ?? [];
    if (indent <= 2) {
      inDeps = /^(dependencies|optionalDependencies):$/.test(key);
      if (key === "version") current.version = unquote(rest);
      if (key === "integrity") current.integrity = unquote(rest);
    } else if (inDeps) {
      current.deps.push(`${unquote(key)}@${unquote(rest)}`);
    }
  }
  for (const r of records) r.id = `${r.name}@${r.version}`;
  const resolved: Record<string, string> = {};
  for (const [spec, index] of Object.entries(bySpec)) {
    const record = records[Number(index)];
    if (record) resolved[spec] = record.id;
  }
  const packages = new Map<string, LockPackage>();
  const edges: [string, string][] = [];
  for (const r of records) {
    if (!r.name || !r.version) continue;
    const pkg: LockPackage = { id: r.id, name: r.name, version: r.version, licenses: [] };
    if (r.integrity) pkg.integrity = r.integrity;
    packages.set(r.id, pkg);
    for (const dep of r.deps) {
      const to = resolved[dep];
      if (to) edges.push([r.id, to]);
    }
  }
  return { format: "yarn", packages: [...packages.values()], edges, bySpec: resolved };
}

type Yaml = { [key: string]: Yaml | string };

/**
 * Just enough YAML for pnpm-lock.yaml: nested block maps of scalars.
 * Flow maps (`resolution: {integrity: …}`) stay raw strings and lists are
 * skipped; pnpm's lockfile needs nothing more for names, versions and edges.
 */
function parseYamlMaps(text: string): Yaml {
  const root: Yaml = {};
  const stack: { indent: number; map: Yaml }[] = [{ indent: -1, map: root }];
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line) || /^\s*- /.test(line)) continue;
    const indent = line.length - line.trimStart().length;
    // Matched after the indent: a leading `\s*` before the lazy key would backtrack quadratically.
    const match = /^('(?:[^']|'')*'|"[^"]*"|[^:]+?):(?:\s+(.*))?$/.exec(line.slice(indent));
    if (!match) continue;
    const key = (match[1] ?? "")
      .replace(/^'(.*)'$/, "$1")
      .replace(/''/g, "'")
      .replace(/^"(.*)"$/, "$1");
    while ((stack.at(-1)?.indent ?? -1) >= indent) stack.pop();
    const parent = (stack.at(-1) as { map: Yaml }).map;
    const value = match[2]?.trim();
    if (value === undefined || value === "") {
      const child: Yaml = {};
      parent[key] = child;
      stack.push({ indent, map: child });
    } else {
      parent[key] = value.replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1");
    }
  }
  return root;
}

/** pnpm-lock.yaml v6 (`/name@1.0.0(peer@2)` keys) and v9 (`name@1.0.0`, edges under `snapshots`). */
export function parsePnpmLock(text: string): LockGraph | undefined {
  const doc = parseYamlMaps(text);
  const version = Number.parseFloat(String(doc.lockfileVersion ?? ""));
  if (!(version >= 6) || typeof doc.packages !== "object") return undefined;
  // Peer suffixes `(react@18.2.0)` tell apart copies of one package: one package for us.
  const idOf = (key: string) => key.replace(/^\//, "").replace(/\(.*$/, "");
  const packages = new Map<string, LockPackage>();
  for (const [key, entry] of Object.entries(doc.packages)) {
    const id = idOf(key);
    const [name, ver] = splitSpec(id);
    if (!name || !ver) continue;
    const license =
      typeof entry === "object" && typeof entry.license === "string" ? entry.license : undefined;
    packages.set(id, { id, name, version: ver, licenses: licensesOf([license]) });
  }
  const target = (name: string, ref: unknown): string | undefined => {
    if (isRecord(ref)) ref = ref.version;
    if (typeof ref !== "string" || ref.startsWith("link:")) return undefined;
    // A plain version, or (aliases) a full `/other@1.0.0` / `other@1.0.0` id.
    const id = packages.has(idOf(ref)) ? idOf(ref) : `${name}@${idOf(ref)}`;
    return packages.has(id) ? id : undefined;
  };
  const edges: [string, string][] = [];
  const withDeps = typeof doc.snapshots === "object" ? doc.snapshots : doc.packages;
  for (const [key, entry] of Object.entries(withDeps)) {
    if (typeof entry !== "object") continue;
    for (const field of ["dependencies", "optionalDependencies"]) {
      const deps = entry[field];
      if (typeof deps !== "object") continue;
      for (const [name, ref] of Object.entries(deps)) {
        const to = target(name, ref);
        if (to) edges.push([idOf(key), to]);
      }
    }
  }
  const importer = typeof doc.importers === "object" ? doc.importers["."] : doc;
  const rootDeps: string[] = [];
  if (typeof importer === "object") {
    for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
      const deps = importer[field];
      if (typeof deps !== "object") continue;
      for (const [name, ref] of Object.entries(deps)) {
        const to = target(name, ref);
        if (to) rootDeps.push(to);
      }
    }
  }
  return { format: "pnpm", packages: [...packages.values()], edges, rootDeps };
}
