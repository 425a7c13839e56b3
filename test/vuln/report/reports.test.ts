import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { toCycloneDxVex } from "../../../src/vuln/report/cyclonedx-vex.js";
import { failOnGate } from "../../../src/vuln/report/gate.js";
import {
  type Finding,
  findingsAtOrAbove,
  mergeReports,
  type ScanReport,
  summariseBySeverity,
} from "../../../src/vuln/report/model.js";
import { toSarif } from "../../../src/vuln/report/sarif.js";
import { summaryLine, textRows } from "../../../src/vuln/report/text.js";
import { cycloneDxErrors } from "../../sbom/formats/validators.js";

function finding(over: Partial<Finding> & { id: string }): Finding {
  return {
    aliases: [],
    records: [over.id],
    package: {
      name: "lodash",
      version: "4.17.15",
      type: "npm",
      purl: "pkg:npm/lodash@4.17.15",
      ecosystem: "npm",
      locations: ["/app/node_modules/lodash/package.json"],
    },
    severity: {
      level: "HIGH",
      score: 7.4,
      vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H",
      source: "cvss_v3",
      record: over.id,
    },
    fixedIn: ["4.17.20"],
    summary: "Prototype Pollution in lodash",
    references: ["https://nvd.nist.gov/vuln/detail/CVE-2020-8203"],
    notes: [],
    ...over,
  };
}

const report: ScanReport = {
  schema: "shipgate.scan/v1",
  source: { kind: "image", name: "oci:/x:shop", digest: "sha256:f7aa" },
  scanner: { name: "shipgate" },
  scannedAt: "2024-02-01T00:00:00.000Z",
  packages: 3,
  findings: [
    finding({
      id: "CVE-2021-44906",
      aliases: ["GHSA-xvch-5gv4-984h"],
      records: ["GHSA-xvch-5gv4-984h"],
      severity: { level: "CRITICAL", score: 9.8, source: "cvss_v3" },
      package: {
        name: "minimist",
        version: "1.2.0",
        type: "npm",
        purl: "pkg:npm/minimist@1.2.0",
        ecosystem: "npm",
        locations: ["/app/node_modules/minimist/package.json"],
      },
      fixedIn: ["1.2.6"],
    }),
    finding({ id: "CVE-2020-8203", records: ["GHSA-p6mc-m468-83gw"] }),
    finding({
      id: "CVE-2022-23539",
      records: ["GHSA-8cf7-32gw-wr33"],
      severity: { level: "MEDIUM", source: "database" },
      fixedIn: [],
      package: {
        name: "jsonwebtoken",
        version: "8.5.1",
        type: "npm",
        purl: "pkg:npm/jsonwebtoken@8.5.1",
        ecosystem: "npm",
        locations: [],
      },
    }),
    finding({ id: "GO-2023-0001", severity: { level: "UNKNOWN", source: "none" } }),
  ],
  suppressed: [
    finding({
      id: "CVE-2024-45590",
      records: ["GHSA-qwcr-r2fm-qrc7"],
      suppressed: {
        by: "vex",
        status: "not_affected",
        justification: "vulnerable_code_not_in_execute_path",
        reason: "urlencoded parser unused",
        origin: "vex.json",
      },
    }),
  ],
  notes: [],
};

/**
 * The objects the writer emits as the SARIF 2.1.0 specification defines
 * them, transcribed: required properties, the `level` enumeration, integer
 * minimums, and `additionalProperties: false` with each object's full list
 * of property names. The official JSON schema is checked below too; this
 * transcription keeps the check readable and independent of that copy.
 */
const mls = {
  type: "object",
  required: ["text"],
  properties: { text: { type: "string" }, markdown: { type: "string" } },
};
const message = {
  type: "object",
  anyOf: [{ required: ["text"] }, { required: ["id"] }],
  properties: {
    text: { type: "string" },
    markdown: { type: "string" },
    id: { type: "string" },
    arguments: { type: "array" },
    properties: { type: "object" },
  },
  additionalProperties: false,
};
const level = { enum: ["none", "note", "warning", "error"] };
const sarifSubset = {
  type: "object",
  required: ["version", "runs"],
  additionalProperties: false,
  properties: {
    $schema: { type: "string", format: "uri" },
    version: { enum: ["2.1.0"] },
    runs: {
      type: "array",
      items: {
        type: "object",
        required: ["tool"],
        properties: {
          tool: {
            type: "object",
            required: ["driver"],
            properties: {
              driver: {
                type: "object",
                required: ["name"],
                properties: {
                  name: { type: "string" },
                  version: { type: "string" },
                  rules: {
                    type: "array",
                    uniqueItems: true,
                    items: {
                      type: "object",
                      required: ["id"],
                      additionalProperties: false,
                      properties: {
                        id: { type: "string" },
                        deprecatedIds: {},
                        guid: {},
                        deprecatedGuids: {},
                        name: { type: "string" },
                        deprecatedNames: {},
                        shortDescription: mls,
                        fullDescription: mls,
                        messageStrings: {},
                        helpUri: { type: "string", format: "uri" },
                        help: mls,
                        defaultConfiguration: {
                          type: "object",
                          properties: { enabled: {}, level, rank: {}, parameters: {}, properties: {} },
                          additionalProperties: false,
                        },
                        relationships: {},
                        properties: { type: "object" },
                      },
                    },
                  },
                },
              },
            },
          },
          results: {
            type: "array",
            items: {
              type: "object",
              required: ["message"],
              additionalProperties: false,
              properties: Object.fromEntries(
                [
                  "ruleId",
                  "rule",
                  "kind",
                  "analysisTarget",
                  "guid",
                  "correlationGuid",
                  "occurrenceCount",
                  "fingerprints",
                  "stacks",
                  "codeFlows",
                  "graphs",
                  "graphTraversals",
                  "relatedLocations",
                  "suppressions",
                  "baselineState",
                  "rank",
                  "attachments",
                  "hostedViewerUri",
                  "workItemUris",
                  "provenance",
                  "fixes",
                  "taxa",
                  "webRequest",
                  "webResponse",
                  "properties",
                ]
                  .map((k) => [k, {}])
                  .concat([
                    ["ruleIndex", { type: "integer", minimum: -1 }],
                    ["level", level],
                    ["message", message],
                    ["partialFingerprints", { type: "object", additionalProperties: { type: "string" } }],
                    [
                      "locations",
                      {
                        type: "array",
                        items: {
                          type: "object",
                          additionalProperties: false,
                          properties: {
                            id: {},
                            logicalLocations: {},
                            annotations: {},
                            relationships: {},
                            properties: {},
                            message,
                            physicalLocation: {
                              type: "object",
                              additionalProperties: false,
                              properties: {
                                address: {},
                                contextRegion: {},
                                properties: {},
                                artifactLocation: {
                                  type: "object",
                                  properties: {
                                    uri: { type: "string", format: "uri-reference" },
                                    uriBaseId: {},
                                    index: {},
                                    description: {},
                                    properties: {},
                                  },
                                  additionalProperties: false,
                                },
                                region: {
                                  type: "object",
                                  properties: {
                                    startLine: { type: "integer", minimum: 1 },
                                    startColumn: { type: "integer", minimum: 1 },
                                    endLine: { type: "integer", minimum: 1 },
                                    endColumn: { type: "integer", minimum: 1 },
                                  },
                                },
                              },
                            },
                          },
                        },
                      },
                    ],
                  ]),
              ),
            },
          },
          properties: { type: "object" },
        },
      },
    },
  },
};

describe("SARIF 2.1.0", () => {
  const sarif = toSarif(report, "0.1.0") as {
    runs: {
      tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } };
      results: {
        ruleId: string;
        ruleIndex: number;
        level: string;
        locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
      }[];
    }[];
  };

  it("validates against the spec's definitions of the objects it uses", async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    // ajv-formats is CommonJS: its default export is the function itself or under .default
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
      addFormatsModule) as (a: Ajv) => Ajv;
    addFormats(ajv);
    const validate = ajv.compile(sarifSubset);
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    // and the check has teeth
    expect(validate({ ...sarif, version: "2.0.0" })).toBe(false);
    const bad = JSON.parse(JSON.stringify(sarif));
    bad.runs[0].results[0].severity = "high";
    expect(validate(bad)).toBe(false);
  });

  it("validates against the SARIF 2.1.0 JSON schema (rtm.5, the schema shipped in @microsoft/jest-sarif)", () => {
    const file = join(
      import.meta.dirname,
      "..",
      "..",
      "..",
      "node_modules",
      "@microsoft",
      "jest-sarif",
      "lib",
      "schemas",
      "sarif-2.1.0-rtm.5.json",
    );
    // A draft-04 schema: Ajv 8 reads it once its `id` is spelled `$id` (it uses no other draft-04-only keyword).
    const {
      $schema: _draft,
      id,
      ...schema
    } = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    // Its `language` pattern has a stray `]`, valid only outside Unicode mode.
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false });
    const validate = ajv.compile({ $id: id as string, ...schema });
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    const bad = JSON.parse(JSON.stringify(sarif));
    bad.runs[0].results[0].level = "critical";
    expect(validate(bad)).toBe(false);
    const extra = JSON.parse(JSON.stringify(sarif));
    extra.runs[0].results[0].cve = "x";
    expect(validate(extra)).toBe(false);
  });

  it("has one rule per advisory, results pointing at their rule, and what GitHub code scanning needs", () => {
    const run = sarif.runs[0];
    const rules = run?.tool.driver.rules ?? [];
    expect(rules.map((r) => r.id)).toEqual([
      "CVE-2021-44906",
      "CVE-2020-8203",
      "CVE-2022-23539",
      "GO-2023-0001",
    ]);
    for (const r of run?.results ?? []) {
      expect(rules[r.ruleIndex]?.id).toBe(r.ruleId);
      expect(r.locations[0]?.physicalLocation.artifactLocation.uri).not.toMatch(/^\//);
    }
    expect(rules[0]?.properties["security-severity"]).toBe("9.8");
    expect(rules[2]?.properties["security-severity"]).toBe("4.0");
    expect(run?.results.map((r) => r.level)).toEqual(["error", "error", "warning", "note"]);
    expect(run?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(
      "app/node_modules/minimist/package.json",
    );
    // a package without a file location points at the scanned artifact
    expect(run?.results[2]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe("oci:/x:shop");
    // suppressed findings are not results
    expect(JSON.stringify(sarif)).not.toContain("CVE-2024-45590");
  });
});

describe("CycloneDX VEX", () => {
  it("is a valid CycloneDX 1.6 document (official schema) with analyses for suppressed findings", async () => {
    const vex = toCycloneDxVex(report, "0.1.0") as {
      vulnerabilities: { id: string; affects: { ref: string }[]; analysis?: unknown; ratings: unknown[] }[];
      components: { "bom-ref": string }[];
    };
    expect(await cycloneDxErrors(JSON.stringify(vex))).toBeNull();
    const refs = new Set(vex.components.map((c) => c["bom-ref"]));
    for (const v of vex.vulnerabilities) for (const a of v.affects) expect(refs.has(a.ref)).toBe(true);
    const suppressed = vex.vulnerabilities.find((v) => v.id === "CVE-2024-45590");
    expect(suppressed?.analysis).toEqual({
      state: "not_affected",
      justification: "code_not_reachable",
      detail: "vulnerable_code_not_in_execute_path: urlencoded parser unused: from vex.json",
    });
    expect(vex.vulnerabilities.find((v) => v.id === "CVE-2021-44906")?.ratings).toEqual([
      { score: 9.8, severity: "critical", method: "CVSSv31" },
    ]);
    // deterministic
    expect(JSON.stringify(toCycloneDxVex(report, "0.1.0"))).toBe(JSON.stringify(vex));
  });
});

describe("summaries and gates", () => {
  it("counts unsuppressed findings by severity; UNKNOWN never meets a threshold", () => {
    expect(summariseBySeverity(report)).toEqual({
      CRITICAL: 1,
      HIGH: 1,
      MEDIUM: 1,
      LOW: 0,
      NONE: 0,
      UNKNOWN: 1,
    });
    expect(findingsAtOrAbove(report, "CRITICAL").map((f) => f.id)).toEqual(["CVE-2021-44906"]);
    expect(findingsAtOrAbove(report, "HIGH")).toHaveLength(2);
    expect(findingsAtOrAbove(report, "LOW")).toHaveLength(3);
    expect(summaryLine(report)).toBe(
      "4 vulnerabilities in 3 packages (CRITICAL 1, HIGH 1, MEDIUM 1, UNKNOWN 1)",
    );
  });

  it("the fail-on gate throws VULNERABILITIES_FOUND naming what is over the line", () => {
    expect(() => failOnGate([report], "CRITICAL")).toThrow(
      expect.objectContaining({
        code: "VULNERABILITIES_FOUND",
        message: "1 finding at or above CRITICAL in oci:/x:shop: CVE-2021-44906",
      }),
    );
    expect(() => failOnGate([{ ...report, findings: report.findings.slice(2) }], "HIGH")).not.toThrow();
  });

  it("groups table rows by package, worst package first, name shown once", () => {
    const rows = textRows(report.findings);
    expect(rows.map((r) => [r.package, r.id, r.severityDetail, r.fixedIn])).toEqual([
      ["minimist", "CVE-2021-44906", "9.8 v3", "1.2.6"],
      ["lodash", "CVE-2020-8203", "7.4 v3", "4.17.20"],
      ["", "GO-2023-0001", "", "4.17.20"],
      ["jsonwebtoken", "CVE-2022-23539", "label", ""],
    ]);
  });

  it("merges platform reports, keeping each finding's platform", () => {
    const a = {
      ...report,
      source: { ...report.source, platform: "linux/amd64" },
      findings: [finding({ id: "CVE-1", platform: "linux/amd64" })],
      suppressed: [],
    };
    const b = {
      ...report,
      source: { ...report.source, platform: "linux/arm64" },
      findings: [finding({ id: "CVE-1", platform: "linux/arm64" })],
      suppressed: [],
    };
    const merged = mergeReports([a, b]);
    expect(merged.findings.map((f) => f.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(merged.source.platform).toBeUndefined();
    expect(merged.packages).toBe(6);
  });
});
