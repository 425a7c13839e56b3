/**
 * GitHub Actions' interfaces, as its docs specify ("Workflow commands for
 * GitHub Actions"): annotations on stdout, step outputs appended to the file
 * in $GITHUB_OUTPUT, and a Markdown job summary appended to
 * $GITHUB_STEP_SUMMARY.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";

/** Message data: `%`, CR and LF escaped. */
export function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** Property values additionally escape `:` and `,`, which separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

export interface Annotation {
  level: "error" | "warning" | "notice";
  message: string;
  title?: string;
  file?: string;
  line?: number;
}

export function annotationCommand(a: Annotation): string {
  const props: string[] = [];
  if (a.title !== undefined) props.push(`title=${escapeProperty(a.title)}`);
  if (a.file !== undefined) props.push(`file=${escapeProperty(a.file)}`);
  if (a.line !== undefined) props.push(`line=${a.line}`);
  return `::${a.level}${props.length > 0 ? ` ${props.join(",")}` : ""}::${escapeData(a.message)}`;
}

/**
 * `name=value` for one line, the documented heredoc form for several; the
 * delimiter is random so a value can never end the block early.
 */
export function outputEntry(name: string, value: string): string {
  if (!value.includes("\n") && !value.includes("\r")) return `${name}=${value}\n`;
  let delimiter: string;
  do delimiter = `ghadelimiter_${randomBytes(12).toString("hex")}`;
  while (value.includes(delimiter));
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

export function writeOutputs(outputs: Record<string, string>, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env.GITHUB_OUTPUT;
  if (!file) return false;
  appendFileSync(
    file,
    Object.entries(outputs)
      .map(([k, v]) => outputEntry(k, v))
      .join(""),
  );
  return true;
}

export function appendSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  appendFileSync(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  return true;
}

/** A Markdown table cell: pipes and newlines would break the row. */
export function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");
}
