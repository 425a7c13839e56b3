/**
 * Loads any CycloneDX or SPDX 2.x JSON document (shipgate's own or another
 * tool's) into the SBOM model, so scanning, diffs and gates work on one shape.
 */
import { ShipgateError } from "../../errors.js";
import { normaliseSbom, type Sbom } from "../model.js";
import { readCycloneDx } from "./read-cyclonedx.js";
import { readSpdx } from "./read-spdx.js";

export type SbomDocumentFormat = "spdx-json" | "cyclonedx-json";

const HINT = "pass an SPDX 2.2/2.3 or CycloneDX 1.4–1.6 JSON document";

/** The document's format, told by the fields each one requires. */
export function sniffSbomFormat(doc: unknown, where: string): SbomDocumentFormat {
  if (typeof doc === "object" && doc !== null && !Array.isArray(doc)) {
    if ("spdxVersion" in doc) return "spdx-json";
    if ((doc as { bomFormat?: unknown }).bomFormat === "CycloneDX") return "cyclonedx-json";
    if ("@context" in doc) {
      throw new ShipgateError(
        "SBOM_INVALID",
        `${where} looks like SPDX 3 JSON-LD, which shipgate does not read`,
        {
          hint: HINT,
        },
      );
    }
  }
  throw new ShipgateError(
    "SBOM_INVALID",
    `${where} is neither SPDX (no "spdxVersion") nor CycloneDX (no "bomFormat": "CycloneDX")`,
    { hint: HINT },
  );
}

/** Parses SBOM text (or bytes) named `where` in messages; throws SBOM_INVALID with what is wrong. */
export function readSbom(input: string | Uint8Array, where: string): Sbom {
  const text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new ShipgateError("SBOM_INVALID", `${where} is not JSON: ${(error as Error).message}`, {
      hint: `${HINT} (XML and tag-value are not read)`,
    });
  }
  const format = sniffSbomFormat(doc, where);
  const sbom = format === "spdx-json" ? readSpdx(doc, where) : readCycloneDx(doc, where);
  return normaliseSbom(sbom);
}
