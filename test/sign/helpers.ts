import { readFileSync } from "node:fs";
import { join } from "node:path";

/** sigstore/cosign's own test data, extracted unchanged (see its README). */
export const COSIGN_TESTDATA = join(import.meta.dirname, "..", "..", "..", "shared", "cosign-testdata");
export const cosignFixture = (name: string): string => readFileSync(join(COSIGN_TESTDATA, name), "utf8");
