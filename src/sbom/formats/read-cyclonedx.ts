/**
 * Reads CycloneDX JSON (1.2–1.7; shipgate writes 1.6) into the model: from
 * shipgate itself, syft (`syft:` properties), Trivy (`aquasecurity:trivy:`
 * properties) and any tool that gives components a purl.
 */
import { z } from "zod";
import type { Distro, License, Location, Package, Relationship, Sbom, SbomSource } from "../model.js";
import { licenseOf } from "./common.js";
import { CDX_PREFIX } from "./cyclonedx.js";
import {
  distroFromPackages,
  fullVersion,
  isoSeconds,
  packageType,
  parsePurl,
  parseWith,
  sourceFromPurl,
} from "./read-common.js";

const Property = z.object({ name: z.string(), value: z.string().optional() });
const LicenseChoice = z.object({
  license: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
  expression: z.string().optional(),
});
const Contact = z.object({ name: z.string().optional(), email: z.string().optional() });

const Component = z.object({
  type: z.string(),
  "bom-ref": z.string().optional(),
  name: z.string(),
  group: z.string().optional(),
  version: z.string().optional(),
  description: z.string().optional(),
  purl: z.string().optional(),
  publisher: z.string().optional(),
  author: z.string().optional(),
  supplier: z.object({ name: z.string().optional(), contact: z.array(Contact).optional() }).optional(),
  licenses: z.array(LicenseChoice).optional(),
  hashes: z.array(z.object({ alg: z.string(), content: z.string() })).optional(),
  externalReferences: z.array(z.object({ type: z.string(), url: z.string() })).optional(),
  properties: z.array(Property).optional(),
  get components() {
    return z.array(Component).optional();
  },
});
type Component = z.infer<typeof Component>;

const Tool = z.object({ name: z.string().optional(), version: z.string().optional() });

const CycloneDx = z.object({
  bomFormat: z.literal("CycloneDX"),
  specVersion: z.string().regex(/^1\.[2-7]$/, "shipgate reads CycloneDX 1.2 to 1.7"),
  metadata: z
    .object({
      timestamp: z.string().optional(),
      // 1.4: an array of tools; 1.5+: { components, services }.
      tools: z.union([z.array(Tool), z.object({ components: z.array(Tool).optional() })]).optional(),
      component: Component.optional(),
      properties: z.array(Property).optional(),
    })
    .optional(),
  components: z.array(Component).optional(),
  dependencies: z.array(z.object({ ref: z.string(), dependsOn: z.array(z.string()).optional() })).optional(),
});

/** Property values by name; syft numbers repeated ones (`syft:location:0:path`), shipgate repeats names. */
function propsOf(component: { properties?: z.infer<typeof Property>[] }) {
  const all = component.properties ?? [];
  const get = (...names: string[]) => {
    for (const name of names) {
      const hit = all.find((p) => p.name === name && p.value !== undefined);
      if (hit) return hit.value as string;
    }
    return undefined;
  };
  const every = (name: string) => all.filter((p) => p.name === name && p.value).map((p) => p.value as string);
  const matching = (re: RegExp) => all.filter((p) => re.test(p.name) && p.value !== undefined);
  return { all, get, every, matching };
}

function licensesOf(choices: z.infer<typeof LicenseChoice>[] | undefined): License[] {
  const out: License[] = [];
  for (const choice of choices ?? []) {
    const text = choice.expression ?? choice.license?.id ?? choice.license?.name;
    if (text === undefined || text.trim() === "") continue;
    const license = licenseOf(text);
    if (!out.some((l) => l.expression === license.expression && l.name === license.name)) out.push(license);
  }
  return out;
}

function locationsOf(props: ReturnType<typeof propsOf>): Location[] {
  const byIndex = new Map<string, Location>();
  for (const p of props.matching(/^(shipgate|syft):location:\d+:(path|layerDigest|layerID)$/)) {
    const [, , index, field] = p.name.split(":") as [string, string, string, string];
    const loc = byIndex.get(index) ?? { path: "" };
    if (field === "path") loc.path = p.value as string;
    else loc.layerDigest = p.value as string;
    byIndex.set(index, loc);
  }
  const locations = [...byIndex.values()];
  // Trivy: the layer, and for language packages the file.
  const trivyLayer = props.get("aquasecurity:trivy:LayerDigest");
  const trivyPath = props.get("aquasecurity:trivy:FilePath");
  if (locations.length === 0 && (trivyLayer || trivyPath)) {
    locations.push({ path: trivyPath ?? "", ...(trivyLayer ? { layerDigest: trivyLayer } : {}) });
  }
  return locations;
}

function supplierOf(c: Component): string | undefined {
  const name = c.supplier?.name ?? c.supplier?.contact?.[0]?.name;
  const email = c.supplier?.contact?.find((x) => x.email)?.email;
  if (name) return email ? `${name} <${email}>` : name;
  return c.publisher ?? c.author;
}

function toPackage(c: Component, foundByDefault: string): Package | undefined {
  const purl = c.purl === undefined ? undefined : parsePurl(c.purl);
  if (!purl) return undefined;
  const props = propsOf(c);
  const recordedSource = props.get(
    `${CDX_PREFIX}package:sourceName`,
    "syft:metadata:source",
    "aquasecurity:trivy:SrcName",
  );
  let sourceVersion = props.get(
    `${CDX_PREFIX}package:sourceVersion`,
    "syft:metadata:sourceVersion",
    "aquasecurity:trivy:SrcVersion",
  );
  // Trivy keeps the source's epoch and release apart.
  const release = props.get("aquasecurity:trivy:SrcRelease");
  if (sourceVersion && release) sourceVersion = `${sourceVersion}-${release}`;
  const epoch = props.get("aquasecurity:trivy:SrcEpoch");
  if (sourceVersion && epoch && epoch !== "0" && !sourceVersion.includes(":")) {
    sourceVersion = `${epoch}:${sourceVersion}`;
  }
  const source = recordedSource
    ? { name: recordedSource, ...(sourceVersion ? { version: sourceVersion } : {}) }
    : sourceFromPurl(purl.parsed);
  const name = c.group && purl.parsed.type === "npm" ? `${c.group}/${c.name}` : c.name;
  const homepage = c.externalReferences?.find((r) => r.type === "website")?.url;
  const properties: Record<string, string> = {};
  for (const p of props.matching(/^shipgate:metadata:/)) {
    properties[p.name.slice(`${CDX_PREFIX}metadata:`.length)] = p.value as string;
  }
  const arch = props.get(`${CDX_PREFIX}package:arch`) ?? purl.parsed.qualifiers?.arch;
  const supplier = supplierOf(c);
  return {
    name,
    version: fullVersion(c.version ?? purl.parsed.version ?? "", purl.parsed),
    type: packageType(props.get(`${CDX_PREFIX}package:type`), purl.parsed),
    purl: purl.purl,
    licenses: licensesOf(c.licenses),
    locations: locationsOf(props),
    foundBy: props.get(`${CDX_PREFIX}package:foundBy`, "syft:package:foundBy") ?? foundByDefault,
    ...(source ? { source } : {}),
    ...(arch ? { arch } : {}),
    ...(supplier ? { supplier } : {}),
    ...(c.description ? { description: c.description } : {}),
    ...(homepage ? { homepage } : {}),
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

function distroOf(c: Component): Distro {
  const props = propsOf(c);
  const codename = props.get(`${CDX_PREFIX}distro:versionCodename`, "syft:distro:versionCodename");
  const idLike = [
    ...props.every(`${CDX_PREFIX}distro:idLike`),
    ...props.matching(/^syft:distro:idLike:\d+$/).map((p) => p.value as string),
  ];
  return {
    id: props.get(`${CDX_PREFIX}distro:id`, "syft:distro:id") ?? c.name.toLowerCase(),
    ...(c.version ? { versionId: c.version } : {}),
    ...(codename ? { versionCodename: codename } : {}),
    ...(c.description ? { prettyName: c.description } : {}),
    ...(idLike.length > 0 ? { idLike } : {}),
  };
}

function sourceOf(root: Component | undefined, where: string): SbomSource {
  if (!root) return { kind: "sbom", name: where };
  const props = propsOf(root);
  const sha = root.hashes?.find((h) => h.alg === "SHA-256")?.content;
  const digest = root.version?.startsWith("sha256:") ? root.version : sha ? `sha256:${sha}` : undefined;
  const platform = props.get(`${CDX_PREFIX}image:platform`);
  const configDigest = props.get(`${CDX_PREFIX}image:configDigest`, "aquasecurity:trivy:ImageID");
  const layers = props.every(`${CDX_PREFIX}image:layer`);
  return {
    kind: "sbom",
    name: root.name,
    ...(digest ? { digest } : {}),
    ...(platform ? { platform } : {}),
    ...(configDigest ? { configDigest } : {}),
    ...(layers.length > 0 ? { layers } : {}),
  };
}

function flatten(components: Component[]): Component[] {
  return components.flatMap((c) => [c, ...flatten(c.components ?? [])]);
}

export function readCycloneDx(doc: unknown, where: string): Sbom {
  const bom = parseWith(CycloneDx, doc, where, "CycloneDX");
  const tools = bom.metadata?.tools;
  const firstTool = Array.isArray(tools) ? tools[0] : tools?.components?.[0];
  const tool = firstTool?.name
    ? { name: firstTool.name, ...(firstTool.version ? { version: firstTool.version } : {}) }
    : undefined;
  const warnings = propsOf(bom.metadata ?? {}).every(`${CDX_PREFIX}warning`);
  const packages: Package[] = [];
  const refToPurl = new Map<string, string>();
  const contains: { from: string; ref: string }[] = [];
  let distro: Distro | undefined;
  let skipped = 0;
  for (const c of flatten(bom.components ?? [])) {
    if (c.type === "operating-system") {
      distro ??= distroOf(c);
      continue;
    }
    const pkg = toPackage(c, tool?.name ?? "sbom");
    if (!pkg) {
      // Trivy lists lockfiles and language roots as purl-less components: they are not packages.
      if (c.type === "library") skipped++;
      continue;
    }
    packages.push(pkg);
    refToPurl.set(c["bom-ref"] ?? pkg.purl, pkg.purl);
    for (const ref of propsOf(c).every(`${CDX_PREFIX}contains`)) contains.push({ from: pkg.purl, ref });
  }
  if (skipped > 0) warnings.push(`${where}: ${skipped} library components without a valid purl were skipped`);
  const relationships: Relationship[] = [];
  for (const dep of bom.dependencies ?? []) {
    const from = refToPurl.get(dep.ref);
    if (from === undefined) continue;
    for (const ref of dep.dependsOn ?? []) {
      const to = refToPurl.get(ref);
      if (to !== undefined) relationships.push({ from, to, type: "depends-on" });
    }
  }
  for (const { from, ref } of contains) {
    const to = refToPurl.get(ref);
    if (to !== undefined) relationships.push({ from, to, type: "contains" });
  }
  distro ??= distroFromPackages(packages);
  return {
    source: sourceOf(bom.metadata?.component, where),
    ...(distro ? { distro } : {}),
    packages,
    relationships,
    created: isoSeconds(bom.metadata?.timestamp),
    warnings,
    ...(tool ? { tool } : {}),
  };
}
