/**
 * Signature payloads and envelopes are content-addressed and small: once read
 * and digest-checked, a blob never needs fetching again. A verifier that
 * checks the same images repeatedly (a promotion gate, an admission loop)
 * keeps one of these to save a registry round trip per signature.
 */
export class BlobCache {
  private readonly blobs = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  get(digest: string): Buffer | undefined {
    const hit = this.blobs.get(digest);
    if (hit !== undefined) {
      // Re-insert: Map order is the eviction order, oldest use first.
      this.blobs.delete(digest);
      this.blobs.set(digest, hit);
    }
    return hit;
  }

  /** Only for bytes already verified against `digest`. */
  set(digest: string, bytes: Buffer): void {
    if (bytes.length > this.maxBytes || this.blobs.has(digest)) return;
    this.blobs.set(digest, bytes);
    this.bytes += bytes.length;
    for (const [key, value] of this.blobs) {
      if (this.bytes <= this.maxBytes) break;
      this.blobs.delete(key);
      this.bytes -= value.length;
    }
  }

  get size(): number {
    return this.blobs.size;
  }
}
