// Tar and archive builders for the transport tests: small synthetic docker
// archives (to break in specific ways) and re-packed real ones.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { extract, pack } from "tar-stream";

export interface TarItem {
  name: string;
  /** File content: bytes, or a file on disk streamed in. */
  data?: Buffer | string | { file: string };
  type?: "file" | "symlink" | "link" | "directory";
  linkname?: string;
}

export const sha256 = (bytes: Uint8Array | string): string =>
  `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

type Pack = ReturnType<typeof pack>;

function addEntry(p: Pack, item: TarItem): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null) => (error ? reject(error) : resolve());
    const type = item.type ?? "file";
    const header = { name: item.name, type, mode: 0o644, mtime: new Date(0) };
    if (type !== "file") {
      p.entry({ ...header, linkname: item.linkname ?? "" }, done);
      return;
    }
    const data = item.data ?? Buffer.alloc(0);
    if (typeof data === "string" || Buffer.isBuffer(data)) {
      p.entry(header, data, done);
      return;
    }
    void stat(data.file).then((info) => {
      const sink = p.entry({ ...header, size: info.size }, done);
      createReadStream(data.file).pipe(sink as unknown as NodeJS.WritableStream);
    }, reject);
  });
}

/** Writes a tar of `items` (streamed, so big layer files are fine). */
export async function writeTar(path: string, items: TarItem[]): Promise<void> {
  const p = pack();
  const out = createWriteStream(path);
  (p as unknown as Readable).pipe(out);
  for (const item of items) await addEntry(p, item);
  p.finalize();
  await finished(out);
}

/** A tiny layer: a tar holding one file. */
export async function tinyLayer(path: string, content: string): Promise<Buffer> {
  await writeTar(path, [{ name: "hello.txt", data: content }]);
  return readFile(path);
}

/** manifest.json + config + layers for a synthetic image, in the classic `docker save` shape. */
export function syntheticImage(layers: Buffer[], repoTags: string[] | null = ["example/app:1"]) {
  const diffIds = layers.map((l) => sha256(l));
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: diffIds } }),
  );
  const configName = `${sha256(config).slice(7)}.json`;
  const layerNames = layers.map((_, i) => `layer${i}/layer.tar`);
  const items: TarItem[] = [
    { name: configName, data: config },
    ...layers.map((l, i) => ({ name: layerNames[i] as string, data: l })),
  ];
  const manifest = [{ Config: configName, RepoTags: repoTags, Layers: layerNames }];
  return { items, manifest, config, configName, layerNames, diffIds };
}

/**
 * Merges docker archives into one multi-image archive, as `docker save a b`
 * writes: shared files once, manifest.json items concatenated.
 */
export async function mergeArchives(out: string, inputs: string[]): Promise<void> {
  const p = pack();
  const sink = createWriteStream(out);
  (p as unknown as Readable).pipe(sink);
  const seen = new Set<string>();
  const items: unknown[] = [];
  for (const input of inputs) {
    const ex = extract();
    createReadStream(input).pipe(ex as unknown as NodeJS.WritableStream);
    for await (const entry of ex) {
      const h = entry.header;
      if (h.name === "manifest.json") {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        items.push(...(JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown[]));
        continue;
      }
      if (seen.has(h.name) || h.name === "repositories") {
        for await (const _ of entry) void _;
        continue;
      }
      seen.add(h.name);
      await new Promise<void>((resolve, reject) => {
        const s = p.entry({ ...h }, (error) => (error ? reject(error) : resolve()));
        if (h.type === "file") entry.pipe(s);
        else entry.resume();
      });
    }
  }
  await addEntry(p, { name: "manifest.json", data: JSON.stringify(items) });
  p.finalize();
  await finished(sink);
}
