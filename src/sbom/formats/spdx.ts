/**
 * SPDX 2.3 JSON writer. The image (or directory) is the root package the
 * document DESCRIBES; it CONTAINS the operating system and every package;
 * packages DEPENDS_ON or CONTAIN each other as the cataloguers found.
 * What SPDX has no field for (locations, layer, cataloguer, source package)
 * is written as package annotations of the form `Key: value`, as Trivy does.
 */
import { type Distro, normaliseSbom, type Package, type Sbom } from "../model.js";
import { sha256Hex, splitContact, uuidFromContent, validUrl, type WriterOptions } from "./common.js";

type Json = Record<string, unknown>;

const NOASSERTION = "NOASSERTION";

/** SPDX ids allow letters, digits, `.` and `-` only. */
export function spdxIdPart(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "") || "x";
}

/** Readable and unique: the purl's words plus a hash of the whole purl. */
export function packageSpdxId(pkg: Pick<Package, "type" | "name" | "version" | "purl">): string {
  const words = spdxIdPart(`${pkg.type}-${pkg.name}-${pkg.version}`).slice(0, 80);
  return `SPDXRef-Package-${words}-${sha256Hex(pkg.purl).slice(0, 16)}`;
}

function osSpdxId(distro: Distro): string {
  return `SPDXRef-OperatingSystem-${spdxIdPart(`${distro.id}-${distro.versionId ?? ""}`)}`;
}

/** Non-SPDX licence names become `LicenseRef-` ids, one per distinct name, listed in hasExtractedLicensingInfos. */
class LicenseRefs {
  private readonly byName = new Map<string, string>();
  private readonly used = new Set<string>();

  constructor(names: string[]) {
    for (const name of [...new Set(names)].sort()) {
      let id = `LicenseRef-${spdxIdPart(name)}`;
      if (this.used.has(id)) id = `${id}-${sha256Hex(name).slice(0, 8)}`;
      this.used.add(id);
      this.byName.set(name, id);
    }
  }

  idOf(name: string): string {
    return this.byName.get(name) as string;
  }

  infos(): Json[] {
    return [...this.byName].map(([name, licenseId]) => ({
      licenseId,
      name,
      // Only the licence's name is known (e.g. a Debian copyright short name); SPDX requires some text.
      extractedText: name,
    }));
  }
}

/** Every licence of the package, ANDed: the package ships all of them. */
function declared(pkg: Package, refs: LicenseRefs): string {
  const parts = pkg.licenses.map((l) => {
    if (l.expression !== undefined)
      return /\s(AND|OR)\s/.test(l.expression) ? `(${l.expression})` : l.expression;
    return refs.idOf(l.name ?? "");
  });
  const unique = [...new Set(parts)];
  if (unique.length === 0) return NOASSERTION;
  if (unique.length === 1) return (unique[0] as string).replace(/^\((.*)\)$/, "$1");
  return unique.join(" AND ");
}

/** `Name <email>` → `Person: Name (email)`; SPDX's supplier syntax. */
function supplier(text: string | undefined): string {
  if (text === undefined || text.trim() === "") return NOASSERTION;
  const { name, email } = splitContact(text);
  return email === undefined ? `Organization: ${name}` : `Person: ${name} (${email})`;
}

function annotation(comment: string, created: string, annotator: string): Json {
  return { annotationDate: created, annotationType: "OTHER", annotator, comment };
}

function packageAnnotations(pkg: Package): string[] {
  return [
    `FoundBy: ${pkg.foundBy}`,
    `PkgType: ${pkg.type}`,
    ...(pkg.arch ? [`Arch: ${pkg.arch}`] : []),
    ...(pkg.source ? [`SrcName: ${pkg.source.name}`] : []),
    ...(pkg.source?.version ? [`SrcVersion: ${pkg.source.version}`] : []),
    ...pkg.locations.map((l) => `Location: ${l.path}${l.layerDigest ? ` in layer ${l.layerDigest}` : ""}`),
    ...Object.keys(pkg.properties ?? {})
      .sort()
      .map((key) => `Property: ${key}=${pkg.properties?.[key]}`),
  ];
}

function basePackage(spdxId: string, name: string): Json {
  return {
    name,
    SPDXID: spdxId,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
  };
}

/** The whole document as an object (see {@link toSpdx}). */
export function spdxDocument(input: Sbom, options: WriterOptions = {}): Json {
  const sbom = normaliseSbom(input);
  const annotator = `Tool: ${options.toolName ?? "shipgate"}${options.toolVersion ? `-${options.toolVersion}` : ""}`;
  const note = (comment: string) => annotation(comment, sbom.created, annotator);
  const refs = new LicenseRefs(sbom.packages.flatMap((p) => p.licenses.flatMap((l) => l.name ?? [])));
  const ids = new Map(sbom.packages.map((p) => [p.purl, packageSpdxId(p)]));
  const { source } = sbom;

  const rootId = `SPDXRef-${source.kind === "image" || source.digest ? "Image" : "Directory"}-${sha256Hex(source.digest ?? source.name).slice(0, 16)}`;
  const hex = source.digest?.startsWith("sha256:") ? source.digest.slice(7) : undefined;
  const root: Json = {
    ...basePackage(rootId, source.name),
    ...(source.digest ? { versionInfo: source.digest } : {}),
    ...(hex ? { checksums: [{ algorithm: "SHA256", checksumValue: hex }] } : {}),
    primaryPackagePurpose: source.digest || source.kind === "image" ? "CONTAINER" : "OTHER",
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    annotations: [
      `SourceKind: ${source.kind}`,
      ...(source.platform ? [`Platform: ${source.platform}`] : []),
      ...(source.configDigest ? [`ConfigDigest: ${source.configDigest}`] : []),
      ...(source.layers ?? []).map((l) => `Layer: ${l}`),
    ].map(note),
  };
  const packages: Json[] = [root];
  const relationships: Json[] = [
    { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: rootId },
  ];
  const contains = (from: string, to: string) =>
    relationships.push({ spdxElementId: from, relationshipType: "CONTAINS", relatedSpdxElement: to });

  if (sbom.distro) {
    const d = sbom.distro;
    packages.push({
      ...basePackage(osSpdxId(d), d.id),
      ...(d.versionId ? { versionInfo: d.versionId } : {}),
      ...(d.prettyName ? { description: d.prettyName } : {}),
      primaryPackagePurpose: "OPERATING_SYSTEM",
      licenseConcluded: NOASSERTION,
      licenseDeclared: NOASSERTION,
      copyrightText: NOASSERTION,
      annotations: [
        ...(d.versionCodename ? [`VersionCodename: ${d.versionCodename}`] : []),
        ...(d.idLike ?? []).map((id) => `IdLike: ${id}`),
      ].map(note),
    });
    contains(rootId, osSpdxId(d));
  }
  for (const pkg of sbom.packages) {
    const id = ids.get(pkg.purl) as string;
    const homepage = validUrl(pkg.homepage);
    packages.push({
      ...basePackage(id, pkg.name),
      ...(pkg.version ? { versionInfo: pkg.version } : {}),
      supplier: supplier(pkg.supplier),
      ...(homepage ? { homepage } : {}),
      ...(pkg.source
        ? { sourceInfo: `built package from: ${pkg.source.name} ${pkg.source.version ?? ""}`.trim() }
        : {}),
      licenseConcluded: NOASSERTION,
      licenseDeclared: declared(pkg, refs),
      copyrightText: NOASSERTION,
      ...(pkg.description ? { description: pkg.description } : {}),
      externalRefs: [
        { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: pkg.purl },
      ],
      primaryPackagePurpose: "LIBRARY",
      annotations: packageAnnotations(pkg).map(note),
    });
    contains(rootId, id);
  }
  for (const r of sbom.relationships) {
    relationships.push({
      spdxElementId: ids.get(r.from),
      relationshipType: r.type === "depends-on" ? "DEPENDS_ON" : "CONTAINS",
      relatedSpdxElement: ids.get(r.to),
    });
  }

  const extracted = refs.infos();
  const body: Json = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: source.name,
    creationInfo: {
      created: sbom.created,
      creators: [annotator],
      ...(sbom.warnings.length > 0 ? { comment: sbom.warnings.join("\n") } : {}),
    },
    packages,
    relationships,
    ...(extracted.length > 0 ? { hasExtractedLicensingInfos: extracted } : {}),
  };
  // A unique URI per document, as SPDX requires; derived from the content, it stays reproducible.
  const documentNamespace = `https://shipgate.dev/spdx/${spdxIdPart(source.name)}-${uuidFromContent(JSON.stringify(body))}`;
  const { spdxVersion, dataLicense, SPDXID, name, ...rest } = body;
  return { spdxVersion, dataLicense, SPDXID, name, documentNamespace, ...rest };
}

/** SPDX 2.3 JSON text: the same SBOM always gives the same bytes. */
export function toSpdx(sbom: Sbom, options: WriterOptions = {}): string {
  return `${JSON.stringify(spdxDocument(sbom, options), null, 2)}\n`;
}
