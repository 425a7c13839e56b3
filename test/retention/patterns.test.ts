import { describe, expect, it } from "vitest";
import { retentionRulesSchema } from "../../src/policy/retention-rules.js";
import { compilePattern } from "../../src/retention/patterns.js";
import { isSemverTag } from "../../src/retention/rules.js";

describe("tag patterns", () => {
  it.each([
    ["release-*", ["release-1", "release-"], ["xrelease-1", "release"]],
    ["v?.?", ["v1.2"], ["v1.23", "v12"]],
    ["build-{8,9}*", ["build-8", "build-91"], ["build-7", "build-"]],
    ["1.2.3", ["1.2.3"], ["1x2x3", "1.2.34"]],
    ["/^main-[0-9a-f]+$/", ["main-abc1"], ["main-xyz", "x-main-abc"]],
    ["/rc/i", ["1.0-RC1", "rc"], ["1.0"]],
  ])("%s", (pattern, matching, notMatching) => {
    const p = compilePattern(pattern);
    for (const tag of matching) expect(p.test(tag), tag).toBe(true);
    for (const tag of notMatching) expect(p.test(tag), tag).toBe(false);
  });

  it("semantic versions as the semver package sees them, with a fast pre-check", () => {
    for (const tag of ["1.2.3", "v1.2.3", "2.0.0-rc.1", "1.0.0+build.5"])
      expect(isSemverTag(tag), tag).toBe(true);
    for (const tag of ["1.2", "latest", "v1", "1.2.3.4", "01.2.3"]) expect(isSemverTag(tag), tag).toBe(false);
  });
});

describe("retention rules schema", () => {
  it("accepts the documented shape and normalises single patterns and files to lists", () => {
    const rules = retentionRulesSchema.parse({
      keep_last: 10,
      max_age_days: 30,
      keep_semver: true,
      keep_tags: "release-*",
      include: ["pr-*", "/^build-/"],
      untagged_days: 7,
      keep_deployed: { kubernetes: { context: "prod" }, files: "deployed.txt" },
      protect_promoted: false,
    });
    expect(rules.keep_tags).toEqual(["release-*"]);
    expect(rules.keep_deployed).toEqual({ kubernetes: { context: "prod" }, files: ["deployed.txt"] });
  });

  it.each([
    [{ keep_last: -1 }, "keep_last"],
    [{ keep_last: 1.5 }, "keep_last"],
    [{ keep_tags: ["/(unclosed/"] }, "regular expression"],
    [{ keep_lats: 3 }, "keep_lats"],
    [{ keep_deployed: { kubernetes: { contxt: "x" } } }, "contxt"],
  ])("refuses %j", (input, message) => {
    const result = retentionRulesSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });
});
