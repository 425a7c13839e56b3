import type { Distro } from "../sbom/model.js";

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(content: string): Distro | undefined {
  const fields = new Map<string, string>();
  for (const raw of content.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    let value = line.slice(eq + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\`$])/g, "$1");
    }
    fields.set(key, value);
  }
  const id = fields.get("ID");
  if (!id) return undefined;
  const distro: Distro = { id: id.toLowerCase() };
  const versionId = fields.get("VERSION_ID");
  if (versionId) distro.versionId = versionId;
  const codename = fields.get("VERSION_CODENAME");
  if (codename) distro.versionCodename = codename;
  const pretty = fields.get("PRETTY_NAME");
  if (pretty) distro.prettyName = pretty;
  const idLike = fields.get("ID_LIKE");
  if (idLike) distro.idLike = idLike.split(/\s+/).filter(Boolean);
  return distro;
}
