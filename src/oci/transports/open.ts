import { ShipgateError } from "../../errors.js";
import { DockerArchive } from "./archive.js";
import { OciLayout } from "./layout.js";
import type { Location } from "./location.js";
import { RegistryRepository, type RegistryRepositoryOptions } from "./registry.js";
import type { ImageDest, ImageSource } from "./types.js";

export type OpenOptions = RegistryRepositoryOptions;

export async function openSource(location: Location, options: OpenOptions = {}): Promise<ImageSource> {
  switch (location.transport) {
    case "docker":
      return new RegistryRepository(location.reference, options);
    case "oci":
      return OciLayout.open(location.path, { create: false, reference: location.reference });
    case "docker-archive":
      return DockerArchive.open(location.path, location.reference);
  }
}

export async function openDest(location: Location, options: OpenOptions = {}): Promise<ImageDest> {
  switch (location.transport) {
    case "docker":
      return new RegistryRepository(location.reference, options);
    case "oci":
      return OciLayout.open(location.path, { create: true, reference: location.reference });
    case "docker-archive":
      throw new ShipgateError("UNSUPPORTED", "docker-archive: is read-only in shipgate", {
        hint: "write to an oci: layout or a registry instead",
      });
  }
}

/** The reference (tag or digest) a location names, if any. */
export function referenceOf(location: Location): string | undefined {
  switch (location.transport) {
    case "docker":
      return location.reference.digest ?? location.reference.tag;
    default:
      return location.reference;
  }
}
