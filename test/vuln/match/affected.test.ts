import { describe, expect, it } from "vitest";
import { evaluateAffected, sortEvents } from "../../../src/vuln/match/affected.js";
import { semverComparator } from "../../../src/vuln/match/semver.js";
import type { OsvAffected } from "../../../src/vuln/osv/schema.js";
import { comparatorFor } from "../../../src/vuln/versions/index.js";

const npm = { ecosystem: comparatorFor("npm"), semver: semverComparator };
const debian = { ecosystem: comparatorFor("Debian:12"), semver: semverComparator };

function entry(
  events: Record<string, string>[],
  extra: Partial<OsvAffected> = {},
  type = "ECOSYSTEM",
): OsvAffected {
  return {
    package: { ecosystem: "npm", name: "x" },
    ranges: [{ type: type as "ECOSYSTEM", events: events as never }],
    ...extra,
  };
}

const affected = (version: string, e: OsvAffected, c = npm) => evaluateAffected(version, e, c).affected;

describe("OSV affected ranges", () => {
  it("introduced 0 opens the range at the lowest version; fixed closes it at the fix", () => {
    const e = entry([{ introduced: "0" }, { fixed: "4.17.20" }]);
    expect(affected("0.0.1", e)).toBe(true);
    expect(affected("4.17.15", e)).toBe(true);
    expect(affected("4.17.19", e)).toBe(true);
    expect(affected("4.17.20", e)).toBe(false);
    expect(affected("4.17.21", e)).toBe(false);
    expect(evaluateAffected("4.17.15", e, npm).fixedIn).toBe("4.17.20");
  });

  it("an introduced version is itself affected; the version before it is not", () => {
    const e = entry([{ introduced: "1.0.0" }, { fixed: "1.2.6" }]);
    expect(affected("0.9.9", e)).toBe(false);
    expect(affected("1.0.0", e)).toBe(true);
    expect(affected("1.2.5", e)).toBe(true);
    expect(affected("1.2.6", e)).toBe(false);
  });

  it("last_affected includes that version and nothing after it, and gives no fixed version", () => {
    const e = entry([{ introduced: "0" }, { last_affected: "8.5.1" }]);
    expect(affected("8.5.1", e)).toBe(true);
    expect(affected("8.5.2", e)).toBe(false);
    expect(evaluateAffected("8.5.1", e, npm).fixedIn).toBeUndefined();
  });

  it("limit caps the range: versions at or above it are not affected even while open", () => {
    const e = entry([{ introduced: "0" }, { limit: "2.0.0" }]);
    expect(affected("1.9.9", e)).toBe(true);
    expect(affected("2.0.0", e)).toBe(false);
    expect(affected("3.0.0", e)).toBe(false);
  });

  it("sorts unsorted events before walking them (urllib3's PYSEC-2023-192 shape)", () => {
    const e = entry([{ introduced: "2.0.0" }, { fixed: "2.0.6" }, { introduced: "0" }, { fixed: "1.26.17" }]);
    expect(affected("1.26.12", e)).toBe(true);
    expect(evaluateAffected("1.26.12", e, npm).fixedIn).toBe("1.26.17");
    expect(affected("1.26.17", e)).toBe(false);
    expect(affected("1.27.0", e)).toBe(false);
    expect(affected("2.0.0", e)).toBe(true);
    expect(evaluateAffected("2.0.3", e, npm).fixedIn).toBe("2.0.6");
    expect(affected("2.0.6", e)).toBe(false);
    const sorted = sortEvents(
      [
        { kind: "fixed", version: "2.0.6" },
        { kind: "introduced", version: "2.0.0" },
        { kind: "introduced", version: "0" },
      ],
      (a, b) => semverComparator.compare(a, b),
    );
    expect(sorted.map((x) => x.version)).toEqual(["0", "2.0.0", "2.0.6"]);
  });

  it("several ranges: affected when any range holds the version (qs's GHSA-hrpp-h998-j3pp shape)", () => {
    const e: OsvAffected = {
      package: { ecosystem: "npm", name: "qs" },
      ranges: [
        { type: "ECOSYSTEM", events: [{ introduced: "6.10.0" }, { fixed: "6.10.3" }] },
        { type: "ECOSYSTEM", events: [{ introduced: "6.7.0" }, { fixed: "6.7.3" }] },
      ],
    };
    expect(affected("6.10.1", e)).toBe(true);
    expect(evaluateAffected("6.10.1", e, npm).fixedIn).toBe("6.10.3");
    expect(affected("6.7.0", e)).toBe(true);
    expect(affected("6.8.0", e)).toBe(false);
    expect(affected("6.10.3", e)).toBe(false);
  });

  it("re-introduced after a fix", () => {
    const e = entry([
      { introduced: "1.0.0" },
      { fixed: "1.1.0" },
      { introduced: "1.3.0" },
      { fixed: "1.4.0" },
    ]);
    expect(affected("1.2.0", e)).toBe(false);
    expect(affected("1.3.5", e)).toBe(true);
  });

  it("npm prereleases order below their release", () => {
    const e = entry([{ introduced: "0" }, { fixed: "2.0.0" }]);
    expect(affected("2.0.0-rc.1", e)).toBe(true);
    expect(affected("2.0.0", e)).toBe(false);
  });

  it("an explicit versions list affects exactly those versions", () => {
    const e: OsvAffected = { package: { ecosystem: "npm", name: "x" }, versions: ["1.0.0", "1.0.2"] };
    expect(affected("1.0.0", e)).toBe(true);
    expect(affected("1.0.1", e)).toBe(false);
    expect(affected("1.0.2", e)).toBe(true);
  });

  it("GIT ranges are ignored with a note; the versions list still applies", () => {
    const e: OsvAffected = {
      package: { ecosystem: "PyPI", name: "requests" },
      ranges: [
        {
          type: "GIT",
          repo: "https://github.com/psf/requests",
          events: [{ introduced: "0" }, { fixed: "74ea7cf" }],
        },
      ],
      versions: ["2.28.1"],
    };
    const r = evaluateAffected("2.28.1", e, npm);
    expect(r.affected).toBe(true);
    expect(r.notes.join()).toMatch(/GIT range of https:\/\/github.com\/psf\/requests ignored/);
    expect(evaluateAffected("2.31.0", e, npm).affected).toBe(false);
  });

  it("SEMVER ranges use SemVer order whatever the ecosystem (Go's stdlib records)", () => {
    const e = entry([{ introduced: "1.19.0-0" }, { fixed: "1.19.9" }], {}, "SEMVER");
    expect(affected("1.19.8", e)).toBe(true);
    expect(affected("1.19.9", e)).toBe(false);
    expect(affected("1.20.0", e)).toBe(false);
    expect(affected("1.18.10", e)).toBe(false);
  });

  it("Debian ranges use dpkg order (epochs, ~, revisions)", () => {
    const e = entry([{ introduced: "0" }, { fixed: "2.36-9+deb12u4" }]);
    expect(affected("2.36-9+deb12u3", e, debian)).toBe(true);
    expect(affected("2.36-9+deb12u14", e, debian)).toBe(false);
    expect(affected("2.36-9", e, debian)).toBe(true);
    const epoch = entry([{ introduced: "0" }, { fixed: "1:1.0-1" }]);
    expect(affected("9.9-1", epoch, debian)).toBe(true);
    expect(affected("1:1.0~rc1-1", epoch, debian)).toBe(true);
  });

  it("an unknown ecosystem is not guessed at: the range is skipped with a note", () => {
    const r = evaluateAffected("1.0", entry([{ introduced: "0" }]), {
      ecosystem: undefined,
      semver: semverComparator,
    });
    expect(r.affected).toBe(false);
    expect(r.notes.join()).toMatch(/no version comparator/);
  });
});

describe("what cannot be decided is said", () => {
  it("a record with only GIT ranges and no versions list is undecided, not silently clean", () => {
    const e: OsvAffected = {
      package: { ecosystem: "PyPI", name: "x" },
      ranges: [
        {
          type: "GIT",
          repo: "https://example.org/x.git",
          events: [{ introduced: "0" }, { fixed: "abc123" }],
        },
      ],
    };
    expect(evaluateAffected("1.0", e, npm)).toMatchObject({ affected: false, undecided: true });
  });

  it("an unreadable installed version is undecided; a clean evaluated range is not", () => {
    const e = entry([{ introduced: "0" }, { fixed: "2.0.0" }]);
    expect(evaluateAffected("not-a-version", e, npm)).toMatchObject({ affected: false, undecided: true });
    expect(evaluateAffected("3.0.0", e, npm).undecided).toBeUndefined();
  });
});
