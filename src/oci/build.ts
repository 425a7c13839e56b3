import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack as createPack } from "tar-stream";
import { digestOf } from "./digest.js";
import type { Descriptor, ImageManifest } from "./manifest.js";
import { MediaType } from "./mediatypes.js";
import type { ImageDest, ManifestBlob } from "./transports/types.js";

export interface BuildOptions {
  /** Where the files go inside the image, e.g. `/app`. */
  prefix: string;
  /** Fixed creation time: the same files always give the same digest. */
  created: Date;
  entrypoint?: string[];
  cmd?: string[];
  labels?: Record<string, string>;
  env?: string[];
  os?: string;
  architecture?: string;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    const entries = (await readdir(current, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const full = join(current, entry.name);
      out.push(full);
      if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return out;
}

function hashing(onDone: (digest: string, size: number) => void): Transform {
  const hash = createHash("sha256");
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      onDone(`sha256:${hash.digest("hex")}`, size);
      callback();
    },
  });
}

/**
 * Builds a one-layer image from a directory, reproducibly (sorted entries,
 * fixed times and owners), and writes it to `dest` under `tag`. The layer is
 * streamed through gzip into a temporary file while both digests are taken.
 */
export async function buildImage(
  dir: string,
  dest: ImageDest,
  tag: string,
  options: BuildOptions,
): Promise<ManifestBlob> {
  const work = await mkdtemp(join(tmpdir(), "shipgate-build-"));
  try {
    const layerFile = join(work, "layer.tar.gz");
    const mtime = options.created;
    const prefix = options.prefix.replace(/^\/+|\/+$/g, "");
    const tar = createPack();
    let diffId = "";
    let layer: Descriptor = { mediaType: MediaType.ociLayerGzip, digest: "", size: 0 };
    const written = pipeline(
      tar,
      hashing((d) => {
        diffId = d;
      }),
      createGzip({ level: 6 }),
      hashing((digest, size) => {
        layer = { mediaType: MediaType.ociLayerGzip, digest, size };
      }),
      createWriteStream(layerFile),
    );
    const header = { mtime, uid: 0, gid: 0, uname: "root", gname: "root" };
    const parts = prefix === "" ? [] : prefix.split("/");
    for (let i = 1; i <= parts.length; i++) {
      tar.entry({ ...header, name: `${parts.slice(0, i).join("/")}/`, type: "directory", mode: 0o755 });
    }
    for (const file of await listFiles(dir)) {
      const name = [prefix, relative(dir, file).split(sep).join("/")].filter(Boolean).join("/");
      const info = await lstat(file);
      const mode = info.mode & 0o777;
      if (info.isDirectory()) tar.entry({ ...header, name: `${name}/`, type: "directory", mode });
      else if (info.isSymbolicLink())
        tar.entry({ ...header, name, type: "symlink", linkname: await readlink(file), mode });
      else if (info.isFile()) tar.entry({ ...header, name, type: "file", mode }, await readFile(file));
    }
    tar.finalize();
    await written;

    const config = {
      created: options.created.toISOString(),
      architecture: options.architecture ?? "amd64",
      os: options.os ?? "linux",
      config: {
        Env: options.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
        ...(options.cmd ? { Cmd: options.cmd } : {}),
        Labels: options.labels ?? {},
      },
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: options.created.toISOString(), created_by: `shipgate build ${prefix || "/"}` }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDescriptor: Descriptor = {
      mediaType: MediaType.ociConfig,
      digest: digestOf(configBytes),
      size: configBytes.length,
    };
    const { Readable } = await import("node:stream");
    if (!(await dest.blobExists(configDescriptor)))
      await dest.writeBlob(configDescriptor, Readable.from([configBytes]));
    if (!(await dest.blobExists(layer))) await dest.writeBlob(layer, createReadStream(layerFile));

    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDescriptor,
      layers: [layer],
      annotations: { "org.opencontainers.image.created": options.created.toISOString() },
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const blob: ManifestBlob = { bytes, mediaType: MediaType.ociManifest, digest: digestOf(bytes) };
    await dest.writeManifest(blob, tag);
    return blob;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
