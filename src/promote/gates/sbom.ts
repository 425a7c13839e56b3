import type { Config } from "../../policy/config-schema.js";
import { getAttachedSboms } from "../../sbom/attach.js";
import { type GateContext, type GateResult, result } from "./types.js";

type SbomGate = NonNullable<Config["promotion"][string]["gates"]["sbom"]>;

/** An SBOM is attached to this exact digest (a cosign `.sbom` tag or an OCI 1.1 referrer). It checks; it never generates. */
export async function sbomGate(ctx: GateContext, gate: SbomGate): Promise<GateResult> {
  const found = await getAttachedSboms(ctx.location, { open: ctx.open });
  const accepted = gate.formats === undefined ? found : found.filter((s) => gate.formats?.includes(s.format));
  const evidence = {
    sboms: found.map((s) => ({ format: s.format, mediaType: s.mediaType, via: s.via })),
    ...(gate.formats ? { formats: gate.formats } : {}),
  };
  if (accepted.length === 0) {
    const why =
      found.length === 0
        ? `no SBOM attached to ${ctx.digest}`
        : `attached SBOMs are ${found.map((s) => s.format).join(", ")}, not ${gate.formats?.join(" or ")}`;
    return result("sbom", "fail", `${why} (attach one with \`shipgate sbom attach\`)`, evidence);
  }
  const first = accepted[0] as (typeof accepted)[number];
  return result(
    "sbom",
    "pass",
    `${accepted.length} attached (${first.format} via ${first.via.kind})`,
    evidence,
  );
}
