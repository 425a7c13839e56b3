import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShipgateError } from "../../src/errors.js";
import {
  collectDeployed,
  deployedFromFile,
  deployedFromKubernetes,
  digestFromImageId,
} from "../../src/retention/deployed.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;

/** A pod as the API server returns it (only the fields that matter here, in their real places). */
function pod(
  namespace: string,
  name: string,
  status: object,
  spec: object = { containers: [{ name: "app", image: "nginx:1.27" }] },
) {
  return {
    metadata: { name, namespace, uid: `${namespace}-${name}`, resourceVersion: "1" },
    spec,
    status: { phase: "Running", ...status },
  };
}

const podsPage1 = [
  pod("prod", "web-7f9", {
    initContainerStatuses: [
      {
        name: "migrate",
        image: "registry.example.com/shop/migrate:3",
        imageID: `registry.example.com/shop/migrate@${D("1")}`,
        ready: false,
        restartCount: 0,
      },
    ],
    containerStatuses: [
      {
        name: "app",
        image: "registry.example.com/shop/web:2.1",
        imageID: `docker-pullable://registry.example.com/shop/web@${D("2")}`,
        ready: true,
        restartCount: 0,
      },
    ],
  }),
];
const podsPage2 = [
  pod("batch", "job-x", {
    // A local image ID: a config digest, not a manifest digest; it protects nothing.
    containerStatuses: [
      { name: "worker", image: "worker:dev", imageID: `docker://${D("9")}`, ready: true, restartCount: 0 },
    ],
  }),
  pod(
    "prod",
    "pending-1",
    {},
    { containers: [{ name: "app", image: `registry.example.com/shop/web@${D("3")}` }] },
  ),
];

let server: https.Server;
let caPem: string;
let base: string;
const requests: { path: string; auth: string | undefined }[] = [];

beforeAll(async () => {
  // A real TLS endpoint: the client refuses plain HTTP, and the kubeconfig carries the CA, as a cluster's does.
  const dir = mkdtempSync(join(tmpdir(), "shipgate-apiserver-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  caPem = readFileSync(join(dir, "cert.pem"), "utf8");
  server = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: caPem }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: `${url.pathname}${url.search}`, auth: req.headers.authorization });
    if (req.headers.authorization !== "Bearer test-token") {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "Unauthorized",
          code: 401,
        }),
      );
      return;
    }
    const list = (items: object[], cont?: string) => ({
      kind: "PodList",
      apiVersion: "v1",
      metadata: { resourceVersion: "12345", ...(cont ? { continue: cont } : {}) },
      items,
    });
    res.setHeader("content-type", "application/json");
    if (url.pathname === "/api/v1/pods") {
      const page =
        url.searchParams.get("continue") === "page-2" ? list(podsPage2) : list(podsPage1, "page-2");
      res.end(JSON.stringify(page));
    } else if (url.pathname === "/api/v1/namespaces/prod/pods") {
      res.end(JSON.stringify(list([...podsPage1, podsPage2[1] as object])));
    } else {
      res.writeHead(404);
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "NotFound",
          code: 404,
        }),
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function kubeconfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "shipgate-kube-"));
  const path = join(dir, "config");
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
current-context: elsewhere
clusters:
- name: local
  cluster:
    server: ${base}
    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: test
  context: { cluster: local, user: tester }
- name: elsewhere
  context: { cluster: nowhere, user: tester }
users:
- name: tester
  user:
    token: test-token
`,
  );
  return path;
}

describe("keep_deployed from Kubernetes", () => {
  it("lists pods across namespaces (paginated), init containers included, with the chosen context", async () => {
    requests.length = 0;
    const refs = await deployedFromKubernetes({ kubeconfig: kubeconfig(), context: "test" });
    expect(refs).toEqual([
      {
        digest: D("1"),
        repository: "registry.example.com/shop/migrate",
        where: "pod prod/web-7f9 container migrate",
      },
      {
        digest: D("2"),
        repository: "registry.example.com/shop/web",
        where: "pod prod/web-7f9 container app",
      },
      { digest: D("3"), repository: "registry.example.com/shop/web", where: "pod prod/pending-1 spec app" },
    ]);
    expect(requests.map((r) => r.path)).toEqual([
      "/api/v1/pods?limit=500",
      "/api/v1/pods?continue=page-2&limit=500",
    ]);
  });

  it("only the listed namespaces", async () => {
    requests.length = 0;
    const refs = await deployedFromKubernetes({
      kubeconfig: kubeconfig(),
      context: "test",
      namespaces: ["prod"],
    });
    expect(refs.map((r) => r.digest)).toEqual([D("1"), D("2"), D("3")]);
    expect(requests.map((r) => r.path)).toEqual(["/api/v1/namespaces/prod/pods?limit=500"]);
  });

  it("an unknown context or an unreachable cluster is an error, never an empty list", async () => {
    await expect(deployedFromKubernetes({ kubeconfig: kubeconfig(), context: "nope" })).rejects.toMatchObject(
      {
        code: "CONFIG_INVALID",
      },
    );
    // The kubeconfig's current context points at a closed port.
    const error = await deployedFromKubernetes({ kubeconfig: kubeconfig() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShipgateError);
    expect((error as ShipgateError).code).toBe("NETWORK");
  });

  it("parses imageID forms", () => {
    expect(digestFromImageId(`docker-pullable://nginx@${D("a")}`)).toBe(D("a"));
    expect(digestFromImageId(`docker.io/library/nginx@${D("b")}`)).toBe(D("b"));
    expect(digestFromImageId(`docker://${D("c")}`)).toBeUndefined();
    expect(digestFromImageId(D("c"))).toBeUndefined();
    expect(digestFromImageId("")).toBeUndefined();
  });
});

describe("keep_deployed from a file", () => {
  it("reads references by digest and by tag, with comments, and names the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-deployed-"));
    const path = join(dir, "deployed.txt");
    writeFileSync(
      path,
      `# what runs in prod\nregistry.example.com/shop/web@${D("4")}\n\nlocalhost:5000/shop/api:2.0  # pinned by tag\n${D("5")}\n`,
    );
    expect(await deployedFromFile(path)).toEqual([
      { repository: "registry.example.com/shop/web", digest: D("4"), where: `${path}:2` },
      { repository: "localhost:5000/shop/api", tag: "2.0", where: `${path}:4` },
      { digest: D("5"), where: `${path}:5` },
    ]);
  });

  it("reads a PodList (kubectl get pods -A -o json) and refuses a bad line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-deployed-"));
    const pods = join(dir, "pods.json");
    writeFileSync(
      pods,
      JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: {}, items: podsPage1 }),
    );
    expect((await deployedFromFile(pods)).map((r) => r.digest)).toEqual([D("1"), D("2")]);
    const bad = join(dir, "bad.txt");
    writeFileSync(bad, "Not A Reference!\n");
    await expect(deployedFromFile(bad)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining(`${bad}:1`),
    });
  });
});

describe("keep_deployed sources from the config and the command line", () => {
  it("config files resolve against the config's directory; a command-line cluster replaces the config's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shipgate-deployed-"));
    writeFileSync(join(dir, "deployed.txt"), `${D("6")}\n`);
    writeFileSync(join(dir, "extra.txt"), `${D("7")}\n`);
    const refs = await collectDeployed(
      { kubernetes: { kubeconfig: "/nonexistent/kubeconfig" }, files: ["deployed.txt"] },
      {
        kubernetes: { kubeconfig: kubeconfig(), context: "test", namespaces: ["prod"] },
        files: [join(dir, "extra.txt")],
        configDir: dir,
      },
    );
    expect(refs.map((r) => r.digest)).toEqual([D("1"), D("2"), D("3"), D("7"), D("6")]);
    expect(await collectDeployed(undefined)).toEqual([]);
    expect(await collectDeployed(false)).toEqual([]);
    // `true` means the default kubeconfig: here there is none to read, which is an error, not "nothing runs".
    await expect(collectDeployed(true)).rejects.toBeInstanceOf(ShipgateError);
  });
});
