// GET {basePath}/metrics: the Prometheus exposition of lib/metrics, behind its own optional bearer token.
import { Authenticator, MIN_TOKEN_LENGTH } from "./auth";
import { ApiError } from "./problem";

export interface MetricsEndpointOptions {
  /** The scrape token; empty or undefined serves /metrics without auth. A `sha256:<hex>` digest is accepted too. */
  token?: string | undefined;
  /** Renders the exposition text (lib/metrics/registry scrape). */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsEndpoint {
  /** True when a token is required. */
  readonly guarded: boolean;
  /** 200 with the text, or throws 401 UNAUTHORIZED (`onUnknown` runs before an unknown token is refused, for rate limiting). */
  serve(authorization: string | undefined, onUnknown?: () => void): Promise<{ status: number; headers: Record<string, string>; body: Buffer }>;
}

/** Checks the configured token (at least MIN_TOKEN_LENGTH characters); throws an Error naming the problem. */
export function checkMetricsToken(token: string | undefined): string | undefined {
  const t = (token ?? "").trim();
  if (!t) return undefined;
  if (/\s/.test(t)) throw new Error("metrics token must not contain spaces");
  if (!t.startsWith("sha256:") && t.length < MIN_TOKEN_LENGTH) throw new Error(`metrics token must have at least ${MIN_TOKEN_LENGTH} characters`);
  return t;
}

export function metricsEndpoint(o: MetricsEndpointOptions): MetricsEndpoint {
  const token = checkMetricsToken(o.token);
  // The API's own token check (digests only, constant-time compare), with the metrics token as its one entry.
  const auth = new Authenticator(token ? [{ token, scopes: ["read"], name: "metrics" }] : [], token !== undefined);
  return {
    guarded: token !== undefined,
    async serve(authorization, onUnknown) {
      auth.check(authorization, "read", onUnknown);
      try {
        const { contentType, body } = await o.scrape();
        return { status: 200, headers: { "Content-Type": contentType }, body: Buffer.from(body, "utf8") };
      } catch (err) {
        throw new ApiError("INTERNAL", `metrics could not be collected: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  };
}
