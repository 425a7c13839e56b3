// The shipgate library: everything the CLI does, usable on its own.
export { type ErrorCode, exitCodeFor, ShipgateError } from "./errors.js";
export { type BuildOptions, buildImage } from "./oci/build.js";
export { type CopyOptions, type CopyProgress, type CopyResult, copyImage } from "./oci/copy.js";
export { digestOf, VerifyingStream, verifyBytes } from "./oci/digest.js";
export { hostPlatform, type InspectResult, inspectImage, readConfig, resolveImage } from "./oci/inspect.js";
export * from "./oci/manifest.js";
export { MediaType } from "./oci/mediatypes.js";
export { formatReference, parseReference, parseRepository, type Reference } from "./oci/reference.js";
export { cosignTags, fallbackTag, isDigestTag } from "./oci/referrers.js";
export { RegistryClient } from "./oci/registry/client.js";
export {
  type Credentials,
  eraseCredentials,
  resolveCredentials,
  storeCredentials,
} from "./oci/registry/credentials.js";
export type { RegistryOptions } from "./oci/registry/http.js";
export { defaultRetryPolicy, type RetryPolicy } from "./oci/registry/retry.js";
export { applyRemoval, planRemoval, type RemovalPlan } from "./oci/remove.js";
export { DockerArchive } from "./oci/transports/archive.js";
export { OciLayout } from "./oci/transports/layout.js";
export { type Location, parseLocation, storeDirectory } from "./oci/transports/location.js";
export { openDest, openSource } from "./oci/transports/open.js";
export { closeClients, RegistryRepository } from "./oci/transports/registry.js";
export type { ImageDest, ImageSource, ManifestBlob } from "./oci/transports/types.js";
export { repositoryUsage, type UsageReport } from "./oci/usage.js";

import type { CopyOptions, CopyResult } from "./oci/copy.js";
import { copyImage } from "./oci/copy.js";
import { parseLocation } from "./oci/transports/location.js";
import { type OpenOptions, openDest, openSource, referenceOf } from "./oci/transports/open.js";

/**
 * Copies an image between any two locations, as `shipgate copy` does:
 * `await copy("oci:./layout:1.0", "localhost:5000/app:1.0")`.
 */
export async function copy(
  source: string,
  destination: string,
  options: CopyOptions & OpenOptions = {},
): Promise<CopyResult> {
  const from = parseLocation(source);
  const to = parseLocation(destination);
  const src = await openSource(from, options);
  const dst = await openDest(to, options);
  const tag =
    to.transport === "docker" ? (to.reference.digest ? undefined : to.reference.tag) : referenceOf(to);
  return copyImage(src, referenceOf(from), dst, tag, options);
}
