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
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

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
export function parseTokens(text: string): { token: string; scopes: Scope[] }[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let raw: { token: unknown; scopes: unknown; where: string }[];
  if (trimmed.startsWith("[")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new TokenConfigError("tokens: not valid JSON (expected [{\"token\":\"…\",\"scopes\":[\"read\"]}])");
    }
    if (!Array.isArray(json)) throw new TokenConfigError("tokens: expected a JSON array");
    raw = json.map((e: unknown, i) => {
      const o = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
      return { token: o.token, scopes: o.scopes, where: `entry ${i + 1}` };
    });
  } else {
    raw = [];
    trimmed.split(/\r?\n/).forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith("#")) return;
      const [token, scopes, ...rest] = l.split(/\s+/);
      if (rest.length) throw new TokenConfigError(`tokens: line ${i + 1}: expected 'TOKEN scope,scope'`);
      raw.push({ token, scopes: scopes ? scopes.split(",").filter(Boolean) : undefined, where: `line ${i + 1}` });
    });
  }
  const seen = new Set<string>();
  return raw.map(({ token, scopes, where }) => {
    if (typeof token !== "string" || token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
      throw new TokenConfigError(`tokens: ${where}: a token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`);
    }
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
      throw new TokenConfigError(`tokens: ${where}: scopes must be a non-empty list of ${SCOPES.join(", ")}`);
    }
    if (seen.has(token)) throw new TokenConfigError(`tokens: ${where}: duplicate token`);
    seen.add(token);
    return { token, scopes: [...new Set(scopes as Scope[])] };
  });
}

export class Authenticator {
  private readonly entries: TokenEntry[];

  /** `enabled: false` lets every request through (use when httpNodeAuth or a proxy guards the API). */
  constructor(
    tokens: { token: string; scopes: Scope[] }[],
    readonly enabled = true,
  ) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), scopes: new Set(t.scopes) }));
  }

  get tokenCount(): number {
    return this.entries.length;
  }

  /** Throws 401 UNAUTHORIZED or 403 FORBIDDEN; returns when the request may proceed. */
  check(authorization: string | undefined, access: Access): void {
    if (!this.enabled || access === "open") return;
    const challenge = (error?: string) => ({
      "WWW-Authenticate": error ? `Bearer realm="plugwatch", error="${error}"` : `Bearer realm="plugwatch"`,
    });
    const m = authorization ? /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization) : null;
    if (!m) {
      throw new ApiError("UNAUTHORIZED", authorization ? "malformed Authorization header: expected 'Bearer <token>'" : "a bearer token is required", {
        headers: challenge(authorization ? "invalid_request" : undefined),
      });
    }
    const candidate = digest(m[1] as string);
    // Compare against every entry, without stopping early, so timing reveals neither match nor position.
    let found: TokenEntry | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, candidate) && !found) found = e;
    if (!found) throw new ApiError("UNAUTHORIZED", "unknown token", { headers: challenge("invalid_token") });
    if (!found.scopes.has(access)) {
      throw new ApiError("FORBIDDEN", `this token lacks the '${access}' scope`, {
        headers: { "WWW-Authenticate": `Bearer realm="plugwatch", error="insufficient_scope", scope="${access}"` },
      });
    }
  }
}
