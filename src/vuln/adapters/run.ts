/**
 * `scan --scanner trivy|grype`: runs the peer scanner on the same source
 * (when it is installed) and reads its JSON into shipgate's model, so its
 * findings go through the same VEX, ignore rules, gates and writers.
 * shipgate's source syntax is translated into each tool's own.
 */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { ShipgateError } from "../../errors.js";
import type { ScanReport } from "../report/model.js";
import { readScannerReport } from "./external.js";

export type ExternalScanner = "trivy" | "grype";

/** The command line for a source: `oci:PATH[:TAG]`, `docker-archive:FILE`, a directory, an SBOM file or a registry reference. */
export function scannerArgs(scanner: ExternalScanner, source: string): string[] {
  const local = !source.includes(":") || source.startsWith("/") || source.startsWith(".");
  const path = resolve(source);
  const isDir =
    local && existsSync(path) && statSync(path).isDirectory() && !existsSync(`${path}/oci-layout`);
  const isFile = local && existsSync(path) && statSync(path).isFile();
  const layout = source.startsWith("oci:")
    ? source.slice(4)
    : local && existsSync(`${path}/oci-layout`)
      ? path
      : undefined;
  const archive = source.startsWith("docker-archive:") ? source.slice("docker-archive:".length) : undefined;
  const registry = source.replace(/^docker:\/\//, "");
  if (scanner === "trivy") {
    const common = ["--format", "json", "--quiet"];
    if (isDir) return ["fs", ...common, path];
    if (isFile) return ["sbom", ...common, path];
    // Trivy reads an OCI layout or a docker save tarball with --input (a tag inside a layout is `dir:tag`).
    if (layout !== undefined) return ["image", ...common, "--input", layout];
    if (archive !== undefined) return ["image", ...common, "--input", archive];
    return ["image", ...common, registry];
  }
  const common = ["-o", "json", "-q"];
  if (isDir) return [`dir:${path}`, ...common];
  if (isFile) return [`sbom:${path}`, ...common];
  if (layout !== undefined) return [`oci-dir:${layout}`, ...common];
  if (archive !== undefined) return [`docker-archive:${archive}`, ...common];
  return [`registry:${registry}`, ...common];
}

export async function runScanner(
  scanner: ExternalScanner,
  source: string,
  env = process.env,
): Promise<ScanReport> {
  const args = scannerArgs(scanner, source);
  const stdout = await new Promise<string>((done, fail) => {
    execFile(scanner, args, { env, maxBuffer: 512 * 1024 * 1024 }, (error, out, err) => {
      if (error === null) return done(out);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        return fail(
          new ShipgateError("NOT_FOUND", `${scanner} is not installed (not on PATH)`, {
            hint: `install ${scanner}, or scan with shipgate's own matcher (leave out --scanner), or load a saved report with --from-report FILE`,
          }),
        );
      }
      fail(
        new ShipgateError(
          "IO",
          `${scanner} ${args.join(" ")} failed: ${String(err).trim().split("\n").at(-1) ?? error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
  });
  return readScannerReport(stdout, `${scanner} output`);
}
