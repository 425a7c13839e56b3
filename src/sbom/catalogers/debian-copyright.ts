import type { License } from "../model.js";
import { type ConvertOptions, toLicense } from "./licenses.js";

/**
 * Debian's own short names (copyright-format 1.0, "License specification")
 * where they differ from SPDX. `Artistic` is the Perl Artistic Licence
 * (/usr/share/common-licenses/Artistic), `Perl` is Perl's dual licence.
 * Versionless family names (`GPL`, `BSD`, `Apache`) are left as names: the
 * file does not say which licence it means.
 */
const DEBIAN_ALIASES = new Map<string, string>([
  ["expat", "MIT"],
  ["artistic", "Artistic-1.0-Perl"],
  ["artistic-1", "Artistic-1.0-Perl"],
  ["artistic-2", "Artistic-2.0"],
  ["perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"],
  ["apache-2", "Apache-2.0"],
  ["mpl-1.1", "MPL-1.1"],
  ["mpl-2", "MPL-2.0"],
  ["cc0", "CC0-1.0"],
  ["psf-2", "PSF-2.0"],
  ["python", "PSF-2.0"],
  ["openldap-2.8", "OLDAP-2.8"],
  ["gfdl-niv-1.1", "GFDL-1.1-no-invariants-only"],
  ["gfdl-niv-1.2", "GFDL-1.2-no-invariants-only"],
  ["gfdl-niv-1.3", "GFDL-1.3-no-invariants-only"],
  ["gfdl-niv-1.1+", "GFDL-1.1-no-invariants-or-later"],
  ["gfdl-niv-1.2+", "GFDL-1.2-no-invariants-or-later"],
  ["gfdl-niv-1.3+", "GFDL-1.3-no-invariants-or-later"],
]);

/** `GPL-2+ with Autoconf exception`: Debian names the exception in words; SPDX versions it by licence. */
function debianException(phrase: string, licenseId: string): string | undefined {
  const gpl3 = /^(?:L?GPL)-3/.test(licenseId);
  switch (phrase) {
    case "autoconf":
      return gpl3 ? "Autoconf-exception-3.0" : "Autoconf-exception-2.0";
    case "bison":
    case "bison-2.2":
      return "Bison-exception-2.2";
    case "libtool":
      return "Libtool-exception";
    case "texinfo":
      return "Texinfo-exception";
    case "linux-syscall-note":
      return "Linux-syscall-note";
    default:
      return undefined;
  }
}

const OPTIONS: ConvertOptions = { aliases: DEBIAN_ALIASES, exception: debianException, commas: true };

/** A Debian licence short name (or DEP-5 expression) as a License. */
export function debianLicense(shortName: string): License {
  return toLicense(shortName, OPTIONS);
}

/**
 * The licences a machine-readable (DEP-5) /usr/share/doc/PKG/copyright
 * declares: the first line of every `License:` field, in every paragraph,
 * once each. A free-form copyright file gives undefined: guessing a licence
 * from prose is how SBOMs come to claim what nobody wrote.
 */
export function parseCopyright(content: string): License[] | undefined {
  const text = content.replace(/\r\n?/g, "\n");
  const firstParagraph = text.trimStart().split(/\n[ \t]*\n/, 1)[0] ?? "";
  if (!/^(Format|Format-Specification):/im.test(firstParagraph)) return undefined;
  const seen = new Set<string>();
  const licenses: License[] = [];
  for (const match of text.matchAll(/^License:[ \t]*(.*)$/gim)) {
    const shortName = (match[1] ?? "").trim();
    if (shortName === "" || seen.has(shortName)) continue;
    seen.add(shortName);
    const license = debianLicense(shortName);
    const key = license.expression ?? license.name;
    if (licenses.some((l) => (l.expression ?? l.name) === key)) continue;
    licenses.push(license);
  }
  return licenses;
}
