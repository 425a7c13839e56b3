/**
 * Where a profiled run spent its time: a V8 `.cpuprofile` (node --cpu-prof)
 * reduced to self time per function and to inclusive time per source file
 * of shipgate, so RESULTS.md can say which code a missed target is in.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  ms: number;
  share: number;
}

/** The newest profile in `dir`, as top self-time functions and top inclusive shipgate files. */
export async function summariseProfile(
  dir: string,
  top = 12,
): Promise<{ totalMs: number; self: Hotspot[]; files: Hotspot[] }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".cpuprofile")).sort();
  const last = names.at(-1);
  if (last === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(await readFile(join(dir, last), "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const label = (n: ProfileNode) => {
    const file = n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, "$1/");
    return `${n.callFrame.functionName || "(anonymous)"} ${file ? `${file}:${n.callFrame.lineNumber + 1}` : ""}`.trim();
  };
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    total += us;
    const node = byId.get(id);
    if (!node) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + us);
    // Inclusive per file: each file on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)?.callFrame.url ?? "";
      const m = /\/dist\/(.+)$/.exec(url) ?? /(node:[\w:/]+)$/.exec(url);
      const f = m?.[1];
      if (f && !seen.has(f)) {
        seen.add(f);
        files.set(f, (files.get(f) ?? 0) + us);
      }
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, self: rank(self), files: rank(files) };
}
