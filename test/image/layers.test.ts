import { Readable } from "node:stream";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { pack } from "tar-stream";
import { describe, expect, it } from "vitest";
import { Collector } from "../../src/image/collector.js";
import { collectLayer, DEFAULT_LAYER_LIMITS } from "../../src/image/layers.js";
import type { Cataloger } from "../../src/sbom/catalogers/types.js";

type Entry =
  | { name: string; content: string | Buffer; mode?: number }
  | { name: string; type: "directory" | "symlink" | "link"; linkname?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if ("content" in e) p.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.content);
    else p.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: 0o755 });
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Records every file under /data/ it is shown, with its content: what the squashed view kept. */
function recorder(maxFileSize?: number): Cataloger<string> {
  return {
    name: "recorder",
    maxFileSize,
    wants: (f) => f.path.startsWith("/data/"),
    parse: (_f, content) => content.toString("utf8"),
    finish: (found) => ({
      packages: found.map((f) => ({
        name: f.file.path,
        version: f.data,
        type: "unknown",
        purl: `pkg:generic${f.file.path}@${f.data}`,
        licenses: [],
        locations: [{ path: f.file.path, layerDigest: f.file.layerDigest }],
        foundBy: "recorder",
        properties: { earlier: f.earlier.map((e) => e.data).join(",") },
      })),
    }),
  };
}

async function squash(layers: Buffer[], cataloger = recorder(), limits = DEFAULT_LAYER_LIMITS) {
  const collector = new Collector([cataloger]);
  for (const [index, bytes] of layers.entries()) {
    await collectLayer(
      Readable.from([bytes]),
      { digest: `sha256:layer${index}`, index, what: `layer ${index}` },
      collector,
      limits,
    );
  }
  const result = collector.finish();
  return { files: Object.fromEntries(result.packages.map((p) => [p.name, p.version])), result, collector };
}

describe("squashing layers", () => {
  it("shows each path as the top layer has it, and the layer it came from", async () => {
    const { files, result } = await squash([
      gzipSync(
        await tarOf([
          { name: "data/a", content: "1" },
          { name: "data/b", content: "1" },
        ]),
      ),
      gzipSync(await tarOf([{ name: "data/a", content: "2" }])),
    ]);
    expect(files).toEqual({ "/data/a": "2", "/data/b": "1" });
    const a = result.packages.find((p) => p.name === "/data/a");
    expect(a?.locations[0]?.layerDigest).toBe("sha256:layer1");
    expect(a?.properties?.earlier).toBe("1");
  });

  it("applies whiteouts: a file, and a directory with everything under it", async () => {
    const { files } = await squash([
      await tarOf([
        { name: "data/gone", content: "x" },
        { name: "data/dir/one", content: "x" },
        { name: "data/dir/sub/two", content: "x" },
        { name: "data/dirx/keep", content: "x" },
        { name: "data/kept", content: "x" },
      ]),
      await tarOf([
        { name: "data/.wh.gone", content: "" },
        { name: "data/.wh.dir", content: "" },
      ]),
    ]);
    expect(files).toEqual({ "/data/dirx/keep": "x", "/data/kept": "x" });
  });

  it("applies opaque directories to lower layers only", async () => {
    const { files } = await squash([
      await tarOf([
        { name: "data/opq/old", content: "x" },
        { name: "data/other", content: "x" },
      ]),
      await tarOf([
        { name: "data/opq/new", content: "y" },
        { name: "data/opq/.wh..wh..opq", content: "" },
      ]),
    ]);
    expect(files).toEqual({ "/data/opq/new": "y", "/data/other": "x" });
  });

  it("lets a file or symlink replace a directory, and a directory replace a file", async () => {
    const { files } = await squash([
      await tarOf([
        { name: "data/d1/inner", content: "x" },
        { name: "data/d2/inner", content: "x" },
        { name: "data/f", content: "x" },
      ]),
      await tarOf([
        { name: "data/d1", content: "now a file" },
        { name: "data/d2", type: "symlink", linkname: "/elsewhere" },
        { name: "data/f", type: "directory" },
      ]),
    ]);
    expect(files).toEqual({ "/data/d1": "now a file" });
  });

  it("reads gzip, zstd and plain tar alike, and normalises ./ and absolute names", async () => {
    const tar = await tarOf([
      { name: "./data/dot", content: "d" },
      { name: "/data/abs", content: "a" },
    ]);
    for (const bytes of [tar, gzipSync(tar), zstdCompressSync(tar)]) {
      const { files } = await squash([bytes]);
      expect(files).toEqual({ "/data/abs": "a", "/data/dot": "d" });
    }
  });

  it("gives a hardlink the parse result of its target", async () => {
    const { files } = await squash([
      await tarOf([
        { name: "data/target", content: "t" },
        { name: "data/link", type: "link", linkname: "data/target" },
      ]),
    ]);
    expect(files).toEqual({ "/data/link": "t", "/data/target": "t" });
  });
});

describe("hostile layers", () => {
  it("skips names with .. segments and says so", async () => {
    const { files, result } = await squash([
      await tarOf([
        { name: "../../data/escape", content: "x" },
        { name: "data/../data/sneaky", content: "x" },
        { name: "data/fine", content: "ok" },
      ]),
    ]);
    expect(files).toEqual({ "/data/fine": "ok" });
    expect(result.warnings.join("\n")).toMatch(/skipped 2 entries with unsafe names/);
  });

  it("skips a wanted file over the cataloguer's size limit without reading it", async () => {
    const { files, result } = await squash(
      [
        await tarOf([
          { name: "data/huge", content: Buffer.alloc(1024 * 1024) },
          { name: "data/small", content: "s" },
        ]),
      ],
      recorder(1024),
    );
    expect(files).toEqual({ "/data/small": "s" });
    expect(result.warnings.join("\n")).toMatch(/skipped \/data\/huge \(1048576 bytes, over its size limit\)/);
  });

  it("stops a decompression bomb at the configured limit", async () => {
    const bomb = gzipSync(await tarOf([{ name: "data/zeros", content: Buffer.alloc(64 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(200 * 1024);
    await expect(
      squash([bomb], recorder(), { maxLayerBytes: 8 * 1024 * 1024, maxEntries: 100 }),
    ).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
      message: expect.stringMatching(/layer 0 decompresses to more than 8388608 bytes/),
    });
  });

  it("fails clearly on a truncated layer, gzip or plain", async () => {
    const tar = await tarOf([
      { name: "data/a", content: Buffer.alloc(100_000, 7) },
      { name: "data/b", content: "b" },
    ]);
    const gz = gzipSync(tar);
    for (const cut of [gz.subarray(0, gz.length / 2), tar.subarray(0, 50_000)]) {
      await expect(squash([cut])).rejects.toMatchObject({
        code: "LAYER_INVALID",
        message: expect.stringMatching(/^layer 0: not a readable layer/),
      });
    }
  });

  it("fails clearly on bytes that are no layer at all", async () => {
    await expect(
      squash([Buffer.from("this is not a tar file at all, not even close".repeat(20))]),
    ).rejects.toMatchObject({
      code: "LAYER_INVALID",
    });
  });

  it("stops after too many entries", async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ name: `x/${i}`, content: "" }));
    await expect(
      squash([await tarOf(entries)], recorder(), { maxLayerBytes: 1e9, maxEntries: 10 }),
    ).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
    });
  });

  it("resolves os-release through symlinks and survives a symlink loop", async () => {
    const release = 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n';
    const ok = await squash([
      await tarOf([
        { name: "usr/lib/os-release", content: release },
        { name: "etc/os-release", type: "symlink", linkname: "../usr/lib/os-release" },
      ]),
    ]);
    expect(ok.result.distro).toEqual({
      id: "debian",
      versionId: "12",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
    const loop = await squash([
      await tarOf([
        { name: "etc/os-release", type: "symlink", linkname: "/etc/loop" },
        { name: "etc/loop", type: "symlink", linkname: "/etc/os-release" },
      ]),
    ]);
    expect(loop.result.distro).toBeUndefined();
    expect(loop.result.warnings.join("\n")).toMatch(/symlink loop at \/etc\/os-release/);
  });
});
