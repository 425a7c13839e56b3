/**
 * Evaluates every configured gate of a target environment: all of them, not
 * stopping at the first failure, so the report shows everything that needs
 * fixing. Independent gates run concurrently; approval runs last because it
 * only opens a request when every other gate passed.
 */
import { GATE_ORDER, type GateName, type Gates } from "../../policy/config-schema.js";
import { approvalGate } from "./approval.js";
import { licensesGate } from "./licenses.js";
import { provenanceGate } from "./provenance.js";
import { sbomGate } from "./sbom.js";
import { signatureGate } from "./signature.js";
import { smokeGate } from "./smoke.js";
import { errorResult, type GateContext, type GateResult } from "./types.js";
import { vulnerabilitiesGate } from "./vulnerabilities.js";

async function timed(gate: GateName, run: () => Promise<GateResult>): Promise<GateResult> {
  const start = performance.now();
  let outcome: GateResult;
  try {
    outcome = await run();
  } catch (error) {
    outcome = errorResult(gate, error);
  }
  return { ...outcome, durationMs: Math.round(performance.now() - start) };
}

export async function evaluateGates(
  ctx: GateContext,
  gates: Gates,
  options: { dryRun: boolean },
): Promise<GateResult[]> {
  const runs: Promise<GateResult>[] = [];
  if (gates.vulnerabilities) {
    const g = gates.vulnerabilities;
    runs.push(timed("vulnerabilities", () => vulnerabilitiesGate(ctx, g)));
  }
  if (gates.signature) {
    const g = gates.signature;
    runs.push(timed("signature", () => signatureGate(ctx, g)));
  }
  if (gates.sbom) {
    const g = gates.sbom;
    runs.push(timed("sbom", () => sbomGate(ctx, g)));
  }
  if (gates.licenses) {
    const g = gates.licenses;
    runs.push(timed("licenses", () => licensesGate(ctx, g)));
  }
  if (gates.provenance) {
    const g = gates.provenance;
    runs.push(timed("provenance", () => provenanceGate(ctx, g, gates.signature?.keys)));
  }
  if (gates.smoke) {
    const g = gates.smoke;
    runs.push(timed("smoke", () => smokeGate(ctx, g)));
  }
  const results = await Promise.all(runs);
  if (gates.approval) {
    const g = gates.approval;
    results.push(await timed("approval", () => approvalGate(ctx, g, results, options)));
  }
  return results.sort((a, b) => GATE_ORDER.indexOf(a.gate) - GATE_ORDER.indexOf(b.gate));
}
