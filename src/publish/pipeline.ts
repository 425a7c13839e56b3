/**
 * `shipgate publish`: the seeds' build → scan → SBOM → push → sign → attach →
 * attest → build-info pipeline as one call. The source is resolved to a
 * digest once; the image is pushed by digest and tagged only after every
 * step that must precede the tag (signature, SBOM, attestations) succeeded,
 * so a failed run leaves no unsigned tag behind and a re-run completes it
 * (blobs already there are skipped, an identical signature is not added twice).
 */
import { ShipgateError } from "../errors.js";
import { copyImage } from "../oci/copy.js";
import type { Location } from "../oci/transports/location.js";
import { describeLocation } from "../oci/transports/location.js";
import { type OpenOptions, openDest, openSource, referenceOf } from "../oci/transports/open.js";
import type { ManifestBlob } from "../oci/transports/types.js";
import { attachSbom } from "../sbom/attach.js";
import { toCycloneDx } from "../sbom/formats/cyclonedx.js";
import { toSpdx } from "../sbom/formats/spdx.js";
import { generateSboms } from "../sbom/generate.js";
import type { Sbom } from "../sbom/model.js";
import type { PrivateKey } from "../sign/keys.js";
import { detectCi as detectCiSystem, provenancePredicate } from "../sign/provenance.js";
import { attestImage, type ReferrersMode, signImage } from "../sign/sign-image.js";
import { openVulnDb } from "../vuln/db/store.js";
import { scanSbom } from "../vuln/match/scan.js";
import { applyFilters } from "../vuln/report/filters.js";
import { findingsAtOrAbove, type ScanReport, summariseBySeverity } from "../vuln/report/model.js";
import type { SeverityLevel } from "../vuln/severity/severity.js";
import type { VexStatement } from "../vuln/vex/openvex.js";
import { attachBuildInfo, type BuildInfo, type StepName, type StepRecord } from "./build-info.js";
import { detectCi } from "./ci-env.js";

export type SbomFormat = "spdx-json" | "cyclonedx-json";
/** Steps a user may switch off; push and tag are the point of publishing and always run. */
export const OPTIONAL_STEPS = ["scan", "sbom", "sign", "provenance"] as const;
export type OptionalStep = (typeof OPTIONAL_STEPS)[number];

export interface PublishOptions {
  /** Signs the image and its attestations; required unless `sign` is skipped. */
  key?: PrivateKey;
  skip?: ReadonlySet<OptionalStep>;
  /** Stop before pushing when a finding is at or above this severity. */
  failOn?: SeverityLevel;
  ignoreUnfixed?: boolean;
  vex?: readonly VexStatement[];
  vulnDbPath?: string;
  sbomFormat?: SbomFormat;
  /** Where signatures and attestations go (default: cosign's legacy tags). */
  referrersMode?: ReferrersMode;
  /** More tags for the pushed image, besides the destination's own. */
  extraTags?: readonly string[];
  /** For provenance outside CI: the builder id to record. */
  builderId?: string;
  open?: OpenOptions;
  env?: NodeJS.ProcessEnv;
  toolVersion: string;
  now?: () => Date;
  onStep?: (step: StepRecord) => void;
}

export interface PublishResult {
  buildInfo: BuildInfo;
  scan?: ScanReport;
  sboms: Sbom[];
  /** The SBOM documents as attached, one per platform. */
  sbomDocuments: { platform?: string; digest: string; text: string }[];
}

/** A failed step: the partial build-info (which step failed, what was done) travels with the error. */
export class PublishFailure extends ShipgateError {
  constructor(
    readonly step: StepName,
    readonly partial: PublishResult,
    readonly reason: ShipgateError,
  ) {
    super(reason.code, `publish stopped at ${step}: ${reason.message}`, {
      cause: reason,
      ...(reason.hint === undefined ? {} : { hint: reason.hint }),
    });
  }
}

/** The location pinned to one digest: every step after resolution uses it, never the tag. */
export function pinned(location: Location, digest: string): Location {
  if (location.transport === "docker") {
    return {
      ...location,
      reference: { ...location.reference, tag: undefined, digest },
      explicitReference: true,
    };
  }
  return { ...location, reference: digest };
}

function destinationTag(location: Location): string | undefined {
  if (location.transport === "docker") return location.reference.digest ? undefined : location.reference.tag;
  return referenceOf(location);
}

function repositoryOf(location: Location): string {
  return location.transport === "docker"
    ? `${location.reference.registry}/${location.reference.repository}`
    : `${location.transport}:${location.path}`;
}

export async function publish(
  source: Location,
  destination: Location,
  options: PublishOptions,
): Promise<PublishResult> {
  const skip = options.skip ?? new Set<OptionalStep>();
  const now = options.now ?? (() => new Date());
  const env = options.env ?? process.env;
  const sbomFormat = options.sbomFormat ?? "spdx-json";
  if (destination.transport === "docker-archive") {
    throw new ShipgateError("USAGE", "docker-archive: is read only; publish to a registry or an oci: layout");
  }
  if (!skip.has("sign") && options.key === undefined) {
    throw new ShipgateError("USAGE", "publishing signs the image, and no key was given", {
      hint: "pass --key cosign.key (password from COSIGN_PASSWORD), or --skip sign to publish unsigned",
    });
  }
  const tags = [destinationTag(destination), ...(options.extraTags ?? [])].filter(
    (t, i, all): t is string => t !== undefined && all.indexOf(t) === i,
  );
  const startedAt = now();
  const steps: StepRecord[] = [];
  const result: PublishResult = {
    buildInfo: {
      buildInfoVersion: 1,
      shipgateVersion: options.toolVersion,
      startedAt: startedAt.toISOString(),
      finishedAt: startedAt.toISOString(),
      image: { repository: repositoryOf(destination), digest: "", mediaType: "", tags: [], platforms: [] },
      signatures: [],
      attestations: [],
      source: detectCi(env),
      steps,
    },
    sboms: [],
    sbomDocuments: [],
  };
  const info = result.buildInfo;

  const run = async <T>(
    name: StepName,
    work: () => Promise<T | { skipped: string }>,
  ): Promise<T | undefined> => {
    const started = Date.now();
    const record = (status: StepRecord["status"], detail?: string) => {
      const step: StepRecord = { name, status, seconds: (Date.now() - started) / 1000 };
      if (detail !== undefined) step.detail = detail;
      steps.push(step);
      options.onStep?.(step);
    };
    try {
      const value = await work();
      if (typeof value === "object" && value !== null && "skipped" in value) {
        record("skipped", (value as { skipped: string }).skipped);
        return undefined;
      }
      record("done");
      return value as T;
    } catch (error) {
      const reason =
        error instanceof ShipgateError
          ? error
          : new ShipgateError("IO", (error as Error).message, { cause: error });
      record("failed", reason.message);
      info.finishedAt = now().toISOString();
      throw new PublishFailure(name, result, reason);
    }
  };

  /** Attests and records each attestation written in the build info. */
  const attest = async (
    where: Location,
    key: PrivateKey,
    predicate: unknown,
    how: { type: string; recursive?: boolean },
  ) => {
    const attested = await attestImage(where, key, {
      predicate,
      ...how,
      ...(options.referrersMode ? { mode: options.referrersMode } : {}),
      ...(options.open ? { open: options.open } : {}),
    });
    for (const image of attested.images) {
      info.attestations.push({
        predicateType: attested.predicateType,
        digest: image.manifest,
        layout: image.layout,
      });
    }
    return attested;
  };

  // Resolve once: everything below works on this digest.
  const src = await openSource(source, options.open);
  let root: ManifestBlob;
  try {
    const reference = referenceOf(source) ?? src.defaultReference;
    if (reference === undefined) {
      throw new ShipgateError(
        "USAGE",
        `${describeLocation(source)} holds several images; name one with a tag or digest`,
      );
    }
    root = await src.getManifest(reference);
  } catch (error) {
    await src.close?.();
    throw error;
  }
  info.image.digest = root.digest;
  info.image.mediaType = root.mediaType;
  const sourcePinned = pinned(source, root.digest);
  const target = pinned(destination, root.digest);

  try {
    // Cataloguing is a step of its own: a layer that cannot be read fails here, recorded in the build info.
    const sboms =
      (await run("sbom", async () => {
        if (skip.has("scan") && skip.has("sbom"))
          return { skipped: "--skip scan,sbom: nothing needs the package list" };
        return generateSboms(
          { kind: "image", location: sourcePinned },
          { ...(options.open ? { open: options.open } : {}), env },
        );
      })) ?? [];
    result.sboms = sboms;
    info.image.platforms = sboms.map((s) => s.source.platform ?? "").filter((p) => p !== "");

    await run("scan", async () => {
      if (skip.has("scan")) return { skipped: "--skip scan" };
      const db = await openVulnDb(options.vulnDbPath);
      let report: ScanReport | undefined;
      try {
        for (const sbom of sboms) {
          const one = applyFilters(await scanSbom(sbom, db, { now: now() }), {
            ...(options.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
            ...(options.vex ? { vex: options.vex } : {}),
          });
          const platform = sbom.source.platform;
          const tagged = platform ? one.findings.map((f) => ({ ...f, platform })) : one.findings;
          report = report
            ? {
                ...report,
                findings: [...report.findings, ...tagged],
                suppressed: [...report.suppressed, ...one.suppressed],
                notes: [...new Set([...report.notes, ...one.notes])],
                packages: report.packages + one.packages,
              }
            : { ...one, findings: tagged };
        }
      } finally {
        await db.close?.();
      }
      if (report === undefined) return { skipped: "no image to scan" };
      result.scan = report;
      const counts = summariseBySeverity(report);
      const over = options.failOn ? findingsAtOrAbove(report, options.failOn) : [];
      info.scan = {
        critical: counts.CRITICAL,
        high: counts.HIGH,
        medium: counts.MEDIUM,
        low: counts.LOW,
        unknown: counts.UNKNOWN,
        ...(options.failOn ? { failOn: options.failOn.toLowerCase() } : {}),
        passed: over.length === 0,
      };
      if (over.length > 0) {
        const ids = [...new Set(over.map((f) => `${f.id} (${f.package.name} ${f.package.version})`))];
        throw new ShipgateError(
          "VULNERABILITIES_FOUND",
          `${over.length} finding(s) at or above ${options.failOn?.toLowerCase()}: ${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ", …" : ""}; nothing was pushed`,
          {
            hint: "fix or upgrade the packages, or record an exception (VEX) for findings that do not apply",
          },
        );
      }
      return report;
    });

    await run("push", async () => {
      const dest = await openDest(destination, options.open);
      try {
        // By digest, no tag: the tag is written last, after the signature.
        return await copyImage(src, root.digest, dest, undefined, {});
      } finally {
        await dest.close?.();
      }
    });

    await run("sign", async () => {
      if (skip.has("sign") || options.key === undefined) return { skipped: "--skip sign" };
      const signed = await signImage(target, options.key, {
        recursive: true,
        ...(options.referrersMode ? { mode: options.referrersMode } : {}),
        ...(options.open ? { open: options.open } : {}),
      });
      for (const image of signed.images)
        info.signatures.push({ digest: image.manifest, layout: image.layout });
      return signed;
    });

    await run("attach-sbom", async () => {
      if (skip.has("sbom")) return { skipped: "--skip sbom" };
      for (const sbom of sboms) {
        const digest = sbom.source.digest ?? root.digest;
        const text =
          sbomFormat === "spdx-json"
            ? toSpdx(sbom, { toolVersion: options.toolVersion })
            : toCycloneDx(sbom, { toolVersion: options.toolVersion });
        const attached = await attachSbom(pinned(destination, digest), Buffer.from(text), {
          mode: options.referrersMode === "oci-1-1" ? "both" : "legacy",
          ...(options.open ? { open: options.open } : {}),
          where: `the ${sbomFormat} SBOM`,
        });
        result.sbomDocuments.push({
          ...(sbom.source.platform ? { platform: sbom.source.platform } : {}),
          digest,
          text,
        });
        info.sbom = {
          format: sbomFormat,
          packages: sboms.reduce((n, s) => n + s.packages.length, 0),
          ...(attached.referrer ? { referrer: attached.referrer } : {}),
          ...(attached.tag ? { tag: attached.tag.name } : {}),
        };
      }
      return true;
    });

    await run("attest-sbom", async () => {
      if (skip.has("sbom")) return { skipped: "--skip sbom" };
      if (skip.has("sign") || options.key === undefined)
        return { skipped: "--skip sign: nothing to sign it with" };
      const key = options.key;
      for (const doc of result.sbomDocuments) {
        await attest(pinned(destination, doc.digest), key, JSON.parse(doc.text), {
          type: sbomFormat === "spdx-json" ? "spdxjson" : "cyclonedx",
        });
      }
      return true;
    });

    await run("provenance", async () => {
      if (skip.has("provenance")) return { skipped: "--skip provenance" };
      if (skip.has("sign") || options.key === undefined)
        return { skipped: "--skip sign: nothing to sign it with" };
      if (detectCiSystem(env) === "none" && options.builderId === undefined) {
        return { skipped: "not in a CI system; pass --builder-id to record provenance" };
      }
      const predicate = provenancePredicate(env, {
        ...(options.builderId ? { builderId: options.builderId } : {}),
        startedOn: startedAt,
        finishedOn: now(),
      });
      return attest(target, options.key, predicate, { type: "slsaprovenance1", recursive: true });
    });

    // Last: the tags, once the image is signed and its SBOM and attestations are in place.
    if (tags.length > 0) {
      const dest = await openDest(destination, options.open);
      try {
        for (const tag of tags) {
          await dest.writeManifest(root, tag);
          info.image.tags.push(tag);
        }
      } finally {
        await dest.close?.();
      }
    }
    info.finishedAt = now().toISOString();
    const dest = await openDest(destination, options.open);
    try {
      info.record = await attachBuildInfo(
        dest,
        { mediaType: root.mediaType, digest: root.digest, size: root.bytes.length },
        info,
      );
    } finally {
      await dest.close?.();
    }
  } finally {
    await src.close?.();
  }
  return result;
}
