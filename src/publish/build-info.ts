/**
 * The build-info record `shipgate publish` writes: everything a later step
 * (deploy, promotion, audit) needs to find what was published, by digest.
 */
import { ShipgateError } from "../errors.js";
import type { CiEnvironment } from "./ci-env.js";

export const BUILD_INFO_MEDIA_TYPE = "application/vnd.shipgate.build-info.v1+json";

export type StepName = "scan" | "sbom" | "push" | "sign" | "attach-sbom" | "attest-sbom" | "provenance";
export type StepStatus = "done" | "skipped" | "failed";

export interface StepRecord {
  name: StepName;
  status: StepStatus;
  seconds: number;
  detail?: string;
}

export interface ScanSummary {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  /** The `--fail-on` threshold, when one was set. */
  failOn?: string;
  passed: boolean;
}

export interface BuildInfo {
  buildInfoVersion: 1;
  shipgateVersion: string;
  startedAt: string;
  finishedAt: string;
  image: {
    /** Repository the image was pushed to, without tag: `registry.example.com/team/app`. */
    repository: string;
    digest: string;
    mediaType: string;
    tags: string[];
    platforms: string[];
  };
  sbom?: { format: string; packages: number; referrer?: string; tag?: string };
  signatures: { digest: string; layout: string }[];
  attestations: { predicateType: string; digest: string; layout: string }[];
  scan?: ScanSummary;
  source: CiEnvironment;
  steps: StepRecord[];
}

/** Reads a record back, refusing anything that is not one (a clear error, never a partial object). */
export function parseBuildInfo(text: string, where: string): BuildInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ShipgateError("USAGE", `${where} is not JSON: ${(error as Error).message}`);
  }
  const d = doc as Partial<BuildInfo>;
  if (
    typeof doc !== "object" ||
    doc === null ||
    d.buildInfoVersion !== 1 ||
    typeof d.image?.digest !== "string" ||
    !Array.isArray(d.steps)
  ) {
    throw new ShipgateError("USAGE", `${where} is not a shipgate build-info record (buildInfoVersion 1)`, {
      hint: "write one with: shipgate publish SRC DST --build-info FILE",
    });
  }
  return d as BuildInfo;
}
