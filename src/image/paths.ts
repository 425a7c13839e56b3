import { posix } from "node:path";

/**
 * The path a tar entry names, as an absolute path inside the image, or
 * undefined for names that must not be trusted: a `..` segment could point
 * outside the root (nothing is extracted, but such a file is no part of the
 * image a runtime would build either), and NUL bytes are never valid.
 * Absolute names and `./` prefixes are normalised, as container runtimes do.
 */
export function entryPath(name: string): string | undefined {
  if (name.includes("\u0000")) return undefined;
  const segments = name.split("/");
  if (segments.includes("..")) return undefined;
  const path = posix.normalize(`/${name}`);
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}
