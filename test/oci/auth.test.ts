import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import { copyImage } from "../../src/oci/copy.js";
import { parseReference } from "../../src/oci/reference.js";
import { RegistryRepository } from "../../src/oci/transports/registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { skopeoCopy, skopeoInspectDigest } from "../harness/skopeo.js";
import { DEBIAN_BASE_DIGEST, SHARED_IMAGES } from "../helpers/cli.js";

let plain: TestRegistry;
let basic: TestRegistry;
let token: TestRegistry;

beforeAll(async () => {
  [plain, basic, token] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: "basic" }),
    startRegistry({ auth: "token" }),
  ]);
  await skopeoCopy(`oci:${SHARED_IMAGES}:debian-base`, `docker://${plain.host}/library/debian:base`);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), basic?.stop(), token?.stop()]);
});

/** An auth file in Docker's format, found through REGISTRY_AUTH_FILE as skopeo and podman do. */
function authFileEnv(registry: TestRegistry, password = registry.password as string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-auth-"));
  const file = join(dir, "auth.json");
  const auth = Buffer.from(`${registry.username}:${password}`).toString("base64");
  writeFileSync(file, JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } } }));
  return { HOME: dir, REGISTRY_AUTH_FILE: file };
}

const source = () =>
  new RegistryRepository(parseReference(`${plain.host}/library/debian`), { credentials: null });

async function failure(promise: Promise<unknown>): Promise<ShipgateError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ShipgateError);
    return error as ShipgateError;
  }
  throw new Error("expected a failure");
}

describe.each([
  ["basic", () => basic],
  ["token", () => token],
])("%s auth", (kind, registry) => {
  it("pushes and pulls with credentials from REGISTRY_AUTH_FILE", async () => {
    const r = registry();
    const dest = new RegistryRepository(parseReference(`${r.host}/secure/debian`), { env: authFileEnv(r) });
    const result = await copyImage(source(), "base", dest, "base");
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
    expect(await skopeoInspectDigest(`docker://${r.host}/secure/debian:base`, { auth: [r] })).toBe(
      DEBIAN_BASE_DIGEST,
    );
    const back = await dest.getManifest("base");
    expect(back.digest).toBe(DEBIAN_BASE_DIGEST);
    if (kind === "token") {
      const scopes = (r.tokenRequests ?? [])
        .filter((t) => t.credentials === "valid")
        .flatMap((t) => t.scopes);
      expect(scopes).toContain("repository:secure/debian:pull,push");
    }
  });

  it("fails clearly without credentials, and never prints the password", async () => {
    const r = registry();
    const anonymous = new RegistryRepository(parseReference(`${r.host}/secure/debian`), {
      env: { HOME: mkdtempSync(join(tmpdir(), "h-")) },
    });
    const error = await failure(copyImage(source(), "base", anonymous, "x"));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.hint).toContain(`shipgate login ${r.host}`);

    const wrong = new RegistryRepository(parseReference(`${r.host}/secure/debian`), {
      env: authFileEnv(r, "not-the-password"),
    });
    const refused = await failure(wrong.getManifest("base"));
    expect(refused.code).toBe("UNAUTHORIZED");
    expect(refused.hint).toContain("were refused");
    expect(`${refused.message} ${refused.hint}`).not.toContain("not-the-password");
  });
});

describe("credential sources", () => {
  it("uses a docker-credential helper named in credHelpers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-helper-"));
    const helper = join(dir, "docker-credential-testhelper");
    // A real executable speaking the credential-helper protocol: server URL on stdin, JSON on stdout.
    writeFileSync(
      helper,
      `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${basic.host}" ] && printf '{"ServerURL":"%s","Username":"${basic.username}","Secret":"${basic.password}"}' "$server" && exit 0\necho "credentials not found in native keychain"; exit 1\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { [basic.host]: "testhelper" } }));
    const env = { HOME: dir, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}` };
    const dest = new RegistryRepository(parseReference(`${basic.host}/helper/debian`), { env });
    const result = await copyImage(source(), "base", dest, "base");
    expect(result.digest).toBe(DEBIAN_BASE_DIGEST);
  });
});
