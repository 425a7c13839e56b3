import { ShipgateError } from "../errors.js";

/**
 * An image reference, normalised the way Docker does it:
 * `alpine` is `docker.io/library/alpine:latest`.
 */
export interface Reference {
  /** Registry host with optional port, e.g. `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** Repository path, e.g. `library/alpine`. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

export const DOCKER_HUB = "docker.io";
const DEFAULT_TAG = "latest";
const NAME_MAX = 255;

// Grammar from distribution/reference (the reference implementation Docker,
// skopeo and crane all share), written out so error messages can say which part failed.
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const hostComponent = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const portPattern = /^[0-9]+$/;

function invalid(input: string, why: string): ShipgateError {
  return new ShipgateError("INVALID_REFERENCE", `invalid image reference "${input}": ${why}`, {
    hint: "use [registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. localhost:5000/team/app:1.0",
  });
}

function isValidDomain(domain: string): boolean {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith("[")) {
    const end = domain.indexOf("]");
    if (end < 0) return false;
    const inner = domain.slice(1, end);
    if (!/^[0-9a-fA-F:.]+$/.test(inner)) return false;
    const rest = domain.slice(end + 1);
    if (rest !== "" && !(rest.startsWith(":") && portPattern.test(rest.slice(1)))) return false;
    return true;
  }
  const colon = domain.lastIndexOf(":");
  if (colon >= 0) {
    host = domain.slice(0, colon);
    port = domain.slice(colon + 1);
    if (!portPattern.test(port)) return false;
  }
  return host.split(".").every((part) => hostComponent.test(part));
}

/** Splits off the registry the way Docker does: the first component is a host only if it looks like one. */
function splitDomain(name: string): { registry: string; remainder: string } {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const looksLikeHost =
    slash >= 0 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  if (!looksLikeHost) {
    return { registry: DOCKER_HUB, remainder: name };
  }
  let registry = first;
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  return { registry, remainder: name.slice(slash + 1) };
}

export function parseReference(input: string): Reference {
  if (input.length === 0) throw invalid(input, "it is empty");
  if (/\s/.test(input)) throw invalid(input, "it contains whitespace");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw invalid(input, `"${digest}" is not a digest (algorithm:hex)`);
    validateDigestEncoding(input, digest);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!tagPattern.test(tag)) {
      throw invalid(input, `"${tag}" is not a valid tag (letters, digits, '_', '.', '-'; at most 128)`);
    }
  }
  if (rest.length === 0) throw invalid(input, "the repository name is missing");
  const { registry, remainder } = splitDomain(rest);
  if (!isValidDomain(registry)) throw invalid(input, `"${registry}" is not a valid registry host`);
  let repository = remainder;
  if (repository.length === 0) throw invalid(input, "the repository name is missing");
  for (const component of repository.split("/")) {
    if (!pathComponent.test(component)) {
      const why =
        component !== component.toLowerCase()
          ? `repository name "${repository}" must be lowercase`
          : `"${component}" is not a valid repository path component`;
      throw invalid(input, why);
    }
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > NAME_MAX) {
    throw invalid(input, `the name is longer than ${NAME_MAX} characters`);
  }
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { registry, repository, tag, digest };
}

function validateDigestEncoding(input: string, digest: string): void {
  const [algorithm, hex = ""] = digest.split(":", 2);
  const lengths: Record<string, number> = { sha256: 64, sha512: 128 };
  const expected = algorithm === undefined ? undefined : lengths[algorithm];
  if (expected === undefined) throw invalid(input, `digest algorithm "${algorithm}" is not supported`);
  if (hex.length !== expected || !/^[a-f0-9]+$/.test(hex)) {
    throw invalid(input, `a ${algorithm} digest has ${expected} lowercase hex characters`);
  }
}

/** Parses a repository (no tag or digest allowed), e.g. for `tags` and `du`. */
export function parseRepository(input: string): Reference {
  if (input.includes("@")) throw invalid(input, "a repository takes no digest here");
  if (input.lastIndexOf(":") > input.lastIndexOf("/")) throw invalid(input, "a repository takes no tag here");
  return { ...parseReference(input), tag: undefined };
}

/** The familiar full form, `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

export function withDigest(ref: Reference, digest: string): Reference {
  return { registry: ref.registry, repository: ref.repository, tag: undefined, digest };
}

export function withTag(ref: Reference, tag: string): Reference {
  if (!tagPattern.test(tag)) throw invalid(tag, `"${tag}" is not a valid tag`);
  return { registry: ref.registry, repository: ref.repository, tag, digest: undefined };
}

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

/** The registry's API host: Docker Hub's API lives on registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/** Loopback registries may be reached over plain HTTP without being marked insecure. */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith("[") ? registry.slice(1, registry.indexOf("]")) : registry.split(":")[0];
  return host === "localhost" || host === "::1" || (host !== undefined && /^127\.\d+\.\d+\.\d+$/.test(host));
}
