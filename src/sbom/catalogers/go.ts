/**
 * Go binaries: the modules compiled in, from the build info the Go linker
 * embeds (see go-buildinfo.ts). Each binary gives its main module, every
 * dependency module (with its go.sum hash), and the Go standard library as
 * `stdlib` at the toolchain's version, since its vulnerabilities ship inside
 * every binary built with it.
 */
import type { Package, Relationship } from "../model.js";
import { type GoBuildInfo, type GoModule, readGoBuildInfo } from "./go-buildinfo.js";
import { locationOf, purlOf } from "./language.js";
import type { Cataloger, FileInfo, FoundFile } from "./types.js";

/** Executables are read whole; bigger ones are skipped with a warning (memory stays bounded). */
export const MAX_BINARY_SIZE = 256 * 1024 * 1024;
const MIN_BINARY_SIZE = 1024;

/** A file that may be a program: executable bits set, or a Windows `.exe`. */
export function isProgram(file: FileInfo): boolean {
  return file.size >= MIN_BINARY_SIZE && ((file.mode & 0o111) !== 0 || /\.exe$/i.test(file.path));
}

/** Settings worth carrying as properties; the rest (-ldflags, CGO_CFLAGS...) are build noise. */
const SETTINGS =
  /^(GOOS|GOARCH|GOAMD64|GOARM|GO386|CGO_ENABLED|-compiler|-trimpath|-tags|-buildmode|vcs(\..+)?)$/;

export const goCataloger: Cataloger<GoBuildInfo> = {
  name: "go",
  maxFileSize: MAX_BINARY_SIZE,
  wants: isProgram,
  parse(_file, content) {
    // Most programs are not Go binaries: no warning for those.
    return readGoBuildInfo(content);
  },
  finish(found: FoundFile<GoBuildInfo>[]) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    for (const { file, data } of found) {
      const common = { goVersion: data.goVersion };
      const main = mainPackage(data, file);
      packages.push(main);
      const stdlib = goPackage({ path: "stdlib", version: stdlibVersion(data.goVersion) }, file, common);
      packages.push(stdlib);
      relationships.push({ from: main.purl, to: stdlib.purl, type: "depends-on" });
      for (const dep of data.deps) {
        const pkg = goPackage(dep, file, common);
        packages.push(pkg);
        relationships.push({ from: main.purl, to: pkg.purl, type: "depends-on" });
      }
    }
    return { packages, relationships };
  },
};

/** `go1.19.8` → `1.19.8`, as the Go vulnerability database versions the standard library. */
function stdlibVersion(goVersion: string): string {
  return goVersion.replace(/^go/, "").replace(/\s.*$/, "");
}

/**
 * The main module from its `mod` line; a binary built outside module mode
 * (Debian builds in GOPATH mode) has only a `path`: reported by that path
 * with no version, so the binary still appears.
 */
function mainPackage(info: GoBuildInfo, file: FileInfo): Package {
  const module = info.main ?? { path: info.path ?? file.path, version: "" };
  const properties: Record<string, string> = { goVersion: info.goVersion, mainModule: "true" };
  if (info.path) properties.mainPackage = info.path;
  for (const [key, value] of info.settings) if (SETTINGS.test(key)) properties[`go.${key}`] = value;
  return goPackage(module, file, properties);
}

/**
 * A module replaced by another module version is reported as what was
 * compiled in (the replacement), noting what it replaced; one replaced by
 * a local directory keeps its own path, with `(devel)` as version (the
 * code is whatever that directory held) and the directory as a property.
 */
function goPackage(module: GoModule, file: FileInfo, extra: Record<string, string>): Package {
  const properties: Record<string, string> = { ...extra };
  let { path, version, sum } = module;
  const replace = module.replace;
  if (replace) {
    properties.replaces = `${module.path}${module.version ? `@${module.version}` : ""}`;
    if (replace.version === "" || /^[./]/.test(replace.path)) {
      properties.replacementDir = replace.path;
      version = "(devel)";
      sum = undefined;
    } else {
      path = replace.path;
      version = replace.version;
      sum = replace.sum;
    }
  }
  if (sum) properties.h1Digest = sum;
  return {
    name: path,
    version,
    type: "go-module",
    purl: goPurl(path, version),
    licenses: [],
    locations: [locationOf(file)],
    foundBy: "go",
    properties,
  };
}

/** `pkg:golang/github.com/x/y@v1.2.3`: namespace up to the last `/`; `(devel)` is no version. */
export function goPurl(path: string, version: string): string {
  const slash = path.lastIndexOf("/");
  const namespace = slash > 0 ? path.slice(0, slash) : undefined;
  const name = slash > 0 ? path.slice(slash + 1) : path;
  const v = version === "(devel)" ? undefined : version;
  try {
    return purlOf("golang", namespace, name, v);
  } catch {
    // packageurl-js rejects `v`-versions that are not semver; the purl spec itself does not.
    return purlOf("golang", namespace, name, undefined) + (v ? `@${encodeURIComponent(v)}` : "");
  }
}
