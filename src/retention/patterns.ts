import { isRegexPattern } from "../policy/retention-rules.js";

/** A tag matcher and the pattern it came from, for the plan's "decided by" column. */
export interface TagPattern {
  source: string;
  test(tag: string): boolean;
}

/**
 * Compiles a retention tag pattern: `/regex/flags` is a JavaScript regular expression (unanchored,
 * as Harbor's and grep's are); anything else is a whole-tag glob where `*` is any run of
 * characters, `?` one character and `{a,b}` an alternative (Harbor's doublestar selectors).
 */
export function compilePattern(source: string): TagPattern {
  if (isRegexPattern(source)) {
    const end = source.lastIndexOf("/");
    const re = new RegExp(source.slice(1, end), source.slice(end + 1).replace("g", ""));
    return { source, test: (tag) => re.test(tag) };
  }
  const re = new RegExp(`^${globToRegex(source)}$`);
  return { source, test: (tag) => re.test(tag) };
}

function globToRegex(glob: string): string {
  let out = "";
  let depth = 0;
  for (const ch of glob) {
    if (ch === "*") out += ".*";
    else if (ch === "?") out += ".";
    else if (ch === "{") {
      out += "(?:";
      depth++;
    } else if (ch === "}" && depth > 0) {
      out += ")";
      depth--;
    } else if (ch === "," && depth > 0) out += "|";
    else out += ch.replace(/[.+^$()|[\]\\{}]/g, "\\$&");
  }
  return out + ")".repeat(depth);
}

export function compilePatterns(sources: string[] | undefined): TagPattern[] {
  return (sources ?? []).map(compilePattern);
}

/** The first pattern matching `tag`, if any. */
export function firstMatch(patterns: TagPattern[], tag: string): TagPattern | undefined {
  for (const p of patterns) if (p.test(tag)) return p;
  return undefined;
}
