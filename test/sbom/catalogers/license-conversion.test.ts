import { describe, expect, it } from "vitest";
import { licensesOf } from "../../../src/sbom/catalogers/language.js";
import { isSpdxExpression, toLicense } from "../../../src/sbom/catalogers/licenses.js";
import { npmLicenses } from "../../../src/sbom/catalogers/npm-lock.js";

describe("licence strings from package metadata to SPDX", () => {
  it("keeps valid expressions, bringing deprecated GNU ids up to date", () => {
    expect(toLicense("MIT")).toEqual({ expression: "MIT" });
    expect(toLicense("(MIT OR Apache-2.0)")).toEqual({ expression: "MIT OR Apache-2.0" });
    expect(toLicense("GPL-2.0+")).toEqual({ expression: "GPL-2.0-or-later" });
    expect(toLicense("LGPL-2.1")).toEqual({ expression: "LGPL-2.1-only" });
    expect(toLicense("Apache-2.0 WITH LLVM-exception")).toEqual({
      expression: "Apache-2.0 WITH LLVM-exception",
    });
  });

  it("maps the usual spellings that name one licence without doubt", () => {
    expect(toLicense("GPLv2+")).toEqual({ expression: "GPL-2.0-or-later" });
    expect(toLicense("GPL-3")).toEqual({ expression: "GPL-3.0-only" });
    expect(toLicense("Apache 2.0")).toEqual({ expression: "Apache-2.0" });
    expect(toLicense("mit")).toEqual({ expression: "MIT" });
    expect(toLicense("BSD-3-clause")).toEqual({ expression: "BSD-3-Clause" });
    expect(toLicense("Apache License 2.0 or MIT")).toEqual({ expression: "Apache-2.0 OR MIT" });
  });

  it("never invents a licence: ambiguous names keep the source's words", () => {
    // spdx-correct alone would answer GPL-3.0-or-later, BSD-2-Clause, the Unlicense.
    expect(toLicense("GPL")).toEqual({ name: "GPL" });
    expect(toLicense("BSD")).toEqual({ name: "BSD" });
    expect(toLicense("BSD-4-clause")).toEqual({ expression: "BSD-4-Clause" });
    expect(toLicense("BSD License")).toEqual({ name: "BSD License" });
    expect(toLicense("Copyright (c) Someone, all rights reserved")).toMatchObject({
      name: "Copyright (c) Someone, all rights reserved",
    });
    expect(npmLicenses({ license: "UNLICENSED" })).toEqual([{ name: "UNLICENSED" }]);
    expect(npmLicenses({ license: "SEE LICENSE IN LICENSE.md" })).toEqual([
      { name: "SEE LICENSE IN LICENSE.md" },
    ]);
  });

  it("reads npm's legacy forms and drops placeholders", () => {
    expect(npmLicenses({ license: { type: "ISC" } })).toEqual([{ expression: "ISC" }]);
    expect(npmLicenses({ licenses: [{ type: "MIT" }, { type: "Apache-2.0" }] })).toEqual([
      { expression: "MIT" },
      { expression: "Apache-2.0" },
    ]);
    expect(licensesOf(["UNKNOWN", "", undefined, "none", "MIT", "MIT"])).toEqual([{ expression: "MIT" }]);
  });

  it("every expression it produces parses as SPDX", () => {
    const inputs = ["GPLv3+", "LGPL-2+", "Apache 2", "MPL 2.0", "GPL-2.0 OR MIT", "AGPL-3.0", "EPL-2.0"];
    for (const input of inputs) {
      const license = toLicense(input);
      if (license.expression) expect(isSpdxExpression(license.expression), input).toBe(true);
    }
  });
});
