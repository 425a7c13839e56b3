/**
 * npm packages: what is installed under `node_modules` (the truth when it is
 * there), each project's own package.json, and lockfiles for projects that
 * were never installed. Dependency edges follow Node's resolution algorithm
 * over the installed tree, so they are the edges `npm ls` shows.
 *
 * Duplicates: one name@version installed at several paths (npm could not
 * hoist it) is one package, one purl, with every path as a location; two
 * versions of one name are two packages. So the package set is the set of
 * distinct name@version that `npm ls --all` prints, deduped entries included.
 */
import { posix } from "node:path";
import type { License, Package, Relationship } from "../model.js";
import { isRecord, locationOf, mergeByPurl, parseJson, purlOf, str } from "./language.js";
import {
  declaredDeps,
  type LockGraph,
  nodeResolve,
  npmLicenses,
  parsePackageLock,
  parsePnpmLock,
  parseYarnLock,
} from "./npm-lock.js";
import type { Cataloger, FileInfo, FoundFile } from "./types.js";

interface Manifest {
  kind: "manifest";
  name?: string;
  version?: string;
  licenses: License[];
  /** Dependency name → range: dependencies, optional and peer; dev too for a project root. */
  deps: Record<string, string>;
  /** devDependencies, kept apart: they only count for a project root. */
  devDeps: Record<string, string>;
  description?: string;
  homepage?: string;
  author?: string;
}

interface Lock {
  kind: "lock";
  graph: LockGraph;
}

export type NpmData = Manifest | Lock;

const LOCKFILES = ["package-lock.json", "yarn.lock", "pnpm-lock.yaml"];
/** A package's root inside node_modules: `…/node_modules/name/package.json` or `…/node_modules/@scope/name/package.json`. */
const INSTALLED = /\/node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;

export const npmCataloger: Cataloger<NpmData> = {
  name: "npm",
  maxFileSize: 64 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    const base = posix.basename(file.path);
    return base === "package.json" || LOCKFILES.includes(base);
  },
  parse(file, content, warnings) {
    const base = posix.basename(file.path);
    if (base === "yarn.lock") {
      const graph = parseYarnLock(content.toString("utf8"));
      if (!graph) warnings.push(`npm: ${file.path}: only yarn.lock v1 is read (Yarn 2+ lockfile skipped)`);
      return graph && { kind: "lock", graph };
    }
    if (base === "pnpm-lock.yaml") {
      const graph = parsePnpmLock(content.toString("utf8"));
      if (!graph) warnings.push(`npm: ${file.path}: only pnpm lockfile v6 and v9 are read`);
      return graph && { kind: "lock", graph };
    }
    const doc = parseJson("npm", file, content, warnings);
    if (!isRecord(doc)) return undefined;
    if (base === "package-lock.json") {
      const graph = parsePackageLock(doc);
      if (!graph) warnings.push(`npm: ${file.path}: neither packages nor dependencies: not a package-lock`);
      return graph && { kind: "lock", graph };
    }
    const manifest: Manifest = {
      kind: "manifest",
      licenses: npmLicenses(doc),
      deps: declaredDeps(doc, false),
      devDeps: declaredDeps({ devDependencies: doc.devDependencies }, true),
    };
    const set = (
      key: "name" | "version" | "description" | "homepage" | "author",
      value: string | undefined,
    ) => {
      if (value !== undefined) manifest[key] = value;
    };
    set("name", str(doc.name));
    set("version", str(doc.version));
    set("description", str(doc.description));
    set("homepage", str(doc.homepage));
    set("author", authorName(doc.author));
    return manifest;
  },
  finish(found) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    /** Package directory → purl, for every installed package and project root. */
    const byDir = new Map<string, string>();
    const manifests: { dir: string; file: FileInfo; data: Manifest }[] = [];
    const locks = new Map<string, { file: FileInfo; graph: LockGraph }[]>();
    for (const f of found) {
      const dir = posix.dirname(f.file.path);
      if (f.data.kind === "lock")
        locks.set(dir, [...(locks.get(dir) ?? []), { file: f.file, graph: f.data.graph }]);
      else manifests.push({ dir, file: f.file, data: f.data });
    }
    // Installed packages: name and version both needed (test fixtures often lack them).
    const installed = manifests.filter((m) => INSTALLED.test(m.file.path) && m.data.name && m.data.version);
    for (const m of installed) {
      const pkg = fromManifest(m.data, m.file);
      packages.push(pkg);
      byDir.set(m.dir, pkg.purl);
    }
    // Project roots: a package.json outside node_modules with an installed tree or a lockfile beside it.
    const hasTree = (dir: string) =>
      installed.some((m) => m.dir.startsWith(posix.join(dir, "node_modules/")));
    const roots = manifests.filter(
      (m) => !m.file.path.includes("/node_modules/") && m.data.name && (hasTree(m.dir) || locks.has(m.dir)),
    );
    for (const m of roots) {
      const pkg = fromManifest(m.data, m.file);
      packages.push(pkg);
      if (hasTree(m.dir)) byDir.set(m.dir, pkg.purl);
    }
    for (const m of [...installed, ...roots.filter((r) => byDir.has(r.dir))]) {
      const from = byDir.get(m.dir) as string;
      const isRoot = !m.file.path.includes("/node_modules/");
      const names = Object.keys({ ...m.data.deps, ...(isRoot ? m.data.devDeps : {}) });
      for (const name of names) {
        const dir = nodeResolve(m.dir, name, (p) => byDir.has(p));
        if (dir) relationships.push({ from, to: byDir.get(dir) as string, type: "depends-on" });
      }
    }
    // Lockfiles count only where nothing is installed: the installed tree is the truth.
    for (const [dir, list] of locks) {
      if (hasTree(dir)) continue;
      const chosen = [...list].sort(
        (a, b) =>
          LOCKFILES.indexOf(posix.basename(a.file.path)) - LOCKFILES.indexOf(posix.basename(b.file.path)),
      )[0];
      if (!chosen) continue;
      const root = roots.find((r) => r.dir === dir);
      const fromLock = lockPackages(chosen.graph, chosen.file, root?.data);
      packages.push(...fromLock.packages);
      relationships.push(...fromLock.relationships);
      if (!root && fromLock.rootPackage) packages.push(fromLock.rootPackage);
    }
    return { packages: mergeByPurl(packages), relationships };
  },
};

function fromManifest(m: Manifest, file: FileInfo): Package {
  const name = m.name as string;
  const pkg: Package = {
    name,
    version: m.version ?? "",
    type: "npm",
    purl: npmPurl(name, m.version),
    licenses: m.licenses,
    locations: [locationOf(file)],
    foundBy: "npm",
  };
  if (m.description) pkg.description = m.description;
  if (m.homepage) pkg.homepage = m.homepage;
  if (m.author) pkg.supplier = m.author;
  return pkg;
}

export function npmPurl(name: string, version: string | undefined): string {
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  return slash > 0
    ? purlOf("npm", name.slice(0, slash), name.slice(slash + 1), version)
    : purlOf("npm", undefined, name, version);
}

/** The packages and edges a lockfile records; the project itself from its package.json, else from the lock. */
function lockPackages(
  graph: LockGraph,
  file: FileInfo,
  root: Manifest | undefined,
): { packages: Package[]; relationships: Relationship[]; rootPackage?: Package } {
  const purls = new Map<string, string>();
  const packages: Package[] = graph.packages.map((p) => {
    const purl = npmPurl(p.name, p.version);
    purls.set(p.id, purl);
    const pkg: Package = {
      name: p.name,
      version: p.version,
      type: "npm",
      purl,
      licenses: p.licenses,
      locations: [locationOf(file)],
      foundBy: "npm",
    };
    if (p.integrity) pkg.properties = { integrity: p.integrity };
    return pkg;
  });
  const relationships: Relationship[] = [];
  const edge = (from: string | undefined, to: string | undefined) => {
    if (from && to) relationships.push({ from, to, type: "depends-on" });
  };
  for (const [from, to] of graph.edges) edge(purls.get(from), purls.get(to));
  const rootName = root?.name ?? graph.root?.name;
  if (!rootName) return { packages, relationships };
  const rootPurl = npmPurl(rootName, root?.version ?? graph.root?.version);
  if (graph.rootDeps) {
    for (const id of graph.rootDeps) edge(rootPurl, purls.get(id));
  } else if (root) {
    for (const [name, range] of Object.entries({ ...root.deps, ...root.devDeps })) {
      const id = graph.bySpec?.[`${name}@${range}`] ?? graph.bySpec?.[name];
      edge(rootPurl, id === undefined ? undefined : purls.get(id));
    }
  }
  if (root) return { packages, relationships };
  const rootPackage: Package = {
    name: rootName,
    version: graph.root?.version ?? "",
    type: "npm",
    purl: rootPurl,
    licenses: [],
    locations: [locationOf(file)],
    foundBy: "npm",
  };
  return { packages, relationships, rootPackage };
}

/** `author` is a string `Name <email> (url)` or `{name, email, url}`. */
function authorName(author: unknown): string | undefined {
  if (isRecord(author)) return str(author.name);
  const text = str(author);
  return text?.replace(/\s*[<(].*$/, "").trim() || undefined;
}
