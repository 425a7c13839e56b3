import { describe, expect, it } from "vitest";
import { comparatorFor } from "../../../src/vuln/versions/index.js";

// No .NET SDK (NuGet.Versioning) on this machine or in Debian, so no oracle runs here:
// these cases follow NuGet's documented rules ("Package versioning", learn.microsoft.com).
const nuget = comparatorFor("NuGet");
if (!nuget) throw new Error("no NuGet comparator");

function expectAscending(versions: string[]): void {
  for (let i = 0; i < versions.length; i++) {
    for (let j = 0; j < versions.length; j++) {
      const got = nuget?.compare(versions[i] as string, versions[j] as string) ?? Number.NaN;
      expect(`${versions[i]} vs ${versions[j]}: ${got}`).toBe(
        `${versions[i]} vs ${versions[j]}: ${Math.sign(i - j)}`,
      );
    }
  }
}

describe("NuGet comparator: NuGet's documented rules, no oracle on this machine", () => {
  it("orders prereleases below releases and labels part by part", () => {
    expectAscending([
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.0.1",
      "1.0.1",
      "1.10",
      "2.0.0.0-preview",
      "2.0",
    ]);
  });

  it("normalises missing parts and leading zeros, ignores case and build metadata", () => {
    for (const same of ["1.0", "1.0.0", "1.0.0.0", "1.00.0", "1.0.0+build.5", "01.0"]) {
      expect(nuget.compare("1", same)).toBe(0);
    }
    expect(nuget.compare("1.0.0-BETA", "1.0.0-beta")).toBe(0);
    expect(nuget.compare("1.0.0-Beta.2", "1.0.0-beta.10")).toBeLessThan(0);
    // Int32.TryParse refuses 2^31 and beyond, so such a label is text, above every number.
    expect(nuget.compare("1.0.0-2147483648", "1.0.0-2147483647")).toBeGreaterThan(0);
    expect(nuget.compare("1.0.0-2147483648", "1.0.0-a")).toBeLessThan(0);
    expect(nuget.compare("1.0.0-9", "1.0.0-10")).toBeLessThan(0);
  });

  it("accepts one to four numeric parts within Int32, labels of [0-9A-Za-z-]", () => {
    for (const v of [
      "1",
      "1.2",
      "1.2.3",
      "1.2.3.4",
      "1.2.3-beta.1+sha.abc",
      "2147483647.0.0",
      "1.0.0-rc-1",
    ]) {
      expect(nuget.isValid(v)).toBe(true);
    }
    for (const v of [
      "",
      "1.2.3.4.5",
      "2147483648.0",
      "1.2.3-",
      "1.2.3-beta..1",
      "1.2.3+",
      "v1.2.3",
      "1.2.3-beta_1",
      "1..2",
    ]) {
      expect(nuget.isValid(v)).toBe(false);
    }
  });
});
