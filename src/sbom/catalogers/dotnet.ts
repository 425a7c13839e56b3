/**
 * .NET applications: the `*.deps.json` the SDK writes beside every built
 * app. `libraries` entries of type `package` are the NuGet packages
 * (`project` entries are the app's own projects, `reference`/`runtimepack`
 * are framework pieces, not NuGet packages); the dependency edges come from
 * `targets`, which list what each library depends on.
 */
import type { Package, Relationship } from "../model.js";
import { isRecord, locationOf, mergeByPurl, parseJson, purlOf, str, stringMap } from "./language.js";
import type { Cataloger, FoundFile } from "./types.js";

export interface NugetLibrary {
  name: string;
  version: string;
  sha512?: string;
  path?: string;
  /** `Name/Version` keys of the libraries this one depends on. */
  dependencies: string[];
}

export const dotnetCataloger: Cataloger<NugetLibrary[]> = {
  name: "dotnet",
  maxFileSize: 32 * 1024 * 1024,
  wants(file) {
    return file.path.endsWith(".deps.json");
  },
  parse(file, content, warnings) {
    const doc = parseJson("dotnet", file, content, warnings);
    if (doc === undefined) return undefined;
    if (!isRecord(doc) || !isRecord(doc.libraries)) {
      warnings.push(`dotnet: ${file.path}: no "libraries" object: not a deps.json`);
      return undefined;
    }
    // Dependencies per library key, merged over every target (framework, and runtime-specific ones).
    const depsByKey = new Map<string, Set<string>>();
    if (isRecord(doc.targets)) {
      for (const target of Object.values(doc.targets)) {
        if (!isRecord(target)) continue;
        for (const [key, entry] of Object.entries(target)) {
          if (!isRecord(entry)) continue;
          const set = depsByKey.get(key) ?? new Set<string>();
          for (const [name, version] of Object.entries(stringMap(entry.dependencies)))
            set.add(`${name}/${version}`);
          depsByKey.set(key, set);
        }
      }
    }
    const out: NugetLibrary[] = [];
    for (const [key, entry] of Object.entries(doc.libraries)) {
      if (!isRecord(entry) || entry.type !== "package") continue;
      const slash = key.lastIndexOf("/");
      if (slash <= 0 || slash === key.length - 1) continue;
      const lib: NugetLibrary = {
        name: key.slice(0, slash),
        version: key.slice(slash + 1),
        dependencies: [...(depsByKey.get(key) ?? [])],
      };
      const sha512 = str(entry.sha512);
      const path = str(entry.path);
      if (sha512) lib.sha512 = sha512;
      if (path) lib.path = path;
      out.push(lib);
    }
    return out;
  },
  finish(found: FoundFile<NugetLibrary[]>[]) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    for (const { file, data } of found) {
      // NuGet ids are case-insensitive: dependencies may spell them differently.
      const byKey = new Map<string, string>();
      for (const lib of data) {
        const properties: Record<string, string> = {};
        if (lib.sha512) properties.sha512 = lib.sha512;
        if (lib.path) properties.path = lib.path;
        const pkg: Package = {
          name: lib.name,
          version: lib.version,
          type: "dotnet",
          purl: purlOf("nuget", undefined, lib.name, lib.version),
          licenses: [],
          locations: [locationOf(file)],
          foundBy: "dotnet",
          properties,
        };
        packages.push(pkg);
        byKey.set(`${lib.name}/${lib.version}`.toLowerCase(), pkg.purl);
      }
      for (const lib of data) {
        const from = byKey.get(`${lib.name}/${lib.version}`.toLowerCase()) as string;
        for (const dep of lib.dependencies) {
          const to = byKey.get(dep.toLowerCase());
          if (to) relationships.push({ from, to, type: "depends-on" });
        }
      }
    }
    return { packages: mergeByPurl(packages), relationships };
  },
};
