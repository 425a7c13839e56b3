/**
 * Java archives in the image: every artifact a .jar/.war/.ear holds (see
 * java-archive.ts), as `pkg:maven/GROUP/ARTIFACT@VERSION`. An artifact
 * whose group is unknown (no Maven record, no Implementation-Vendor-Id)
 * uses its artifact id as the group, as other SBOM tools do, and says so in
 * the `groupIdGuessed` property.
 */
import { posix } from "node:path";
import type { Package, Relationship } from "../model.js";
import { ARCHIVE, type JavaArtifact, readJavaArchive } from "./java-archive.js";
import { licensesOf, locationOf, purlOf } from "./language.js";
import type { Cataloger, FoundFile } from "./types.js";

export const javaCataloger: Cataloger<JavaArtifact[]> = {
  name: "java",
  maxFileSize: 256 * 1024 * 1024,
  wants(file) {
    return ARCHIVE.test(file.path);
  },
  parse(file, content, warnings) {
    const artifacts = readJavaArchive(content, posix.basename(file.path), warnings);
    return artifacts.length > 0 ? artifacts : undefined;
  },
  finish(found: FoundFile<JavaArtifact[]>[]) {
    const packages: Package[] = [];
    const relationships: Relationship[] = [];
    for (const { file, data } of found) {
      const purls = data.map((a) => {
        const pkg = toPackage(a);
        pkg.locations = [locationOf(file)];
        packages.push(pkg);
        return pkg.purl;
      });
      data.forEach((a, i) => {
        const from = a.parent === undefined ? undefined : purls[a.parent];
        if (from) relationships.push({ from, to: purls[i] as string, type: "contains" });
      });
    }
    return { packages, relationships };
  },
};

function toPackage(a: JavaArtifact): Package {
  const properties: Record<string, string> = { javaMetadata: a.source };
  if (a.nestedPath) properties.archivePath = a.nestedPath;
  if (!a.groupId) properties.groupIdGuessed = "true";
  for (const [key, value] of Object.entries(a.manifest ?? {})) properties[`manifest.${key}`] = value;
  const group = a.groupId ?? a.artifactId;
  const pkg: Package = {
    name: a.artifactId,
    version: a.version,
    type: "java-archive",
    purl: purlOf("maven", group, a.artifactId, a.version),
    licenses: licensesOf(a.licenses),
    locations: [],
    foundBy: "java",
    properties,
  };
  if (a.manifest?.["Implementation-Vendor"]) pkg.supplier = a.manifest["Implementation-Vendor"];
  return pkg;
}
