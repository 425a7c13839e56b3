import { ShipgateError } from "../../errors.js";

interface DistributionError {
  code?: string;
  message?: string;
  detail?: unknown;
}

/** Turns a registry's error answer (distribution-spec `errors` array) into a typed, actionable error. */
export function registryError(
  what: string,
  status: number,
  body: string,
  registry: string,
  credentialSource: string | undefined,
): ShipgateError {
  let detail = "";
  let codes: string[] = [];
  try {
    const parsed = JSON.parse(body) as { errors?: DistributionError[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      codes = parsed.errors.map((e) => e.code ?? "");
      detail = parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    }
  } catch {
    detail = body.replace(/\s+/g, " ").trim().slice(0, 200);
  }
  const suffix = detail ? ` (${detail})` : "";
  if (status === 401) {
    return new ShipgateError("UNAUTHORIZED", `${what}: ${registry} requires authentication${suffix}`, {
      hint: credentialSource
        ? `the credentials from ${credentialSource} were refused; run shipgate login ${registry}`
        : `log in first: shipgate login ${registry}`,
    });
  }
  if (status === 403) {
    return new ShipgateError("DENIED", `${what}: access denied by ${registry}${suffix}`, {
      hint: "the account lacks permission for this repository or action",
    });
  }
  if (status === 404 || codes.some((c) => c.endsWith("_UNKNOWN"))) {
    return new ShipgateError("NOT_FOUND", `${what}: not found${suffix}`, {
      hint: "check the repository, tag or digest (shipgate tags REPO lists tags)",
    });
  }
  if (status === 413) {
    return new ShipgateError("REGISTRY_ERROR", `${what}: ${registry} refused the size${suffix}`);
  }
  if (codes.includes("MANIFEST_INVALID") || codes.includes("MANIFEST_BLOB_UNKNOWN")) {
    return new ShipgateError("MANIFEST_INVALID", `${what}: ${registry} refused the manifest${suffix}`);
  }
  if (codes.includes("DIGEST_INVALID")) {
    return new ShipgateError(
      "DIGEST_MISMATCH",
      `${what}: ${registry} found the content does not match its digest${suffix}`,
    );
  }
  if (codes.includes("UNSUPPORTED") || status === 405) {
    return new ShipgateError("UNSUPPORTED", `${what}: ${registry} does not support this operation${suffix}`);
  }
  return new ShipgateError("REGISTRY_ERROR", `${what}: ${registry} answered ${status}${suffix}`);
}
