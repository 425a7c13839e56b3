import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { Agent, type Dispatcher, request } from "undici";
import { ShipgateError } from "../../errors.js";
import { apiHost, isLoopback } from "../reference.js";
import { Authenticator } from "./auth.js";
import { type Credentials, resolveCredentials } from "./credentials.js";
import { registryError } from "./errors.js";
import {
  defaultRetryPolicy,
  parseRetryAfter,
  RetryableError,
  type RetryPolicy,
  withRetries,
} from "./retry.js";

export interface RegistryOptions {
  /** Allow plain HTTP and unverified TLS (skopeo's --tls-verify=false). Loopback registries always allow HTTP. */
  insecure?: boolean;
  /** PEM bundle of extra trusted CAs for private registries. */
  caFile?: string;
  retry?: RetryPolicy;
  /** Overrides the credential lookup (tests, `login`). */
  credentials?: Credentials | null;
  env?: NodeJS.ProcessEnv;
  /** Called before each retry, so front ends can say why a command is slow. */
  onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
}

export interface RegistryRequest {
  method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** Path under the registry root, starting with `/v2/`, or an absolute URL (upload locations). */
  path: string;
  headers?: Record<string, string>;
  /** Buffers are replayed on retries; streams are sent once (the caller retries the whole operation). */
  body?: Uint8Array | Readable;
  scopes: readonly string[];
  /** Statuses that count as success; anything else becomes a typed error. */
  expect: readonly number[];
  /** What this request is for, in error messages: "manifest localhost:5000/app:1.0". */
  what: string;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData["body"];
  url: URL;
}

const USER_AGENT = "shipgate/0.1.0";
const MAX_REDIRECTS = 5;

export function header(response: { headers: RegistryResponse["headers"] }, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The one HTTP client for a registry: scheme discovery, auth, retries with
 * backoff and Retry-After, redirects, and typed errors. Uses undici because
 * it streams request and response bodies with backpressure and pools
 * keep-alive connections (DESIGN: naive fetch buffered whole blobs).
 */
export class RegistryHttp {
  readonly registry: string;
  private readonly host: string;
  private readonly dispatcher: Dispatcher;
  private readonly auth: Authenticator;
  private readonly retry: RetryPolicy;
  private base: Promise<URL> | undefined;

  constructor(
    registry: string,
    private readonly options: RegistryOptions = {},
  ) {
    this.registry = registry;
    this.host = apiHost(registry);
    const ca = options.caFile === undefined ? undefined : readCa(options.caFile);
    this.dispatcher = new Agent({
      connect: { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: !options.insecure },
      keepAliveTimeout: 30_000,
    });
    const explicit = options.credentials;
    const load =
      explicit !== undefined
        ? async () => explicit ?? undefined
        : () => resolveCredentials(registry, options.env ?? process.env);
    this.auth = new Authenticator(registry, load, this.dispatcher, USER_AGENT);
    this.retry = options.retry ?? defaultRetryPolicy;
  }

  /** The registry's base URL, found once by pinging `/v2/` (https first; http only where allowed). */
  baseUrl(): Promise<URL> {
    this.base ??= this.discover();
    return this.base;
  }

  private async discover(): Promise<URL> {
    const plainAllowed = this.options.insecure === true || isLoopback(this.host);
    const schemes = plainAllowed ? ["https", "http"] : ["https"];
    let lastError: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${this.host}/v2/`);
      try {
        const response = await withRetries(`ping ${this.registry}`, this.retry, async () => {
          const r = await this.send("GET", url, {});
          await r.body.dump();
          if (r.statusCode === 429 || r.statusCode >= 500) {
            throw new RetryableError(
              `${this.registry} answered ${r.statusCode}`,
              parseRetryAfter(header(r, "retry-after")),
            );
          }
          return r;
        });
        if (response.statusCode === 401) this.auth.learn(header(response, "www-authenticate"));
        return new URL(`${scheme}://${this.host}`);
      } catch (error) {
        lastError = error;
        // A TLS handshake against a plain-HTTP port fails at once; only then try http.
        if (scheme === "https" && plainAllowed) continue;
      }
    }
    if (lastError instanceof ShipgateError) throw lastError;
    throw new ShipgateError(
      "NETWORK",
      `cannot reach registry ${this.registry}: ${(lastError as Error)?.message}`,
      {
        cause: lastError,
        hint: plainAllowed
          ? "check the address and that the registry is running"
          : "check the address; for a registry without TLS, mark it insecure (--insecure)",
      },
    );
  }

  private send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body?: Uint8Array | Readable,
  ): Promise<Dispatcher.ResponseData> {
    return request(url, {
      method: method as Dispatcher.HttpMethod,
      headers: { "user-agent": USER_AGENT, ...headers },
      body,
      dispatcher: this.dispatcher,
    });
  }

  /** Sends a request; retries it when it is safe to replay; throws typed errors for unexpected statuses. */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const policy = replayable(req) ? this.retry : { ...this.retry, attempts: 1 };
    return withRetries(
      req.what,
      policy,
      () => this.attempt(req),
      (error, attempt, delay) => this.options.onRetry?.(req.what, error, attempt, delay),
    );
  }

  private async attempt(req: RegistryRequest): Promise<RegistryResponse> {
    const base = await this.baseUrl();
    let url = new URL(req.path, base);
    let authRetried = false;
    for (let redirects = 0; ; ) {
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      // Credentials go only to the registry itself, never to a redirect target (blob storage).
      if (url.host === base.host) {
        const authorization = await this.auth.header(req.scopes);
        if (authorization !== undefined) headers.authorization = authorization;
      }
      let response: Dispatcher.ResponseData;
      try {
        response = await this.send(
          req.method,
          url,
          headers,
          url.host === base.host || redirects === 0 ? req.body : undefined,
        );
      } catch (error) {
        throw new RetryableError(`${req.what}: ${(error as Error).message}`, undefined, { cause: error });
      }
      const status = response.statusCode;
      if (status === 401 && !authRetried) {
        await response.body.dump();
        authRetried = true;
        const retry = this.auth.onUnauthorized(header(response, "www-authenticate"), req.scopes);
        // A streamed body is gone: let the caller's retry start the whole upload again with a fresh token.
        if (retry && !replayable(req)) throw new RetryableError(`${req.what}: token expired mid-upload`, 0);
        if (retry) continue;
        throw registryError(req.what, 401, "", this.registry, await this.auth.hasCredentials());
      }
      if ([301, 302, 303, 307, 308].includes(status) && (req.method === "GET" || req.method === "HEAD")) {
        const location = header(response, "location");
        await response.body.dump();
        if (location === undefined || ++redirects > MAX_REDIRECTS) {
          throw new ShipgateError("REGISTRY_ERROR", `${req.what}: too many or broken redirects`);
        }
        url = new URL(location, url);
        continue;
      }
      if (req.expect.includes(status)) return { status, headers: response.headers, body: response.body, url };
      const text = req.method === "HEAD" ? "" : await readLimited(response.body, 64 * 1024);
      if (req.method === "HEAD") await response.body.dump();
      if (status === 429 || status >= 500) {
        throw new RetryableError(
          `${req.what}: ${this.registry} answered ${status}${text ? ` (${summarise(text)})` : ""}`,
          parseRetryAfter(header(response, "retry-after")),
        );
      }
      const error = registryError(req.what, status, text, this.registry, await this.auth.hasCredentials());
      // DIGEST_MISMATCH is retried in case content was corrupted on the way, but a request without a
      // body carried no content: the registry is judging the reference itself (distribution 2.8 answers
      // DELETE by tag with DIGEST_INVALID), and asking again would get the same answer.
      if (req.body === undefined && error.code === "DIGEST_MISMATCH") {
        throw new ShipgateError("REGISTRY_ERROR", error.message, { cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function replayable(req: RegistryRequest): boolean {
  return req.body === undefined || req.body instanceof Uint8Array;
}

function readCa(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ShipgateError("USAGE", `cannot read CA file ${file}: ${(error as Error).message}`);
  }
}

async function readLimited(body: Dispatcher.ResponseData["body"], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size < limit) chunks.push(buf.subarray(0, limit - size));
    size += buf.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function summarise(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}
