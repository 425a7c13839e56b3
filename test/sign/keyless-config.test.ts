import { DEFAULT_FULCIO_URL as LIBRARY_FULCIO, DEFAULT_REKOR_URL as LIBRARY_REKOR } from "@sigstore/sign";
import { describe, expect, it } from "vitest";
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL } from "../../src/sign/keyless-config.js";

describe("keyless defaults", () => {
  // Kept apart from @sigstore/sign so the CLI need not load it; they must not drift from it.
  it("name the same public-good services as @sigstore/sign", () => {
    expect(DEFAULT_FULCIO_URL).toBe(LIBRARY_FULCIO);
    expect(DEFAULT_REKOR_URL).toBe(LIBRARY_REKOR);
  });
});
