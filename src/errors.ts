/**
 * Every error shipgate throws is a ShipgateError with a string-literal `code`,
 * so callers switch on codes, not messages (the sigstore-js pattern).
 * The CLI maps each code to the exit codes DESIGN.md documents.
 */
export type ErrorCode =
  // usage and configuration (exit 2)
  | "INVALID_REFERENCE"
  | "INVALID_TRANSPORT"
  | "INVALID_PLATFORM"
  | "USAGE"
  | "CONFIG_INVALID"
  | "KEY_INVALID"
  | "PASSWORD_INCORRECT"
  // policy (exit 1)
  | "POLICY_DENIED"
  | "SIGNATURE_INVALID"
  | "GATE_FAILED"
  | "VULNERABILITIES_FOUND"
  // runtime (exit 3)
  | "UNAUTHORIZED"
  | "DENIED"
  | "NOT_FOUND"
  | "REGISTRY_ERROR"
  | "NETWORK"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "MANIFEST_TOO_LARGE"
  | "MANIFEST_INVALID"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNSUPPORTED"
  | "INSECURE_REGISTRY"
  | "CREDENTIALS"
  | "LAYOUT_INVALID"
  | "ARCHIVE_INVALID"
  | "CONCURRENT_CHANGE"
  | "LAYER_INVALID"
  | "LIMIT_EXCEEDED"
  | "SBOM_INVALID"
  | "DB_INVALID"
  | "OFFLINE"
  | "STORE_ERROR"
  | "NOTIFY_FAILED"
  | "IO";

export class ShipgateError extends Error {
  readonly code: ErrorCode;
  /** What the user can do about it; printed after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ShipgateError";
    this.code = code;
    this.hint = options.hint;
  }
}

const usageCodes: ReadonlySet<ErrorCode> = new Set([
  "INVALID_REFERENCE",
  "INVALID_TRANSPORT",
  "INVALID_PLATFORM",
  "USAGE",
  "CONFIG_INVALID",
  "KEY_INVALID",
  "PASSWORD_INCORRECT",
]);

const policyCodes: ReadonlySet<ErrorCode> = new Set([
  "POLICY_DENIED",
  "SIGNATURE_INVALID",
  "GATE_FAILED",
  "VULNERABILITIES_FOUND",
]);

/** Exit codes: 0 ok, 1 policy said no, 2 usage or config, 3 runtime failure. */
export function exitCodeFor(error: unknown): 1 | 2 | 3 {
  if (error instanceof ShipgateError) {
    if (policyCodes.has(error.code)) return 1;
    if (usageCodes.has(error.code)) return 2;
  }
  return 3;
}
