import { describe, expect, it } from "vitest";
import { humanSize, relativeTime, table } from "../../src/cli/format.js";

describe("output formatting", () => {
  it("prints binary sizes", () => {
    expect(humanSize(512)).toBe("512 B");
    expect(humanSize(1536)).toBe("1.5 KiB");
    expect(humanSize(1.2 * 1024 ** 3)).toBe("1.2 GiB");
    expect(humanSize(500 * 1024 ** 2)).toBe("500 MiB");
  });
  it("prints relative times", () => {
    const now = new Date("2026-11-24T12:00:00Z");
    expect(relativeTime(new Date("2026-11-21T12:00:00Z"), now)).toBe("3 days ago");
    expect(relativeTime(new Date("2026-11-24T11:59:58Z"), now)).toBe("just now");
    expect(relativeTime(new Date("2024-01-15T00:00:00Z"), now)).toBe("2 years ago");
    expect(relativeTime(new Date("2026-11-24T14:00:00Z"), now)).toBe("in 2 hours");
  });
  it("aligns columns", () => {
    expect(
      table(
        ["NAME", "SIZE"],
        [
          ["a", "1 B"],
          ["long-name", "10 KiB"],
        ],
        new Set([1]),
      ),
    ).toBe(["NAME         SIZE", "a             1 B", "long-name  10 KiB"].join("\n"));
  });
});
