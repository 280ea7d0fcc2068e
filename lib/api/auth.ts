// Bearer-token auth of the REST API: parses the token credential, checks tokens in constant time, enforces scopes.
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiError } from "./problem";

export const SCOPES = ["read", "control"] as const;
export type Scope = (typeof SCOPES)[number];
/** What an endpoint needs: a scope, or nothing (`open`). */
export type Access = Scope | "open";

export const MIN_TOKEN_LENGTH = 16;

interface TokenEntry {
  /** SHA-256 of the token: fixed length, so comparison time never depends on the token's length. */
  digest: Buffer;
  scopes: ReadonlySet<Scope>;
  name: string;
}

/** Who made a request: the token's name (never the token), for rate limits, commands and the audit trail. */
export interface Principal {
  name: string;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
/** A token stored hashed in the credentials: `sha256:<64 hex>` (the token itself is then never stored). */
const HASHED = /^sha256:([0-9a-f]{64})$/;
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** The credential form of a token: `sha256:<hex>`, for storing it hashed. */
export const hashToken = (token: string): string => `sha256:${digest(token).toString("hex")}`;

/** A configuration problem in the token list. Never contains a token. */
export class TokenConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenConfigError";
  }
}

/**
 * Parses the token credential: either JSON `[{"token":"…","scopes":["read","control"]}]` or one token per line
 * `TOKEN read,control` (blank lines and lines starting with # ignored). Error messages name the entry, never the token.
 */
export function parseTokens(text: string): { token: string; scopes: Scope[]; name?: string }[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let raw: { token: unknown; scopes: unknown; name?: unknown; where: string }[];
  if (trimmed.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new TokenConfigError('tokens: not valid JSON (expected [{"token":"…","scopes":["read"]}])');
    }
    if (!Array.isArray(json)) throw new TokenConfigError("tokens: expected a JSON array");
    raw = json.map((e: unknown, i) => {
      const o = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
      return { token: o.token, scopes: o.scopes, name: o.name, where: `entry ${i + 1}` };
    });
  } else {
    raw = [];
    trimmed.split(/\r?\n/).forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith("#")) return;
      const [token, scopes, name, ...rest] = l.split(/\s+/);
      if (rest.length) throw new TokenConfigError(`tokens: line ${i + 1}: expected 'TOKEN scope,scope [name]'`);
      raw.push({ token, scopes: scopes ? scopes.split(",").filter(Boolean) : undefined, ...(name ? { name } : {}), where: `line ${i + 1}` });
    });
  }
  const seen = new Set<string>();
  return raw.map(({ token, scopes, name, where }) => {
    if (name !== undefined && (typeof name !== "string" || !TOKEN_NAME_PATTERN.test(name))) {
      throw new TokenConfigError(`tokens: ${where}: a name is 1-64 letters, digits, '.', '_' or '-'`);
    }
    if (typeof token !== "string" || token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
      throw new TokenConfigError(`tokens: ${where}: a token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`);
    }
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
      throw new TokenConfigError(`tokens: ${where}: scopes must be a non-empty list of ${SCOPES.join(", ")}`);
    }
    if (seen.has(token)) throw new TokenConfigError(`tokens: ${where}: duplicate token`);
    seen.add(token);
    return { token, scopes: [...new Set(scopes as Scope[])], ...(typeof name === "string" ? { name } : {}) };
  });
}

export class Authenticator {
  private readonly entries: TokenEntry[];

  /** `enabled: false` lets every request through (use when httpNodeAuth or a proxy guards the API). */
  constructor(
    tokens: { token: string; scopes: Scope[]; name?: string }[],
    readonly enabled = true,
  ) {
    // Only digests are kept; a `sha256:<hex>` entry is already one. An unnamed token is named by a short fingerprint.
    this.entries = tokens.map((t) => {
      const h = HASHED.exec(t.token);
      const d = h?.[1] !== undefined ? Buffer.from(h[1], "hex") : digest(t.token);
      return { digest: d, scopes: new Set(t.scopes), name: t.name ?? `token-${d.toString("hex").slice(0, 8)}` };
    });
  }

  get tokenCount(): number {
    return this.entries.length;
  }

  /**
   * Throws 401 UNAUTHORIZED or 403 FORBIDDEN; returns who the caller is (undefined when no token was needed or
   * auth is disabled) when the request may proceed. `onUnknown` is called before an unknown token is refused.
   */
  check(authorization: string | undefined, access: Access, onUnknown?: () => void): Principal | undefined {
    if (!this.enabled || access === "open") return undefined;
    const challenge = (error?: string) => ({
      "WWW-Authenticate": error ? `Bearer realm="plugwatch", error="${error}"` : `Bearer realm="plugwatch"`,
    });
    const m = authorization ? /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization) : null;
    if (!m) {
      throw new ApiError("UNAUTHORIZED", authorization ? "malformed Authorization header: expected 'Bearer <token>'" : "a bearer token is required", {
        headers: challenge(authorization ? "invalid_request" : undefined),
      });
    }
    const candidate = digest(m[1] ?? "");
    // Compare against every entry, without stopping early, so timing reveals neither match nor position.
    let found: TokenEntry | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, candidate) && !found) found = e;
    if (!found) {
      onUnknown?.();
      throw new ApiError("UNAUTHORIZED", "unknown token", { headers: challenge("invalid_token") });
    }
    if (!found.scopes.has(access)) {
      throw new ApiError("FORBIDDEN", `this token lacks the '${access}' scope`, {
        headers: { "WWW-Authenticate": `Bearer realm="plugwatch", error="insufficient_scope", scope="${access}"` },
      });
    }
    return { name: found.name };
  }
}
