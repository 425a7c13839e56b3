import { z } from "zod";
import { ShipgateError } from "../errors.js";
import { DAY_MS, type Decision, type JudgedImage } from "./model.js";

/**
 * Amazon ECR lifecycle policies, evaluated locally with ECR's documented semantics
 * ("Lifecycle policy evaluation rules" in the ECR user guide):
 * - rules run in rulePriority order, lowest number first;
 * - a rule selects images by tagStatus (tagged / untagged / any) and, for tagged, by
 *   tagPrefixList or tagPatternList: an image matches when EVERY entry of the list matches
 *   at least one of its tags;
 * - imageCountMoreThan N keeps the N most recent selected images and expires the rest;
 *   sinceImagePushed N days expires selected images pushed more than N days ago;
 * - an image selected by a higher-priority rule is never expired by a lower-priority one
 *   (lower rules still count it, "as if it had not been expired");
 * - an image is expired as a whole: every tag goes.
 * Registries do not expose push times, so the image's creation time stands in for pushed_at.
 */
const selection = z
  .object({
    tagStatus: z.enum(["tagged", "untagged", "any"]),
    tagPrefixList: z.array(z.string().min(1)).min(1).optional(),
    tagPatternList: z.array(z.string().min(1)).min(1).optional(),
    countType: z.enum(["imageCountMoreThan", "sinceImagePushed"]),
    countUnit: z.literal("days").optional(),
    countNumber: z.number().int().positive(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.tagPrefixList !== undefined && s.tagPatternList !== undefined)
      ctx.addIssue({ code: "custom", message: "tagPrefixList and tagPatternList cannot both be set" });
    if (s.tagStatus !== "tagged" && (s.tagPrefixList !== undefined || s.tagPatternList !== undefined))
      ctx.addIssue({ code: "custom", message: "tag filters are only allowed with tagStatus tagged" });
    if (s.tagStatus === "tagged" && s.tagPrefixList === undefined && s.tagPatternList === undefined)
      ctx.addIssue({ code: "custom", message: "tagStatus tagged needs tagPrefixList or tagPatternList" });
    if (s.countType === "sinceImagePushed" && s.countUnit !== "days")
      ctx.addIssue({ code: "custom", message: "sinceImagePushed needs countUnit days" });
    if (s.countType === "imageCountMoreThan" && s.countUnit !== undefined)
      ctx.addIssue({ code: "custom", message: "countUnit is only allowed with sinceImagePushed" });
    for (const p of s.tagPatternList ?? [])
      if ((p.match(/\*/g) ?? []).length > 4)
        ctx.addIssue({ code: "custom", message: `tag pattern ${p} has more than four wildcards` });
  });

const rule = z
  .object({
    rulePriority: z.number().int().positive(),
    description: z.string().optional(),
    selection,
    action: z.object({ type: z.literal("expire") }).strict(),
  })
  .strict();

export const ecrPolicySchema = z.object({ rules: z.array(rule).min(1) }).superRefine((policy, ctx) => {
  const priorities = policy.rules.map((r) => r.rulePriority);
  if (new Set(priorities).size !== priorities.length)
    ctx.addIssue({ code: "custom", message: "rulePriority values must be unique" });
  if (policy.rules.filter((r) => r.selection.tagStatus === "untagged").length > 1)
    ctx.addIssue({ code: "custom", message: "only one rule may select untagged images" });
  const max = Math.max(...priorities);
  for (const r of policy.rules)
    if (r.selection.tagStatus === "any" && r.rulePriority !== max)
      ctx.addIssue({ code: "custom", message: "a tagStatus any rule must have the highest rulePriority" });
});

export type EcrPolicy = z.infer<typeof ecrPolicySchema>;
export type EcrRule = EcrPolicy["rules"][number];

export function parseEcrPolicy(text: string, where: string): EcrPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ShipgateError("CONFIG_INVALID", `${where}: not JSON: ${(error as Error).message}`, {
      hint: "an ECR lifecycle policy is the JSON document `aws ecr get-lifecycle-policy` returns as lifecyclePolicyText",
    });
  }
  const parsed = ecrPolicySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") || "(top level)";
    throw new ShipgateError("CONFIG_INVALID", `${where}: ${path}: ${issue?.message ?? "invalid"}`, {
      hint: "see the ECR lifecycle policy template in docs/retention.md",
    });
  }
  return parsed.data;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^$()|[\]\\{}]/g, "\\$&"))
      .join(".*")}$`,
  );
}

function selector(rule: EcrRule): (image: JudgedImage) => boolean {
  const s = rule.selection;
  if (s.tagStatus === "untagged") return (image) => image.tags.length === 0;
  if (s.tagStatus === "any") return () => true;
  const tests: ((tag: string) => boolean)[] =
    s.tagPrefixList !== undefined
      ? s.tagPrefixList.map((prefix) => (tag: string) => tag.startsWith(prefix))
      : (s.tagPatternList ?? []).map((p) => {
          const re = wildcard(p);
          return (tag: string) => re.test(tag);
        });
  return (image) => image.tags.length > 0 && tests.every((t) => image.tags.some(t));
}

function ruleName(rule: EcrRule): string {
  return `ecr rule ${rule.rulePriority}${rule.description ? ` (${rule.description})` : ""}`;
}

/**
 * Decides every image (digest) under an ECR policy. Images with no creation time are left out of
 * counting and kept (shipgate never guesses an age).
 */
export function judgeByEcrPolicy(
  images: JudgedImage[],
  policy: EcrPolicy,
  now: number,
): Map<string, Decision> {
  const decisions = new Map<string, Decision>();
  const dated = images.filter((i) => i.created !== undefined);
  for (const image of images)
    if (image.created === undefined)
      decisions.set(image.digest, { action: "keep", rule: "no_creation_time" });
  // Newest first; the digest breaks ties so the result never depends on listing order.
  dated.sort(
    (a, b) =>
      (b.created as number) - (a.created as number) ||
      (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0),
  );
  const seen = new Set<string>();
  for (const rule of [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority)) {
    const select = selector(rule);
    const selected = dated.filter(select);
    const { countType, countNumber } = rule.selection;
    const expiring =
      countType === "imageCountMoreThan"
        ? selected.slice(countNumber)
        : selected.filter((i) => (i.created as number) < now - countNumber * DAY_MS);
    for (const image of expiring) {
      if (seen.has(image.digest)) continue;
      const detail =
        countType === "imageCountMoreThan"
          ? `more than ${countNumber} matching images, older ones expire`
          : `pushed more than ${countNumber} days ago`;
      decisions.set(image.digest, { action: "delete", rule: ruleName(rule), detail });
    }
    for (const image of selected) {
      if (!seen.has(image.digest) && !decisions.has(image.digest))
        decisions.set(image.digest, {
          action: "keep",
          rule: ruleName(rule),
          detail: "selected, not expired",
        });
      seen.add(image.digest);
    }
  }
  for (const image of dated)
    if (!decisions.has(image.digest))
      decisions.set(image.digest, { action: "keep", rule: "ecr_not_selected", detail: "no rule selects it" });
  return decisions;
}
