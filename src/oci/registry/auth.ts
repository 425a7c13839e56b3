import type { Dispatcher } from "undici";
import { request } from "undici";
import { ShipgateError } from "../../errors.js";
import { type Challenge, parseChallenges } from "./challenge.js";
import type { Credentials } from "./credentials.js";

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Tokens are refreshed this long before the server says they expire, so requests never race the expiry. */
const EXPIRY_MARGIN_MS = 10_000;
const DEFAULT_TOKEN_LIFETIME_S = 60;

/**
 * Answers "which Authorization header for these scopes?" for one registry.
 * Learns the scheme from the registry's challenge, fetches Docker/OCI bearer
 * tokens from the realm (with Basic credentials, a refresh token, or
 * anonymously), caches them per scope and drops them on a 401.
 */
export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private credentials: Promise<Credentials | undefined> | undefined;

  constructor(
    private readonly registry: string,
    private readonly loadCredentials: () => Promise<Credentials | undefined>,
    private readonly dispatcher: Dispatcher,
    private readonly userAgent: string,
  ) {}

  private creds(): Promise<Credentials | undefined> {
    this.credentials ??= this.loadCredentials();
    return this.credentials;
  }

  /** The header to send, or undefined while no challenge has been seen (anonymous first try). */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === "basic") {
      const creds = await this.creds();
      if (creds?.username === undefined || creds.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    if (challenge.scheme !== "bearer") return undefined;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(challenge, scopes);
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /**
   * Called on a 401. Returns true when a retry may succeed: the challenge is
   * new, or a cached token for these scopes was just dropped.
   */
  onUnauthorized(wwwAuthenticate: string | undefined, scopes: readonly string[]): boolean {
    const parsed = wwwAuthenticate === undefined ? [] : parseChallenges(wwwAuthenticate);
    const next = parsed.find((c) => c.scheme === "bearer") ?? parsed.find((c) => c.scheme === "basic");
    if (next === undefined) return false;
    const hadChallenge = this.challenge !== undefined && this.challenge.scheme === next.scheme;
    this.challenge = next;
    const dropped = this.tokens.delete(scopeKey(scopes));
    return !hadChallenge || dropped;
  }

  /** Records the challenge from a ping of `/v2/` so the first real request already carries credentials. */
  learn(wwwAuthenticate: string | undefined): void {
    if (wwwAuthenticate === undefined) return;
    const parsed = parseChallenges(wwwAuthenticate);
    this.challenge = parsed.find((c) => c.scheme === "bearer") ?? parsed.find((c) => c.scheme === "basic");
  }

  async hasCredentials(): Promise<string | undefined> {
    return (await this.creds())?.source;
  }

  private async fetchToken(challenge: Challenge, scopes: readonly string[]): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (realm === undefined) {
      throw new ShipgateError(
        "REGISTRY_ERROR",
        `${this.registry} asked for a bearer token but named no realm`,
      );
    }
    const creds = await this.creds();
    if (creds?.registryToken !== undefined) {
      return { value: creds.registryToken, expiresAt: Number.POSITIVE_INFINITY };
    }
    const service = challenge.params.service;
    const url = new URL(realm);
    const headers: Record<string, string> = { "user-agent": this.userAgent };
    let method: "GET" | "POST" = "GET";
    let body: string | undefined;
    if (creds?.identityToken !== undefined) {
      // OAuth2 refresh-token grant, as Docker does with an identity token.
      method = "POST";
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken });
      form.set("client_id", "shipgate");
      if (service !== undefined) form.set("service", service);
      if (scopes.length > 0) form.set("scope", scopes.join(" "));
      body = form.toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else {
      if (service !== undefined) url.searchParams.set("service", service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      if (creds?.username !== undefined && creds.password !== undefined) {
        url.searchParams.set("account", creds.username);
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      }
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { method, headers, body, dispatcher: this.dispatcher });
    } catch (error) {
      throw new ShipgateError(
        "NETWORK",
        `cannot reach the token service ${url.origin} for ${this.registry}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.body.text();
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new ShipgateError(
        "UNAUTHORIZED",
        `authentication to ${this.registry} failed (token service answered ${response.statusCode})`,
        {
          hint:
            creds === undefined
              ? `log in first: shipgate login ${this.registry}`
              : `the credentials from ${creds.source} were refused; run shipgate login ${this.registry} again`,
        },
      );
    }
    if (response.statusCode !== 200) {
      throw new ShipgateError(
        "REGISTRY_ERROR",
        `token service ${url.origin} for ${this.registry} answered ${response.statusCode}`,
      );
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new ShipgateError(
        "REGISTRY_ERROR",
        `token service ${url.origin} answered with something that is not JSON`,
      );
    }
    const value = parsed.token ?? parsed.access_token;
    if (!value)
      throw new ShipgateError("REGISTRY_ERROR", `token service ${url.origin} answered without a token`);
    const lifetime = (parsed.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000;
    return { value, expiresAt: Date.now() + Math.max(0, lifetime - EXPIRY_MARGIN_MS) };
  }
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(" ");
}
