// Who may use the REST API: the token authenticator and the /metrics endpoint, from the node's mode and credentials.
import { Authenticator, parseTokens } from "./auth";
import { metricsEndpoint, type MetricsEndpoint } from "./metrics-endpoint";
import { scrape } from "../metrics/registry";

/** Throws a TokenConfigError (its message never contains a token) for a malformed token list or metrics token. */
export function apiAccess(
  mode: "none" | "tokens",
  credentials: { tokens?: string; metricsToken?: string } | undefined,
): { auth: Authenticator; metrics: MetricsEndpoint } {
  const auth = new Authenticator(mode === "tokens" ? parseTokens(credentials?.tokens ?? "") : [], mode === "tokens");
  return { auth, metrics: metricsEndpoint({ token: credentials?.metricsToken, scrape }) };
}
