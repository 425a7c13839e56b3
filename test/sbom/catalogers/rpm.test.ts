import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { beforeAll, describe, expect, it } from "vitest";
import { Collector } from "../../../src/image/collector.js";
import { entryOf, type RpmData, rpmCataloger } from "../../../src/sbom/catalogers/rpm.js";
import { readRpmdbSqlite } from "../../../src/sbom/catalogers/rpmdb-sqlite.js";
import { cycloneDxDocument } from "../../../src/sbom/formats/cyclonedx.js";
import { generateSboms } from "../../../src/sbom/generate.js";
import type { Package, Sbom } from "../../../src/sbom/model.js";
import { catalogDir, edgeIds, ensureDebianPackages } from "./language-helpers.js";

/**
 * Real packages built by rpmbuild and installed by rpm 4.18 (Debian's `rpm`)
 * into an SQLite rpmdb, at test time (well under a second): rpm's own
 * `rpm -qa` on that database is the oracle.
 */
const SPECS: Record<string, string> = {
  "shipgate-data": `Name: shipgate-data
Version: 0.9~rc1
Release: 1
Summary: Data files
License: GPLv2+
BuildArch: noarch
%description
Data for shipgate-hello.
%install
mkdir -p %{buildroot}/usr/share/shipgate
echo data > %{buildroot}/usr/share/shipgate/data.txt
%files
/usr/share/shipgate/data.txt
`,
  "shipgate-hello": `Name: shipgate-hello
Version: 1.2.3
Release: 4.fc39
Epoch: 2
Summary: A tiny test package
License: MIT AND (Apache-2.0 OR BSD-3-Clause)
Vendor: Shipgate Test Vendor
URL: https://example.invalid/hello
Requires: shipgate-data
Provides: hello-virtual = 1.0
%description
A tiny package for cataloguer tests.
%install
mkdir -p %{buildroot}/usr/bin
printf 'echo hello\\n' > %{buildroot}/usr/bin/shipgate-hello
chmod 755 %{buildroot}/usr/bin/shipgate-hello
%files
/usr/bin/shipgate-hello
`,
  "shipgate-tool": `Name: shipgate-tool
Version: 3.0
Release: 1.fc39
Summary: Needs hello by what it provides and by its file
License: Apache-2.0
Requires: hello-virtual
Requires: /usr/bin/shipgate-hello
%description
Requires a virtual name and a file path.
%install
mkdir -p %{buildroot}/usr/share/doc/shipgate-tool
echo tool > %{buildroot}/usr/share/doc/shipgate-tool/README
%files
/usr/share/doc/shipgate-tool/README
`,
};

const FEDORA = 'NAME="Fedora Linux"\nVERSION="39 (Container Image)"\nID=fedora\nVERSION_ID=39\n';
let work: string;
const rpms: Record<string, string> = {};

function rpm(dbpath: string, args: string[]): string {
  return execFileSync("rpm", ["--dbpath", dbpath, "--define", "_db_backend sqlite", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A signing key as distributions import theirs: rpm stores it as a `gpg-pubkey` pseudo-package. */
function signingKey(): string {
  const home = mkdtempSync(join(work, "gnupg-"));
  const gpg = (args: string[]) =>
    execFileSync("gpg", ["--homedir", home, "--batch", "--passphrase", "", ...args], {
      stdio: ["ignore", "pipe", "ignore"],
    });
  gpg(["--quick-gen-key", "Shipgate Test <test@example.invalid>", "rsa2048", "sign", "never"]);
  const file = join(home, "key.asc");
  writeFileSync(file, gpg(["--armor", "--export", "test@example.invalid"]));
  return file;
}

/** A root filesystem whose rpmdb (at `dbdir`) holds `names`, installed by rpm itself. */
function rootfsWith(names: string[], dbdir = "var/lib/rpm", key?: string): { root: string; dbpath: string } {
  const root = mkdtempSync(join(work, "root-"));
  const dbpath = join(root, dbdir);
  mkdirSync(dbpath, { recursive: true });
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc", "os-release"), FEDORA);
  rpm(dbpath, ["--initdb"]);
  rpm(dbpath, ["-i", "--nodeps", "--justdb", ...names.map((n) => rpms[n] as string)]);
  if (key) rpm(dbpath, ["--import", key]);
  return { root, dbpath };
}

const oracle = (dbpath: string, format: string) =>
  rpm(dbpath, ["-qa", "--qf", `${format}\n`])
    .trim()
    .split("\n")
    .sort();
const byName = (packages: Package[], name: string) => packages.find((p) => p.name === name) as Package;

beforeAll(() => {
  ensureDebianPackages("rpmbuild", ["rpm"]);
  ensureDebianPackages("gpg", ["gpg"]);
  work = mkdtempSync(join(tmpdir(), "shipgate-rpm-"));
  for (const [name, spec] of Object.entries(SPECS)) {
    const file = join(work, `${name}.spec`);
    writeFileSync(file, spec);
    execFileSync("rpmbuild", ["--define", `_topdir ${join(work, "top")}`, "--quiet", "-bb", file], {
      stdio: "ignore",
    });
    const arch = name === "shipgate-data" ? "noarch" : "x86_64";
    const dir = join(work, "top", "RPMS", arch);
    const built = execFileSync("ls", [dir], { encoding: "utf8" })
      .split("\n")
      .find((f) => f.startsWith(`${name}-`));
    rpms[name] = join(dir, built as string);
  }
});

describe("rpm SQLite database", () => {
  it("reports what rpm -qa reports: name, epoch:version-release, arch, licence, source rpm, vendor", async () => {
    const { root, dbpath } = rootfsWith(Object.keys(SPECS), "var/lib/rpm", signingKey());
    const { packages, warnings, distro } = await catalogDir(root, rpmCataloger);
    expect(warnings).toEqual([]);
    expect(distro).toMatchObject({ id: "fedora", versionId: "39" });
    const withEpoch = (p: Package) => (p.properties?.epoch ? p.version : `0:${p.version}`);
    const listed = oracle(dbpath, "%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}");
    // rpm -qa lists the imported key as a package; it is not software, so it is not reported.
    expect(listed.filter((l) => l.startsWith("gpg-pubkey\t"))).toHaveLength(1);
    expect(packages.map((p) => `${p.name}\t${withEpoch(p)}\t${p.arch}`).sort()).toEqual(
      listed.filter((l) => !l.startsWith("gpg-pubkey\t")),
    );
    expect(packages).toHaveLength(3);
    const licence = (p: Package) => p.licenses.map((l) => l.expression ?? l.name).join();
    expect(
      packages.map((p) => `${p.name}\t${p.properties?.sourceRpm}\t${p.supplier ?? "(none)"}`).sort(),
    ).toEqual(
      oracle(dbpath, "%{NAME}\t%{SOURCERPM}\t%|VENDOR?{%{VENDOR}}:{(none)}|").filter(
        (l) => !l.startsWith("gpg-pubkey"),
      ),
    );

    const hello = byName(packages, "shipgate-hello");
    expect(hello).toMatchObject({
      version: "2:1.2.3-4.fc39",
      type: "rpm",
      purl: "pkg:rpm/fedora/shipgate-hello@1.2.3-4.fc39?arch=x86_64&distro=fedora-39&epoch=2&upstream=shipgate-hello-1.2.3-4.fc39.src.rpm",
      source: { name: "shipgate-hello", version: "2:1.2.3-4.fc39" },
      supplier: "Shipgate Test Vendor",
      homepage: "https://example.invalid/hello",
      description: "A tiny test package",
      locations: [{ path: "/var/lib/rpm/rpmdb.sqlite" }],
      foundBy: "rpm",
    });
    expect(licence(hello)).toBe("MIT AND (Apache-2.0 OR BSD-3-Clause)");
    // Fedora's pre-SPDX short names are converted where they map without guessing.
    expect(licence(byName(packages, "shipgate-data"))).toBe("GPL-2.0-or-later");
    expect(byName(packages, "shipgate-data").purl).toBe(
      // packageurl-js percent-encodes `~` in qualifier values (not in the version); both parse back the same.
      "pkg:rpm/fedora/shipgate-data@0.9~rc1-1?arch=noarch&distro=fedora-39&upstream=shipgate-data-0.9%7Erc1-1.src.rpm",
    );
  });

  it("links Requires by name, by Provides and by file path", async () => {
    const { root } = rootfsWith(Object.keys(SPECS));
    const { packages, relationships } = await catalogDir(root, rpmCataloger);
    expect(edgeIds(packages, relationships)).toEqual([
      "shipgate-hello@2:1.2.3-4.fc39 -> shipgate-data@0.9~rc1-1",
      "shipgate-tool@3.0-1.fc39 -> shipgate-hello@2:1.2.3-4.fc39",
    ]);
  });

  it("reads the database in /usr/lib/sysimage/rpm too", async () => {
    const { root, dbpath } = rootfsWith(["shipgate-data"], "usr/lib/sysimage/rpm");
    const { packages } = await catalogDir(root, rpmCataloger);
    expect(packages.map((p) => p.name)).toEqual(oracle(dbpath, "%{NAME}"));
    expect(packages[0]?.locations).toEqual([{ path: "/usr/lib/sysimage/rpm/rpmdb.sqlite" }]);
  });

  it("credits each package to the layer whose rpm transaction added it", () => {
    const lower = rootfsWith(["shipgate-data"]);
    const upper = rootfsWith(["shipgate-data", "shipgate-hello"]);
    const collector = new Collector([rpmCataloger]);
    for (const [layerIndex, { dbpath }] of [lower, upper].entries()) {
      collector.beginLayer();
      const content = readFileSync(join(dbpath, "rpmdb.sqlite"));
      const file = {
        path: "/var/lib/rpm/rpmdb.sqlite",
        mode: 0o644,
        size: content.length,
        layerIndex,
        layerDigest: `sha256:layer${layerIndex}`,
      };
      collector.content(file, collector.wanted(file).catalogers, content);
    }
    const { packages } = collector.finish();
    expect(packages.map((p) => [p.name, p.locations[0]?.layerDigest]).sort()).toEqual([
      ["shipgate-data", "sha256:layer0"],
      ["shipgate-hello", "sha256:layer1"],
    ]);
  });
});

describe("rpm databases shipgate does not read", () => {
  it("says plainly that a BerkeleyDB or NDB database was not read, and that a WAL was left", async () => {
    const { root } = rootfsWith(["shipgate-data"]);
    // The cataloguer goes by rpm's file names; the bytes are only there to be a file.
    writeFileSync(
      join(root, "var", "lib", "rpm", "Packages"),
      Buffer.from("00000000000000000000000061150600", "hex"),
    );
    mkdirSync(join(root, "usr", "lib", "sysimage", "rpm"), { recursive: true });
    writeFileSync(join(root, "usr", "lib", "sysimage", "rpm", "Packages.db"), "RpmP");
    writeFileSync(join(root, "var", "lib", "rpm", "rpmdb.sqlite-wal"), Buffer.alloc(4096));
    const { packages, warnings } = await catalogDir(root, rpmCataloger);
    expect(packages.map((p) => p.name)).toEqual(["shipgate-data"]);
    expect(warnings.sort()).toEqual([
      "rpm: /usr/lib/sysimage/rpm/Packages.db is an NDB rpm database (SUSE), which shipgate does not read: the image's rpm packages are NOT in this SBOM",
      "rpm: /var/lib/rpm/Packages is a BerkeleyDB rpm database (rpm before 4.16: RHEL/CentOS 7 and 8, Amazon Linux 2), which shipgate does not read: the image's rpm packages are NOT in this SBOM",
      "rpm: /var/lib/rpm/rpmdb.sqlite-wal holds 4096 bytes of changes not yet written to rpmdb.sqlite; they were not read",
    ]);
    // The warning travels in the SBOM itself, not only on the terminal.
    const [sbom] = await generateSboms(root, { catalogers: [rpmCataloger], env: { SOURCE_DATE_EPOCH: "0" } });
    const cdx = cycloneDxDocument(sbom as Sbom) as {
      metadata: { properties?: { name: string; value: string }[] };
    };
    expect(cdx.metadata.properties?.map((p) => p.value)).toContain(
      warnings.find((w) => w.includes("BerkeleyDB")),
    );
  });
});

describe("rpm on corrupt and hostile databases", () => {
  let blob: Uint8Array;
  let sqlite: Buffer;
  beforeAll(() => {
    const { dbpath } = rootfsWith(["shipgate-hello"]);
    sqlite = readFileSync(join(dbpath, "rpmdb.sqlite"));
    blob = readRpmdbSqlite(sqlite, "db").blobs[0]?.blob as Uint8Array;
    expect(entryOf(blob, "db", [])?.name).toBe("shipgate-hello");
  });

  it("turns every truncation and every flipped byte of a header into a package or a warning, never a throw", () => {
    const started = Date.now();
    let warned = 0;
    for (let cut = 0; cut < blob.length; cut += 7) {
      const warnings: string[] = [];
      if (entryOf(blob.subarray(0, cut), "h", warnings) === undefined) warned++;
      expect(warnings.length).toBeLessThanOrEqual(1);
    }
    for (let at = 0; at < blob.length; at++) {
      for (const value of [0x00, 0xff, 0x7f]) {
        const copy = Uint8Array.from(blob);
        copy[at] = value;
        const warnings: string[] = [];
        const entry = entryOf(copy, "h", warnings);
        if (entry === undefined) expect(warnings.join()).toMatch(/^rpm: h: (corrupt header|header without)/);
      }
    }
    expect(warned).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("rejects implausible counts and offsets without allocating them", () => {
    const header = (il: number, dl: number, entries: number[][]) => {
      const b = Buffer.alloc(8 + entries.length * 16 + 64);
      b.writeUInt32BE(il, 0);
      b.writeUInt32BE(dl, 4);
      entries.forEach((e, i) => {
        e.forEach((v, j) => {
          b.writeUInt32BE(v, 8 + i * 16 + j * 4);
        });
      });
      return b;
    };
    const cases: [Buffer, RegExp][] = [
      [header(0xffffffff, 0, []), /implausible index count/],
      [header(1, 0xffffffff, [[1000, 6, 0, 1]]), /implausible data size/],
      [header(1, 1 << 20, [[1000, 6, 0, 1]]), /run past the blob/],
      [header(1, 64, [[1000, 6, 65, 1]]), /offset 65 past the data/],
      [header(1, 64, [[1049, 8, 0, 0x7fffffff]]), /count \d+ past the data/],
      [header(1, 64, [[1009, 4, 0, 40]]), /values past the data/],
    ];
    for (const [bytes, message] of cases) {
      const warnings: string[] = [];
      expect(entryOf(bytes, "h", warnings)).toBeUndefined();
      expect(warnings.join()).toMatch(message);
    }
  });

  it("reads what it can of a truncated or damaged SQLite file and warns", () => {
    for (const cut of [50, 4096, Math.floor(sqlite.length / 2), sqlite.length - 1]) {
      const warnings: string[] = [];
      const data = rpmCataloger.parse(
        { path: "/var/lib/rpm/rpmdb.sqlite", mode: 0o644, size: cut, layerIndex: 0 },
        sqlite.subarray(0, cut),
        warnings,
      ) as RpmData;
      expect(data.kind).toBe("db");
      if (data.kind === "db") for (const e of data.entries) expect(e.name).toBe("shipgate-hello");
      if (data.kind === "db" && data.entries.length === 0) expect(warnings.length).toBeGreaterThan(0);
    }
    expect(readRpmdbSqlite(Buffer.from("not a database at all"), "x").warnings).toEqual([
      "rpm: x is not an SQLite database; no packages read from it",
    ]);
  });

  it("refuses a database whose Packages is a view rather than rpm's table", () => {
    const file = join(work, "view.sqlite");
    const db = new DatabaseSync(file);
    db.exec("CREATE VIEW Packages AS SELECT 1 AS hnum, randomblob(1000) AS blob");
    db.close();
    expect(readRpmdbSqlite(readFileSync(file), "v").warnings).toEqual([
      "rpm: v has no Packages table; no packages read from it",
    ]);
  });
});
