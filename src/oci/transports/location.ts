import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ShipgateError } from "../../errors.js";
import { parseReference, type Reference } from "../reference.js";

/**
 * Where an image lives, in skopeo's transport words:
 * `docker://REF` (the default), `oci:PATH[:REF]`, `docker-archive:FILE[:REF]`,
 * and `store:REPO[:TAG|@DIGEST]` for shipgate's embedded store (a directory of
 * OCI layouts, one per repository, readable by skopeo as `oci:STORE/REPO:TAG`).
 */
export type Location =
  | { transport: "docker"; reference: Reference; explicitReference: boolean }
  | { transport: "oci"; path: string; reference: string | undefined }
  | { transport: "docker-archive"; path: string; reference: string | undefined };

/** The embedded store's directory: `--store`, then SHIPGATE_STORE, then the XDG data directory. */
export function storeDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHIPGATE_STORE) return resolve(env.SHIPGATE_STORE);
  const data = env.XDG_DATA_HOME ?? join(env.HOME ?? homedir(), ".local", "share");
  return join(data, "shipgate", "store");
}

function splitPathAndReference(rest: string): { path: string; reference: string | undefined } {
  // As skopeo: the path ends at the first colon; everything after it is the reference.
  const colon = rest.indexOf(":");
  if (colon < 0) return { path: rest, reference: undefined };
  const reference = rest.slice(colon + 1);
  return { path: rest.slice(0, colon), reference: reference === "" ? undefined : reference };
}

export function parseLocation(input: string, env: NodeJS.ProcessEnv = process.env): Location {
  if (input.startsWith("docker://")) {
    const ref = input.slice("docker://".length);
    return {
      transport: "docker",
      reference: parseReference(ref),
      explicitReference: hasExplicitReference(ref),
    };
  }
  if (input.startsWith("oci:")) {
    const { path, reference } = splitPathAndReference(input.slice(4));
    if (path === "") throw badLocation(input, "the layout path is empty");
    return { transport: "oci", path: resolve(path), reference };
  }
  if (input.startsWith("docker-archive:")) {
    const { path, reference } = splitPathAndReference(input.slice("docker-archive:".length));
    if (path === "") throw badLocation(input, "the archive path is empty");
    return { transport: "docker-archive", path: resolve(path), reference };
  }
  if (input.startsWith("store:")) {
    const rest = input.slice("store:".length);
    const at = rest.indexOf("@");
    const colon = rest.indexOf(":");
    const cut = at >= 0 ? at : colon;
    const repository = cut >= 0 ? rest.slice(0, cut) : rest;
    const reference = cut >= 0 ? rest.slice(cut + 1) : undefined;
    // Validate the repository name with the same grammar as registry names.
    parseReference(`localhost/${repository}`);
    return {
      transport: "oci",
      path: join(storeDirectory(env), repository),
      reference: reference || undefined,
    };
  }
  const url = /^([a-z][a-z0-9+.-]*):\/\//.exec(input);
  if (url !== null) throw badLocation(input, `unknown transport "${url[1]}://"`);
  const other = /^(oci-archive|containers-storage|docker-daemon|dir|ostree|sif|tarball):/.exec(input);
  if (other !== null) throw badLocation(input, `the "${other[1]}:" transport is not supported`);
  return {
    transport: "docker",
    reference: parseReference(input),
    explicitReference: hasExplicitReference(input),
  };
}

function hasExplicitReference(ref: string): boolean {
  return ref.includes("@") || ref.lastIndexOf(":") > ref.lastIndexOf("/");
}

function badLocation(input: string, why: string): ShipgateError {
  return new ShipgateError("INVALID_TRANSPORT", `invalid image location "${input}": ${why}`, {
    hint: "use REGISTRY/REPO[:TAG], docker://REF, oci:PATH[:TAG], docker-archive:FILE[:REF] or store:REPO[:TAG]",
  });
}

export function describeLocation(location: Location): string {
  switch (location.transport) {
    case "docker": {
      const r = location.reference;
      return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
    }
    case "oci":
      return `oci:${location.path}${location.reference ? `:${location.reference}` : ""}`;
    case "docker-archive":
      return `docker-archive:${location.path}${location.reference ? `:${location.reference}` : ""}`;
  }
}
