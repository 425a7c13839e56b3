/**
 * The OSV record format (ossf/osv-schema, schema_version 1.x), validated on
 * import so a malformed record fails loudly with the file it came from
 * instead of silently matching nothing. Unknown fields are kept: the format
 * grows, and `database_specific`/`ecosystem_specific` are free-form.
 */
import { z } from "zod";
import { ShipgateError } from "../../errors.js";

const event = z.union([
  z.object({ introduced: z.string().min(1) }).loose(),
  z.object({ fixed: z.string().min(1) }).loose(),
  z.object({ last_affected: z.string().min(1) }).loose(),
  z.object({ limit: z.string().min(1) }).loose(),
]);

const range = z
  .object({
    type: z.enum(["SEMVER", "ECOSYSTEM", "GIT"]),
    repo: z.string().optional(),
    events: z.array(event).min(1),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

const severity = z.object({ type: z.string().min(1), score: z.string().min(1) }).loose();

const affected = z
  .object({
    package: z
      .object({ ecosystem: z.string().min(1), name: z.string().min(1), purl: z.string().optional() })
      .loose()
      .optional(),
    severity: z.array(severity).optional(),
    ranges: z.array(range).optional(),
    versions: z.array(z.string()).optional(),
    ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export const osvRecordSchema = z
  .object({
    schema_version: z.string().optional(),
    id: z.string().min(1),
    modified: z.string().min(1),
    published: z.string().optional(),
    withdrawn: z.string().optional(),
    aliases: z.array(z.string()).nullish(),
    related: z.array(z.string()).nullish(),
    upstream: z.array(z.string()).nullish(),
    summary: z.string().optional(),
    details: z.string().optional(),
    severity: z.array(severity).nullish(),
    affected: z.array(affected).nullish(),
    references: z.array(z.object({ type: z.string(), url: z.string() }).loose()).nullish(),
    database_specific: z.record(z.string(), z.unknown()).nullish(),
  })
  .loose();

export type OsvRecord = z.infer<typeof osvRecordSchema>;
export type OsvAffected = z.infer<typeof affected>;
export type OsvRange = z.infer<typeof range>;
export type OsvEvent = z.infer<typeof event>;
export type OsvSeverity = z.infer<typeof severity>;

/** Parses and validates one record; `where` names the file (or zip entry) in the error. */
export function parseOsvRecord(text: string, where: string): OsvRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ShipgateError("DB_INVALID", `${where}: not JSON: ${(error as Error).message}`, {
      cause: error,
      hint: "an OSV record is one JSON object per file (https://ossf.github.io/osv-schema/)",
    });
  }
  const parsed = osvRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join(".") : "(record)";
    throw new ShipgateError(
      "DB_INVALID",
      `${where}: not an OSV record: ${path}: ${issue?.message ?? "invalid"}`,
      {
        hint: "check the record against the OSV schema (https://ossf.github.io/osv-schema/)",
      },
    );
  }
  return parsed.data;
}

/** The kind of an event and its version, whatever key carries it. */
export function eventOf(e: OsvEvent): {
  kind: "introduced" | "fixed" | "last_affected" | "limit";
  version: string;
} {
  const r = e as Record<string, unknown>;
  for (const kind of ["introduced", "fixed", "last_affected", "limit"] as const) {
    if (typeof r[kind] === "string") return { kind, version: r[kind] };
  }
  throw new Error("unreachable: the schema requires one event key");
}
