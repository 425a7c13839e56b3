import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../src/policy/config.js";
import { ConfigInvalidError } from "../../src/policy/config-errors.js";
import { MASK, maskSecrets } from "../../src/policy/config-mask.js";
import { parseDuration } from "../../src/policy/config-schema.js";

const EXAMPLE = join(import.meta.dirname, "..", "..", "examples", "shipgate.yaml");
const SECRETS = {
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
  TEAMS_WEBHOOK_URL: "https://example.webhook.office.com/webhookb2/SECRETPATH",
  PAGERDUTY_ROUTING_KEY: "R0UT1NGKEYSECRET",
  AUDIT_WEBHOOK_SECRET: "hmac-secret",
};

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseConfig(text, "shipgate.yaml", env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigInvalidError);
    return (error as ConfigInvalidError).issues;
  }
  throw new Error("expected the config to be refused");
}

const BASE = `registries:
  dev: { url: localhost:5001 }
environments:
  dev: { registry: dev, prefix: "dev/" }
  staging: { registry: dev, prefix: "staging/" }
`;

describe("config loading", () => {
  it("loads the example with every gate and section, expanding variables and defaults", () => {
    const { config } = loadConfig(EXAMPLE, SECRETS);
    expect(config.registries.dev).toEqual({ url: "localhost:5001", insecure: true });
    expect(config.environments.staging).toEqual({ registry: "dev", prefix: "staging/" });
    const prod = config.promotion.prod;
    expect(prod?.from).toBe("staging");
    expect(Object.keys(prod?.gates ?? {}).sort()).toEqual(
      ["approval", "licenses", "provenance", "sbom", "signature", "smoke", "vulnerabilities"].sort(),
    );
    expect(prod?.gates.approval).toEqual({
      approvers: 1,
      notify: ["platform-slack"],
      timeout: 600_000,
      escalate: ["oncall-pagerduty"],
    });
    expect(prod?.gates.smoke?.timeout).toBe(30_000);
    expect(config.promotion.staging?.gates.vulnerabilities?.exceptions[0]?.expires).toBe("2027-06-30");
    expect(config.notifications["platform-slack"]).toEqual({
      type: "slack",
      webhook_url: SECRETS.SLACK_WEBHOOK_URL,
    });
    expect(config.notifications["audit-webhook"]).toMatchObject({
      url: "https://audit.example.com/shipgate",
      secret: "hmac-secret",
    });
    expect(config.retention.prod?.keep_deployed).toBe(true);
    expect(config.alerts.vulnerabilities).toEqual({ severity: "critical", notify: ["oncall-pagerduty"] });
  });

  it("names a missing variable and where it is used", () => {
    const issues = issuesOf(`${BASE}notifications:\n  s: { type: slack, webhook_url: \${SLACK_URL} }\n`);
    expect(issues).toEqual([
      expect.objectContaining({
        line: 7,
        column: 34,
        path: "notifications.s.webhook_url",
        message: expect.stringContaining("SLACK_URL is not set"),
      }),
    ]);
  });

  it("expands ${VAR:-default} (empty counts as unset) and keeps $${ literal", () => {
    const text = `${BASE}store: "\${STORE_DIR:-/var/lib/shipgate}"\nsigning: { key: "k$\${x}", password: "\${PW}" }\n`;
    expect(parseConfig(text, "f", { STORE_DIR: "", PW: "p" }).store).toBe("/var/lib/shipgate");
    expect(parseConfig(text, "f", { STORE_DIR: "/s", PW: "p" }).store).toBe("/s");
    expect(parseConfig(text, "f", { PW: "p" }).signing).toEqual({ key: "k${x}", password: "p" });
  });

  it("reports each schema problem at its line and column with what was expected", () => {
    const text = `${BASE}promotion:
  staging:
    from: dev
    gates:
      vulnerabilities:
        max: { critical: "zero" }
      signature: {}
      smok: {}
      approval: { timeout: 10x }
`;
    const issues = issuesOf(text);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 11,
          column: 26,
          path: "promotion.staging.gates.vulnerabilities.max.critical",
          message: expect.stringMatching(/expected number, received string/),
        }),
        expect.objectContaining({
          line: 12,
          column: 18,
          path: "promotion.staging.gates.signature.keys",
          message: expect.stringMatching(/missing required key "keys"/),
        }),
        expect.objectContaining({
          line: 13,
          column: 7,
          path: "promotion.staging.gates.smok",
          message: 'unknown key "smok"',
        }),
        expect.objectContaining({
          line: 14,
          column: 28,
          message: expect.stringMatching(/expected a duration/),
        }),
      ]),
    );
    expect(issues).toHaveLength(4);
  });

  it("checks cross-references: registries, environments, notification targets", () => {
    const text = `${BASE}  qa: { registry: nowhere }
promotion:
  prod: { from: dev }
  staging:
    from: qa2
    gates: { approval: { notify: [slack] } }
`;
    const issues = issuesOf(text);
    expect(issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '6:19 environments.qa.registry: unknown registry "nowhere" (known: dev)',
      '8:3 promotion.prod: unknown environment "prod" (known: dev, staging, qa)',
      '10:11 promotion.staging.from: unknown environment "qa2" (known: dev, staging, qa)',
      '11:35 promotion.staging.gates.approval.notify.0: unknown notification "slack" (known: none)',
    ]);
  });

  it("reports YAML syntax errors with a position, and a missing file", () => {
    const issues = issuesOf("registries:\n  dev: { url: x\n");
    expect(issues[0]).toMatchObject({
      line: expect.any(Number),
      message: expect.stringMatching(/^YAML syntax/),
    });
    expect(issuesOf("a: 1\na: 2\n")[0]?.message).toMatch(/unique|duplicate/i);
    expect(() => loadConfig("/nonexistent/shipgate.yaml")).toThrow(
      /no config file at \/nonexistent\/shipgate.yaml/,
    );
  });

  it("masks secrets but keeps which service a webhook is", () => {
    const { config } = loadConfig(EXAMPLE, SECRETS);
    const masked = maskSecrets(config);
    const text = JSON.stringify(masked);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(masked.notifications["platform-slack"]).toEqual({
      type: "slack",
      webhook_url: `https://hooks.slack.com/${MASK}`,
    });
    expect(masked.notifications["oncall-pagerduty"]).toMatchObject({ routing_key: MASK });
    expect(config.notifications["oncall-pagerduty"]).toMatchObject({
      routing_key: SECRETS.PAGERDUTY_ROUTING_KEY,
    });
  });

  it("parses durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration(5)).toBe(5000);
    expect(parseDuration("soon")).toBeUndefined();
  });
});
