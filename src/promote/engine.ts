import { existsSync } from "node:fs";
/**
 * Promotion: APP:TAG from one environment to the next, only through its
 * gates. The tag is resolved to a digest once; the gates judge that digest;
 * only when all pass is it copied by digest with every referrer (signatures,
 * SBOMs, attestations) into the target, tagged last, and a signed promotion
 * attestation records the decision on the image itself. Every run, whatever
 * its outcome, is one audit record.
 */
import { ShipgateError } from "../errors.js";
import type { DeliveryResult, SendOptions } from "../notify/send.js";
import { type CopyResult, copyImage } from "../oci/copy.js";
import { type OpenOptions, openDest, openSource } from "../oci/transports/open.js";
import type { LoadedConfig } from "../policy/config.js";
import { currentUser, recordAudit } from "../store/audit.js";
import type { StoreDb } from "../store/store.js";
import { locationAt, type Place, placeOf } from "./environments.js";
import { evaluateGates } from "./gates/index.js";
import type { GateDeps, GateResult } from "./gates/types.js";
import { deliver, promotionNotice } from "./notices.js";
import { PROMOTION_PREDICATE_TYPE, type PromotionPredicate, type PromotionSigner } from "./predicate.js";

export type PromotionStatus = "promoted" | "already-promoted" | "blocked" | "would-promote" | "gate-error";

export interface PromotionRequest {
  loaded: LoadedConfig;
  app: string;
  tag: string;
  to: string;
  from?: string | undefined;
  dryRun?: boolean;
  requester?: string;
  store: StoreDb;
  deps: GateDeps & { signer?: PromotionSigner | undefined };
  open?: OpenOptions;
  env?: NodeJS.ProcessEnv;
  now?: Date;
  sendOptions?: SendOptions;
  onProgress?: (message: string) => void;
}

export interface PromotionReport {
  status: PromotionStatus;
  app: string;
  tag: string;
  digest: string;
  from: string;
  to: string;
  source: string;
  target: string;
  requester: string;
  at: string;
  gates: GateResult[];
  copy?: Pick<CopyResult, "manifests" | "blobs" | "bytesTransferred" | "referrers">;
  attestation?: { predicateType: string; manifest: string } | { skipped: string };
  notifications: DeliveryResult[];
}

/** Exit code for a report: 0 promoted (or would be), 1 a gate failed, 3 a gate could not be evaluated. */
export function exitCodeOf(report: PromotionReport): 0 | 1 | 3 {
  if (report.status === "blocked") return 1;
  if (report.status === "gate-error") return 3;
  return 0;
}

function sourceEnvironment(req: PromotionRequest): string {
  const rules = req.loaded.config.promotion[req.to];
  if (rules === undefined) {
    throw new ShipgateError("USAGE", `${req.loaded.path} has no promotion rules for "${req.to}"`, {
      hint: `add promotion.${req.to} (with its gates), or promote to one of: ${Object.keys(req.loaded.config.promotion).join(", ") || "none"}`,
    });
  }
  const from = req.from ?? rules.from;
  if (from === undefined) {
    throw new ShipgateError(
      "USAGE",
      `say where ${req.to} is promoted from: --from ENV or promotion.${req.to}.from`,
    );
  }
  if (rules.from !== undefined && req.from !== undefined && req.from !== rules.from) {
    throw new ShipgateError("USAGE", `${req.to} is promoted from ${rules.from}, not ${req.from}`, {
      hint: `promote to ${req.from}'s next environment first, or change promotion.${req.to}.from`,
    });
  }
  return from;
}

async function resolveTag(place: Place, tag: string): Promise<string | undefined> {
  const location = locationAt(place, tag);
  // An environment in the embedded store that nothing was promoted to yet has no layout at all:
  // as a registry's unknown repository, it holds no tag.
  if (location.transport === "oci" && !existsSync(location.path)) return undefined;
  const source = await openSource(location, place.open);
  try {
    return (await source.getManifest(tag)).digest;
  } catch (error) {
    if (error instanceof ShipgateError && error.code === "NOT_FOUND") return undefined;
    throw error;
  } finally {
    await source.close?.();
  }
}

export async function promote(req: PromotionRequest): Promise<PromotionReport> {
  const now = req.now ?? new Date();
  const requester = req.requester ?? currentUser(req.env);
  const progress = req.onProgress ?? (() => {});
  const from = sourceEnvironment(req);
  const gates = req.loaded.config.promotion[req.to]?.gates ?? {};
  const sourcePlace = placeOf(req.loaded, from, req.app, req.open, req.env);
  const targetPlace = placeOf(req.loaded, req.to, req.app, req.open, req.env);

  // The one resolution of the tag: everything after works on this digest.
  const digest = await resolveTag(sourcePlace, req.tag);
  if (digest === undefined) {
    throw new ShipgateError("NOT_FOUND", `${sourcePlace.repository}:${req.tag} not found in ${from}`, {
      hint: `push it there first, or check the tag with: shipgate tags ${sourcePlace.repository}`,
    });
  }
  const targetDigest = await resolveTag(targetPlace, req.tag);
  if (targetDigest !== undefined && targetDigest !== digest) {
    throw new ShipgateError(
      "CONCURRENT_CHANGE",
      `${targetPlace.repository}:${req.tag} already names ${targetDigest}, not ${digest}`,
      {
        hint: "tags in a promoted environment are immutable: release under a new tag",
      },
    );
  }
  const already = targetDigest === digest;
  // Already there: judge the copy in the target (its referrers came along), so the re-run re-verifies what ships.
  const judged = already ? targetPlace : sourcePlace;
  const location = locationAt(judged, digest);
  const reference = `${judged.repository}@${digest}`;
  progress(
    `${req.app}:${req.tag} is ${digest}; evaluating ${Object.keys(gates).length} gate(s) for ${req.to}`,
  );

  const results = await evaluateGates(
    {
      app: req.app,
      tag: req.tag,
      digest,
      location,
      reference,
      from,
      to: req.to,
      requester,
      loaded: req.loaded,
      open: judged.open,
      store: req.store,
      deps: req.deps,
      now,
      env: req.env ?? process.env,
    },
    gates,
    { dryRun: req.dryRun ?? false },
  );
  const failed = results.some((g) => g.status === "fail");
  const errored = results.some((g) => g.status === "error");
  const report: PromotionReport = {
    status: failed
      ? "blocked"
      : errored
        ? "gate-error"
        : already
          ? "already-promoted"
          : req.dryRun
            ? "would-promote"
            : "promoted",
    app: req.app,
    tag: req.tag,
    digest,
    from,
    to: req.to,
    source: `${sourcePlace.repository}:${req.tag}`,
    target: `${targetPlace.repository}:${req.tag}`,
    requester,
    at: now.toISOString(),
    gates: results,
    notifications: [],
  };

  if (report.status === "promoted") {
    progress(`copying ${digest} with its referrers to ${targetPlace.repository}`);
    const source = await openSource(locationAt(sourcePlace, digest), sourcePlace.open);
    const dest = await openDest(locationAt(targetPlace, req.tag), targetPlace.open);
    try {
      const copied = await copyImage(source, digest, dest, req.tag, { includeReferrers: true });
      report.copy = {
        manifests: copied.manifests,
        blobs: copied.blobs,
        bytesTransferred: copied.bytesTransferred,
        referrers: copied.referrers,
      };
    } finally {
      await dest.close?.();
      await source.close?.();
    }
    report.attestation = await attest(req, report, targetPlace);
  } else if (
    report.status === "already-promoted" &&
    !req.dryRun &&
    req.deps.signer &&
    req.loaded.config.signing
  ) {
    // A run interrupted between the tag and the attestation left the decision unsigned: finish it.
    const target = locationAt(targetPlace, digest);
    if (!(await req.deps.signer.attested(target, targetPlace.open)))
      report.attestation = await attest(req, report, targetPlace);
  }

  if (!req.dryRun) {
    await recordAudit(
      {
        kind: "promotion",
        action: report.status,
        outcome:
          report.status === "promoted" || report.status === "already-promoted"
            ? "pass"
            : report.status === "blocked"
              ? "fail"
              : "error",
        actor: requester,
        app: req.app,
        digest,
        environment: req.to,
        details: {
          tag: req.tag,
          from,
          source: report.source,
          target: report.target,
          gates: results.map((g) => ({
            gate: g.gate,
            status: g.status,
            summary: g.summary,
            evidence: g.evidence,
          })),
          ...(report.copy ? { copy: report.copy } : {}),
          ...(report.attestation ? { attestation: report.attestation } : {}),
        },
        at: now,
      },
      req.store,
    );
    if (report.status !== "already-promoted") {
      const channels = req.loaded.config.promotion[req.to]?.notify ?? [];
      const subject = {
        app: req.app,
        tag: req.tag,
        digest,
        reference: `${targetPlace.repository}@${digest}`,
        from,
        to: req.to,
      };
      const notice = promotionNotice(subject, report.status === "promoted", results, requester, now);
      report.notifications = await deliver(req.store, req.loaded.config, channels, notice, req.sendOptions);
    }
  }
  return report;
}

async function attest(
  req: PromotionRequest,
  report: PromotionReport,
  target: Place,
): Promise<PromotionReport["attestation"]> {
  if (req.loaded.config.signing === undefined) return { skipped: "no signing key configured" };
  if (req.deps.signer === undefined) return { skipped: "no signer available" };
  const predicate: PromotionPredicate = {
    promotedBy: report.requester,
    promotedAt: report.at,
    app: report.app,
    tag: report.tag,
    from: { environment: report.from, repository: report.source },
    to: { environment: report.to, repository: report.target },
    gates: report.gates.map((g) => ({ gate: g.gate, status: g.status, summary: g.summary })),
    tool: { name: "shipgate" },
  };
  const manifest = await req.deps.signer.attest(locationAt(target, report.digest), predicate, target.open);
  return { predicateType: PROMOTION_PREDICATE_TYPE, manifest };
}
