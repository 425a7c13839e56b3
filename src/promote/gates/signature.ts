import { resolveFromConfig } from "../../policy/config.js";
import { type GateContext, type GateResult, result } from "./types.js";

/** At least one valid signature on this digest by one of the configured keys. */
export async function signatureGate(ctx: GateContext, gate: { keys: string[] }): Promise<GateResult> {
  const verifier = ctx.deps.signatures;
  if (verifier === undefined)
    return result("signature", "error", "no signature verifier is available", { code: "UNSUPPORTED" });
  const keys = gate.keys.map((k) => (k.includes("://") ? k : resolveFromConfig(ctx.loaded, k)));
  const check = await verifier.verify(ctx.location, keys, ctx.open);
  const evidence = { keys: gate.keys, signatures: check.signatures, reasons: check.reasons };
  if (check.verified && check.signatures.length > 0) {
    const by = [...new Set(check.signatures.map((s) => s.key))].join(", ");
    return result("signature", "pass", `${check.signatures.length} valid signature(s) by ${by}`, evidence);
  }
  const why = check.reasons[0] ?? "no signature found";
  return result("signature", "fail", `no valid signature by ${gate.keys.join(", ")}: ${why}`, evidence);
}
