// `shipgate sign --keyless` / `attest --keyless` as a user runs them: bin/shipgate.js
// against a real docker-registry and local Fulcio and Rekor stand-ins, then
// `shipgate verify --trusted-root --certificate-identity --certificate-oidc-issuer`.
// Exit codes per DESIGN.md: 0 ok, 1 signature invalid, 2 usage, 3 runtime.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { legacyTag, readBundleReferrers, readLegacyLayers } from "../../src/sign/store-signatures.js";
import { makeTempDir } from "../harness/util.js";
import { runCli } from "../helpers/cli.js";
import { pushImage } from "../sign/images.js";
import { type KeylessFixture, startKeyless } from "../sign/sigstore/fixture.js";
import { oidcIssuer } from "../sign/sigstore/fulcio.js";

const ISSUER = "https://token.actions.test";
const WORKFLOW = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

let fx: KeylessFixture;
let dir: string;
let rootFile: string;

beforeAll(async () => {
  fx = await startKeyless("cli-fulcio", ISSUER);
  dir = makeTempDir("shipgate-cli-keyless-");
  rootFile = join(dir, "trusted_root.json");
  writeFileSync(rootFile, fx.rootJson);
});

afterAll(() => fx?.stop());

// A CI token: no email, the workflow as subject (Fulcio puts it in a URI SAN).
const ciToken = () => fx.oidc.token({ sub: WORKFLOW });
const services = () => ["--fulcio-url", fx.fulcio.url, "--rekor-url", fx.rekor.url];
const verifyArgs = (identity: string, issuer = ISSUER) => [
  "--trusted-root",
  rootFile,
  "--certificate-identity",
  identity,
  "--certificate-oidc-issuer",
  issuer,
];

describe("shipgate sign --keyless", () => {
  it("signs with SIGSTORE_ID_TOKEN, then verify passes for the identity and fails for another (exit 1)", async () => {
    const repo = fx.repo("cli/keyless");
    const image = await pushImage(repo, "1", "cli-keyless");
    const ref = `${fx.host}/cli/keyless:1`;
    const signed = await runCli(["sign", "--keyless", ...services(), ref], {
      env: { SIGSTORE_ID_TOKEN: ciToken() },
    });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(legacyTag(image.digest, "sig"));
    expect(signed.stdout).toContain(`Signed keyless as ${WORKFLOW} (issuer ${ISSUER}); Rekor log index`);

    const ok = await runCli(["verify", ...verifyArgs(WORKFLOW), ref]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`keyless:${WORKFLOW} (${ISSUER})`);
    const regexp = await runCli([
      "verify",
      "--trusted-root",
      rootFile,
      "--certificate-identity-regexp",
      "^https://github\\.com/acme/",
      "--certificate-oidc-issuer",
      ISSUER,
      ref,
    ]);
    expect(regexp.code, regexp.stderr).toBe(0);
    const other = await runCli(["verify", ...verifyArgs("https://github.com/evil/x"), ref]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`the certificate identity is ${WORKFLOW}, not https://github.com/evil/x`);
    const otherIssuer = await runCli(["verify", ...verifyArgs(WORKFLOW, "https://accounts.google.com"), ref]);
    expect(otherIssuer.code).toBe(1);
    expect(otherIssuer.stderr).toContain("the OIDC issuer is");
  });

  it("--identity-token FILE, oci-1-1 layout, --json", async () => {
    const repo = fx.repo("cli/keyless-bundle");
    const image = await pushImage(repo, "1", "cli-keyless-bundle");
    const tokenFile = join(dir, "token.jwt");
    writeFileSync(tokenFile, `${ciToken()}\n`);
    const ref = `${fx.host}/cli/keyless-bundle:1`;
    const signed = await runCli([
      "sign",
      "--keyless",
      "--identity-token",
      tokenFile,
      ...services(),
      "--registry-referrers-mode",
      "oci-1-1",
      "--json",
      ref,
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    const result = JSON.parse(signed.stdout);
    expect(result).toMatchObject({ subject: image.digest, identity: WORKFLOW, issuer: ISSUER });
    expect(result.images[0].layout).toBe("bundle");
    expect(await readBundleReferrers(repo, image.digest)).toHaveLength(1);
    const ok = await runCli(["verify", ...verifyArgs(WORKFLOW), ref]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  // The legacy layout (the default) is logged as cosign logs a .att: dsse by default (cosign >= v2.2), intoto 0.0.1
  // on request (cosign v2.0/2.1); either entry is of the layer's very bytes.
  for (const entryType of [undefined, "dsse", "intoto"] as const) {
    it(`attest --keyless${entryType ? ` --rekor-entry-type ${entryType}` : ""}, then verify-attestation by identity`, async () => {
      const path = `cli/keyless-att-${entryType ?? "default"}`;
      const repo = fx.repo(path);
      const image = await pushImage(repo, "1", path);
      const before = fx.rekor.entries.length;
      const predicate = join(dir, "prov.json");
      writeFileSync(predicate, JSON.stringify({ buildDefinition: { buildType: "https://example.com/t" } }));
      const ref = `${fx.host}/${path}:1`;
      const attested = await runCli(
        [
          "attest",
          "--keyless",
          ...services(),
          ...(entryType ? ["--rekor-entry-type", entryType] : []),
          "--type",
          "slsaprovenance1",
          "--predicate",
          predicate,
          ref,
        ],
        { env: { SIGSTORE_ID_TOKEN: ciToken() } },
      );
      expect(attested.code, attested.stderr).toBe(0);
      const [layer] = await readLegacyLayers(repo, image.digest, "att");
      const text = layer?.bytes.toString("utf8");
      const logged = fx.rekor.entries.slice(before);
      if (entryType === "intoto") {
        expect(logged.map((e) => `${e.kind} ${e.apiVersion}`)).toEqual(["intoto 0.0.1"]);
        expect((logged[0]?.spec.content as { envelope?: string }).envelope).toBe(text);
      } else {
        expect(logged.map((e) => `${e.kind} ${e.apiVersion}`)).toEqual(["dsse 0.0.1"]);
        expect((logged[0]?.spec.proposedContent as { envelope?: string }).envelope).toBe(text);
      }
      const ok = await runCli([
        "verify-attestation",
        ...verifyArgs(WORKFLOW),
        "--type",
        "slsaprovenance1",
        ref,
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain("https://slsa.dev/provenance/v1");
      const other = await runCli([
        "verify-attestation",
        ...verifyArgs("https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main"),
        ref,
      ]);
      expect(other.code, other.stderr).toBe(1);
    });
  }

  it("--rekor-entry-type: a bad value, intoto with oci-1-1, or without --keyless is exit 2; nothing asked", async () => {
    const [fulcioBefore, rekorBefore] = [fx.fulcio.requests.length, fx.rekor.entries.length];
    const predicate = join(dir, "empty.json");
    writeFileSync(predicate, "{}");
    const ref = `${fx.host}/cli/keyless:1`;
    const attest = (...args: string[]) =>
      runCli(["attest", ...args, "--predicate", predicate, ref], { env: { SIGSTORE_ID_TOKEN: ciToken() } });
    const bad = await attest("--keyless", ...services(), "--rekor-entry-type", "hashedrekord");
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('--rekor-entry-type must be dsse or intoto, not "hashedrekord"');
    const bundle = await attest(
      "--keyless",
      ...services(),
      "--registry-referrers-mode",
      "oci-1-1",
      "--rekor-entry-type",
      "intoto",
    );
    expect(bundle.code, bundle.stderr).toBe(2);
    expect(bundle.stderr).toContain("a bundle always logs a dsse entry");
    const keyed = await attest("--key", "cosign.key", "--rekor-entry-type", "dsse");
    expect(keyed.code, keyed.stderr).toBe(2);
    expect(keyed.stderr).toContain("--rekor-entry-type only apply with --keyless");
    expect([fx.fulcio.requests.length, fx.rekor.entries.length]).toEqual([fulcioBefore, rekorBefore]);
  });

  it("no token: exit 2 saying how to provide one; nothing asked of Fulcio", async () => {
    const before = fx.fulcio.requests.length;
    const ref = `${fx.host}/cli/keyless:1`;
    const none = await runCli(["sign", "--keyless", ...services(), ref]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("keyless signing needs an OIDC identity token");
    expect(none.stderr).toContain("SIGSTORE_ID_TOKEN");
    expect(none.stderr).toContain("--identity-token FILE");
    const inline = await runCli(["sign", "--keyless", "--identity-token", ciToken(), ref]);
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain("takes a file, not the token itself");
    const both = await runCli(["sign", "--keyless", "--key", "cosign.key", ref]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("either --key or --keyless");
    const neither = await runCli(["sign", ref]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("--key or --keyless is required");
    const stray = await runCli(["sign", "--key", "cosign.key", "--fulcio-url", fx.fulcio.url, ref]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("only apply with --keyless");
    expect(fx.fulcio.requests.length).toBe(before);
  });

  it("Fulcio refusing the token: exit 3 naming Fulcio and the status, nothing pushed", async () => {
    const repo = fx.repo("cli/keyless-refused");
    const image = await pushImage(repo, "1", "cli-keyless-refused");
    const stranger = oidcIssuer("https://stranger.test");
    const refused = await runCli(["sign", "--keyless", ...services(), `${fx.host}/cli/keyless-refused:1`], {
      env: { SIGSTORE_ID_TOKEN: stranger.token({ sub: "x" }) },
    });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`Fulcio at ${fx.fulcio.url} refused the certificate request (HTTP 401)`);
    expect(refused.stderr).toContain("the identity token was not accepted");
    expect(await readLegacyLayers(repo, image.digest, "sig")).toEqual([]);
  });

  it("--help shows the keyless flags and examples", async () => {
    const help = await runCli(["sign", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--keyless", "--fulcio-url", "--rekor-url", "--identity-token"])
      expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain("shipgate sign --keyless localhost:5000/app:1.0");
    const attestHelp = await runCli(["attest", "--help"]);
    expect(attestHelp.code).toBe(0);
    expect(attestHelp.stdout).toContain("--rekor-entry-type <dsse|intoto>");
    const flat = attestHelp.stdout.replace(/\s+/g, " ");
    expect(flat).toContain("dsse (cosign's default since v2.2) or intoto (cosign v2.0/2.1's entry");
    expect(flat).toContain("a bundle always logs dsse (default dsse)");
    expect(attestHelp.stdout).toContain("--rekor-entry-type intoto");
    expect(help.stdout).not.toContain("--rekor-entry-type");
  });
});
