import type { Command } from "commander";
import { ShipgateError } from "../../errors.js";
import { type CopyResult, copyImage } from "../../oci/copy.js";
import { resolveImage } from "../../oci/inspect.js";
import { isValidTag } from "../../oci/reference.js";
import { isDigestTag } from "../../oci/referrers.js";
import { describeLocation, type Location } from "../../oci/transports/location.js";
import { openDest, openSource, referenceOf } from "../../oci/transports/open.js";
import { examples, location, openOptions, platformOption, printJson, usage } from "../context.js";
import { humanSize, shortDigest } from "../format.js";
import { CopyProgressBar } from "../terminal.js";

interface CopyFlags {
  platform?: string;
  includeReferrers?: boolean;
  allTags?: boolean;
  concurrency?: string;
  chunkSize?: string;
  json?: boolean;
}

/**
 * The tag a destination names. A registry reference without one means
 * `latest`, as in skopeo and crane; a layout without one takes the source's tag.
 */
function destinationTag(dest: Location, sourceReference: string | undefined): string | undefined {
  if (dest.transport === "docker")
    return dest.reference.digest !== undefined ? undefined : dest.reference.tag;
  return (
    referenceOf(dest) ??
    (sourceReference !== undefined && isValidTag(sourceReference) ? sourceReference : undefined)
  );
}

function retarget(loc: Location, tag: string): Location {
  if (loc.transport === "docker")
    return { ...loc, reference: { ...loc.reference, tag, digest: undefined }, explicitReference: true };
  return { ...loc, reference: tag } as Location;
}

export function registerCopyCommands(program: Command): void {
  program
    .command("copy")
    .alias("cp")
    .description("copy an image (all platforms by default) between registries, oci: layouts and the store")
    .argument("<source>", "docker://REF, REF, oci:PATH[:TAG], docker-archive:FILE[:REF] or store:REPO[:TAG]")
    .argument("<destination>", "where to write it; the tag is written last, after every blob is verified")
    .option("--platform <os/arch[/variant]>", "copy only this platform out of an index")
    .option(
      "--include-referrers",
      "also copy signatures, attestations and SBOMs (cosign tags and OCI 1.1 referrers)",
    )
    .option("--all-tags", "copy every tag of the source repository")
    .option("--concurrency <n>", "blobs in flight at once", "6")
    .option("--chunk-size <bytes>", "upload in chunks of this size instead of one streamed PUT")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(
        "shipgate copy localhost:5000/team/app:1.0 localhost:5001/prod/app:1.0 --include-referrers",
        "shipgate copy oci:../shared/images/oci:debian-base localhost:5000/base:bookworm",
        "shipgate copy --all-tags localhost:5000/team/app localhost:5001/mirror/app",
      ),
    )
    .action(async (src: string, dst: string, flags: CopyFlags, command: Command) => {
      const concurrency = Number(flags.concurrency ?? "6");
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw usage(`--concurrency must be a whole number from 1 to 64, not "${flags.concurrency}"`);
      }
      const chunkSize = flags.chunkSize === undefined ? undefined : Number(flags.chunkSize);
      if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1024)) {
        throw usage(`--chunk-size must be a number of bytes of at least 1024, not "${flags.chunkSize}"`);
      }
      const srcLoc = location(command, src);
      const dstLoc = location(command, dst);
      const source = await openSource(srcLoc, openOptions(command));
      const options = openOptions(command, chunkSize === undefined ? {} : { chunkSize });
      const platform = platformOption(flags.platform);

      let jobs: { from: string | undefined; to: Location }[];
      if (flags.allTags) {
        if (
          referenceOf(srcLoc) !== undefined &&
          (srcLoc.transport !== "docker" || srcLoc.explicitReference)
        ) {
          throw usage("--all-tags copies a whole repository; give the source without a tag");
        }
        jobs = [];
        for await (const tag of source.listTags()) {
          // Attachments travel with their subject (--include-referrers), never as releases of their own.
          if (!isDigestTag(tag)) jobs.push({ from: tag, to: retarget(dstLoc, tag) });
        }
        if (jobs.length === 0) throw new ShipgateError("NOT_FOUND", `${source.name} has no tags to copy`);
      } else {
        const from =
          srcLoc.transport === "docker"
            ? referenceOf(srcLoc)
            : (referenceOf(srcLoc) ?? source.defaultReference);
        jobs = [{ from, to: dstLoc }];
      }

      const results: (CopyResult & { source: string; destination: string })[] = [];
      for (const job of jobs) {
        const dest = await openDest(job.to, options);
        const tag = destinationTag(job.to, job.from);
        const expected = job.to.transport === "docker" ? job.to.reference.digest : undefined;
        const bar = new CopyProgressBar(`${job.from ?? ""}`.slice(0, 24));
        let result: CopyResult;
        try {
          result = await copyImage(source, job.from, dest, tag, {
            concurrency,
            includeReferrers: flags.includeReferrers === true,
            onProgress: bar.update,
            ...(platform === undefined ? {} : { platform }),
          });
        } finally {
          bar.finish();
        }
        if (expected !== undefined && expected !== result.digest) {
          throw new ShipgateError(
            "DIGEST_MISMATCH",
            `destination names ${expected} but the copied image is ${result.digest}`,
          );
        }
        const destination = describeLocation(tag === undefined ? job.to : retarget(job.to, tag));
        results.push({ ...result, source: `${source.name}${job.from ? `:${job.from}` : ""}`, destination });
        if (!flags.json) {
          const b = result.blobs;
          process.stderr.write(
            `Copied ${shortDigest(result.digest)} to ${destination}: ${b.copied} blob${b.copied === 1 ? "" : "s"} copied (${humanSize(result.bytesTransferred)}), ${b.skipped} already there, ${b.mounted} mounted; ${result.manifests} manifest${result.manifests === 1 ? "" : "s"}${result.referrers > 0 ? `, ${result.referrers} attachment${result.referrers === 1 ? "" : "s"}` : ""}\n`,
          );
          process.stdout.write(`${result.digest}\n`);
        }
      }
      if (flags.json) printJson(flags.allTags ? results : results[0]);
    });

  program
    .command("tag")
    .description("add a tag to an image in the same repository (no blob is transferred)")
    .argument("<image>", "the image to tag, e.g. localhost:5000/app:1.0 or @sha256:…")
    .argument("<tag>", "the new tag, e.g. stable")
    .option("--json", "print JSON")
    .addHelpText("after", examples("shipgate tag localhost:5000/team/app:1.0.3 stable"))
    .action(async (image: string, newTag: string, flags: { json?: boolean }, command: Command) => {
      if (!isValidTag(newTag)) {
        throw new ShipgateError("INVALID_REFERENCE", `"${newTag}" is not a valid tag`, {
          hint: "a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'",
        });
      }
      const loc = location(command, image);
      const source = await openSource(loc, openOptions(command));
      const resolved = await resolveImage(source, referenceOf(loc));
      const dest = await openDest(loc, openOptions(command));
      await dest.writeManifest(resolved.manifest, newTag);
      const target = describeLocation(retarget(loc, newTag));
      if (flags.json) printJson({ digest: resolved.manifest.digest, tag: target });
      else process.stdout.write(`${target}@${resolved.manifest.digest}\n`);
    });
}
