import { existsSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { storeDirectory } from "../../oci/transports/location.js";
import { configPath, loadConfig, resolveFromConfig } from "../../policy/config.js";
import { alertOnScan } from "../../promote/scan-alerts.js";
import { readSbom } from "../../sbom/formats/read.js";
import { generateSboms } from "../../sbom/generate.js";
import type { Sbom } from "../../sbom/model.js";
import { openStore } from "../../store/store.js";
import { readScannerReport } from "../../vuln/adapters/external.js";
import { runScanner } from "../../vuln/adapters/run.js";
import { importPath } from "../../vuln/db/import.js";
import { DEFAULT_MAX_AGE_DAYS, dbStatus } from "../../vuln/db/status.js";
import { defaultVulnDbPath, openVulnDb, type VulnDb } from "../../vuln/db/store.js";
import { DEFAULT_ECOSYSTEMS, updateDb } from "../../vuln/db/update.js";
import { type IgnoreRule, loadIgnoreFile } from "../../vuln/ignore/ignore.js";
import { type ScanOptions, scanSbom } from "../../vuln/match/scan.js";
import { toCycloneDxVex } from "../../vuln/report/cyclonedx-vex.js";
import { applyFilters } from "../../vuln/report/filters.js";
import { failOnGate } from "../../vuln/report/gate.js";
import {
  findingsAtOrAbove,
  mergeReports,
  type ScanReport,
  summariseBySeverity,
} from "../../vuln/report/model.js";
import { toSarif } from "../../vuln/report/sarif.js";
import { summaryLine, textRows } from "../../vuln/report/text.js";
import { defaultResultsPath, openResultsStore } from "../../vuln/results/store.js";
import { type SeverityLevel, severityLevels } from "../../vuln/severity/severity.js";
import { loadOpenVex, type VexStatement } from "../../vuln/vex/openvex.js";
import { examples, globals, openOptions, platformOption, printJson, usage } from "../context.js";
import { relativeTime, shortDigest, table } from "../format.js";
import { colours } from "../terminal.js";
import { VERSION } from "../version.js";
import { runRescan } from "./scan-rescan.js";

interface ScanFlags {
  db?: string;
  json?: boolean;
  format?: string;
  output?: string;
  failOn?: string;
  severity?: string;
  ignoreUnfixed?: boolean;
  vex?: string[];
  ignoreFile?: string[];
  platform?: string;
  fromReport?: string;
  rescanAll?: boolean;
  scanner?: string;
  record?: boolean;
  results?: string;
  alert?: boolean;
  config?: string;
}

const FORMATS = ["table", "json", "sarif", "cyclonedx-vex"] as const;

function dbPath(command: Command, flag: string | undefined): string {
  if (flag !== undefined) return resolve(flag);
  const store = globals(command).store;
  return defaultVulnDbPath(store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: store });
}

function level(value: string, flag: string): SeverityLevel {
  const l = value.trim().toUpperCase();
  if (!(severityLevels as readonly string[]).includes(l) || l === "UNKNOWN" || l === "NONE") {
    throw usage(`${flag} ${value}: expected critical, high, medium or low`);
  }
  return l as SeverityLevel;
}

/** An SBOM file (CycloneDX/SPDX JSON, ours or another tool's) or an image/directory to catalogue. */
async function sbomsOf(source: string, command: Command, flags: ScanFlags): Promise<Sbom[]> {
  const path = resolve(source);
  if (!source.includes(":") && existsSync(path) && statSync(path).isFile()) {
    const bytes = await readFile(path);
    if (bytes[0] !== 0x7b && bytes[0] !== 0xef) {
      throw usage(
        `${source} is a file but not a JSON SBOM`,
        `for a docker save tarball write docker-archive:${source}`,
      );
    }
    return [readSbom(bytes, source)];
  }
  const platform = platformOption(flags.platform);
  return generateSboms(source, { open: openOptions(command), ...(platform ? { platform } : {}) });
}

/** `--max-age`, else $SHIPGATE_DB_MAX_AGE_DAYS, else 7 days. */
function maxAgeDays(flag?: string): number {
  const value = flag ?? process.env.SHIPGATE_DB_MAX_AGE_DAYS ?? String(DEFAULT_MAX_AGE_DAYS);
  const days = Number(value);
  if (!Number.isFinite(days) || days < 0)
    throw usage(`maximum database age ${value}: expected a number of days`);
  return days;
}

function warnStale(status: Awaited<ReturnType<typeof dbStatus>>): void {
  const c = colours(process.stderr);
  for (const w of status.warnings) process.stderr.write(`${c.yellow("warning:")} ${w}\n`);
}

function paint(levelName: SeverityLevel, text: string): string {
  const c = colours(process.stdout);
  if (levelName === "CRITICAL") return c.bold(c.red(text));
  if (levelName === "HIGH") return c.red(text);
  if (levelName === "MEDIUM") return c.yellow(text);
  if (levelName === "LOW") return c.dim(text);
  return text;
}

function printTable(report: ScanReport): void {
  const rows = textRows(report.findings);
  const multi = new Set(report.findings.map((f) => f.platform)).size > 1;
  const headers = ["PACKAGE", "VERSION", "VULNERABILITY", "SEVERITY", "SCORE", "FIXED IN", "TITLE"];
  if (multi) headers.unshift("PLATFORM");
  const out = rows.map((r) => {
    const cells = [
      r.package,
      r.version,
      r.id,
      paint(r.level, r.level),
      r.severityDetail,
      r.fixedIn || "-",
      r.title,
    ];
    return multi ? [r.platform, ...cells] : cells;
  });
  if (rows.length > 0) process.stdout.write(`${table(headers, out)}\n\n`);
  process.stdout.write(`${report.source.name}: ${summaryLine(report)}\n`);
  for (const c of report.changes ?? []) {
    if (c.previous === undefined) continue;
    process.stdout.write(
      `since the last scan of ${shortDigest(c.digest)} (${c.previous}): ${c.new.length} new, ${c.resolved.length} resolved\n`,
    );
  }
  if (report.suppressed.length > 0) {
    process.stdout.write(`\nSuppressed (${report.suppressed.length}):\n`);
    for (const f of report.suppressed) {
      const s = f.suppressed;
      const why = [s?.status, s?.justification, s?.reason].filter((x) => x).join(": ");
      process.stdout.write(`  ${f.id} in ${f.package.name} ${f.package.version}: ${why} (${s?.origin})\n`);
    }
  }
  const others = report.notes.filter((n) => !n.startsWith("ignore rule ")).length;
  if (others > 0) process.stderr.write(`${others} note(s) on what could not be matched (see --json notes)\n`);
}

async function emit(report: ScanReport, flags: ScanFlags): Promise<void> {
  const format = flags.json ? "json" : (flags.format ?? "table");
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw usage(`--format ${format}: expected one of ${FORMATS.join(", ")}`);
  }
  let text: string | undefined;
  if (format === "json") text = JSON.stringify({ ...report, summary: summariseBySeverity(report) }, null, 2);
  if (format === "sarif") text = JSON.stringify(toSarif(report, VERSION), null, 2);
  if (format === "cyclonedx-vex") text = JSON.stringify(toCycloneDxVex(report, VERSION), null, 2);
  if (text === undefined) {
    printTable(report);
    return;
  }
  if (flags.output !== undefined) await writeFile(flags.output, `${text}\n`);
  else process.stdout.write(`${text}\n`);
}

async function withDb<T>(path: string, fn: (db: VulnDb) => Promise<T>): Promise<T> {
  const db = await openVulnDb(path);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function resultsPath(command: Command, flag: string | undefined): string {
  if (flag !== undefined) return resolve(flag);
  const store = globals(command).store;
  return defaultResultsPath(store === undefined ? process.env : { ...process.env, SHIPGATE_STORE: store });
}

/**
 * `--alert`: each scanned digest that was promoted alerts the config's
 * `alerts.vulnerabilities` channels (as the promotion gate does); stderr says
 * which channels were notified, never their URLs.
 */
async function sendAlerts(
  command: Command,
  flags: ScanFlags,
  scanned: readonly { digest: string; report: ScanReport }[],
): Promise<void> {
  if (!flags.alert || scanned.length === 0) return;
  const loaded = loadConfig(configPath(flags.config));
  const flag = globals(command).store;
  const dir =
    flag ??
    (loaded.config.store !== undefined ? resolveFromConfig(loaded, loaded.config.store) : storeDirectory());
  const db = await openStore(dir);
  try {
    for (const s of scanned) {
      for (const a of await alertOnScan(db, loaded.config, s)) {
        if (!a.sent) continue;
        const to = a.deliveries.map((d) => `${d.channel}${d.ok ? "" : ` (failed: ${d.error ?? "error"})`}`);
        process.stderr.write(
          `alert: ${a.findings.length} finding(s) in ${a.app} ${shortDigest(a.digest)} running in ${a.environments.join(", ")} -> ${to.join(", ") || "no channel"}\n`,
        );
      }
    }
  } finally {
    await db.destroy();
  }
}

function gate(failOn: SeverityLevel | undefined, reports: readonly ScanReport[]): void {
  if (failOn !== undefined) failOnGate(reports, failOn);
}

async function runScan(source: string | undefined, flags: ScanFlags, command: Command): Promise<void> {
  const failOn = flags.failOn === undefined ? undefined : level(flags.failOn, "--fail-on");
  const severities = flags.severity?.split(",").map((s) => level(s, "--severity"));
  const vex: VexStatement[] = [];
  for (const file of flags.vex ?? []) vex.push(...(await loadOpenVex(file)));
  const ignore: IgnoreRule[] = [];
  for (const file of flags.ignoreFile ?? []) ignore.push(...(await loadIgnoreFile(file)));
  const filters = {
    ...(severities ? { severities } : {}),
    ignoreUnfixed: flags.ignoreUnfixed === true,
    vex,
    ignore,
  };
  let report: ScanReport;
  const scanned: { digest: string; report: ScanReport }[] = [];
  if (flags.rescanAll) {
    if (source !== undefined || flags.fromReport !== undefined) throw usage("--rescan-all takes no SOURCE");
    return runRescan({
      resultsPath: resultsPath(command, flags.results),
      dbPath: dbPath(command, flags.db),
      json: flags.json === true || flags.format === "json",
      ...(flags.format !== undefined ? { format: flags.format } : {}),
      filters,
      ...(failOn !== undefined ? { failOn } : {}),
      maxAgeDays: () => maxAgeDays(),
      warnStale,
      status: dbStatus,
      ...(flags.alert ? { alert: (scanned) => sendAlerts(command, flags, scanned) } : {}),
    });
  }
  if (flags.scanner !== undefined) {
    if (flags.scanner !== "trivy" && flags.scanner !== "grype")
      throw usage(`--scanner ${flags.scanner}: expected trivy or grype`);
    if (source === undefined) throw usage("--scanner needs a SOURCE");
    report = applyFilters(await runScanner(flags.scanner, source), filters);
  } else if (flags.fromReport !== undefined) {
    if (source !== undefined) throw usage("give either SOURCE or --from-report FILE, not both");
    const text = await readFile(flags.fromReport, "utf8").catch((error: unknown) => {
      throw new ShipgateError("NOT_FOUND", `cannot read ${flags.fromReport}: ${(error as Error).message}`);
    });
    report = applyFilters(readScannerReport(text, flags.fromReport), filters);
  } else {
    if (source === undefined) throw usage("scan needs a SOURCE (image, directory or SBOM file)");
    report = await withDb(dbPath(command, flags.db), async (db) => {
      const status = await dbStatus(db, { maxAgeDays: maxAgeDays(), counts: false });
      warnStale(status);
      const sboms = await sbomsOf(source, command, flags);
      const reports: ScanReport[] = [];
      const results =
        flags.record === false ? undefined : await openResultsStore(resultsPath(command, flags.results));
      try {
        for (const sbom of sboms) {
          const r = await scanSbom(sbom, db, filters);
          const digest = sbom.source.digest;
          if (digest !== undefined) scanned.push({ digest, report: r });
          if (results && digest !== undefined) {
            await results.saveSbom(sbom, new Date());
            r.changes = [{ digest, ...(await results.recordScan(digest, r, summariseBySeverity(r))) }];
          }
          reports.push(r);
        }
      } finally {
        await results?.close();
      }
      const merged = mergeReports(reports);
      return status.lastUpdate && merged.database
        ? { ...merged, database: { ...merged.database, lastUpdate: status.lastUpdate } }
        : merged;
    });
  }
  await emit(report, flags);
  for (const n of report.notes.filter((x) => x.startsWith("ignore rule "))) {
    process.stderr.write(`${colours(process.stderr).yellow("warning:")} ${n}\n`);
  }
  await sendAlerts(command, flags, scanned);
  gate(failOn, [report]);
}

export function registerScanCommands(program: Command): void {
  program
    .command("scan")
    .description(
      "find known vulnerabilities in an image, a directory or an SBOM (OSV data in the local database)",
    )
    .argument(
      "[source]",
      "an image location (REF, oci:PATH[:TAG], docker-archive:FILE), a directory, or an SBOM file",
    )
    .option("--db <path>", "the vulnerability database (default <store>/vulndb.sqlite)")
    .option("--format <format>", `output: ${FORMATS.join(", ")}`, "table")
    .option("--json", "the same as --format json")
    .option("-o, --output <file>", "write the json/sarif/cyclonedx-vex output to a file")
    .option("--fail-on <severity>", "exit 1 when a finding at or above critical|high|medium|low remains")
    .option("--severity <list>", "keep only these severities, e.g. CRITICAL,HIGH")
    .option("--ignore-unfixed", "leave out findings with no fixed version")
    .option(
      "--vex <file>",
      "OpenVEX document: not_affected/fixed statements suppress (repeatable)",
      collect,
      [],
    )
    .option(
      "--ignore-file <file>",
      "accepted risks: .trivyignore, .trivyignore.yaml, a Grype config's ignore: rules or shipgate's ignore: list (repeatable)",
      collect,
      [],
    )
    .option("--platform <os/arch[/variant]>", "scan one platform of a multi-platform image (default: all)")
    .option("--from-report <file>", "read a Trivy or Grype JSON report instead of scanning")
    .option("--scanner <name>", "run trivy or grype (when installed) and report its findings the same way")
    .option("--rescan-all", "re-match every stored SBOM against the current database and report what is new")
    .option(
      "--no-record",
      "do not store the SBOM and findings of this scan (stored per image digest by default)",
    )
    .option("--results <path>", "the scan results database (default <store>/scans.sqlite)")
    .option(
      "--alert",
      "alert the config's alerts.vulnerabilities channels when a scanned digest was promoted",
    )
    .option("--config <file>", "the shipgate config for --alert (default shipgate.yaml or $SHIPGATE_CONFIG)")
    .addHelpText(
      "after",
      examples(
        "shipgate db import ../shared/vulndb",
        "shipgate scan oci:../shared/images/oci:shop-1.4.2 --fail-on high",
        "shipgate scan sbom.cdx.json --format sarif -o results.sarif",
        "shipgate scan --from-report trivy.json --vex vex.openvex.json --json",
        "shipgate scan --rescan-all --fail-on critical",
        "shipgate scan --rescan-all --alert --config shipgate.yaml",
      ),
    )
    .action(async (source: string | undefined, flags: ScanFlags, command: Command) =>
      runScan(source, flags, command),
    );

  const db = program.command("db").description("the local vulnerability database (OSV records)");
  db.command("import")
    .description("load OSV records from a directory or an osv.dev all.zip")
    .argument("<path>", "a directory of OSV .json/.yaml records, or a zip in osv.dev's layout")
    .option("--db <path>", "the vulnerability database (default <store>/vulndb.sqlite)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", examples("shipgate db import ../shared/vulndb", "shipgate db import npm-all.zip"))
    .action(async (path: string, flags: { db?: string; json?: boolean }, command: Command) => {
      const result = await withDb(dbPath(command, flags.db), (d) => importPath(d, resolve(path)));
      if (flags.json) return printJson(result);
      const ecosystems = Object.entries(result.ecosystems)
        .map(([e, n]) => `${e} ${n}`)
        .join(", ");
      process.stdout.write(
        `imported ${result.records} record${result.records === 1 ? "" : "s"}${ecosystems ? ` (${ecosystems})` : ""}` +
          `${result.withdrawn ? `; ${result.withdrawn} withdrawn skipped` : ""}\n`,
      );
    });
  db.command("update")
    .description("download the OSV data of each ecosystem (osv.dev's all.zip, or a mirror's)")
    .option("--db <path>", "the vulnerability database (default <store>/vulndb.sqlite)")
    .option(
      "--ecosystem <name>",
      `an OSV ecosystem to fetch (repeatable; default ${DEFAULT_ECOSYSTEMS.join(", ")})`,
      collect,
      [],
    )
    .option("--mirror <url>", "base URL of a mirror with osv.dev's layout (<url>/<ECOSYSTEM>/all.zip)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate db update --ecosystem npm --ecosystem PyPI",
        "shipgate db update --mirror http://osv-mirror.internal",
      ),
    )
    .action(
      async (
        flags: { db?: string; ecosystem: string[]; mirror?: string; json?: boolean },
        command: Command,
      ) => {
        const results = await withDb(dbPath(command, flags.db), (d) =>
          updateDb(d, {
            // --ecosystem, else $SHIPGATE_DB_ECOSYSTEMS (comma-separated), else the defaults
            ecosystems: flags.ecosystem.length
              ? flags.ecosystem
              : (process.env.SHIPGATE_DB_ECOSYSTEMS?.split(",")
                  .map((e) => e.trim())
                  .filter((e) => e !== "") ?? []),
            ...(flags.mirror ? { mirror: flags.mirror } : {}),
            onProgress: (p) =>
              process.stderr.write(
                `${p.phase === "download" ? "downloading" : "importing"} ${p.ecosystem}\n`,
              ),
          }),
        );
        if (flags.json) return printJson(results);
        for (const r of results)
          process.stdout.write(`${r.ecosystem}: ${r.result.records} records from ${r.url}\n`);
      },
    );
  db.command("status")
    .description("ecosystems, record counts and age of the local vulnerability data")
    .option("--db <path>", "the vulnerability database (default <store>/vulndb.sqlite)")
    .option(
      "--max-age <days>",
      "warn when an ecosystem's data is older than this (default $SHIPGATE_DB_MAX_AGE_DAYS or 7)",
    )
    .option("--json", "print the status as JSON")
    .addHelpText("after", examples("shipgate db status", "shipgate db status --max-age 1 --json"))
    .action(async (flags: { db?: string; maxAge?: string; json?: boolean }, command: Command) => {
      const days = maxAgeDays(flags.maxAge);
      const status = await withDb(dbPath(command, flags.db), (d) => dbStatus(d, { maxAgeDays: days }));
      if (flags.json) return printJson(status);
      const rows = status.ecosystems.map((e) => [
        e.ecosystem,
        String(e.records),
        e.updatedAt ? `${e.updatedAt} (${relativeTime(new Date(e.updatedAt))})` : "-",
        e.origin ?? "-",
      ]);
      process.stdout.write(`${status.path}: ${status.records} records\n`);
      if (rows.length)
        process.stdout.write(`${table(["ECOSYSTEM", "RECORDS", "UPDATED", "ORIGIN"], rows, new Set([1]))}\n`);
      warnStale(status);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
