/**
 * What every gate receives and returns. A gate decides pass / fail / error
 * and says why (evidence), and never changes the image: fixing (signing,
 * attaching an SBOM) is always a separate, explicit step.
 *
 * The signing and scanning modules are reached through the small interfaces
 * below, so each gate's decision logic is testable on its own and the engine
 * wires the real implementations (src/promote/deps.ts).
 */

import type { DeliveryResult } from "../../notify/send.js";
import type { Location } from "../../oci/transports/location.js";
import type { OpenOptions } from "../../oci/transports/open.js";
import type { LoadedConfig } from "../../policy/config.js";
import type { GateName } from "../../policy/config-schema.js";
import type { StoreDb } from "../../store/store.js";

export type GateStatus = "pass" | "fail" | "error";

export interface GateResult {
  gate: GateName;
  status: GateStatus;
  /** One line for the gate table. */
  summary: string;
  /** What the decision rests on (counts, keys, findings, approvers...), for --json and the audit trail. */
  evidence: Record<string, unknown>;
  durationMs?: number;
}

export interface SignatureCheck {
  verified: boolean;
  /** The keys (by their source) that verified a signature, and where it was found. */
  signatures: { key: string; foundIn: string }[];
  reasons: string[];
}

export interface SignatureVerifier {
  verify(location: Location, keys: readonly string[], open: OpenOptions): Promise<SignatureCheck>;
}

export interface VerifiedStatement {
  predicateType: string;
  predicate: unknown;
  key: string;
  foundIn: string;
}

export interface AttestationVerifier {
  /** Attestations of the image signed by one of `keys`; `reasons` says why others were rejected. */
  verify(
    location: Location,
    keys: readonly string[],
    open: OpenOptions,
  ): Promise<{ attestations: VerifiedStatement[]; reasons: string[] }>;
}

export type Severity = "critical" | "high" | "medium" | "low" | "negligible" | "unknown";

export interface VulnFinding {
  id: string;
  aliases: string[];
  severity: Severity;
  package: { name: string; version: string; purl: string };
}

export interface ScanOutcome {
  findings: VulnFinding[];
  /** When the scan ran, and whether it was a stored one. */
  scannedAt: string;
  stored: boolean;
  database?: string;
  /** What was scanned: the attached SBOM or one generated from the layers. */
  sbom?: string;
}

export interface VulnScanner {
  /** Findings for the image (its attached SBOM, or a scan of its layers). VEX is applied by the gate. */
  scan(
    location: Location,
    options: {
      digest: string;
      db?: string;
      open: OpenOptions;
      /** Reuse a scan stored here when it is younger than maxAgeMs and the database is unchanged. */
      store?: StoreDb;
      maxAgeMs?: number;
      now?: Date;
    },
  ): Promise<ScanOutcome>;
}

export interface Notifier {
  notify(
    channels: readonly string[],
    kind: "approval-requested" | "escalation",
    detail: NotifyDetail,
  ): Promise<DeliveryResult[]>;
}

export interface NotifyDetail {
  approvalId: string;
  required: number;
  approvals: string[];
  requester: string;
  waitedMs?: number;
}

export interface GateDeps {
  signatures?: SignatureVerifier;
  attestations?: AttestationVerifier;
  scanner?: VulnScanner;
  notifier?: Notifier;
}

export interface GateContext {
  app: string;
  tag: string;
  digest: string;
  /** The image by digest (where the gates look: the source, or the target when it is already there). */
  location: Location;
  /** `registry/repo@sha256:...` as the image is pulled: for smoke tests and messages. */
  reference: string;
  from: string | undefined;
  to: string;
  requester: string;
  loaded: LoadedConfig;
  open: OpenOptions;
  store: StoreDb;
  deps: GateDeps;
  now: Date;
  env: NodeJS.ProcessEnv;
}

export function result(
  gate: GateName,
  status: GateStatus,
  summary: string,
  evidence: Record<string, unknown> = {},
): GateResult {
  return { gate, status, summary, evidence };
}

/** A gate that threw: an error result, not a crash, so the report still shows every gate. */
export function errorResult(gate: GateName, error: unknown): GateResult {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  return result(gate, "error", message, typeof code === "string" ? { code } : {});
}
