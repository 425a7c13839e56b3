// The signing commands end to end, as a user runs them: bin/shipgate.js against
// real registries, checking stdout, stderr and exit codes (0 ok, 1 signature
// invalid, 2 usage/key/password, 3 runtime).
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Oci11Registry, startOci11Registry } from "../harness/oci11-registry.js";
import { startRegistry, type TestRegistry } from "../harness/registry.js";
import { makeTempDir } from "../harness/util.js";
import { runCli } from "../helpers/cli.js";
import { COSIGN_TESTDATA } from "../sign/helpers.js";
import { pushImage, pushIndex, repoOn } from "../sign/images.js";

let dr: TestRegistry;
let api: Oci11Registry;
let dir: string;
const PW = { COSIGN_PASSWORD: "s3cret" };

beforeAll(async () => {
  [dr, api] = await Promise.all([startRegistry(), startOci11Registry()]);
  dir = makeTempDir("shipgate-cli-sign-");
  const generated = await runCli(["key", "generate", "--output-prefix", join(dir, "cosign")], { env: PW });
  expect(generated.code, generated.stderr).toBe(0);
  const other = await runCli(["key", "generate", "--output-prefix", join(dir, "other")], { env: PW });
  expect(other.code, other.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all([dr?.stop(), api?.stop()]);
});

const key = () => join(dir, "cosign.key");
const pub = () => join(dir, "cosign.pub");

describe("shipgate key", () => {
  it("generate writes cosign's PEM types, the private key 0600, and refuses to overwrite", async () => {
    expect(readFileSync(key(), "utf8")).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    expect(readFileSync(pub(), "utf8")).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(statSync(key()).mode & 0o777).toBe(0o600);
    const again = await runCli(["key", "generate", "--output-prefix", join(dir, "cosign")], { env: PW });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
  });

  it("public prints the public key; a wrong password is exit 2 with a clear message", async () => {
    const shown = await runCli(["key", "public", "--key", key()], { env: PW });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(readFileSync(pub(), "utf8"));
    const wrong = await runCli(["key", "public", "--key", key()], { env: { COSIGN_PASSWORD: "nope" } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("password is incorrect");
  });

  it("the password can come from SHIPGATE_PASSWORD or stdin; cosign's fixture key loads", async () => {
    const fixture = join(COSIGN_TESTDATA, "pemsigstorekey.pem");
    const viaEnv = await runCli(["key", "public", "--key", fixture], { env: { SHIPGATE_PASSWORD: "hello" } });
    const viaStdin = await runCli(["key", "public", "--key", fixture], { input: "hello\n" });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaStdin.stdout).toBe(viaEnv.stdout);
    const none = await runCli(["key", "public", "--key", fixture]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("COSIGN_PASSWORD");
  });

  it("KMS URIs are refused, naming the scheme (exit 3)", async () => {
    const result = await runCli(["verify", "--key", "awskms://alias/release", `${dr.host}/x:1`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("awskms:// key-management scheme is not supported");
  });
});

describe("shipgate sign / verify", () => {
  it("signs and verifies (legacy layout); --json prints cosign's payload array; a wrong key is exit 1", async () => {
    const image = await pushImage(repoOn(dr.host, "cli/app"), "1.0", "cli-app");
    const ref = `${dr.host}/cli/app:1.0`;
    const signed = await runCli(["sign", "--key", key(), "-a", "env=prod", ref], { env: PW });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`sha256-${image.digest.slice(7)}.sig`);

    const verified = await runCli(["verify", "--key", pub(), "-a", "env=prod", "--json", ref]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toEqual([
      {
        critical: {
          identity: { "docker-reference": `${dr.host}/cli/app` },
          image: { "docker-manifest-digest": image.digest },
          type: "cosign container image signature",
        },
        optional: { env: "prod" },
      },
    ]);
    const table = await runCli(["verify", "--key", pub(), ref]);
    expect(table.stdout).toMatch(/^DIGEST\s+PLATFORM\s+LAYOUT\s+KEY\s+ANNOTATIONS\n/);
    expect(table.stdout).toContain("legacy");

    const wrongKey = await runCli(["verify", "--key", join(dir, "other.pub"), ref]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain("no valid signature");
    expect(wrongKey.stderr).toContain("does not verify");
    const wrongAnnotation = await runCli(["verify", "--key", pub(), "-a", "env=dev", ref]);
    expect(wrongAnnotation.code).toBe(1);
    expect(wrongAnnotation.stderr).toContain("missing annotations env=dev");
  });

  it("an unsigned image is exit 1; a missing image is exit 3; a bad mode is exit 2", async () => {
    await pushImage(repoOn(dr.host, "cli/unsigned"), "1", "cli-unsigned");
    const unsigned = await runCli(["verify", "--key", pub(), `${dr.host}/cli/unsigned:1`]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain("no signatures found");
    const missing = await runCli(["verify", "--key", pub(), `${dr.host}/cli/absent:1`]);
    expect(missing.code).toBe(3);
    const badMode = await runCli(
      ["sign", "--key", key(), "--registry-referrers-mode", "both", `${dr.host}/cli/unsigned:1`],
      { env: PW },
    );
    expect(badMode.code).toBe(2);
  });

  it("--recursive over an index, in the bundle layout on an OCI 1.1 registry", async () => {
    await pushIndex(repoOn(api.host, "cli/multi"), "1", "cli-multi");
    const ref = `${api.host}/cli/multi:1`;
    const signed = await runCli(
      ["sign", "--key", key(), "--recursive", "--registry-referrers-mode", "oci-1-1", "--json", ref],
      { env: PW },
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(
      JSON.parse(signed.stdout).images.map((i: { platform?: string; layout: string }) => [
        i.platform,
        i.layout,
      ]),
    ).toEqual([
      [undefined, "bundle"],
      ["linux/amd64", "bundle"],
      ["linux/arm64", "bundle"],
    ]);
    const verified = await runCli(["verify", "--key", pub(), "--recursive", ref]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain("linux/arm64");
  });
});

describe("shipgate attest / verify-attestation", () => {
  it("attest → verify-attestation --type; a wrong type is exit 1; a predicate that is not JSON is exit 2", async () => {
    const image = await pushImage(repoOn(dr.host, "cli/prov"), "1", "cli-prov");
    const ref = `${dr.host}/cli/prov:1`;
    const predicateFile = join(dir, "prov.json");
    const predicate = {
      buildDefinition: { buildType: "https://example.com/build/v1", externalParameters: {} },
      runDetails: { builder: { id: "https://github.com/actions/runner/github-hosted" } },
    };
    writeFileSync(predicateFile, JSON.stringify(predicate));
    const attested = await runCli(
      ["attest", "--key", key(), "--type", "slsaprovenance1", "--predicate", predicateFile, ref],
      { env: PW },
    );
    expect(attested.code, attested.stderr).toBe(0);
    expect(attested.stdout).toContain("https://slsa.dev/provenance/v1");
    const verified = await runCli([
      "verify-attestation",
      "--key",
      pub(),
      "--type",
      "slsaprovenance1",
      "--json",
      ref,
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    const [statement] = JSON.parse(verified.stdout);
    expect(statement.subject).toEqual([
      { name: `${dr.host}/cli/prov`, digest: { sha256: image.digest.slice(7) } },
    ]);
    expect(statement.predicate).toEqual(predicate);
    const wrongType = await runCli(["verify-attestation", "--key", pub(), "--type", "spdxjson", ref]);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toContain("no valid attestation");
    const notJson = join(dir, "bad.json");
    writeFileSync(notJson, "{nope");
    const bad = await runCli(["attest", "--key", key(), "--predicate", notJson, ref], { env: PW });
    expect(bad.code).toBe(2);
  });
});

describe("keyless verification flags", () => {
  it("--trusted-root checks cosign's keyless bundle; it needs the expected signer", async () => {
    const { pushArtifact } = await import("../../src/oci/artifact.js");
    const repo = repoOn(api.host, "cli/keyless");
    const image = await pushImage(repo, "1", "cli-keyless");
    await pushArtifact(repo, {
      artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      layers: [
        {
          bytes: readFileSync(join(COSIGN_TESTDATA, "oci-attestation.sigstore.json")),
          mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
        },
      ],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length },
    });
    const ref = `${api.host}/cli/keyless:1`;
    const root = ["--trusted-root", join(COSIGN_TESTDATA, "trusted_root_pgi.json")];
    const signer = [
      "--certificate-identity",
      "cody@soyland.com",
      "--certificate-oidc-issuer",
      "https://github.com/login/oauth",
    ];
    const noSigner = await runCli(["verify-attestation", ...root, ref]);
    expect(noSigner.code).toBe(2);
    expect(noSigner.stderr).toContain("--certificate-identity");
    // The bundle verifies offline, but its statement is about another image: exit 1, and why.
    const result = await runCli(["verify-attestation", ...root, ...signer, ref]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`do not include ${image.digest}`);
    const wrongSigner = await runCli([
      "verify-attestation",
      ...root,
      ...signer.slice(0, 1),
      "eve@example.com",
      ...signer.slice(2),
      ref,
    ]);
    expect(wrongSigner.stderr).toContain("not eve@example.com");
  });
});

describe("shipgate tree", () => {
  it("lists the signature tag and the bundle referrer of a signed image", async () => {
    const image = await pushImage(repoOn(api.host, "cli/tree"), "1", "cli-tree");
    const ref = `${api.host}/cli/tree:1`;
    expect((await runCli(["sign", "--key", key(), ref], { env: PW })).code).toBe(0);
    expect(
      (await runCli(["sign", "--key", key(), "--registry-referrers-mode", "oci-1-1", ref], { env: PW })).code,
    ).toBe(0);
    const tree = await runCli(["tree", ref]);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toContain(`(${image.digest})`);
    expect(tree.stdout).toMatch(/^TYPE\s+WHERE\s+MANIFEST\s+ENTRIES\s+DETAIL$/m);
    expect(tree.stdout).toContain(`tag sha256-${image.digest.slice(7)}.sig`);
    const json = JSON.parse((await runCli(["tree", "--json", ref])).stdout);
    expect(
      json.attachments.map((a: { type: string; scheme: string }) => `${a.type}/${a.scheme}`).sort(),
    ).toEqual(["signature/referrer", "signature/tag"]);
  });
});
