import type { Command } from "commander";
import { listAttachments, removeAttachments } from "../../sign/attachments.js";
import { location, openOptions, printJson, usage } from "../context.js";
import { shortDigest, table } from "../format.js";

export const ATTACHMENT_TYPES = ["signature", "attestation", "sbom", "all"] as const;
export type AttachmentTypeFlag = (typeof ATTACHMENT_TYPES)[number];

/**
 * `clean IMAGE --type signature|attestation|sbom|all`: the attachments of one
 * image (cosign tags and OCI 1.1 referrers), planned first and removed only
 * with --apply. The image itself stays.
 */
export async function cleanAttachments(
  target: string,
  type: string,
  flags: { apply?: boolean; json?: boolean },
  command: Command,
): Promise<void> {
  if (!(ATTACHMENT_TYPES as readonly string[]).includes(type)) {
    throw usage(`--type "${type}" is not known`, `use one of ${ATTACHMENT_TYPES.join(", ")}`);
  }
  const where = location(command, target);
  const open = openOptions(command);
  const { subject, attachments } = await listAttachments(where, { open });
  const chosen = attachments.filter((a) => type === "all" || a.type === type);
  const rows = chosen.map((a) => [
    a.type,
    a.scheme === "tag" ? `tag ${a.tag ?? ""}` : "referrer",
    shortDigest(a.digest),
    String(a.entries),
    a.predicateTypes.join(", "),
  ]);
  if (!flags.apply) {
    if (flags.json) return printJson({ subject, apply: false, attachments: chosen });
    if (rows.length > 0) {
      process.stdout.write(`${table(["TYPE", "STORED AS", "MANIFEST", "ENTRIES", "PREDICATES"], rows)}\n`);
    }
    process.stderr.write(
      `plan: ${chosen.length} ${type === "all" ? "attachment" : type}(s) of ${subject} would be removed; nothing was deleted (add --apply)\n`,
    );
    return;
  }
  const removed = await removeAttachments(where, chosen, { open });
  if (flags.json) return printJson({ subject, apply: true, attachments: chosen, removed });
  for (const digest of removed) process.stdout.write(`removed ${digest}\n`);
  process.stderr.write(`${removed.length} attachment manifest(s) of ${subject} removed; the image stays\n`);
}
