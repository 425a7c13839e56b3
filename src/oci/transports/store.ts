import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Repositories of the embedded store: every directory under it that is an OCI layout. */
export async function listStoreRepositories(storeDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    if (entries.some((e) => e.isFile() && e.name === "oci-layout")) {
      found.push(relative(storeDir, dir).split(sep).join("/"));
      return;
    }
    // Repository paths are a few components deep; a bound keeps a stray symlink loop harmless.
    if (depth > 8) return;
    await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => walk(join(dir, e.name), depth + 1)));
  };
  if ((await stat(storeDir).catch(() => undefined))?.isDirectory()) await walk(storeDir, 0);
  return found.filter((r) => r !== "").sort();
}
