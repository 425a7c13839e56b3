/**
 * Ruby gems: the `specifications/*.gemspec` files RubyGems writes for every
 * installed gem (`specifications/default/` for the gems bundled with Ruby;
 * Debian keeps its own under /usr/share/rubygems-integration). They are Ruby
 * code in the fixed shape `Gem::Specification#to_ruby` generates, so they are
 * read as text, never run. Runtime dependencies link gems installed in the
 * same gem directory or any other (RubyGems searches all of GEM_PATH).
 */
import type { Package, Relationship } from "../model.js";
import { licensesOf, locationOf, mergeByPurl, purlOf } from "./language.js";
import type { Cataloger, FoundFile } from "./types.js";

export interface Gemspec {
  name: string;
  version: string;
  licenses: string[];
  runtimeDeps: string[];
  summary?: string;
  homepage?: string;
  authors?: string;
  platform?: string;
}

const SPEC = /\/specifications\/(default\/)?[^/]+\.gemspec$/;

export const gemCataloger: Cataloger<Gemspec> = {
  name: "gem",
  maxFileSize: 4 * 1024 * 1024,
  wants(file) {
    return SPEC.test(file.path);
  },
  parse(file, content, warnings) {
    const spec = parseGemspec(content.toString("utf8"));
    if (!spec) warnings.push(`gem: ${file.path}: no s.name or s.version: not a generated gemspec`);
    return spec;
  },
  finish(found: FoundFile<Gemspec>[]) {
    const packages: Package[] = [];
    const byName = new Map<string, string>();
    for (const { file, data } of found) {
      const pkg: Package = {
        name: data.name,
        version: data.version,
        type: "gem",
        purl: purlOf("gem", undefined, data.name, data.version),
        licenses: licensesOf(data.licenses),
        locations: [locationOf(file)],
        foundBy: "gem",
      };
      if (data.summary) pkg.description = data.summary;
      if (data.homepage) pkg.homepage = data.homepage;
      if (data.authors) pkg.supplier = data.authors;
      const properties: Record<string, string> = {};
      if (SPEC.exec(file.path)?.[1]) properties.defaultGem = "true";
      if (data.platform && data.platform !== "ruby") properties.platform = data.platform;
      if (Object.keys(properties).length > 0) pkg.properties = properties;
      packages.push(pkg);
      byName.set(data.name, pkg.purl);
    }
    const relationships: Relationship[] = [];
    for (const { data } of found) {
      const from = byName.get(data.name) as string;
      for (const dep of data.runtimeDeps) {
        const to = byName.get(dep);
        if (to) relationships.push({ from, to, type: "depends-on" });
      }
    }
    return { packages: mergeByPurl(packages), relationships };
  },
};

/** A Ruby string literal as to_ruby writes them: `"x"`, `'x'` or `%q{x}` / `%q<x>`, optionally `.freeze`. */
const STRING = String.raw`(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%q[{<(\[]([^}>)\]]*)[}>)\]])`;

function literal(m: RegExpExecArray | RegExpMatchArray, first = 1): string {
  const raw = m[first] ?? m[first + 1] ?? m[first + 2] ?? "";
  return raw.replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
}

function assigned(text: string, field: string): string | undefined {
  const m = new RegExp(String.raw`^[ \t]*s\.${field}\s*=\s*${STRING}`, "m").exec(text);
  return m ? literal(m) : undefined;
}

function assignedList(text: string, field: string): string[] {
  const m = new RegExp(String.raw`^[ \t]*s\.${field}\s*=\s*\[(.*)\]`, "m").exec(text);
  if (!m) return [];
  return [...(m[1] as string).matchAll(new RegExp(STRING, "g"))].map((x) => literal(x));
}

export function parseGemspec(text: string): Gemspec | undefined {
  const name = assigned(text, "name");
  // `s.version = "1.2.3"` (to_ruby) or `Gem::Version.new("1.2.3")`.
  const version =
    assigned(text, "version") ??
    (() => {
      const m = new RegExp(String.raw`^[ \t]*s\.version\s*=\s*Gem::Version\.new\(${STRING}`, "m").exec(text);
      return m ? literal(m) : undefined;
    })();
  if (!name || !version) return undefined;
  const license = assigned(text, "license");
  const spec: Gemspec = {
    name,
    version,
    licenses: [...assignedList(text, "licenses"), ...(license ? [license] : [])],
    runtimeDeps: runtimeDependencies(text),
  };
  const summary = assigned(text, "summary");
  const homepage = assigned(text, "homepage");
  const authors = assignedList(text, "authors");
  const platform = assigned(text, "platform");
  if (summary) spec.summary = summary;
  if (homepage) spec.homepage = homepage;
  if (authors.length > 0) spec.authors = authors.join(", ");
  if (platform) spec.platform = platform;
  return spec;
}

/**
 * Runtime dependencies. Older generated specs list every dependency twice:
 * as add_runtime/add_development_dependency, and again in an `else` branch
 * as plain add_dependency (dev ones included), so plain add_dependency
 * counts only where the typed forms are absent.
 */
function runtimeDependencies(text: string): string[] {
  const calls = (kind: string) =>
    [...text.matchAll(new RegExp(String.raw`s\.${kind}\(\s*${STRING}`, "g"))].map((m) => literal(m));
  const runtime = calls("add_runtime_dependency");
  const typed = runtime.length > 0 || /s\.add_development_dependency\(/.test(text);
  return [...new Set(typed ? runtime : calls("add_dependency"))];
}
