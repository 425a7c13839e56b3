/**
 * A serious vulnerability found in a digest that already runs somewhere (it
 * was promoted into an environment) is not a gate decision but an incident:
 * it alerts the `alerts.vulnerabilities` channels, once per digest and
 * vulnerability set (the PagerDuty dedup key is the digest).
 */
import type { DeliveryResult } from "../notify/send.js";
import type { Config } from "../policy/config-schema.js";
import type { StoreDb } from "../store/store.js";
import type { Severity, VulnFinding } from "./gates/types.js";
import { deliver } from "./notices.js";
import { appStatus } from "./status.js";

const RANK: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, negligible: 1, unknown: 0 };

export interface AlertOutcome {
  sent: boolean;
  /** Where the digest is, which made it an incident. */
  environments: string[];
  findings: VulnFinding[];
  deliveries: DeliveryResult[];
}

export async function alertOnFindings(
  db: StoreDb,
  config: Config,
  subject: { app: string; digest: string; findings: readonly VulnFinding[]; now?: Date },
): Promise<AlertOutcome> {
  const rule = config.alerts.vulnerabilities;
  const none: AlertOutcome = { sent: false, environments: [], findings: [], deliveries: [] };
  if (rule === undefined) return none;
  const serious = subject.findings.filter((f) => RANK[f.severity] >= RANK[rule.severity]);
  if (serious.length === 0) return none;
  const placed = (await appStatus(subject.app, db)).find((d) => d.digest === subject.digest);
  const environments = placed?.placements.map((p) => p.environment) ?? [];
  if (environments.length === 0) return { ...none, findings: serious };
  const ids = [...new Set(serious.map((f) => f.id))];
  const now = subject.now ?? new Date();
  const deliveries = await deliver(db, config, rule.notify, {
    kind: "alert",
    severity: "critical",
    title: `${ids.length} ${rule.severity}+ vulnerabilit${ids.length === 1 ? "y" : "ies"} in ${subject.app} running in ${environments.join(", ")}`,
    text: `${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ` and ${ids.length - 10} more` : ""} in ${subject.digest}.`,
    image: { app: subject.app, digest: subject.digest },
    to: environments.join(","),
    dedupKey: `shipgate/vulnerabilities/${subject.digest}`,
    at: now,
  });
  return { sent: true, environments, findings: serious, deliveries };
}
