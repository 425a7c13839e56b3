/**
 * `${VAR}` and `${VAR:-default}` in config values, expanded from the
 * environment after YAML parsing (so a value's quoting never changes what a
 * variable can contain); `$${` writes a literal `${`. A variable that is
 * unset, with no default, is an error naming it and where it is used.
 */
export type ExpandResult = { ok: true; value: string } | { ok: false; missing: string[] };

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function expandVariables(text: string, env: NodeJS.ProcessEnv): ExpandResult {
  const missing: string[] = [];
  const value = text.replace(reference, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === "$${") return "${";
    const found = env[name as string];
    // As the shell's `:-`: an empty variable also takes the default.
    if (found !== undefined && (found !== "" || fallback === undefined)) return found;
    if (fallback !== undefined) return fallback;
    missing.push(name as string);
    return "";
  });
  return missing.length > 0 ? { ok: false, missing } : { ok: true, value };
}

/** Whether a string still holds an unterminated or malformed `${`, which is likely a typo. */
export function hasMalformedReference(text: string): boolean {
  return /\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})/.test(text.replace(/\$\$\{/g, ""));
}
