import { PackageURL } from "packageurl-js";
import type { Distro } from "../model.js";

/** The purl `distro` qualifier as syft writes it: `debian-12`, `alpine-3.19.1`, or the bare id. */
export function distroQualifier(distro: Distro | undefined): string | undefined {
  if (!distro) return undefined;
  return distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id;
}

/** A purl for an OS package; qualifiers left undefined are omitted. */
export function osPurl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string,
  qualifiers: Record<string, string | undefined>,
): string {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(qualifiers)) {
    if (value !== undefined && value !== "") defined[key] = value;
  }
  const hasQualifiers = Object.keys(defined).length > 0;
  return new PackageURL(
    type,
    namespace,
    name,
    version,
    hasQualifiers ? defined : undefined,
    undefined,
  ).toString();
}
