import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLocation } from "../../src/oci/transports/location.js";
import { closeClients } from "../../src/oci/transports/registry.js";
import { attachSbom, getAttachedSboms } from "../../src/sbom/attach.js";
import { generateKeyPair, loadPrivateKey, type PrivateKey } from "../../src/sign/keys.js";
import { signImage } from "../../src/sign/sign-image.js";
import { verifyImage } from "../../src/sign/verify.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { DEBIAN_BASE_DIGEST, runCli, SHARED_IMAGES } from "../helpers/cli.js";

let registry: TestRegistry;
let key: PrivateKey;

beforeAll(async () => {
  registry = await startRegistry();
  const pair = await generateKeyPair("pw");
  key = await loadPrivateKey(pair.privatePem, "pw");
});

afterAll(async () => {
  await closeClients();
  await registry?.stop();
});

describe("clean IMAGE --type (attachments of one image)", () => {
  it("plans, then removes only the kind asked for; the image and its other attachments stay", async () => {
    const image = `${registry.host}/team/base:1.0`;
    const copied = await runCli(["copy", `oci:${SHARED_IMAGES}:debian-base`, image]);
    expect(copied.code).toBe(0);
    const location = parseLocation(image);
    await signImage(location, key);
    const spdx = Buffer.from(
      JSON.stringify({
        spdxVersion: "SPDX-2.3",
        dataLicense: "CC0-1.0",
        SPDXID: "SPDXRef-DOCUMENT",
        name: "base",
        documentNamespace: "https://example.com/base",
        creationInfo: { created: "2024-01-15T00:00:00Z", creators: ["Tool: test"] },
        packages: [],
      }),
    );
    await attachSbom(location, spdx, { mode: "legacy" });
    expect((await verifyImage(location, [key.publicKey])).verified).toBe(true);

    const plan = await runCli(["clean", image, "--type", "signature"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/signature\s+tag sha256-[0-9a-f]{64}\.sig/);
    expect(plan.stderr).toContain("nothing was deleted");
    expect((await verifyImage(location, [key.publicKey])).verified).toBe(true);

    const applied = await runCli(["clean", image, "--type", "signature", "--apply", "--json"]);
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout).removed).toHaveLength(1);
    expect((await verifyImage(location, [key.publicKey])).verified).toBe(false);
    expect(await getAttachedSboms(location)).toHaveLength(1);
    const digest = await runCli(["digest", image]);
    expect(digest.stdout.trim()).toBe(DEBIAN_BASE_DIGEST);

    const all = await runCli(["clean", image, "--type", "all", "--apply"]);
    expect(all.code).toBe(0);
    expect(await getAttachedSboms(location)).toEqual([]);
    expect((await runCli(["digest", image])).stdout.trim()).toBe(DEBIAN_BASE_DIGEST);
  });

  it("refuses an unknown type", async () => {
    const result = await runCli(["clean", `${registry.host}/team/base:1.0`, "--type", "everything"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--type "everything" is not known');
  });
});
