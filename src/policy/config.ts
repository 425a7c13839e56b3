/**
 * Loads shipgate.yaml: YAML parsed with node positions kept, `${VAR}`
 * expanded in every scalar value, then validated with the zod schema. Every
 * problem is reported at its file:line:column, from the YAML node the zod
 * issue path leads to (or the nearest parent when the key is missing).
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { ShipgateError } from "../errors.js";
import { expandVariables, hasMalformedReference } from "./config-env.js";
import { ConfigInvalidError, type ConfigIssue } from "./config-errors.js";
import { type Config, configSchema } from "./config-schema.js";

export type { Config } from "./config-schema.js";

export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string;
  /** Its directory: relative paths in the file (keys, VEX documents) resolve against it. */
  dir: string;
  config: Config;
}

export const DEFAULT_CONFIG_FILE = "shipgate.yaml";

/** `--config`, then $SHIPGATE_CONFIG, then ./shipgate.yaml. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.SHIPGATE_CONFIG ?? DEFAULT_CONFIG_FILE);
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ShipgateError(
      "CONFIG_INVALID",
      code === "ENOENT"
        ? `no config file at ${absolute}`
        : `cannot read ${absolute}: ${(error as Error).message}`,
      { cause: error, hint: "write a shipgate.yaml (see examples/shipgate.yaml) or pass --config FILE" },
    );
  }
  return { path: absolute, dir: dirname(absolute), config: parseConfig(text, path, env) };
}

/** A path from the config, relative to the config file's directory. */
export function resolveFromConfig(loaded: LoadedConfig, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.dir, path);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lines = new LineCounter();
  const doc = parseDocument(shieldReferences(text), {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return { line: 0, column: 0 };
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ConfigInvalidError(
      doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        path: "",
        message: `YAML syntax: ${e.message.split("\n")[0]}`,
      })),
    );
  }

  const issues: ConfigIssue[] = [];
  visit(doc, {
    Scalar(key, node, path) {
      if (typeof node.value !== "string") return;
      const value = unshield(node.value);
      node.value = value;
      if (key === "key") return;
      const dotted = pathOf(path);
      if (hasMalformedReference(value)) {
        issues.push({ file, ...at(node.range?.[0]), path: dotted, message: "malformed ${...} reference" });
        return;
      }
      const expanded = expandVariables(value, env);
      if (expanded.ok) node.value = expanded.value;
      else
        for (const name of expanded.missing)
          issues.push({
            file,
            ...at(node.range?.[0]),
            path: dotted,
            message: `environment variable ${name} is not set (write \${${name}:-default} for a default)`,
          });
    },
  });
  if (issues.length > 0) throw new ConfigInvalidError(issues, "set the variables in the environment");

  const data: unknown = doc.toJS() ?? {};
  const parsed = configSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new ConfigInvalidError(parsed.error.issues.map((issue) => locateIssue(issue, doc, file, at)));
}

// DESIGN.md writes `{ webhook_url: ${SLACK_WEBHOOK_URL} }`: inside a flow
// mapping YAML reads those braces as structure. Before parsing, the braces of
// each `${...}` become private-use characters (one UTF-16 unit each, so every
// offset, hence every line:column, is unchanged) and come back in the values.
const OPEN = "\uE000";
const CLOSE = "\uE001";

function shieldReferences(text: string): string {
  return text.replace(/\$\{([^{}\n]*)\}/g, (_m, inner: string) => `$${OPEN}${inner}${CLOSE}`);
}

function unshield(value: string): string {
  return value.replaceAll(OPEN, "{").replaceAll(CLOSE, "}");
}

function pathOf(ancestors: readonly unknown[]): string {
  const parts: string[] = [];
  for (const item of ancestors) {
    if (isPair(item) && isScalar(item.key)) parts.push(String(item.key.value));
  }
  return parts.join(".");
}

function locateIssue(
  issue: z.core.$ZodIssue,
  doc: ReturnType<typeof parseDocument>,
  file: string,
  at: (offset: number | undefined) => { line: number; column: number },
): ConfigIssue {
  const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
  const dotted = path.join(".");
  // Walk down as far as the file goes; a missing key is reported at its parent.
  let depth = path.length;
  let node: Node | undefined;
  for (; depth >= 0; depth--) {
    const found = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (found !== undefined && found !== null && typeof found === "object" && "range" in found) {
      node = found as Node;
      break;
    }
  }
  let message = issue.message.replace(/^Invalid input: /, "");
  if (issue.code === "unrecognized_keys" && isMap(node)) {
    const key = issue.keys[0];
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
    const keyNode = pair?.key as Node | undefined;
    return {
      file,
      ...at(keyNode?.range?.[0] ?? node.range?.[0]),
      path: [...path, key].join("."),
      message: `unknown key "${issue.keys.join('", "')}"`,
    };
  }
  if (issue.code === "custom" && issue.params?.at === "key" && depth === path.length && depth > 0) {
    const parent = doc.getIn(path.slice(0, -1), true);
    const key = path[path.length - 1];
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
    const keyNode = pair?.key as Node | undefined;
    if (keyNode?.range) return { file, ...at(keyNode.range[0]), path: dotted, message };
  }
  if (depth < path.length && issue.code === "invalid_type") {
    message = `missing required key "${String(path[path.length - 1])}" (expected ${issue.expected})`;
  }
  return { file, ...at(node?.range?.[0]), path: dotted, message };
}
