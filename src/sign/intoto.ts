import { ShipgateError } from "../errors.js";

/** in-toto attestation framework: Statement v1 (and v0.1, which cosign v2 wrote, read too). */
export const STATEMENT_V1 = "https://in-toto.io/Statement/v1";
export const STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";

/** `--type` short names, mapped to the predicate-type URIs cosign uses (cosign's options/predicate.go). */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  slsaprovenance: "https://slsa.dev/provenance/v0.2",
  slsaprovenance02: "https://slsa.dev/provenance/v0.2",
  slsaprovenance1: "https://slsa.dev/provenance/v1",
  link: "https://in-toto.io/Link/v1",
  spdx: "https://spdx.dev/Document",
  spdxjson: "https://spdx.dev/Document",
  cyclonedx: "https://cyclonedx.org/bom",
  vuln: "https://cosign.sigstore.dev/attestation/vuln/v1",
  openvex: "https://openvex.dev/ns",
  custom: "https://cosign.sigstore.dev/attestation/v1",
};

/** cosign v3's predicate for an image signature stored as a DSSE bundle. */
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface Statement {
  _type: string;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate?: unknown;
}

/** A short name (`slsaprovenance1`) or a URI; anything else is a usage error. */
export function predicateTypeFor(type: string): string {
  const known = PREDICATE_TYPES[type];
  if (known !== undefined) return known;
  if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(type)) return type;
  throw new ShipgateError("USAGE", `unknown attestation type "${type}"`, {
    hint: `use one of ${Object.keys(PREDICATE_TYPES).join(", ")} or a predicate-type URI`,
  });
}

/**
 * The predicate cosign's `attest --predicate FILE --type T` puts in the
 * statement (pkg/cosign/attestation GenerateStatement), from the file's text:
 * for `custom` (cosign's default type) the text itself wrapped as
 * {"Data", "Timestamp"} (specs/COSIGN_PREDICATE_SPEC.md; cosign takes any
 * text there, shipgate only JSON text); for `spdx` (not
 * spdxjson) the text as a string; for every other type the JSON object the
 * file holds (cosign decodes it into a map, so anything but an object is refused).
 */
export function cosignPredicate(type: string, text: string, now: Date = new Date()): unknown {
  const predicateType = predicateTypeFor(type);
  if (type === "spdx") return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // cosign would wrap any text for `custom`; shipgate insists on JSON, so a wrong file is caught early.
    throw new ShipgateError("USAGE", `the ${type} predicate is not JSON: ${(error as Error).message}`, {
      hint: "pass the predicate document as JSON",
    });
  }
  if (predicateType === PREDICATE_TYPES.custom) {
    return { Data: text, Timestamp: now.toISOString().replace(/\.\d+Z$/, "Z") };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ShipgateError("USAGE", `the ${type} predicate must be a JSON object`, {
      hint: "cosign, and so shipgate, accepts only an object as a predicate",
    });
  }
  return doc;
}

export function makeStatement(
  subject: ResourceDescriptor[],
  predicateType: string,
  predicate: unknown,
): Statement {
  return { _type: STATEMENT_V1, subject, predicateType, predicate };
}

export type StatementCheck = { ok: true; statement: Statement } | { ok: false; reason: string };

export function parseStatement(bytes: Uint8Array): StatementCheck {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return { ok: false, reason: "the statement is not JSON" };
  }
  const s = doc as Partial<Statement> | null;
  if (typeof s !== "object" || s === null) return { ok: false, reason: "the statement is not an object" };
  if (s._type !== STATEMENT_V1 && s._type !== STATEMENT_V01) {
    return { ok: false, reason: `unknown statement type ${JSON.stringify(s._type)}` };
  }
  if (typeof s.predicateType !== "string") return { ok: false, reason: "the statement has no predicateType" };
  if (!Array.isArray(s.subject)) return { ok: false, reason: "the statement has no subject list" };
  return { ok: true, statement: s as Statement };
}

/**
 * The subject that names `digest` (sha256:<hex>), if any. As cosign's checks:
 * an empty subject list or a subject without a sha256 does not match.
 */
export function subjectFor(statement: Statement, digest: string): ResourceDescriptor | undefined {
  const [algorithm, hex] = digest.split(":");
  if (algorithm === undefined || hex === undefined) return undefined;
  return statement.subject.find(
    (s) =>
      typeof s === "object" && s !== null && typeof s.digest === "object" && s.digest?.[algorithm] === hex,
  );
}
