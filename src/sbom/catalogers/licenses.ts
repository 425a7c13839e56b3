import { createRequire } from "node:module";
import spdxCorrect from "spdx-correct";
import parseExpression from "spdx-expression-parse";
import type { License } from "../model.js";

// The SPDX lists ship as JSON; spdx-expression-parse and spdx-correct read the same files.
const require = createRequire(import.meta.url);
const LICENSE_IDS: string[] = require("spdx-license-ids/index.json");
const DEPRECATED_IDS: string[] = require("spdx-license-ids/deprecated.json");
const EXCEPTION_IDS: string[] = require("spdx-exceptions/index.json");

const BY_LOWER = new Map<string, string>();
for (const id of [...LICENSE_IDS, ...DEPRECATED_IDS]) BY_LOWER.set(id.toLowerCase(), id);
const EXCEPTION_BY_LOWER = new Map(EXCEPTION_IDS.map((id) => [id.toLowerCase(), id]));
const CURRENT = new Set(LICENSE_IDS);

/** Words that name no licence: `Apache License 2.0` and `Apache-2.0` say the same. */
const FILLER = new Set(["license", "licence", "version", "v", "the", "only", "or", "later", "clause", "0"]);

export interface ConvertOptions {
  /** The source's own short names, lower-cased, mapped to SPDX expressions (Debian's `Expat` is `MIT`). */
  aliases?: ReadonlyMap<string, string>;
  /** Exception phrases after `with` (lower-cased, without the word `exception`), mapped per licence. */
  exception?: (phrase: string, licenseId: string) => string | undefined;
  /** DEP-5: a comma before `and`/`or` binds loosest (`A or B, and C` is `(A OR B) AND C`). */
  commas?: boolean;
}

/**
 * A licence as a source states it: a valid SPDX expression stays one (with
 * deprecated GNU ids such as `GPL-2.0+` brought up to date); names that map
 * to SPDX ids without guessing (`GPLv2+`, `Apache 2`, `BSD-3-clause`) become
 * an expression; anything else keeps the source's words as `name`, because
 * a licence gate must never act on an invented licence.
 */
export function toLicense(raw: string, options: ConvertOptions = {}): License {
  const text = raw.trim().replace(/\s+/g, " ");
  const expression = convertExpression(text, options);
  return expression === undefined ? { name: text } : { expression };
}

/** The SPDX expression for `raw`, or undefined when any part of it does not map. */
export function convertExpression(raw: string, options: ConvertOptions = {}): string | undefined {
  const valid = tryParse(raw);
  if (valid) return serialise(upgrade(valid));
  if (options.commas && raw.includes(",")) {
    const parts = raw.split(/,\s*(?=(?:and|or)\s)/i);
    if (parts.length > 1) {
      let result = convertExpression(parts[0] as string, { ...options, commas: false });
      for (const part of parts.slice(1)) {
        const [, op, rest] = /^(and|or)\s+(.*)$/i.exec(part) ?? [];
        const right = rest === undefined ? undefined : convertExpression(rest, { ...options, commas: false });
        if (result === undefined || right === undefined || op === undefined) return undefined;
        result = `(${result}) ${op.toUpperCase()} (${right})`;
      }
      return result === undefined ? undefined : normalised(result);
    }
  }
  const out: string[] = [];
  // Terms are runs of words between operators and parentheses: `Apache License 2.0 or MIT`.
  const tokens = raw.match(/\(|\)|[^\s()]+/g) ?? [];
  let term: string[] = [];
  let withPending = false;
  let lastId = "";
  const flush = (): boolean => {
    if (term.length === 0) return true;
    const phrase = term.join(" ");
    term = [];
    if (withPending) {
      withPending = false;
      const exception = exceptionId(phrase, lastId, options);
      if (!exception) return false;
      out.push("WITH", exception);
      return true;
    }
    const id = options.aliases?.get(phrase.toLowerCase()) ?? spdxId(phrase);
    if (!id) return false;
    lastId = id;
    out.push(/\s/.test(id) ? `(${id})` : id);
    return true;
  };
  for (const token of tokens) {
    const lower = token.toLowerCase();
    if (token === "(" || token === ")" || lower === "and" || lower === "or" || lower === "with") {
      if (!flush()) return undefined;
      if (lower === "with") withPending = true;
      else out.push(token === "(" || token === ")" ? token : lower.toUpperCase());
    } else {
      term.push(token);
    }
  }
  if (withPending && term.length === 0) return undefined;
  if (!flush()) return undefined;
  return out.length === 0 ? undefined : normalised(out.join(" ").replace(/\( /g, "(").replace(/ \)/g, ")"));
}

function normalised(expression: string): string | undefined {
  const tree = tryParse(expression);
  return tree ? serialise(upgrade(tree)) : undefined;
}

const GNU = /^(AGPL|LGPL|GPL|GFDL)[-\s]?v?(\d)(?:\.(\d))?(?:\.0)?\s*(\+|-or-later|\s+or\s+later|-only)?$/i;

/**
 * One licence name as an SPDX id: the id itself in any case, a GNU name in
 * any of the usual spellings (`GPL-2+`, `GPLv2+`, `LGPL-2.1`), or what
 * spdx-correct proposes when it only fixes spelling. spdx-correct alone
 * guesses (`GPL` → `GPL-3.0-or-later`, `GPL-2+` → `GPL-2.0-only`,
 * `BSD-4-clause` → `BSD-2-Clause`), so its answer must keep the same words,
 * version and "or later" as the input.
 */
export function spdxId(name: string): string | undefined {
  const exact = BY_LOWER.get(name.toLowerCase());
  if (exact) return upgradeId(exact, false);
  const gnu = GNU.exec(name);
  if (gnu) {
    const [, family, major, minor, suffix] = gnu;
    const version = `${major}.${minor ?? "0"}`;
    const later = suffix !== undefined && suffix.toLowerCase() !== "-only";
    const id = `${(family as string).toUpperCase()}-${version}-${later ? "or-later" : "only"}`;
    return CURRENT.has(id) ? id : undefined;
  }
  let corrected: string | null = null;
  try {
    corrected = spdxCorrect(name);
  } catch {
    corrected = null;
  }
  if (!corrected || !CURRENT.has(corrected)) return undefined;
  return sameWords(name, corrected) ? corrected : undefined;
}

function sameWords(raw: string, id: string): boolean {
  const words = (s: string) =>
    s
      .toLowerCase()
      .replace(/\+/g, " later ")
      .split(/[^a-z0-9]+|(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])/)
      .filter((w) => w !== "" && !FILLER.has(w))
      .sort()
      .join(" ");
  const later = (s: string) => /\+|or[- ]later/i.test(s);
  return words(raw) === words(id) && later(raw) === later(id);
}

function exceptionId(phrase: string, licenseId: string, options: ConvertOptions): string | undefined {
  const exact = EXCEPTION_BY_LOWER.get(phrase.toLowerCase());
  if (exact) return exact;
  const short = phrase.toLowerCase().replace(/\s+exception$/, "");
  const mapped = options.exception?.(short, licenseId);
  return mapped && EXCEPTION_BY_LOWER.has(mapped.toLowerCase()) ? mapped : undefined;
}

/** Deprecated GNU ids (`GPL-2.0`, `GPL-2.0+`) to their current `-only`/`-or-later` forms. */
function upgradeId(id: string, plus: boolean): string {
  if (CURRENT.has(id) && !plus) return id;
  const gnu = /^(AGPL|LGPL|GPL|GFDL)-(\d\.\d)$/.exec(id);
  if (gnu) {
    const current = `${gnu[1]}-${gnu[2]}-${plus ? "or-later" : "only"}`;
    if (CURRENT.has(current)) return current;
  }
  return plus ? `${id}+` : id;
}

function upgrade(node: parseExpression.Info): parseExpression.Info {
  if ("license" in node) {
    const license = upgradeId(node.license, node.plus === true);
    const out: parseExpression.LicenseInfo = license.endsWith("+")
      ? { license: license.slice(0, -1), plus: true }
      : { license };
    if (node.exception) out.exception = node.exception;
    return out;
  }
  return { conjunction: node.conjunction, left: upgrade(node.left), right: upgrade(node.right) };
}

/** An expression tree back to text; AND binds tighter than OR, so only an OR under an AND needs parentheses. */
export function serialise(node: parseExpression.Info): string {
  if ("license" in node) {
    return `${node.license}${node.plus ? "+" : ""}${node.exception ? ` WITH ${node.exception}` : ""}`;
  }
  const side = (child: parseExpression.Info) =>
    node.conjunction === "and" && "conjunction" in child && child.conjunction === "or"
      ? `(${serialise(child)})`
      : serialise(child);
  return `${side(node.left)} ${node.conjunction.toUpperCase()} ${side(node.right)}`;
}

function tryParse(text: string): parseExpression.Info | undefined {
  try {
    return parseExpression(text);
  } catch {
    return undefined;
  }
}

/** Whether `text` is a valid SPDX expression (what `License.expression` promises). */
export function isSpdxExpression(text: string): boolean {
  return tryParse(text) !== undefined;
}
