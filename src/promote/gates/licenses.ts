import { getAttachedSboms } from "../../sbom/attach.js";
import { readSbom } from "../../sbom/formats/read.js";
import { deniedPackages } from "../../sbom/licenses.js";
import { type GateContext, type GateResult, result } from "./types.js";

const SHOWN = 10;

/** No package in the attached SBOM carries a licence matching a deny pattern (an `OR` choice counts only if every option is denied). */
export async function licensesGate(ctx: GateContext, gate: { deny: string[] }): Promise<GateResult> {
  const sboms = await getAttachedSboms(ctx.location, { open: ctx.open });
  const first = sboms[0];
  if (first === undefined) {
    return result("licenses", "fail", "no SBOM attached: licences cannot be checked", { deny: gate.deny });
  }
  const sbom = readSbom(first.bytes, `the SBOM attached to ${ctx.digest}`);
  const offenders = deniedPackages(sbom, gate.deny);
  const evidence = {
    deny: gate.deny,
    packages: sbom.packages.length,
    sbom: first.via,
    offenders: offenders.map((o) => ({
      name: o.package.name,
      version: o.package.version,
      purl: o.package.purl,
      matched: o.matched,
    })),
  };
  if (offenders.length === 0) {
    return result(
      "licenses",
      "pass",
      `${sbom.packages.length} packages, none denied (${gate.deny.join(", ")})`,
      evidence,
    );
  }
  const listed = offenders
    .slice(0, SHOWN)
    .map((o) => `${o.package.name} (${o.matched.join(", ")})`)
    .join(", ");
  const more = offenders.length > SHOWN ? ` and ${offenders.length - SHOWN} more` : "";
  return result("licenses", "fail", `${offenders.length} denied: ${listed}${more}`, evidence);
}
