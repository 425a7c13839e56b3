import { describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { formatReference, isLoopback, parseReference, parseRepository } from "../../src/oci/reference.js";

const hex = "a".repeat(64);

describe("parseReference", () => {
  it.each([
    ["alpine", "docker.io", "library/alpine", "latest", undefined],
    ["alpine:3.20", "docker.io", "library/alpine", "3.20", undefined],
    ["library/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["bitnami/redis:7", "docker.io", "bitnami/redis", "7", undefined],
    ["index.docker.io/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["localhost/app", "localhost", "app", "latest", undefined],
    ["localhost:5000/team/app:1.0", "localhost:5000", "team/app", "1.0", undefined],
    ["127.0.0.1:5000/app@sha256:" + hex, "127.0.0.1:5000", "app", undefined, `sha256:${hex}`],
    ["ghcr.io/org/app:v1@sha256:" + hex, "ghcr.io", "org/app", "v1", `sha256:${hex}`],
    ["[::1]:5000/app:x", "[::1]:5000", "app", "x", undefined],
    ["Registry.Example.com/a__b/c-d.e:T_1", "Registry.Example.com", "a__b/c-d.e", "T_1", undefined],
  ])("%s", (input, registry, repository, tag, digest) => {
    expect(parseReference(input)).toEqual({ registry, repository, tag, digest });
  });

  it.each([
    ["", "empty"],
    ["localhost:5000/Team/app", "lowercase"],
    ["app:", "tag"],
    ["app:-bad", "tag"],
    ["app@sha256:abc", "digest"],
    ["app@md5:" + "a".repeat(32), "not supported"],
    ["app@sha256:" + "A".repeat(64), "lowercase hex"],
    ["a b", "whitespace"],
    ["localhost:5000/", "missing"],
    ["host:port/app", "registry host"],
    ["docker.io/app//x", "path component"],
    [`x/${"a".repeat(260)}`, "longer than"],
  ])("refuses %j with a reason", (input, reason) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).code).toBe("INVALID_REFERENCE");
    expect((error as ShipgateError).message).toContain(reason);
    expect((error as ShipgateError).hint).toContain("registry");
  });

  it("round-trips through formatReference", () => {
    expect(formatReference(parseReference("alpine"))).toBe("docker.io/library/alpine:latest");
    expect(formatReference(parseReference(`localhost:5000/a:b@sha256:${hex}`))).toBe(
      `localhost:5000/a:b@sha256:${hex}`,
    );
  });

  it("parses repositories and refuses tags there", () => {
    expect(parseRepository("localhost:5000/team/app")).toMatchObject({
      registry: "localhost:5000",
      repository: "team/app",
      tag: undefined,
    });
    expect(() => parseRepository("localhost:5000/app:1")).toThrow(/no tag/);
    expect(() => parseRepository(`app@sha256:${hex}`)).toThrow(/no digest/);
  });

  it("knows loopback hosts", () => {
    expect(isLoopback("localhost:5000")).toBe(true);
    expect(isLoopback("127.0.0.1:5000")).toBe(true);
    expect(isLoopback("[::1]:5000")).toBe(true);
    expect(isLoopback("registry.example.com")).toBe(false);
    expect(isLoopback("127.example.com")).toBe(false);
  });
});
