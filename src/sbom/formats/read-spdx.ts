/**
 * Reads SPDX 2.2 and 2.3 JSON into the model: from shipgate itself, syft,
 * Trivy and any tool that gives packages a purl external reference.
 * `Key: value` annotations (shipgate's, Trivy's) and Trivy's older
 * attributionTexts carry what SPDX has no field for.
 */
import { z } from "zod";
import type { Distro, License, Package, Relationship, Sbom, SbomSource } from "../model.js";
import { licenseOf, splitConjunction } from "./common.js";
import {
  distroFromPackages,
  fullVersion,
  isoSeconds,
  packageType,
  parsePurl,
  parseWith,
  sourceFromPurl,
  toolFromCreator,
} from "./read-common.js";

const SpdxPackage = z.object({
  SPDXID: z.string(),
  name: z.string(),
  versionInfo: z.string().optional(),
  supplier: z.string().optional(),
  originator: z.string().optional(),
  homepage: z.string().optional(),
  description: z.string().optional(),
  summary: z.string().optional(),
  sourceInfo: z.string().optional(),
  licenseDeclared: z.string().optional(),
  licenseConcluded: z.string().optional(),
  primaryPackagePurpose: z.string().optional(),
  checksums: z.array(z.object({ algorithm: z.string(), checksumValue: z.string() })).optional(),
  externalRefs: z
    .array(
      z.object({ referenceCategory: z.string(), referenceType: z.string(), referenceLocator: z.string() }),
    )
    .optional(),
  annotations: z.array(z.object({ comment: z.string() })).optional(),
  attributionTexts: z.array(z.string()).optional(),
});
type SpdxPackage = z.infer<typeof SpdxPackage>;

const Spdx = z.object({
  spdxVersion: z.string().regex(/^SPDX-2\.[23]$/, "shipgate reads SPDX 2.2 and 2.3 JSON"),
  SPDXID: z.string(),
  name: z.string(),
  creationInfo: z.object({
    created: z.string(),
    creators: z.array(z.string()),
    comment: z.string().optional(),
  }),
  documentDescribes: z.array(z.string()).optional(),
  packages: z.array(SpdxPackage).optional(),
  relationships: z
    .array(
      z.object({ spdxElementId: z.string(), relationshipType: z.string(), relatedSpdxElement: z.string() }),
    )
    .optional(),
  hasExtractedLicensingInfos: z
    .array(
      z.object({ licenseId: z.string(), name: z.string().optional(), extractedText: z.string().optional() }),
    )
    .optional(),
});

const UNKNOWN = new Set(["NOASSERTION", "NONE", ""]);

/** `Key: value` notes of a package, by key. */
function notesOf(pkg: SpdxPackage): Map<string, string[]> {
  const notes = new Map<string, string[]>();
  for (const text of [...(pkg.annotations ?? []).map((a) => a.comment), ...(pkg.attributionTexts ?? [])]) {
    const match = /^([A-Za-z][\w-]*):\s?(.*)$/s.exec(text);
    if (!match) continue;
    notes.set(match[1] as string, [...(notes.get(match[1] as string) ?? []), match[2] as string]);
  }
  return notes;
}

function purlOf(pkg: SpdxPackage) {
  const ref = pkg.externalRefs?.find(
    (r) => /^PACKAGE[-_]MANAGER$/.test(r.referenceCategory) && r.referenceType === "purl",
  );
  return ref ? parsePurl(ref.referenceLocator) : undefined;
}

/** `Person: Name (email)` / `Organization: Name` → `Name <email>` / `Name`. */
function supplierOf(text: string | undefined): string | undefined {
  if (text === undefined || UNKNOWN.has(text.trim())) return undefined;
  const body = text.replace(/^(Person|Organization|Tool):\s*/, "").trim();
  const match = /^(.*?)\s*\(([^()\s]+@[^()\s]+)\)$/.exec(body);
  return match ? `${match[1]} <${match[2]}>` : body;
}

function licensesOf(pkg: SpdxPackage, extracted: Map<string, string>): License[] {
  const value = [pkg.licenseDeclared, pkg.licenseConcluded].find((v) => v !== undefined && !UNKNOWN.has(v));
  if (value === undefined) return [];
  const out: License[] = [];
  for (const part of splitConjunction(value)) {
    const license = extracted.has(part) ? { name: extracted.get(part) as string } : licenseOf(part);
    if (!out.some((l) => l.expression === license.expression && l.name === license.name)) out.push(license);
  }
  return out;
}

function toPackage(pkg: SpdxPackage, extracted: Map<string, string>, foundByDefault: string) {
  const purl = purlOf(pkg);
  if (!purl) return undefined;
  const notes = notesOf(pkg);
  const first = (key: string) => notes.get(key)?.[0];
  const built = /^built package from:\s*(\S+)(?:\s+(\S+))?/.exec(pkg.sourceInfo ?? "");
  const srcName = first("SrcName") ?? built?.[1];
  const srcVersion = first("SrcName") ? first("SrcVersion") : (built?.[2] ?? first("SrcVersion"));
  const source = srcName
    ? { name: srcName, ...(srcVersion ? { version: srcVersion } : {}) }
    : sourceFromPurl(purl.parsed);
  const locations = (notes.get("Location") ?? []).map((text) => {
    const m = /^(.*?)(?: in layer (\S+))?$/.exec(text) as RegExpExecArray;
    return { path: m[1] as string, ...(m[2] ? { layerDigest: m[2] } : {}) };
  });
  const trivyLayer = first("LayerDigest");
  if (locations.length === 0 && (trivyLayer || first("FilePath"))) {
    locations.push({ path: first("FilePath") ?? "", ...(trivyLayer ? { layerDigest: trivyLayer } : {}) });
  }
  const properties: Record<string, string> = {};
  for (const text of notes.get("Property") ?? []) {
    const eq = text.indexOf("=");
    if (eq > 0) properties[text.slice(0, eq)] = text.slice(eq + 1);
  }
  const arch = first("Arch") ?? purl.parsed.qualifiers?.arch;
  const supplier = supplierOf(pkg.supplier) ?? supplierOf(pkg.originator);
  const homepage = pkg.homepage && !UNKNOWN.has(pkg.homepage) ? pkg.homepage : undefined;
  const description = pkg.description ?? pkg.summary;
  const result: Package = {
    name: pkg.name,
    version: fullVersion(pkg.versionInfo ?? purl.parsed.version ?? "", purl.parsed),
    type: packageType(first("PkgType"), purl.parsed),
    purl: purl.purl,
    licenses: licensesOf(pkg, extracted),
    locations,
    foundBy: first("FoundBy") ?? foundByDefault,
    ...(source ? { source } : {}),
    ...(arch ? { arch } : {}),
    ...(supplier ? { supplier } : {}),
    ...(description ? { description } : {}),
    ...(homepage ? { homepage } : {}),
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
  return result;
}

function distroOf(pkg: SpdxPackage): Distro {
  const notes = notesOf(pkg);
  const codename = notes.get("VersionCodename")?.[0];
  const idLike = notes.get("IdLike") ?? [];
  return {
    id: pkg.name.toLowerCase(),
    ...(pkg.versionInfo ? { versionId: pkg.versionInfo } : {}),
    ...(codename ? { versionCodename: codename } : {}),
    ...(pkg.description ? { prettyName: pkg.description } : {}),
    ...(idLike.length > 0 ? { idLike } : {}),
  };
}

function sourceOf(root: SpdxPackage | undefined, name: string): SbomSource {
  if (!root) return { kind: "sbom", name };
  const notes = notesOf(root);
  const sha = root.checksums?.find((c) => c.algorithm === "SHA256")?.checksumValue;
  const digest = /^sha256:[0-9a-f]{64}$/.test(root.versionInfo ?? "")
    ? root.versionInfo
    : sha
      ? `sha256:${sha}`
      : undefined;
  const platform = notes.get("Platform")?.[0];
  const configDigest = notes.get("ConfigDigest")?.[0];
  const layers = notes.get("Layer") ?? [];
  return {
    kind: "sbom",
    name: root.name,
    ...(digest ? { digest } : {}),
    ...(platform ? { platform } : {}),
    ...(configDigest ? { configDigest } : {}),
    ...(layers.length > 0 ? { layers } : {}),
  };
}

export function readSpdx(doc: unknown, where: string): Sbom {
  const spdx = parseWith(Spdx, doc, where, "SPDX");
  const creators = spdx.creationInfo.creators.map(toolFromCreator).filter((t) => t !== undefined);
  const tool = creators[0];
  const extracted = new Map(
    (spdx.hasExtractedLicensingInfos ?? []).map((e) => [
      e.licenseId,
      e.name ?? e.extractedText ?? e.licenseId,
    ]),
  );
  const described = new Set([
    ...(spdx.documentDescribes ?? []),
    ...(spdx.relationships ?? [])
      .filter((r) => r.spdxElementId === spdx.SPDXID && r.relationshipType === "DESCRIBES")
      .map((r) => r.relatedSpdxElement),
  ]);
  const all = spdx.packages ?? [];
  const roots = all.filter((p) => described.has(p.SPDXID));
  const root = roots.find((p) => p.primaryPackagePurpose === "CONTAINER") ?? roots[0];
  const idToPurl = new Map<string, string>();
  const packages: Package[] = [];
  let distro: Distro | undefined;
  for (const p of all) {
    // The JSON schema spells it OPERATING_SYSTEM, the tag-value spec (and some tools) OPERATING-SYSTEM.
    if (/^OPERATING[-_]SYSTEM$/.test(p.primaryPackagePurpose ?? "")) {
      distro ??= distroOf(p);
      continue;
    }
    // A described container is the image itself, even when it has an oci purl (SPDX 2.2 has no purpose field).
    if (
      p === root &&
      (p.primaryPackagePurpose === "CONTAINER" || /^(oci|docker)$/.test(purlOf(p)?.parsed.type ?? "oci"))
    )
      continue;
    const pkg = toPackage(p, extracted, tool?.name ?? "sbom");
    if (!pkg) continue;
    packages.push(pkg);
    idToPurl.set(p.SPDXID, pkg.purl);
  }
  const relationships: Relationship[] = [];
  for (const r of spdx.relationships ?? []) {
    const a = idToPurl.get(r.spdxElementId);
    const b = idToPurl.get(r.relatedSpdxElement);
    if (a === undefined || b === undefined) continue;
    const type = r.relationshipType;
    if (type === "DEPENDS_ON") relationships.push({ from: a, to: b, type: "depends-on" });
    else if (type === "DEPENDENCY_OF") relationships.push({ from: b, to: a, type: "depends-on" });
    else if (type === "CONTAINS") relationships.push({ from: a, to: b, type: "contains" });
    else if (type === "CONTAINED_BY") relationships.push({ from: b, to: a, type: "contains" });
  }
  distro ??= distroFromPackages(packages);
  return {
    source: sourceOf(root, spdx.name || where),
    ...(distro ? { distro } : {}),
    packages,
    relationships,
    created: isoSeconds(spdx.creationInfo.created),
    // shipgate writes its cataloguers' warnings there; other tools' comments are not warnings.
    warnings:
      tool?.name === "shipgate"
        ? (spdx.creationInfo.comment?.split("\n").filter((w) => w.length > 0) ?? [])
        : [],
    ...(tool ? { tool } : {}),
  };
}
