import { ShipgateError } from "../errors.js";
import { VerifyingStream } from "../oci/digest.js";
import type { ImageManifest } from "../oci/manifest.js";
import type { ImageSource } from "../oci/transports/types.js";
import type { Cataloger } from "../sbom/catalogers/types.js";
import { Collector } from "./collector.js";
import { collectLayer, DEFAULT_LAYER_LIMITS, type LayerLimits } from "./layers.js";

export interface LayerProgress {
  layer: number;
  layers: number;
  bytesDone: number;
  bytesTotal: number;
}

/**
 * Runs the cataloguers over one image's layers, bottom first, each layer
 * streamed once and verified against its digest as it passes. A layer whose
 * bytes do not match fails the whole image: no SBOM from unverified data.
 */
export async function collectImage(
  source: ImageSource,
  manifest: ImageManifest,
  catalogers: readonly Cataloger[],
  options: { limits?: LayerLimits; onProgress?: (p: LayerProgress) => void; what: string },
): Promise<Collector> {
  const collector = new Collector(catalogers);
  const bytesTotal = manifest.layers.reduce((sum, l) => sum + l.size, 0);
  let bytesDone = 0;
  for (const [index, layer] of manifest.layers.entries()) {
    const what = `layer ${index + 1}/${manifest.layers.length} (${layer.digest}) of ${options.what}`;
    if (layer.mediaType.includes("foreign") || layer.urls?.length) {
      // Windows base layers live elsewhere; say so instead of failing on a fetch.
      collector.warnings.push(`${what}: a foreign layer, not read`);
      continue;
    }
    const blob = await source.openBlob(layer);
    const verifier = new VerifyingStream(layer.digest, layer.size, what, (n) => {
      bytesDone += n;
      options.onProgress?.({ layer: index + 1, layers: manifest.layers.length, bytesDone, bytesTotal });
    });
    blob.on("error", (error) => verifier.destroy(error));
    try {
      await collectLayer(
        blob.pipe(verifier),
        { digest: layer.digest, index, what },
        collector,
        options.limits ?? DEFAULT_LAYER_LIMITS,
      );
    } catch (error) {
      if (
        error instanceof ShipgateError &&
        error.code === "LAYER_INVALID" &&
        error.cause instanceof ShipgateError
      ) {
        throw error.cause;
      }
      throw error;
    } finally {
      blob.destroy();
    }
  }
  return collector;
}
