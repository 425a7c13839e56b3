import { describe, expect, it } from "vitest";
import { parseChallenges } from "../../../src/oci/registry/challenge.js";
import { nextPage } from "../../../src/oci/registry/client.js";
import { parseRetryAfter } from "../../../src/oci/registry/retry.js";

describe("parseChallenges", () => {
  it("reads Docker Hub's bearer challenge with a comma inside a quoted scope", () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"';
    expect(parseChallenges(header)).toEqual([
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/alpine:pull,push",
        },
      },
    ]);
  });

  it("reads several challenges and unquoted values", () => {
    const parsed = parseChallenges('Basic realm="Registry Realm", Bearer realm=https://x/token,service=reg');
    expect(parsed.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(parsed[0]?.params.realm).toBe("Registry Realm");
    expect(parsed[1]?.params).toEqual({ realm: "https://x/token", service: "reg" });
  });

  it("handles escaped quotes", () => {
    expect(parseChallenges('Bearer realm="a\\"b"')[0]?.params.realm).toBe('a"b');
  });
});

describe("pagination and Retry-After", () => {
  it("follows an RFC 5988 next link", () => {
    expect(nextPage('</v2/app/tags/list?last=t999&n=1000>; rel="next"')).toBe(
      "/v2/app/tags/list?last=t999&n=1000",
    );
    expect(nextPage(undefined)).toBeUndefined();
    expect(nextPage('</x>; rel="prev"')).toBeUndefined();
  });

  it("reads seconds and HTTP dates, capped", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("100000")).toBe(60_000);
    const inFive = new Date(Date.now() + 5000).toUTCString();
    expect(parseRetryAfter(inFive)).toBeGreaterThan(3000);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
