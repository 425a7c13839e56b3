/**
 * The embedded store's tables, as Kysely types. Timestamps are ISO-8601 UTC
 * strings (they sort as text); JSON columns hold serialised objects.
 */
import type { Generated } from "kysely";

export interface SchemaMigrationTable {
  version: number;
  applied_at: string;
}

export interface AuditLogTable {
  seq: Generated<number>;
  at: string;
  /** What kind of decision: promotion, gate, approval, notification, deletion... */
  kind: string;
  /** What happened within the kind: promoted, blocked, approved, deleted... */
  action: string;
  actor: string;
  app: string | null;
  digest: string | null;
  environment: string | null;
  outcome: string;
  /** JSON object: gate results, reasons, anything the kind needs. */
  details: string;
  /** The previous record's hash (64 zeros for the first), so an edit anywhere breaks the chain. */
  prev_hash: string;
  hash: string;
}

export interface ApprovalRequestTable {
  id: string;
  app: string;
  tag: string;
  digest: string;
  from_env: string | null;
  to_env: string;
  requester: string;
  required: number;
  status: string;
  created_at: string;
  /** When the request escalates if still short of approvals (null: never). */
  timeout_at: string | null;
  escalated_at: string | null;
  decided_at: string | null;
  reason: string | null;
}

export interface ApprovalVoteTable {
  request_id: string;
  approver: string;
  decision: string;
  reason: string | null;
  at: string;
}

export interface ScanResultTable {
  digest: string;
  /** The database state scanned against (its records and update times, as JSON). */
  database: string;
  scanned_at: string;
  /** JSON array of findings. */
  findings: string;
}

export interface StoreSchema {
  schema_migrations: SchemaMigrationTable;
  audit_log: AuditLogTable;
  approval_requests: ApprovalRequestTable;
  approval_votes: ApprovalVoteTable;
  scan_results: ScanResultTable;
}
