import { ShipgateError } from "../errors.js";

/** One problem in a config file, located in the file as the user wrote it. */
export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. it is empty). */
  line: number;
  column: number;
  /** Dotted path of the offending value, e.g. `promotion.prod.gates.vulnerabilities.max.critical`. */
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return `${where}: ${issue.path ? `${issue.path}: ` : ""}${issue.message}`;
}

/** CONFIG_INVALID with every issue found, so one run shows them all. */
export class ConfigInvalidError extends ShipgateError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], hint = "fix the file and run `shipgate policy check`") {
    const [first, ...rest] = issues;
    const summary = first === undefined ? "invalid configuration" : formatIssue(first);
    const more = rest.length > 0 ? `\n${rest.map((i) => `  ${formatIssue(i)}`).join("\n")}` : "";
    super("CONFIG_INVALID", `invalid configuration: ${summary}${more}`, { hint });
    this.issues = issues;
  }
}
