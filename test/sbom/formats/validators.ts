import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import Ajv2019 from "ajv/dist/2019.js";
import addFormats from "ajv-formats";

/**
 * The official schemas: CycloneDX's own bom-1.x.schema.json (with the
 * spdx and jsf schemas it references), as shipped inside
 * @cyclonedx/cyclonedx-library and loaded by its strict validator (Ajv),
 * and SPDX 2.3's spdx-schema.json from spdx/spdx-spec (draft 2019-09).
 */
const SPDX_SCHEMA = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "..",
  "shared",
  "schemas",
  "spdx-2.3-schema.json",
);

const cdxValidators = new Map<string, Validation.JsonStrictValidator>();

/** Schema errors of a CycloneDX document, or null when it is valid. */
export async function cycloneDxErrors(text: string, version = "1.6"): Promise<unknown> {
  const spec = (
    { "1.4": Spec.Version.v1dot4, "1.5": Spec.Version.v1dot5, "1.6": Spec.Version.v1dot6 } as const
  )[version as "1.4" | "1.5" | "1.6"];
  let validator = cdxValidators.get(version);
  if (!validator) {
    validator = new Validation.JsonStrictValidator(spec);
    cdxValidators.set(version, validator);
  }
  return validator.validate(text);
}

let spdxValidate: ((doc: unknown) => boolean) & { errors?: unknown } = Object.assign(() => false, {});
let spdxReady = false;

/** Schema errors of an SPDX 2.3 JSON document, or null when it is valid. */
export function spdxErrors(text: string): unknown {
  if (!spdxReady) {
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    spdxValidate = ajv.compile(JSON.parse(readFileSync(SPDX_SCHEMA, "utf8")));
    spdxReady = true;
  }
  return spdxValidate(JSON.parse(text)) ? null : (spdxValidate.errors ?? "invalid");
}
