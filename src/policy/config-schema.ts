/**
 * The schema of shipgate.yaml (DESIGN.md "Configuration"). Field names are
 * snake_case as users write them; cross-references (an environment's
 * registry, a promotion's `from`, a gate's notification targets) are checked
 * in one refinement so the error points at the name that does not resolve.
 */
import { z } from "zod";
import { retentionSectionSchema } from "./retention-rules.js";

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a name of letters, digits, '.', '_' or '-'");

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `10m`, `2h`, `1d`, or a number of seconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return value >= 0 ? value * 1000 : undefined;
  const match = durationPattern.exec(value.trim());
  if (match === null) return undefined;
  return Number(match[1]) * (unitMs[match[2] as string] as number);
}

/** A duration, normalised to milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration such as 30s, 10m, 2h or 1d, got "${value}"`,
    });
    return z.NEVER;
  }
  return ms;
});

/** YYYY-MM-DD (YAML 1.2's core schema keeps it a string). */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD")
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), "not a calendar date");

const count = z.number().int().nonnegative();

const registry = z.strictObject({
  /** host[:port], optionally with a scheme (ignored: loopback and `insecure` decide plain HTTP). */
  url: z.string().min(1),
  insecure: z.boolean().optional(),
  ca_file: z.string().min(1).optional(),
});

const environment = z.strictObject({
  registry: name,
  /** Prepended to the app name to form the repository (`staging/` + `shop`). */
  prefix: z.string().default(""),
});

const severityMax = z.strictObject({
  critical: count.optional(),
  high: count.optional(),
  medium: count.optional(),
  low: count.optional(),
  negligible: count.optional(),
  unknown: count.optional(),
});

const vulnException = z.strictObject({
  id: z.string().min(1),
  reason: z.string().min(1, "say why the exception exists"),
  expires: isoDate.optional(),
  /** Only for this package (name or purl); default any package. */
  package: z.string().min(1).optional(),
});

const vulnerabilitiesGate = z.strictObject({
  max: severityMax.default({}),
  exceptions: z.array(vulnException).default([]),
  /** OpenVEX documents: `not_affected` and `fixed` statements suppress a finding. */
  vex: z.array(z.string().min(1)).default([]),
  /** The vulnerability database (default: the store's). */
  db: z.string().min(1).optional(),
  /** A stored scan of the digest younger than this, against the same database state, is reused. */
  max_scan_age: duration.default(86_400_000),
});

const signatureGate = z.strictObject({
  keys: z.array(z.string().min(1)).min(1, "list at least one public key"),
});

const sbomGate = z.union([
  z.literal("required").transform(() => ({ required: true as const, formats: undefined })),
  z.strictObject({
    required: z.literal(true).default(true),
    formats: z.array(z.enum(["spdx-json", "cyclonedx-json"])).optional(),
  }),
]);

const licensesGate = z.strictObject({
  deny: z.array(z.string().min(1)).min(1, "list at least one deny pattern"),
});

const provenanceGate = z.strictObject({
  /** The SLSA builder id the provenance must name. */
  builder: z.string().min(1).optional(),
  /** The source repository (a URI prefix) the build must come from. */
  source: z.string().min(1).optional(),
  /** Keys that sign the attestation; default the signature gate's keys. */
  keys: z.array(z.string().min(1)).optional(),
});

const smokeGate = z
  .strictObject({
    command: z.string().min(1).optional(),
    http: z
      .strictObject({
        url: z.string().url(),
        status: z.number().int().min(100).max(599).default(200),
        /** A regular expression the body must match. */
        body: z.string().optional(),
      })
      .optional(),
    timeout: duration.default(60_000),
    env: z.record(z.string(), z.string()).default({}),
  })
  .refine((s) => (s.command === undefined) !== (s.http === undefined), {
    message: "give either a command or an http check",
  });

const approvalGate = z.strictObject({
  approvers: z.number().int().min(1).default(1),
  notify: z.array(name).default([]),
  timeout: duration.optional(),
  escalate: z.array(name).default([]),
});

const gates = z.strictObject({
  vulnerabilities: vulnerabilitiesGate.optional(),
  signature: signatureGate.optional(),
  sbom: sbomGate.optional(),
  licenses: licensesGate.optional(),
  provenance: provenanceGate.optional(),
  smoke: smokeGate.optional(),
  approval: approvalGate.optional(),
});

const promotion = z.strictObject({
  from: name.optional(),
  gates: gates.default({}),
  /** Channels told about every promotion into this environment (promoted or blocked). */
  notify: z.array(name).default([]),
});

const slack = z.strictObject({ type: z.literal("slack"), webhook_url: z.string().url() });
const teams = z.strictObject({ type: z.literal("teams"), webhook_url: z.string().url() });
const pagerduty = z.strictObject({
  type: z.literal("pagerduty"),
  routing_key: z.string().min(1),
  /** Events API endpoint; default https://events.pagerduty.com/v2/enqueue. */
  url: z.string().url().optional(),
  severity: z.enum(["critical", "error", "warning", "info"]).default("error"),
});
const webhook = z.strictObject({
  type: z.literal("webhook"),
  url: z.string().url(),
  /** HMAC-SHA256 key for the X-Shipgate-Signature header. */
  secret: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).default({}),
});
const notification = z.discriminatedUnion("type", [slack, teams, pagerduty, webhook]);

const alerts = z.strictObject({
  /** Findings at or above this severity in a digest already promoted somewhere raise an alert. */
  vulnerabilities: z
    .strictObject({
      severity: z.enum(["critical", "high", "medium", "low"]).default("critical"),
      notify: z.array(name).min(1, "name at least one notification channel"),
    })
    .optional(),
});

const signing = z.strictObject({
  /** Private key (cosign format) that signs promotion attestations. */
  key: z.string().min(1),
  password: z.string().optional(),
});

export const configSchema = z
  .strictObject({
    registries: z.record(name, registry).default({}),
    environments: z.record(name, environment).default({}),
    promotion: z.record(name, promotion).default({}),
    retention: retentionSectionSchema.default({}),
    notifications: z.record(name, notification).default({}),
    signing: signing.optional(),
    alerts: alerts.default({}),
    /** The embedded store directory (default --store, $SHIPGATE_STORE, XDG). */
    store: z.string().min(1).optional(),
  })
  .superRefine((config, ctx) => {
    // `atKey`: the name is the map key itself (promotion.<env>), so the error points at the key.
    const missing = (
      path: (string | number)[],
      what: string,
      value: string,
      known: string[],
      atKey = false,
    ) =>
      ctx.addIssue({
        code: "custom",
        path,
        message: `unknown ${what} "${value}" (known: ${known.length ? known.join(", ") : "none"})`,
        ...(atKey ? { params: { at: "key" } } : {}),
      });
    const registries = Object.keys(config.registries);
    const environments = Object.keys(config.environments);
    const notifications = Object.keys(config.notifications);
    for (const [env, e] of Object.entries(config.environments)) {
      if (!registries.includes(e.registry))
        missing(["environments", env, "registry"], "registry", e.registry, registries);
    }
    for (const [env, p] of Object.entries(config.promotion)) {
      if (!environments.includes(env)) missing(["promotion", env], "environment", env, environments, true);
      if (p.from !== undefined && !environments.includes(p.from))
        missing(["promotion", env, "from"], "environment", p.from, environments);
      p.notify.forEach((n, i) => {
        if (!notifications.includes(n))
          missing(["promotion", env, "notify", i], "notification", n, notifications);
      });
      const approval = p.gates.approval;
      for (const key of ["notify", "escalate"] as const) {
        approval?.[key].forEach((n, i) => {
          if (!notifications.includes(n))
            missing(["promotion", env, "gates", "approval", key, i], "notification", n, notifications);
        });
      }
    }
    config.alerts.vulnerabilities?.notify.forEach((n, i) => {
      if (!notifications.includes(n))
        missing(["alerts", "vulnerabilities", "notify", i], "notification", n, notifications);
    });
    for (const env of Object.keys(config.retention)) {
      if (!environments.includes(env)) missing(["retention", env], "environment", env, environments, true);
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type Gates = Config["promotion"][string]["gates"];
export type GateName = keyof Gates;
export type NotificationConfig = Config["notifications"][string];
export type SmokeGateConfig = NonNullable<Gates["smoke"]>;
export type VulnerabilitiesGateConfig = NonNullable<Gates["vulnerabilities"]>;
export type ApprovalGateConfig = NonNullable<Gates["approval"]>;
export type ProvenanceGateConfig = NonNullable<Gates["provenance"]>;

export const GATE_ORDER: GateName[] = [
  "vulnerabilities",
  "signature",
  "sbom",
  "licenses",
  "provenance",
  "smoke",
  "approval",
];
