import { lstat, opendir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { ShipgateError } from "../errors.js";
import type { Cataloger } from "../sbom/catalogers/types.js";
import { Collector } from "./collector.js";

/**
 * Feeds a root filesystem on disk (e.g. from `debootstrap` or `umoci unpack`)
 * to the cataloguers as a one-layer image. Symlinks are recorded, never
 * followed, so a link cannot lead the walk outside the root.
 */
export async function collectDirectory(root: string, catalogers: readonly Cataloger[]): Promise<Collector> {
  const stat = await lstat(root).catch((error: NodeJS.ErrnoException) => {
    throw new ShipgateError(
      "NOT_FOUND",
      `${root}: ${error.code === "ENOENT" ? "no such directory" : error.message}`,
    );
  });
  if (!stat.isDirectory()) throw new ShipgateError("USAGE", `${root} is not a directory`);
  const collector = new Collector(catalogers);
  collector.beginLayer();
  const pending: Promise<void>[] = [];
  const readOne = async (path: string, full: string, mode: number, size: number) => {
    const file = { path, mode, size, layerIndex: 0 };
    const { catalogers: wanting, maxSize } = collector.wanted(file);
    if (maxSize === 0) return;
    if (size > maxSize) {
      collector.tooLarge(file, wanting);
      return;
    }
    const content = await readFile(full).catch(() => undefined);
    if (content === undefined) {
      collector.warnings.push(`could not read ${path}`);
      return;
    }
    collector.content(file, wanting, content);
  };
  const walk = async (dir: string, path: string): Promise<void> => {
    const handle = await opendir(dir).catch(() => undefined);
    if (!handle) {
      collector.warnings.push(`could not list ${path || "/"}`);
      return;
    }
    for await (const entry of handle) {
      const full = join(dir, entry.name);
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory()) {
        collector.directory(child, 0);
        await walk(full, child);
      } else if (entry.isSymbolicLink()) {
        const target = await readlink(full).catch(() => undefined);
        if (target !== undefined) collector.symlink(child, target, 0);
      } else if (entry.isFile()) {
        const s = await lstat(full);
        pending.push(readOne(child, full, s.mode & 0o7777, s.size));
        // Bounded: a few reads in flight at a time, whatever the tree's size.
        if (pending.length >= 16) await Promise.all(pending.splice(0));
      }
    }
  };
  await walk(root, "");
  await Promise.all(pending);
  return collector;
}
