import { describe, expect, it } from "vitest";
import * as shipgate from "../src/index.js";
import { SHARED_IMAGES } from "./helpers/cli.js";

describe("the library entry point", () => {
  it("generates, writes and reads back an SBOM, and compares versions, with nothing but `shipgate` imported", async () => {
    const [sbom] = await shipgate.generateSboms(`oci:${SHARED_IMAGES}:debian-base`);
    if (sbom === undefined) throw new Error("no SBOM");
    expect(sbom.packages.filter((p) => p.type === "deb")).toHaveLength(88);
    const back = shipgate.readSbom(shipgate.toSpdx(sbom, { toolVersion: "test" }), "round trip");
    expect(back.packages.map((p) => p.purl).sort()).toEqual(sbom.packages.map((p) => p.purl).sort());
    const dpkg = shipgate.comparatorFor("Debian:12");
    expect(dpkg?.compare("1:1.0", "2.0")).toBeGreaterThan(0);
    expect(dpkg?.compare("1.0~rc1", "1.0")).toBeLessThan(0);
  });

  it("exposes each domain's entry points", () => {
    for (const name of [
      "copy",
      "copyImage",
      "inspectImage",
      "parseLocation",
      "scanSbom",
      "openVulnDb",
      "signImage",
      "verifyImage",
      "attestImage",
      "signImageKeyless",
      "attestImageKeyless",
      "verifyAttestations",
      "generateKeyPair",
      "loadConfig",
      "promote",
      "publish",
      "recordAudit",
      "notifyAll",
    ]) {
      expect(typeof (shipgate as Record<string, unknown>)[name], name).toBe("function");
    }
  });
});
