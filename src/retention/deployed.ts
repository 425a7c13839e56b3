import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { CoreV1Api, KubeConfig, type V1Pod, type V1PodList } from "@kubernetes/client-node";
import { ShipgateError } from "../errors.js";
import { formatReference, parseReference } from "../oci/reference.js";
import type { RetentionRules } from "../policy/retention-rules.js";

/** Something that runs (or is declared to run): a digest, or a tag still to resolve. */
export interface DeployedRef {
  /** `registry/repository`, when known. */
  repository?: string;
  digest?: string;
  tag?: string;
  /** Where it was seen: `pod prod/web-7f9 container app`, `deployed.txt:3`. */
  where: string;
}

export interface KubernetesSource {
  kubeconfig?: string;
  context?: string;
  namespaces?: string[];
}

const DIGEST = /sha256:[a-f0-9]{64}/;

/**
 * The manifest digest in a container status `imageID`: `docker-pullable://repo@sha256:…`
 * (dockershim), `repo@sha256:…` (containerd, CRI-O). A bare `sha256:…` or `docker://sha256:…` is a
 * local image (config) ID, not a registry digest, and says nothing about manifests.
 */
export function digestFromImageId(imageID: string | undefined): string | undefined {
  if (imageID === undefined || !imageID.includes("@")) return undefined;
  return DIGEST.exec(imageID.slice(imageID.lastIndexOf("@")))?.[0];
}

function repositoryOf(image: string): string | undefined {
  try {
    const ref = parseReference(image.replace(/^docker-pullable:\/\//, ""));
    return formatReference({ ...ref, tag: undefined, digest: undefined });
  } catch {
    return undefined;
  }
}

/** Every image a pod runs: containers and init containers (and ephemeral ones), by status then spec. */
export function refsFromPods(pods: V1Pod[]): DeployedRef[] {
  const refs: DeployedRef[] = [];
  for (const pod of pods) {
    const name = `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? "?"}`;
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
      ...(pod.status?.ephemeralContainerStatuses ?? []),
    ];
    for (const s of statuses) {
      const digest = digestFromImageId(s.imageID);
      if (digest === undefined) continue;
      const repository = repositoryOf(s.imageID.slice(0, s.imageID.lastIndexOf("@")));
      refs.push({ digest, where: `pod ${name} container ${s.name}`, ...(repository ? { repository } : {}) });
    }
    // A pod not started yet has no status, but its spec may already pin a digest.
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const c of specs) {
      const digest = c.image === undefined ? undefined : digestFromImageId(c.image);
      if (digest === undefined || refs.some((r) => r.digest === digest)) continue;
      const repository = repositoryOf(c.image as string);
      refs.push({ digest, where: `pod ${name} spec ${c.name}`, ...(repository ? { repository } : {}) });
    }
  }
  return refs;
}

/** Pods across every namespace (or the listed ones) of a kubeconfig context, paginated. */
export async function deployedFromKubernetes(source: KubernetesSource = {}): Promise<DeployedRef[]> {
  const kc = new KubeConfig();
  try {
    if (source.kubeconfig !== undefined) kc.loadFromFile(source.kubeconfig);
    else kc.loadFromDefault();
    if (source.context !== undefined) kc.setCurrentContext(source.context);
  } catch (error) {
    throw new ShipgateError(
      "CONFIG_INVALID",
      `kubeconfig ${source.kubeconfig ?? "(default)"}: ${(error as Error).message}`,
      {
        hint: "point keep_deployed.kubernetes.kubeconfig at a readable kubeconfig, or set KUBECONFIG",
      },
    );
  }
  if (source.context !== undefined && !kc.getContexts().some((c) => c.name === source.context)) {
    throw new ShipgateError("CONFIG_INVALID", `kubeconfig has no context "${source.context}"`, {
      hint: `contexts: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(", ") || "(none)"
      }`,
    });
  }
  const api = kc.makeApiClient(CoreV1Api);
  const pods: V1Pod[] = [];
  const server = kc.getCurrentCluster()?.server ?? "(no server)";
  const list = async (namespace: string | undefined) => {
    let token: string | undefined;
    do {
      let page: V1PodList;
      try {
        page =
          namespace === undefined
            ? await api.listPodForAllNamespaces({ limit: 500, ...(token ? { _continue: token } : {}) })
            : await api.listNamespacedPod({ namespace, limit: 500, ...(token ? { _continue: token } : {}) });
      } catch (error) {
        throw new ShipgateError("NETWORK", `listing pods on ${server}: ${(error as Error).message}`, {
          cause: error,
          hint: "keep_deployed could not learn what runs; nothing is deleted without it",
        });
      }
      pods.push(...page.items);
      token = page.metadata?._continue || undefined;
    } while (token !== undefined);
  };
  if (source.namespaces === undefined || source.namespaces.length === 0) await list(undefined);
  else for (const ns of source.namespaces) await list(ns);
  return refsFromPods(pods);
}

/**
 * A file of image references, one per line (`#` starts a comment): `repo@sha256:…` or
 * `repo:tag`. A file that is a Kubernetes PodList (`kubectl get pods -A -o json`) is read as pods.
 */
export async function deployedFromFile(path: string): Promise<DeployedRef[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ShipgateError(
      "IO",
      `cannot read the deployed-images file ${path}: ${(error as Error).message}`,
    );
  }
  if (text.trimStart().startsWith("{")) {
    try {
      const list = JSON.parse(text) as { items?: V1Pod[] };
      return refsFromPods(list.items ?? []);
    } catch (error) {
      throw new ShipgateError("CONFIG_INVALID", `${path}: not a PodList: ${(error as Error).message}`);
    }
  }
  const refs: DeployedRef[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const where = `${path}:${i + 1}`;
    const bare = DIGEST.exec(line);
    if (/^sha256:[a-f0-9]{64}$/.test(line) && bare) {
      refs.push({ digest: bare[0], where });
      return;
    }
    let ref: ReturnType<typeof parseReference>;
    try {
      ref = parseReference(line);
    } catch (error) {
      throw new ShipgateError("CONFIG_INVALID", `${where}: ${(error as Error).message}`, {
        hint: "one image reference per line: registry/repo@sha256:… or registry/repo:tag",
      });
    }
    const repository = formatReference({ ...ref, tag: undefined, digest: undefined });
    if (ref.digest !== undefined) refs.push({ repository, digest: ref.digest, where });
    else refs.push({ repository, tag: ref.tag as string, where });
  });
  return refs;
}

/**
 * Everything `keep_deployed` names, plus what the command line adds: a Kubernetes source given on
 * the command line replaces the config's; files add up. Config file paths are relative to it.
 */
export async function collectDeployed(
  fromConfig: RetentionRules["keep_deployed"],
  extra: { kubernetes?: KubernetesSource; files?: string[]; configDir?: string } = {},
): Promise<DeployedRef[]> {
  let kube: KubernetesSource | undefined = extra.kubernetes;
  if (kube === undefined && fromConfig === true) kube = {};
  if (kube === undefined && typeof fromConfig === "object" && fromConfig.kubernetes)
    kube = fromConfig.kubernetes === true ? {} : fromConfig.kubernetes;
  const refs: DeployedRef[] = [];
  if (kube !== undefined) refs.push(...(await deployedFromKubernetes(kube)));
  const configured = typeof fromConfig === "object" ? (fromConfig.files ?? []) : [];
  const files = [
    ...(extra.files ?? []),
    ...configured.map((f) => (extra.configDir === undefined || isAbsolute(f) ? f : join(extra.configDir, f))),
  ];
  for (const file of files) refs.push(...(await deployedFromFile(file)));
  return refs;
}
