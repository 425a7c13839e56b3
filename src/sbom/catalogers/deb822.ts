/**
 * Debian control-file syntax (deb-control(5), deb822): paragraphs separated
 * by blank lines, `Field: value` lines, continuation lines starting with a
 * space or tab. Field names are case-insensitive, so they are kept
 * lower-cased. Used for dpkg's status database and status.d files.
 */
export type Paragraph = Map<string, string>;

export function parseParagraphs(text: string): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let current: Paragraph = new Map();
  let field: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (current.size > 0) paragraphs.push(current);
      current = new Map();
      field = undefined;
      continue;
    }
    if (line.startsWith("#")) continue;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (field !== undefined) current.set(field, `${current.get(field)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      field = undefined;
      continue;
    }
    field = line.slice(0, colon).trim().toLowerCase();
    current.set(field, line.slice(colon + 1).trim());
  }
  if (current.size > 0) paragraphs.push(current);
  return paragraphs;
}

/** One alternative of a dependency: `python3:any (>= 3.9) [amd64] <!nocheck>` is `python3`. */
function dependencyName(alternative: string): string | undefined {
  // The name comes first; version, architecture and profile restrictions follow it.
  const name = /^\s*([^\s(\[<]+)/.exec(alternative)?.[1];
  if (!name) return undefined;
  // `:any` and `:amd64` say which architectures satisfy it, not another package.
  const colon = name.indexOf(":");
  return colon > 0 ? name.slice(0, colon) : name;
}

/** `a (>= 1), b | c` as [["a"], ["b", "c"]]: every group must be met, by any of its alternatives. */
export function parseDependencies(field: string | undefined): string[][] {
  if (!field) return [];
  const groups: string[][] = [];
  for (const group of field.split(",")) {
    const names = group
      .split("|")
      .map(dependencyName)
      .filter((n): n is string => n !== undefined);
    if (names.length > 0) groups.push(names);
  }
  return groups;
}
