/**
 * What one Java archive (.jar, .war, .ear and the plugin variants) says it
 * is, nested archives included: Maven's `META-INF/maven/G/A/pom.properties`
 * (the coordinates Maven itself wrote), licences from the `pom.xml` beside
 * it and the manifest's `Bundle-License`, and `META-INF/MANIFEST.MF`
 * (Implementation-* and Bundle-* fields) when there is no Maven record.
 * Every read is bounded: per entry, per archive tree, and in depth.
 */
import { posix } from "node:path";
import { readZipEntry, type ZipEntry, zipEntries } from "./zip.js";

export interface JavaArtifact {
  groupId?: string;
  artifactId: string;
  version: string;
  /** Where the coordinates came from: Maven's record, or the manifest and file name. */
  source: "pom.properties" | "manifest";
  licenses: string[];
  /** Inside the file: `WEB-INF/lib/a.jar` or `lib/b.war!/WEB-INF/lib/c.jar`; empty for the file itself. */
  nestedPath: string;
  /** Index (in the same list) of the artifact that contains this one: the outer archive, or the shading jar. */
  parent?: number;
  manifest?: Record<string, string>;
}

export interface ArchiveLimits {
  /** Largest metadata entry read (pom.properties, pom.xml, MANIFEST.MF). */
  metadata: number;
  /** Largest nested archive inflated. */
  nested: number;
  /** Total bytes inflated for one file in the image, nested archives included. */
  total: number;
  depth: number;
}

export const DEFAULT_LIMITS: ArchiveLimits = {
  metadata: 1024 * 1024,
  nested: 64 * 1024 * 1024,
  total: 256 * 1024 * 1024,
  depth: 4,
};

export const ARCHIVE = /\.(jar|war|ear|jpi|hpi|par|sar|rar|kar)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const MANIFEST_KEYS = [
  "Implementation-Title",
  "Implementation-Version",
  "Implementation-Vendor",
  "Implementation-Vendor-Id",
  "Specification-Title",
  "Specification-Version",
  "Bundle-SymbolicName",
  "Bundle-Name",
  "Bundle-Version",
  "Bundle-License",
  "Automatic-Module-Name",
];

export function readJavaArchive(
  bytes: Buffer,
  fileName: string,
  warnings: string[],
  limits: ArchiveLimits = DEFAULT_LIMITS,
): JavaArtifact[] {
  const out: JavaArtifact[] = [];
  const budget = { left: limits.total };
  readOne(bytes, fileName, "", undefined, 0, out, warnings, limits, budget, fileName);
  return out;
}

function readOne(
  bytes: Buffer,
  name: string,
  nestedPath: string,
  parent: number | undefined,
  depth: number,
  out: JavaArtifact[],
  warnings: string[],
  limits: ArchiveLimits,
  budget: { left: number },
  where: string,
): void {
  let entries: ZipEntry[] | string;
  try {
    entries = zipEntries(bytes);
  } catch (error) {
    entries = (error as Error).message;
  }
  if (typeof entries === "string") {
    warnings.push(`java: ${where}: ${entries}`);
    return;
  }
  const read = (entry: ZipEntry, limit: number): Buffer | undefined => {
    const result = readZipEntry(bytes, entry, Math.min(limit, budget.left));
    if (typeof result === "string") {
      warnings.push(`java: ${where}: ${result}`);
      // Cut short by what was left of the budget: the budget is spent.
      if (budget.left < limit) budget.left = 0;
      return undefined;
    }
    budget.left -= result.length;
    return result;
  };
  const byName = new Map(entries.map((e) => [e.name, e]));
  const manifestEntry = byName.get("META-INF/MANIFEST.MF");
  const manifestBytes = manifestEntry && read(manifestEntry, limits.metadata);
  const manifest = manifestBytes ? parseManifest(manifestBytes.toString("utf8")) : {};
  const manifestLicenses = bundleLicenses(manifest["Bundle-License"]);

  const poms: JavaArtifact[] = [];
  for (const entry of entries) {
    if (!POM_PROPERTIES.test(entry.name)) continue;
    const text = read(entry, limits.metadata);
    if (!text) continue;
    const props = parseProperties(text.toString("utf8"));
    if (!props.artifactId || !props.version) continue;
    const pomXml = byName.get(posix.join(posix.dirname(entry.name), "pom.xml"));
    const xml = pomXml && read(pomXml, limits.metadata);
    const artifact: JavaArtifact = {
      artifactId: props.artifactId,
      version: props.version,
      source: "pom.properties",
      licenses: xml ? pomLicenses(xml.toString("utf8")) : [],
      nestedPath,
    };
    if (props.groupId) artifact.groupId = props.groupId;
    poms.push(artifact);
  }

  // The archive's own record: its only pom.properties, or the one its file name is named after.
  const base = posix.basename(name).replace(ARCHIVE, "");
  const own =
    poms.length === 1
      ? poms[0]
      : poms.find((p) => base === p.artifactId || base.startsWith(`${p.artifactId}-${p.version}`));
  let self: number | undefined;
  if (own) {
    if (own.licenses.length === 0) own.licenses = manifestLicenses;
    if (parent !== undefined) own.parent = parent;
    own.manifest = pick(manifest);
    self = out.push(own) - 1;
  } else {
    const fromManifest = manifestArtifact(manifest, base, nestedPath, manifestLicenses);
    if (fromManifest) {
      if (parent !== undefined) fromManifest.parent = parent;
      self = out.push(fromManifest) - 1;
    }
  }
  // Other Maven records are jars shaded into this one.
  for (const p of poms) {
    if (p === own) continue;
    const container = self ?? parent;
    if (container !== undefined) p.parent = container;
    out.push(p);
  }

  if (depth >= limits.depth) {
    if (entries.some((e) => ARCHIVE.test(e.name))) {
      warnings.push(`java: ${where}: archives nested deeper than ${limits.depth} levels not read`);
    }
    return;
  }
  for (const entry of entries) {
    if (!ARCHIVE.test(entry.name) || entry.name.endsWith("/")) continue;
    if (budget.left <= 0) {
      warnings.push(`java: ${where}: stopped after ${limits.total} bytes inflated`);
      return;
    }
    const inner = read(entry, limits.nested);
    if (!inner) continue;
    const innerPath = nestedPath ? `${nestedPath}!/${entry.name}` : entry.name;
    readOne(
      inner,
      entry.name,
      innerPath,
      self ?? parent,
      depth + 1,
      out,
      warnings,
      limits,
      budget,
      `${where}!/${entry.name}`,
    );
  }
}

/** No Maven record: the manifest's title and version, else the file name's `name-1.2.3`. */
function manifestArtifact(
  manifest: Record<string, string>,
  base: string,
  nestedPath: string,
  licenses: string[],
): JavaArtifact | undefined {
  const fromName = /^(.+?)-(\d[\w.]*(?:-[\w.]+)*)$/.exec(base);
  const artifactId = fromName?.[1] ?? base;
  const version =
    manifest["Implementation-Version"] ??
    manifest["Bundle-Version"] ??
    manifest["Specification-Version"] ??
    fromName?.[2];
  if (!artifactId || !version) return undefined;
  const artifact: JavaArtifact = {
    artifactId,
    version,
    source: "manifest",
    licenses,
    nestedPath,
    manifest: pick(manifest),
  };
  // maven-archiver writes the groupId as Implementation-Vendor-Id.
  const groupId = manifest["Implementation-Vendor-Id"];
  if (groupId) artifact.groupId = groupId;
  return artifact;
}

function pick(manifest: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of MANIFEST_KEYS) if (manifest[key]) out[key] = manifest[key];
  return out;
}

/** MANIFEST.MF's main section: `Key: value`, continuation lines start with one space. */
export function parseManifest(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (line.startsWith(" ") && last) {
      out[last] += line.slice(1);
      continue;
    }
    const colon = line.indexOf(": ");
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    out[last] = line.slice(colon + 2);
  }
  for (const key of Object.keys(out)) out[key] = (out[key] as string).trim();
  return out;
}

/** java.util.Properties, the subset Maven writes: `key=value`, `#` comments. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}

/**
 * `<licenses><license><name>` of a pom.xml (inherited licences are not
 * visible here). indexOf, not lazy regexes: a hostile pom with many
 * unclosed tags must not cost quadratic time.
 */
function pomLicenses(xml: string): string[] {
  const start = xml.indexOf("<licenses>");
  const end = start < 0 ? -1 : xml.indexOf("</licenses>", start);
  if (end < 0) return [];
  const out: string[] = [];
  for (const license of xml.slice(start, end).split("<license>").slice(1)) {
    const open = license.indexOf("<name>");
    const close = open < 0 ? -1 : license.indexOf("</name>", open);
    const name = close < 0 ? "" : license.slice(open + "<name>".length, close).trim();
    if (name && !name.includes("<")) out.push(name);
  }
  return out;
}

/** Well-known licence URLs as SPDX ids: OSGi's Bundle-License is often just a URL. */
const LICENSE_URLS: [RegExp, string][] = [
  [/apache\.org\/licenses\/LICENSE-2\.0/i, "Apache-2.0"],
  [/opensource\.org\/licenses\/MIT/i, "MIT"],
  [/eclipse\.org\/legal\/epl-v10/i, "EPL-1.0"],
  [/eclipse\.org\/legal\/epl-(v20|2\.0)/i, "EPL-2.0"],
  [/opensource\.org\/licenses\/BSD-3-Clause/i, "BSD-3-Clause"],
  [/gnu\.org\/licenses\/lgpl-2\.1/i, "LGPL-2.1-only"],
];

/** OSGi `Bundle-License`: comma-separated `name-or-url;link=...;description=...` clauses. */
function bundleLicenses(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((clause) => (clause.split(";")[0] ?? "").trim().replace(/^"|"$/g, ""))
    .filter((name) => name !== "" && name !== "<<EXTERNAL>>")
    .map((name) => LICENSE_URLS.find(([re]) => re.test(name))?.[1] ?? name);
}
