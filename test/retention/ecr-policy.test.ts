import { describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { judgeByEcrPolicy, parseEcrPolicy } from "../../src/retention/ecr-policy.js";
import type { JudgedImage } from "../../src/retention/model.js";
import { planRetention } from "../../src/retention/plan.js";
import { MemoryRepository } from "./memory-repository.js";

// The examples of the ECR user guide, "Examples of lifecycle policies in Amazon ECR", with the
// outcome the guide states for each. Push times become creation times (registries keep no push time).
const NOW = Date.parse("2026-06-30T00:00:00Z");
const pushed = (days: number) => NOW - days * 86_400_000;
const img = (name: string, tags: string[], days: number): JudgedImage => ({
  digest: `sha256:${name.repeat(64)}`,
  tags,
  created: pushed(days),
});
const expired = (decisions: Map<string, { action: string }>) =>
  [...decisions]
    .filter(([, d]) => d.action === "delete")
    .map(([digest]) => digest.slice(7, 8))
    .sort();

const twoRules = (a: string, b: string) =>
  JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: "Rule 1",
        selection: {
          tagStatus: "tagged",
          tagPrefixList: [a],
          countType: "imageCountMoreThan",
          countNumber: 1,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: "Rule 2",
        selection: {
          tagStatus: "tagged",
          tagPrefixList: [b],
          countType: "imageCountMoreThan",
          countNumber: 1,
        },
        action: { type: "expire" },
      },
    ],
  });

describe("ECR lifecycle policies, evaluated as the ECR user guide describes", () => {
  it("multiple rules, example A: only image A expires (B is protected by rule 1, which saw it)", () => {
    const images = [
      img("a", ["beta-1", "prod-1"], 10),
      img("b", ["beta-2", "prod-2"], 9),
      img("c", ["beta-3"], 8),
    ];
    const decisions = judgeByEcrPolicy(images, parseEcrPolicy(twoRules("prod", "beta"), "policy.json"), NOW);
    expect(expired(decisions)).toEqual(["a"]);
    expect(decisions.get(images[1]?.digest as string)).toMatchObject({
      action: "keep",
      rule: "ecr rule 1 (Rule 1)",
    });
  });

  it("multiple rules, example B: images A and B expire", () => {
    const images = [
      img("a", ["beta-1", "prod-1"], 10),
      img("b", ["beta-2", "prod-2"], 9),
      img("c", ["beta-3", "prod-3"], 8),
    ];
    const decisions = judgeByEcrPolicy(images, parseEcrPolicy(twoRules("prod", "beta"), "policy.json"), NOW);
    expect(expired(decisions)).toEqual(["a", "b"]);
  });

  const multiTagRepo = [
    img("a", ["alpha-1"], 12),
    img("b", ["beta-1"], 11),
    img("c", ["alpha-2", "beta-2"], 10),
    img("d", ["alpha-3"], 4),
    img("e", ["beta-3"], 3),
    img("f", ["alpha-4", "beta-4"], 2),
  ];

  it("several prefixes in one rule select images carrying all of them (age)", () => {
    const policy = parseEcrPolicy(
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "Rule 1",
            selection: {
              tagStatus: "tagged",
              tagPrefixList: ["alpha", "beta"],
              countType: "sinceImagePushed",
              countUnit: "days",
              countNumber: 5,
            },
            action: { type: "expire" },
          },
        ],
      }),
      "policy.json",
    );
    expect(expired(judgeByEcrPolicy(multiTagRepo, policy, NOW))).toEqual(["c"]);
  });

  it("several patterns in one rule select images carrying all of them (count)", () => {
    const policy = parseEcrPolicy(
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: {
              tagStatus: "tagged",
              tagPatternList: ["alpha*", "beta*"],
              countType: "imageCountMoreThan",
              countNumber: 1,
            },
            action: { type: "expire" },
          },
        ],
      }),
      "policy.json",
    );
    expect(expired(judgeByEcrPolicy(multiTagRepo, policy, NOW))).toEqual(["c"]);
  });

  it("untagged images older than 14 days; keep one untagged; tagStatus any keeps only the newest", () => {
    const images = [img("a", [], 20), img("b", [], 15), img("c", [], 3), img("d", ["prod"], 30)];
    const age = parseEcrPolicy(
      '{ "rules": [ { "rulePriority": 1, "description": "Expire images older than 14 days", "selection": { "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14 }, "action": { "type": "expire" } } ] }',
      "age.json",
    );
    expect(expired(judgeByEcrPolicy(images, age, NOW))).toEqual(["a", "b"]);
    const count = parseEcrPolicy(
      '{ "rules": [ { "rulePriority": 1, "description": "Keep only one untagged image, expire all others", "selection": { "tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } } ] }',
      "count.json",
    );
    expect(expired(judgeByEcrPolicy(images, count, NOW))).toEqual(["a", "b"]);
    const any = parseEcrPolicy(
      '{ "rules": [ { "rulePriority": 1, "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } } ] }',
      "any.json",
    );
    expect(expired(judgeByEcrPolicy(images, any, NOW))).toEqual(["a", "b", "d"]);
  });

  it("a rule per important tag keeps the newest of each, then a catch-all expires the rest", () => {
    const images = [
      img("a", ["main"], 50),
      img("b", ["latest"], 40),
      img("c", ["20240101"], 90),
      img("d", ["feature-x"], 80),
    ];
    const policy = parseEcrPolicy(
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: {
              tagStatus: "tagged",
              tagPatternList: ["latest"],
              countType: "imageCountMoreThan",
              countNumber: 1,
            },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            selection: {
              tagStatus: "tagged",
              tagPatternList: ["main"],
              countType: "imageCountMoreThan",
              countNumber: 1,
            },
            action: { type: "expire" },
          },
          {
            rulePriority: 9,
            selection: {
              tagStatus: "any",
              countType: "sinceImagePushed",
              countUnit: "days",
              countNumber: 60,
            },
            action: { type: "expire" },
          },
        ],
      }),
      "policy.json",
    );
    expect(expired(judgeByEcrPolicy(images, policy, NOW))).toEqual(["c", "d"]);
  });

  it.each([
    ['{"rules": []}', "rules"],
    [
      '{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}',
      "tagPrefixList or tagPatternList",
    ],
    [
      '{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 1}, "action": {"type": "expire"}}]}',
      "countUnit days",
    ],
    [
      '{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}, {"rulePriority": 2, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}',
      "highest rulePriority",
    ],
    [
      '{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPatternList": ["t*e*s*t*1*"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}',
      "four wildcards",
    ],
    ["not json", "not JSON"],
  ])("refuses an invalid policy: %s", (text, message) => {
    try {
      parseEcrPolicy(text, "policy.json");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ShipgateError);
      expect((error as ShipgateError).code).toBe("CONFIG_INVALID");
      expect((error as ShipgateError).message).toContain(message);
    }
  });

  it("in a plan: an expired image goes whole, its attachments with it; attachments are never judged", async () => {
    const repo = new MemoryRepository();
    const a = repo.image(["beta-1", "prod-1"], new Date(pushed(10)).toISOString());
    repo.image(["beta-2", "prod-2"], new Date(pushed(9)).toISOString());
    repo.image(["beta-3"], new Date(pushed(8)).toISOString());
    const sig = repo.cosign(a);
    const plan = await planRetention(repo, {
      judge: { kind: "ecr", policy: parseEcrPolicy(twoRules("prod", "beta"), "policy.json") },
      source: "ecr",
      now: new Date(NOW),
    });
    const steps = plan.steps.filter((s) => s.op === "delete-manifest");
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ digest: a, tags: ["beta-1", "prod-1"], attachments: [{ digest: sig }] });
    expect(plan.steps.some((s) => s.op === "delete-tag")).toBe(false);
  });
});
