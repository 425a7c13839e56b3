/**
 * CycloneDX 1.6 JSON writer. Every package is a `library` component keyed by
 * its purl; what CycloneDX has no field for (where it was found, which
 * cataloguer, the source package) goes into `shipgate:` properties, the
 * namespaced convention syft (`syft:`) and Trivy (`aquasecurity:trivy:`) use,
 * so the reader gets the whole model back.
 */
import { isSupportedSpdxId } from "@cyclonedx/cyclonedx-library/SPDX";
import { type Distro, normaliseSbom, type Package, type Sbom } from "../model.js";
import { splitContact, uuidFromContent, validUrl, type WriterOptions } from "./common.js";

type Json = Record<string, unknown>;
interface Property {
  name: string;
  value: string;
}

export const CDX_PREFIX = "shipgate:";

/** The bom-ref of the document's subject (the image or directory); `pkg:` refs are packages. */
function rootRef(sbom: Sbom): string {
  return `shipgate:source:${sbom.source.digest ?? sbom.source.name}`;
}

export function distroRef(distro: Distro): string {
  return `shipgate:os:${distro.id}${distro.versionId ? `@${distro.versionId}` : ""}`;
}

/**
 * CycloneDX holds either license objects (`id` from its SPDX list, or a
 * `name`) or one single expression. A lone expression is written as one; in a
 * list, a compound expression becomes a `name` (as syft does) and the reader
 * turns it back into an expression because it parses as one.
 */
function licenses(pkg: Package): Json[] | undefined {
  if (pkg.licenses.length === 0) return undefined;
  const only = pkg.licenses[0];
  if (pkg.licenses.length === 1 && only?.expression !== undefined && !isSupportedSpdxId(only.expression)) {
    return [{ expression: only.expression, acknowledgement: "declared" }];
  }
  return pkg.licenses.map((l) => {
    const text = l.expression ?? l.name ?? "";
    const license = l.expression !== undefined && isSupportedSpdxId(text) ? { id: text } : { name: text };
    return { license: { ...license, acknowledgement: "declared" } };
  });
}

function packageProperties(pkg: Package, contains: string[]): Property[] {
  const p = (name: string, value: string | undefined): Property[] =>
    value === undefined || value === "" ? [] : [{ name: `${CDX_PREFIX}${name}`, value }];
  return [
    ...p("package:foundBy", pkg.foundBy),
    ...p("package:type", pkg.type),
    ...p("package:arch", pkg.arch),
    ...p("package:sourceName", pkg.source?.name),
    ...p("package:sourceVersion", pkg.source?.version),
    ...pkg.locations.flatMap((loc, i) => [
      ...p(`location:${i}:path`, loc.path),
      ...p(`location:${i}:layerDigest`, loc.layerDigest),
    ]),
    ...Object.keys(pkg.properties ?? {})
      .sort()
      .flatMap((key) => p(`metadata:${key}`, pkg.properties?.[key])),
    ...contains.flatMap((ref) => p("contains", ref)),
  ];
}

function supplier(text: string | undefined): Json | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const { name, email } = splitContact(text);
  return email === undefined ? { name } : { name, contact: [{ email }] };
}

function component(pkg: Package, contains: string[]): Json {
  const homepage = validUrl(pkg.homepage);
  const properties = packageProperties(pkg, contains);
  return {
    "bom-ref": pkg.purl,
    type: "library",
    ...(supplier(pkg.supplier) ? { supplier: supplier(pkg.supplier) } : {}),
    name: pkg.name,
    ...(pkg.version ? { version: pkg.version } : {}),
    ...(pkg.description ? { description: pkg.description } : {}),
    ...(licenses(pkg) ? { licenses: licenses(pkg) } : {}),
    purl: pkg.purl,
    ...(homepage ? { externalReferences: [{ type: "website", url: homepage }] } : {}),
    ...(properties.length > 0 ? { properties } : {}),
  };
}

function osComponent(distro: Distro): Json {
  const properties: Property[] = [
    { name: `${CDX_PREFIX}distro:id`, value: distro.id },
    ...(distro.versionId ? [{ name: `${CDX_PREFIX}distro:versionId`, value: distro.versionId }] : []),
    ...(distro.versionCodename
      ? [{ name: `${CDX_PREFIX}distro:versionCodename`, value: distro.versionCodename }]
      : []),
    ...(distro.idLike ?? []).map((id) => ({ name: `${CDX_PREFIX}distro:idLike`, value: id })),
  ];
  return {
    "bom-ref": distroRef(distro),
    type: "operating-system",
    name: distro.id,
    ...(distro.versionId ? { version: distro.versionId } : {}),
    ...(distro.prettyName ? { description: distro.prettyName } : {}),
    properties,
  };
}

function rootComponent(sbom: Sbom): Json {
  const { source } = sbom;
  const properties: Property[] = [
    { name: `${CDX_PREFIX}source:kind`, value: source.kind },
    ...(source.platform ? [{ name: `${CDX_PREFIX}image:platform`, value: source.platform }] : []),
    ...(source.configDigest ? [{ name: `${CDX_PREFIX}image:configDigest`, value: source.configDigest }] : []),
    ...(source.layers ?? []).map((digest) => ({ name: `${CDX_PREFIX}image:layer`, value: digest })),
  ];
  const hex = source.digest?.startsWith("sha256:") ? source.digest.slice(7) : undefined;
  return {
    "bom-ref": rootRef(sbom),
    type: source.digest || source.kind === "image" ? "container" : "file",
    name: source.name,
    ...(source.digest ? { version: source.digest } : {}),
    ...(hex ? { hashes: [{ alg: "SHA-256", content: hex }] } : {}),
    properties,
  };
}

/** The whole document as an object (tests and the CLI serialise it with {@link toCycloneDx}). */
export function cycloneDxDocument(input: Sbom, options: WriterOptions = {}): Json {
  const sbom = normaliseSbom(input);
  const dependsOn = new Map<string, string[]>();
  const contains = new Map<string, string[]>();
  for (const r of sbom.relationships) {
    const map = r.type === "depends-on" ? dependsOn : contains;
    map.set(r.from, [...(map.get(r.from) ?? []), r.to]);
  }
  const components = [
    ...(sbom.distro ? [osComponent(sbom.distro)] : []),
    ...sbom.packages.map((p) => component(p, contains.get(p.purl) ?? [])),
  ];
  const dependencies = [...dependsOn].map(([ref, refs]) => ({ ref, dependsOn: [...new Set(refs)] }));
  const body: Json = {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    version: 1,
    metadata: {
      timestamp: sbom.created,
      tools: {
        components: [
          {
            type: "application",
            name: options.toolName ?? "shipgate",
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
          },
        ],
      },
      component: rootComponent(sbom),
      ...(sbom.warnings.length > 0
        ? { properties: sbom.warnings.map((w) => ({ name: `${CDX_PREFIX}warning`, value: w })) }
        : {}),
    },
    components,
    ...(dependencies.length > 0 ? { dependencies } : {}),
  };
  // The serial number is required to be a UUID; derived from the content it stays reproducible.
  const serialNumber = `urn:uuid:${uuidFromContent(JSON.stringify(body))}`;
  const { $schema, bomFormat, specVersion, ...rest } = body;
  return { $schema, bomFormat, specVersion, serialNumber, ...rest };
}

/** CycloneDX 1.6 JSON text: the same SBOM always gives the same bytes. */
export function toCycloneDx(sbom: Sbom, options: WriterOptions = {}): string {
  return `${JSON.stringify(cycloneDxDocument(sbom, options), null, 2)}\n`;
}
