import { describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/digest.js";
import { MANIFEST_SIZE_LIMIT, parseManifest, parsePlatform, selectPlatform } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/mediatypes.js";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: d("a"), size: 2 },
  layers: [],
};
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

describe("parseManifest", () => {
  it("reads OCI manifests, Docker lists, and infers a missing mediaType", () => {
    expect(parseManifest(bytes(manifest), undefined, "t").kind).toBe("manifest");
    const list = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifestList,
      manifests: [
        {
          mediaType: MediaType.dockerManifest,
          digest: d("b"),
          size: 3,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    };
    expect(parseManifest(bytes(list), MediaType.dockerManifestList, "t")).toMatchObject({
      kind: "index",
      mediaType: MediaType.dockerManifestList,
    });
    const { mediaType: _drop, ...bare } = manifest;
    expect(parseManifest(bytes(bare), undefined, "t").mediaType).toBe(MediaType.ociManifest);
  });

  it.each([
    ["not JSON", Buffer.from("<html>"), "MANIFEST_INVALID", /not JSON/],
    ["schema 1", bytes({ schemaVersion: 1, name: "x" }), "UNSUPPORTED_MEDIA_TYPE", /schema 1/],
    [
      "unknown type",
      bytes({ schemaVersion: 2, mediaType: "application/x-foo", config: {} }),
      "UNSUPPORTED_MEDIA_TYPE",
      /unknown manifest media type/,
    ],
    [
      "bad digest",
      bytes({ ...manifest, layers: [{ mediaType: "x", digest: "sha256:zz", size: 1 }] }),
      "MANIFEST_INVALID",
      /layers\[0\]/,
    ],
    [
      "negative size",
      bytes({ ...manifest, config: { ...manifest.config, size: -1 } }),
      "MANIFEST_INVALID",
      /size/,
    ],
    ["oversized", Buffer.alloc(MANIFEST_SIZE_LIMIT + 1, 32), "MANIFEST_TOO_LARGE", /limit/],
  ])("refuses %s", (_name, input, code, message) => {
    expect(() => parseManifest(input, undefined, "where")).toThrow(message);
    try {
      parseManifest(input, undefined, "where");
    } catch (error) {
      expect((error as { code: string }).code).toBe(code);
    }
  });

  it("hashes the exact bytes", () => {
    const b = Buffer.from('{"schemaVersion":2}  ');
    expect(digestOf(b)).not.toBe(digestOf(Buffer.from('{"schemaVersion":2}')));
  });
});

describe("platforms", () => {
  const index = {
    schemaVersion: 2 as const,
    manifests: [
      {
        mediaType: MediaType.ociManifest,
        digest: d("1"),
        size: 1,
        platform: { os: "linux", architecture: "amd64" },
      },
      {
        mediaType: MediaType.ociManifest,
        digest: d("2"),
        size: 1,
        platform: { os: "linux", architecture: "arm64", variant: "v8" },
      },
      {
        mediaType: MediaType.ociManifest,
        digest: d("3"),
        size: 1,
        platform: { os: "linux", architecture: "arm", variant: "v6" },
      },
    ],
  };
  it("selects by os/arch/variant with containerd's arm64 default", () => {
    expect(selectPlatform(index, parsePlatform("linux/amd64"), "t").digest).toBe(d("1"));
    expect(selectPlatform(index, parsePlatform("linux/arm64"), "t").digest).toBe(d("2"));
    expect(selectPlatform(index, parsePlatform("linux/arm/v6"), "t").digest).toBe(d("3"));
    expect(() => selectPlatform(index, parsePlatform("linux/arm/v7"), "t")).toThrow(
      /no manifest for platform linux\/arm\/v7/,
    );
  });
  it("refuses malformed platforms", () => {
    expect(() => parsePlatform("linux")).toThrow(/invalid platform "linux"/);
    expect(() => parsePlatform("linux/amd64/v1/x")).toThrow(/invalid platform/);
  });
});
