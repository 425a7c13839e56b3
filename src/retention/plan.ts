import { decide, type Judge } from "./decide.js";
import type { DeployedRef } from "./deployed.js";
import { addReferrers, type InventoryOptions, type RepositoryReader, readInventory } from "./inventory.js";
import type { Decision, Inventory, RetentionPlan } from "./model.js";
import { pool } from "./pool.js";

/** A later environment's repository: a digest present there has been promoted and must stay. */
export interface PromotionTarget {
  name: string;
  has(digest: string): Promise<boolean>;
}

export interface PlanOptions extends InventoryOptions {
  judge: Judge;
  /** Says where the rules came from, for the report (`retention.dev in shipgate.yaml`, `flags`). */
  source: string;
  /** Ages are measured from here (default: now). */
  now?: Date;
  deployed?: DeployedRef[];
  promotedTo?: PromotionTarget[];
}

/** `docker://host/repo` → `host/repo`, the form deployed references carry. */
function bareName(name: string): string {
  return name.replace(/^docker:\/\//, "");
}

/**
 * Plans a clean-up of one repository. Reads the repository once, then decides in memory; the
 * only further requests are for the few digests the plan would delete (is it promoted? what
 * refers to it?).
 */
export async function planRetention(reader: RepositoryReader, options: PlanOptions): Promise<RetentionPlan> {
  const now = (options.now ?? new Date()).getTime();
  const inventory = await readInventory(reader, options);
  return planFromInventory(reader, inventory, options, now);
}

export async function planFromInventory(
  reader: RepositoryReader,
  inventory: Inventory,
  options: PlanOptions,
  now: number,
): Promise<RetentionPlan> {
  const warnings: string[] = [];
  const protectedDigests = new Map<string, Decision>();
  const protect = (digest: string, decision: Decision) => {
    if (!protectedDigests.has(digest)) protectedDigests.set(digest, decision);
  };
  const self = bareName(inventory.repository);
  for (const ref of options.deployed ?? []) {
    if (ref.digest !== undefined) {
      protect(ref.digest, { action: "keep", rule: "keep_deployed", detail: ref.where });
      continue;
    }
    if (ref.tag === undefined) continue;
    const digest = ref.repository === self ? inventory.tags.get(ref.tag) : undefined;
    if (digest !== undefined)
      protect(digest, { action: "keep", rule: "keep_deployed", detail: `${ref.where} (tag ${ref.tag})` });
    else if (ref.repository === self) warnings.push(`${ref.where}: tag ${ref.tag} is not in ${self}`);
  }
  const run = pool(options.concurrency ?? 16);
  const deletedDigests = (d: ReturnType<typeof decide>) =>
    d.steps.flatMap((s) => (s.op === "delete-manifest" ? [s.digest] : []));

  let decided = decide({ inventory, now, judge: options.judge, protected: protectedDigests });
  if ((options.promotedTo ?? []).length > 0) {
    const candidates = deletedDigests(decided);
    const before = protectedDigests.size;
    await Promise.all(
      candidates.map((digest) =>
        run(async () => {
          for (const target of options.promotedTo ?? [])
            if (await target.has(digest)) {
              protect(digest, { action: "keep", rule: "promoted", detail: `present in ${target.name}` });
              return;
            }
        }),
      ),
    );
    if (protectedDigests.size > before)
      decided = decide({ inventory, now, judge: options.judge, protected: protectedDigests });
  }
  // Referrers the API lists (untagged signatures, SBOMs) go with their subject: learn them now.
  if ((await addReferrers(reader, inventory, deletedDigests(decided), options.concurrency ?? 16)) > 0)
    decided = decide({ inventory, now, judge: options.judge, protected: protectedDigests });
  return {
    version: 1,
    repository: inventory.repository,
    now: new Date(now).toISOString(),
    source: options.source,
    tags: decided.tags,
    digests: decided.digests,
    steps: decided.steps,
    totals: decided.totals,
    warnings: [...warnings, ...decided.warnings],
  };
}
