/**
 * A verified SLSA provenance attestation (v1 or v0.2) on this digest, signed
 * by a configured key, optionally from a given builder and source
 * repository. Where each version keeps those facts (slsa.dev/spec):
 * v1: runDetails.builder.id, buildDefinition.externalParameters and
 * resolvedDependencies[].uri; v0.2: builder.id, invocation.configSource.uri
 * and materials[].uri.
 */

import { resolveFromConfig } from "../../policy/config.js";
import type { ProvenanceGateConfig } from "../../policy/config-schema.js";
import { type GateContext, type GateResult, result, type VerifiedStatement } from "./types.js";

export const SLSA_V1 = "https://slsa.dev/provenance/v1";
export const SLSA_V02 = "https://slsa.dev/provenance/v0.2";

type Json = Record<string, unknown>;
const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Json)[k] : undefined), value);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export interface ProvenanceFacts {
  predicateType: string;
  builder: string | undefined;
  /** Every source URI the provenance names (configSource, workflow repository, dependencies, materials). */
  sources: string[];
}

export function provenanceFacts(statement: VerifiedStatement): ProvenanceFacts {
  const p = statement.predicate;
  const sources: string[] = [];
  const add = (v: unknown) => {
    const s = str(v);
    if (s) sources.push(s);
  };
  if (statement.predicateType === SLSA_V1) {
    add(get(p, "buildDefinition", "externalParameters", "workflow", "repository"));
    add(get(p, "buildDefinition", "externalParameters", "source", "uri"));
    add(get(p, "buildDefinition", "externalParameters", "source"));
    for (const dep of (get(p, "buildDefinition", "resolvedDependencies") as unknown[]) ?? [])
      add(get(dep, "uri"));
    return { predicateType: SLSA_V1, builder: str(get(p, "runDetails", "builder", "id")), sources };
  }
  add(get(p, "invocation", "configSource", "uri"));
  for (const m of (get(p, "materials") as unknown[]) ?? []) add(get(m, "uri"));
  return { predicateType: SLSA_V02, builder: str(get(p, "builder", "id")), sources };
}

/** `git+https://github.com/o/r@refs/heads/main` names the repository `https://github.com/o/r`. */
function normaliseSource(uri: string): string {
  return uri
    .replace(/^git\+/, "")
    .replace(/\.git(?=$|@)/, "")
    .replace(/@.*$/, "")
    .replace(/\/+$/, "");
}

export function sourceMatches(sources: readonly string[], wanted: string): boolean {
  const want = normaliseSource(wanted);
  return sources.some((s) => {
    const have = normaliseSource(s);
    return have === want || have.startsWith(`${want}/`);
  });
}

export async function provenanceGate(
  ctx: GateContext,
  gate: ProvenanceGateConfig,
  signatureKeys: string[] | undefined,
): Promise<GateResult> {
  const verifier = ctx.deps.attestations;
  if (verifier === undefined)
    return result("provenance", "error", "no attestation verifier is available", { code: "UNSUPPORTED" });
  const keySpecs = gate.keys ?? signatureKeys;
  if (keySpecs === undefined || keySpecs.length === 0) {
    return result(
      "provenance",
      "error",
      "no keys to verify provenance with (set provenance.keys or signature.keys)",
    );
  }
  const keys = keySpecs.map((k) => (k.includes("://") ? k : resolveFromConfig(ctx.loaded, k)));
  const { attestations, reasons } = await verifier.verify(ctx.location, keys, ctx.open);
  const slsa = attestations.filter((a) => a.predicateType === SLSA_V1 || a.predicateType === SLSA_V02);
  const facts = slsa.map(provenanceFacts);
  const evidence: Record<string, unknown> = {
    builder: gate.builder,
    source: gate.source,
    provenance: facts,
    reasons,
  };
  if (slsa.length === 0) {
    return result(
      "provenance",
      "fail",
      `no verified SLSA provenance${reasons[0] ? `: ${reasons[0]}` : ""}`,
      evidence,
    );
  }
  const rejected: string[] = [];
  for (const f of facts) {
    if (gate.builder !== undefined && f.builder !== gate.builder) {
      rejected.push(`builder is ${f.builder ?? "not named"}, not ${gate.builder}`);
      continue;
    }
    if (gate.source !== undefined && !sourceMatches(f.sources, gate.source)) {
      rejected.push(`source is ${f.sources.join(", ") || "not named"}, not ${gate.source}`);
      continue;
    }
    return result(
      "provenance",
      "pass",
      `verified SLSA provenance (${f.predicateType.split("/").pop()}) from ${f.builder ?? "?"}`,
      evidence,
    );
  }
  return result("provenance", "fail", `SLSA provenance found but ${rejected[0]}`, evidence);
}
