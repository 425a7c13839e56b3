import type { Location } from "../model.js";
import type { FoundFile } from "./types.js";

/**
 * The layer that brought a package in. Package databases (dpkg's status,
 * apk's installed, the rpmdb) are rewritten whole by every layer that
 * installs or removes anything, so walk the older versions of the file down
 * from the top while they still list the same package at the same version.
 * (Down, not up, so a package removed and re-added later is credited to the
 * layer that re-added it.)
 *
 * `keysOf` gives the identities (name, version, arch) a version of the file
 * lists; they are computed once per version, so a big image costs one pass
 * per layer, not one per package and layer.
 */
export function layerFinder<T extends object>(
  keysOf: (data: T) => Iterable<string>,
): (found: FoundFile<T>, key: string) => string | undefined {
  const cache = new WeakMap<T, Set<string>>();
  const keys = (data: T) => {
    let set = cache.get(data);
    if (!set) {
      set = new Set(keysOf(data));
      cache.set(data, set);
    }
    return set;
  };
  return (found, key) => {
    let digest = found.file.layerDigest;
    for (let i = found.earlier.length - 1; i >= 0; i--) {
      const older = found.earlier[i];
      if (older === undefined || !keys(older.data).has(key)) break;
      digest = older.file.layerDigest;
    }
    return digest;
  };
}

export function osLocation(path: string, layerDigest: string | undefined): Location {
  return layerDigest === undefined ? { path } : { path, layerDigest };
}

/**
 * Package databases are text files ending with a newline (dpkg and apk end
 * every record with a blank line, a status.d control file with one
 * newline). A file that does not end with one was cut short mid-line, and
 * its last record may hold a truncated version, so that record is dropped,
 * with a warning, rather than reported wrong.
 */
export function withoutTruncatedTail(
  cataloger: string,
  path: string,
  text: string,
  warnings: string[],
): string {
  if (text === "" || text.endsWith("\n")) return text;
  const lastBreak = text.lastIndexOf("\n\n");
  warnings.push(
    `${cataloger}: ${path} does not end as the package manager writes it (truncated?); its last, incomplete record was not read`,
  );
  return lastBreak < 0 ? "" : text.slice(0, lastBreak + 1);
}
