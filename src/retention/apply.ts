import { randomUUID } from "node:crypto";
import { ShipgateError } from "../errors.js";
import { digestOf } from "../oci/digest.js";
import { MediaType } from "../oci/mediatypes.js";
import { applyRemoval } from "../oci/remove.js";
import { RegistryRepository } from "../oci/transports/registry.js";
import type { PlanStep, RetentionPlan } from "./model.js";
import { pool } from "./pool.js";

/** One deletion, as the audit trail records it. */
export interface DeletionEvent {
  repository: string;
  kind: "tag" | "manifest" | "attachment";
  /** The tag, or the digest. */
  reference: string;
  digest: string;
  rule: string;
  detail?: string;
}

export interface StepOutcome {
  step: PlanStep;
  status: "done" | "already-gone";
  /** Everything this step removed: the tag, or digests (attachments first, the manifest last). */
  removed: string[];
}

export interface ApplyReport {
  repository: string;
  outcomes: StepOutcome[];
  /** The step that failed and why; steps after it were not started. */
  failed?: { step: PlanStep; code: string; message: string };
  /** Steps not carried out (after a failure). */
  remaining: PlanStep[];
  /** Tags left listed but pointing at nothing after their manifest was deleted, then removed. */
  swept: string[];
  bytesFreed: number;
}

export interface ApplyOptions {
  /** Deletions in flight at once (default 4: registries serialise writes per repository anyway). */
  concurrency?: number;
  onStep?: (done: number, total: number, bytes: number) => void;
  /** Called after each deletion; the CLI records it in the audit trail. A throw stops the apply. */
  onDeleted?: (event: DeletionEvent) => Promise<void>;
}

/**
 * The few changes retention makes to a repository. A registry repository is one (`registryWriter`),
 * an OCI layout of the embedded store another (`layoutWriter` in ./layout.ts).
 */
export interface RepositoryWriter {
  readonly name: string;
  listTags(): AsyncIterable<string>;
  /** The digest a tag or digest names now; undefined when there is none. */
  head(reference: string): Promise<string | undefined>;
  /** Removes this one tag (which points at `digest`); other tags on the digest stay. */
  untag(tag: string, digest: string): Promise<void>;
  /** Deletes a manifest by digest; one already gone is not an error. */
  deleteManifest(digest: string): Promise<void>;
  /** Removes tags the plan deleted that are still listed but resolve to nothing; returns them. */
  sweepDangling(doomed: Set<string>): Promise<string[]>;
}

/** A registry repository as a RepositoryWriter. */
export function registryWriter(repo: RegistryRepository): RepositoryWriter {
  return {
    name: repo.name,
    listTags: () => repo.listTags(),
    head: async (reference) => (await repo.client.headManifest(repo.repository, reference))?.digest,
    async untag(tag, digest) {
      await applyRemoval(repo, {
        repository: repo.name,
        reference: tag,
        kind: "tag",
        digest,
        otherTags: [],
        attachments: [],
      });
    },
    deleteManifest: (digest) => deleteQuietly(repo, digest),
    sweepDangling: (doomed) => sweepDangling(repo, doomed),
  };
}

function writerOf(repo: RegistryRepository | RepositoryWriter): RepositoryWriter {
  return repo instanceof RegistryRepository ? registryWriter(repo) : repo;
}

function changed(message: string): ShipgateError {
  return new ShipgateError("CONCURRENT_CHANGE", message, {
    hint: "the repository changed after the plan was made: run shipgate clean again to see the new plan",
  });
}

/**
 * Checks the repository still holds what the plan saw: no tag the plan did not know (it could
 * point at a digest about to go). Tags that vanished are fine (an earlier, interrupted apply).
 */
export async function checkUnchanged(
  target: RegistryRepository | RepositoryWriter,
  plan: RetentionPlan,
): Promise<void> {
  const repo = writerOf(target);
  const known = new Set(plan.tags.map((t) => t.tag));
  for await (const tag of repo.listTags()) {
    if (!known.has(tag)) throw changed(`${repo.name}:${tag} appeared after the plan was made`);
  }
}

/**
 * Carries out exactly the plan's steps. Each step re-checks what it is about to delete (the tag
 * still on the planned digest; the manifest's planned tags still on it) and the apply stops at the
 * first change or error, reporting what was and was not done; running clean again finishes.
 */
export async function applyPlan(
  target: RegistryRepository | RepositoryWriter,
  plan: RetentionPlan,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const repo = writerOf(target);
  await checkUnchanged(repo, plan);
  const report: ApplyReport = {
    repository: plan.repository,
    outcomes: [],
    remaining: [],
    swept: [],
    bytesFreed: 0,
  };
  const ruleOf = new Map(plan.tags.map((t) => [t.tag, t]));
  const digestRule = new Map(plan.digests.map((d) => [d.digest, d]));
  const run = pool(options.concurrency ?? 4);
  let stopped = false;
  let done = 0;
  const record = async (event: DeletionEvent) => options.onDeleted?.(event);

  const tagStep = async (step: Extract<PlanStep, { op: "delete-tag" }>): Promise<StepOutcome> => {
    const head = await repo.head(step.tag);
    if (head === undefined) return { step, status: "already-gone", removed: [] };
    if (head !== step.digest)
      throw changed(`${repo.name}:${step.tag} now points at ${head}, not ${step.digest}`);
    await repo.untag(step.tag, step.digest);
    const why = ruleOf.get(step.tag);
    await record({
      repository: plan.repository,
      kind: "tag",
      reference: step.tag,
      digest: step.digest,
      rule: why?.rule ?? "not_retained",
      ...(why?.detail ? { detail: why.detail } : {}),
    });
    return { step, status: "done", removed: [step.tag] };
  };

  const manifestStep = async (step: Extract<PlanStep, { op: "delete-manifest" }>): Promise<StepOutcome> => {
    const head = await repo.head(step.digest);
    for (const tag of step.tags) {
      const now = await repo.head(tag);
      if (now !== undefined && now !== step.digest)
        throw changed(`${repo.name}:${tag} now points at ${now}; the plan deletes ${step.digest} under it`);
    }
    const removed: string[] = [];
    // Attachments first, deepest first: if this stops half-way the subject is still there, so a
    // new plan still finds (and deletes) the rest with it.
    for (const a of [...step.attachments].reverse()) {
      if ((await repo.head(a.digest)) === undefined) continue;
      await repo.deleteManifest(a.digest);
      removed.push(a.digest);
      await record({
        repository: plan.repository,
        kind: "attachment",
        reference: a.digest,
        digest: a.digest,
        rule: "attachment",
        detail: `${a.via}, with ${step.digest}`,
      });
    }
    if (head === undefined) return { step, status: removed.length > 0 ? "done" : "already-gone", removed };
    await repo.deleteManifest(step.digest);
    removed.push(step.digest);
    const why = digestRule.get(step.digest);
    await record({
      repository: plan.repository,
      kind: "manifest",
      reference: step.digest,
      digest: step.digest,
      rule: why?.rule ?? "not_retained",
      detail: [why?.detail, step.tags.length > 0 ? `tags ${step.tags.join(", ")}` : "untagged"]
        .filter(Boolean)
        .join("; "),
    });
    return { step, status: "done", removed };
  };

  const tasks = plan.steps.map((step) =>
    run(async () => {
      if (stopped) {
        report.remaining.push(step);
        return;
      }
      try {
        const outcome = step.op === "delete-tag" ? await tagStep(step) : await manifestStep(step);
        report.outcomes.push(outcome);
        if (step.op === "delete-manifest" && outcome.status === "done") report.bytesFreed += step.bytes;
      } catch (error) {
        stopped = true;
        const e = error instanceof ShipgateError ? error : undefined;
        if (report.failed === undefined)
          report.failed = {
            step,
            code: e?.code ?? "IO",
            message: error instanceof Error ? error.message : String(error),
          };
        else report.remaining.push(step);
      } finally {
        done++;
        options.onStep?.(done, plan.steps.length, report.bytesFreed);
      }
    }),
  );
  await Promise.all(tasks);
  if (report.failed === undefined)
    report.swept = await repo.sweepDangling(
      new Set(plan.tags.filter((t) => t.action === "delete").map((t) => t.tag)),
    );
  return report;
}

/**
 * distribution deletes a manifest before untagging it; if that untagging fails (it lists every tag,
 * and concurrent deletes change the list under it) the DELETE answers an error, the retry finds
 * the manifest gone, and a tag is left listed that resolves to nothing. Such tags, which the plan
 * deleted, are removed here through a placeholder manifest. A tag that resolves is never touched.
 */
async function sweepDangling(repo: RegistryRepository, doomed: Set<string>): Promise<string[]> {
  const swept: string[] = [];
  for await (const tag of repo.listTags()) {
    if (!doomed.has(tag) || (await repo.client.headManifest(repo.repository, tag)) !== undefined) continue;
    const config = await repo.client.uploadBytes(repo.repository, Buffer.from("{}"));
    const placeholder = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { ...config, mediaType: MediaType.ociEmpty },
        layers: [],
        annotations: {
          "dev.shipgate.placeholder": `${tag} swept ${new Date().toISOString()} ${randomUUID()}`,
        },
      }),
    );
    const digest = digestOf(placeholder);
    await repo.client.putManifest(repo.repository, tag, {
      bytes: placeholder,
      mediaType: MediaType.ociManifest,
      digest,
    });
    await deleteQuietly(repo, digest);
    swept.push(tag);
  }
  return swept;
}

async function deleteQuietly(repo: RegistryRepository, digest: string): Promise<void> {
  try {
    await repo.client.deleteManifest(repo.repository, digest);
  } catch (error) {
    // Gone between the check and the delete: the outcome wanted.
    if (!(error instanceof ShipgateError && error.code === "NOT_FOUND")) throw error;
  }
}

/** Differences that make a saved plan unsafe to apply now (empty: same plan, or a subset of it). */
export function comparePlans(saved: RetentionPlan, fresh: RetentionPlan): string[] {
  const key = (s: PlanStep) => (s.op === "delete-tag" ? `tag ${s.tag}@${s.digest}` : `manifest ${s.digest}`);
  const savedSteps = new Set(saved.steps.map(key));
  const freshSteps = new Set(fresh.steps.map(key));
  const differences: string[] = [];
  for (const k of freshSteps) if (!savedSteps.has(k)) differences.push(`the plan now also deletes ${k}`);
  // A saved step missing from the new plan is fine only when its target is gone (done before).
  const present = new Set([
    ...fresh.tags.map((t) => `tag ${t.tag}@${t.digest}`),
    ...fresh.digests.map((d) => `manifest ${d.digest}`),
  ]);
  for (const k of savedSteps) if (!freshSteps.has(k) && present.has(k)) differences.push(`${k} is now kept`);
  if (saved.repository !== fresh.repository) differences.push(`the plan is for ${saved.repository}`);
  return differences;
}
