import { z } from "zod";

/**
 * The retention rules of one environment (`retention.<env>` in shipgate.yaml).
 *
 * Every rule says what to KEEP; a tag no rule keeps is deleted (Harbor's
 * OR-of-retain semantics). docs/retention.md gives the full semantics and how
 * they map to Harbor's tag retention and ECR lifecycle policies.
 */

/** `/regex/flags` is a regular expression; anything else is a glob (`*`, `?`, `{a,b}`). */
export function isRegexPattern(pattern: string): boolean {
  return /^\/.+\/[a-z]*$/s.test(pattern);
}

const tagPattern = z
  .string()
  .min(1, "a tag pattern cannot be empty")
  .superRefine((pattern, ctx) => {
    if (!isRegexPattern(pattern)) return;
    const end = pattern.lastIndexOf("/");
    try {
      new RegExp(pattern.slice(1, end), pattern.slice(end + 1));
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  });

const patterns = z.union([tagPattern.transform((p) => [p]), z.array(tagPattern)]);

const kubernetesSource = z
  .object({
    /** Path of the kubeconfig; default $KUBECONFIG, then ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    /** Context to use; default the kubeconfig's current-context. */
    context: z.string().min(1).optional(),
    /** Only these namespaces; default every namespace. */
    namespaces: z.array(z.string().min(1)).optional(),
  })
  .strict();

const deployedSources = z
  .object({
    kubernetes: z.union([z.boolean(), kubernetesSource]).optional(),
    /** Files of image references, one per line (`repo@sha256:...` or `repo:tag`), `#` comments. */
    files: z
      .union([
        z
          .string()
          .min(1)
          .transform((f) => [f]),
        z.array(z.string().min(1)),
      ])
      .optional(),
  })
  .strict();

export const retentionRulesSchema = z
  .object({
    /** Keep the N most recently created tagged images (attachments never count). */
    keep_last: z.number().int().nonnegative().optional(),
    /** Keep tags whose image was created less than N days ago. */
    max_age_days: z.number().nonnegative().optional(),
    /** Keep tags that are semantic versions (`1.2.3`, `v1.2.3-rc.1`). */
    keep_semver: z.boolean().optional(),
    /** Keep tags matching any of these patterns. */
    keep_tags: patterns.optional(),
    /** Only tags matching one of these are in scope for cleaning; others are kept. Default: all. */
    include: patterns.optional(),
    /** Tags matching one of these are out of scope for cleaning (kept). */
    exclude: patterns.optional(),
    /**
     * Untagged manifests (subjects of orphaned attachment tags, children of deleted indexes) are
     * deleted once older than N days. Absent: untagged manifests are left alone.
     */
    untagged_days: z.number().nonnegative().optional(),
    /**
     * Never delete a digest that runs somewhere. `true` reads the current Kubernetes context;
     * an object names the sources.
     */
    keep_deployed: z.union([z.boolean(), deployedSources]).optional(),
    /** Keep digests present in the next environment's repository (default true). */
    protect_promoted: z.boolean().optional(),
  })
  .strict();

export type RetentionRules = z.infer<typeof retentionRulesSchema>;
export type RetentionRulesInput = z.input<typeof retentionRulesSchema>;

/** The whole `retention:` section: environment name → rules. */
export const retentionSectionSchema = z.record(z.string(), retentionRulesSchema);
