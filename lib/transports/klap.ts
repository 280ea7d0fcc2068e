// KLAP client for one plug: two-step handshake, TP_SESSIONID/TIMEOUT session, sealed requests, renewal and auth backoff.
//
// Flow (see klap-crypto.ts for the hashes):
//   POST /app/handshake1  body = local seed (16 B)      → 200, remote seed (16 B) ‖ proof1 (32 B), Set-Cookie TP_SESSIONID, TIMEOUT
//   POST /app/handshake2  body = proof2 (32 B), Cookie  → 200
//   POST /app/request?seq=N  body = signature ‖ AES     → 200, signature ‖ AES of the JSON reply (same seq)
// The device's proof1 tells which account it holds: the configured one, then the factory defaults, then blank
// credentials are tried locally (no extra round trip), as the reference implementation does.
// A 403, a reset or an undecryptable reply on a reused session means the device dropped it: one fresh handshake and
// one retry within the same call. Wrong credentials: AUTH_FAILED, and no handshake is attempted again before the
// backoff step (base × 2^(n-1), capped) has passed; the plug's other requests fail fast meanwhile.
import { randomBytes } from "node:crypto";
import { PlugwatchError } from "../contracts/errors";
import { authHash, DEFAULT_ACCOUNTS, handshake1Proof, handshake2Proof, KlapSession, sameProof, SEED_BYTES, type KlapVersion } from "./klap-crypto";
import { HttpConnections, type PostResult } from "./http-conn";

export interface Credentials {
  /** TP-Link account e-mail. */
  user: string;
  password: string;
}

export const KLAP_PORT = 80;
export const KLAP_TLS_PORT = 4433;
/** Session length when the device sends no TIMEOUT cookie, s. */
const DEFAULT_SESSION_S = 86_400;
/** Renew this long before the device's TIMEOUT (its clock drifts), s; at most a tenth of the session. */
const EXPIRY_MARGIN_S = 1200;

export interface KlapOptions {
  host: string;
  port?: number;
  tls?: boolean;
  /** 1 = Kasa IOT firmware (md5), 2 = Tapo SMART firmware (sha), "auto" = whichever the first handshake proves. */
  version: KlapVersion | "auto";
  /** The account; undefined = blank credentials (a plug never bound to the cloud). */
  credentials?: Credentials;
  /** Budget for one send(): handshake (if needed) and request together, ms (default 3000). */
  timeoutMs?: number;
  /** Monotonic ms clock for session expiry and auth backoff (injected in tests). */
  now?: () => number;
  /** First wait after an AUTH_FAILED, ms (default 5000), doubled per failure up to `authBackoffCapMs` (default 300 000). */
  authBackoffMs?: number;
  authBackoffCapMs?: number;
  /** Kept-alive connections shared with other plugs (default: the transport's own, closed by close()). */
  connections?: HttpConnections;
  /** Check the signature of replies (default true). */
  verifyReplies?: boolean;
  random?: (n: number) => Buffer;
}

interface Session {
  crypto: KlapSession;
  cookie: string | undefined;
  expiresAt: number;
  requests: number;
}

const sameCreds = (a: Credentials, b: Credentials): boolean => a.user === b.user && a.password === b.password;

export class KlapTransport {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Settles from "auto" to 1 or 2 at the first successful handshake. */
  version: KlapVersion | "auto";
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly random: (n: number) => Buffer;
  private readonly connections: HttpConnections;
  private readonly ownConnections: boolean;
  private readonly verify: boolean;
  private readonly candidates: { label: string; version: KlapVersion; hash: Buffer }[];
  private readonly backoffBase: number;
  private readonly backoffCap: number;
  private session: Session | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private authFailures = 0;
  private authBlockedUntil = 0;
  private closed = false;
  /** Handshakes attempted (handshake1 posts), for tests and stats. */
  handshakes = 0;
  /** Which credentials the device accepted last ("account", "default", "blank"). */
  acceptedAs: string | undefined;

  constructor(opts: KlapOptions) {
    this.host = opts.host;
    this.tls = opts.tls ?? false;
    this.port = opts.port ?? (this.tls ? KLAP_TLS_PORT : KLAP_PORT);
    this.version = opts.version;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.now = opts.now ?? (() => performance.now());
    this.random = opts.random ?? randomBytes;
    this.ownConnections = opts.connections === undefined;
    this.connections = opts.connections ?? new HttpConnections();
    this.verify = opts.verifyReplies ?? true;
    this.backoffBase = opts.authBackoffMs ?? 5000;
    this.backoffCap = opts.authBackoffCapMs ?? 300_000;
    const blank: Credentials = { user: "", password: "" };
    const account = opts.credentials ?? blank;
    const list: { label: string; creds: Credentials }[] = [{ label: "account", creds: account }];
    for (const d of this.version === 2 ? [DEFAULT_ACCOUNTS.tapo, DEFAULT_ACCOUNTS.kasa] : [DEFAULT_ACCOUNTS.kasa, DEFAULT_ACCOUNTS.tapo]) {
      if (!sameCreds(d, account)) list.push({ label: "default", creds: d });
    }
    if (!sameCreds(account, blank)) list.push({ label: "blank", creds: blank });
    const versions: KlapVersion[] = this.version === "auto" ? [1, 2] : [this.version];
    // Only the hashes are kept: the password itself is not held by the transport.
    this.candidates = versions.flatMap((version) => list.map(({ label, creds }) => ({ label, version, hash: authHash(version, creds.user, creds.password) })));
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** True while a session is held and not expired. */
  get hasSession(): boolean {
    return this.session !== undefined && this.session.expiresAt > this.now();
  }

  /** Sends one JSON request text; resolves with the reply text. One request at a time per plug (KLAP sequence). */
  send(text: string, timeoutMs = this.timeoutMs): Promise<string> {
    const run = this.queue.then(
      () => this.sendNow(text, timeoutMs),
      () => this.sendNow(text, timeoutMs),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Forgets the session; later sends are refused. */
  close(): void {
    this.closed = true;
    this.session = undefined;
    if (this.ownConnections) this.connections.close();
  }

  /** Builds a session now (probing); rejects like send() would. */
  handshakeNow(timeoutMs = this.timeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const run = this.queue.then(() =>
      this.handshake(() => {
        const left = deadline - Date.now();
        if (left <= 0) throw new PlugwatchError("DEVICE_UNREACHABLE", `no reply from ${this.address} within ${timeoutMs} ms`);
        return left;
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Drops the session so the next send starts with a handshake. */
  reset(): void {
    this.session = undefined;
  }

  private async sendNow(text: string, timeoutMs: number): Promise<string> {
    if (this.closed) throw new PlugwatchError("INTERNAL", "KLAP transport is closed");
    const deadline = Date.now() + timeoutMs;
    const remaining = (): number => {
      const left = deadline - Date.now();
      if (left <= 0) throw new PlugwatchError("DEVICE_UNREACHABLE", `no reply from ${this.address} within ${timeoutMs} ms`);
      return left;
    };
    const reused = this.hasSession;
    if (!reused) await this.handshake(remaining);
    try {
      return await this.request(text, remaining);
    } catch (err) {
      // The device dropped a session we had used before: renew once, transparently.
      if (reused && err instanceof SessionLost && !this.closed) {
        this.session = undefined;
        await this.handshake(remaining);
        try {
          return await this.request(text, remaining);
        } catch (again) {
          throw again instanceof SessionLost ? again.failure : again;
        }
      }
      throw err instanceof SessionLost ? err.failure : err;
    }
  }

  private async handshake(remaining: () => number): Promise<void> {
    this.session = undefined;
    const now = this.now();
    if (now < this.authBlockedUntil) {
      throw new PlugwatchError(
        "AUTH_FAILED",
        `${this.address} rejected the TP-Link account; next handshake in ${Math.ceil((this.authBlockedUntil - now) / 1000)} s`,
      );
    }
    const local = this.random(SEED_BYTES);
    this.handshakes++;
    const h1 = await this.post("/app/handshake1", local, undefined, remaining());
    if (h1.status === 404) throw new PlugwatchError("UNSUPPORTED_PROTOCOL", `${this.address} has no KLAP endpoint (HTTP 404 on handshake1)`);
    if (h1.status !== 200) throw new PlugwatchError("DEVICE_ERROR", `${this.address} answered HTTP ${h1.status} to handshake1`);
    if (h1.body.length !== SEED_BYTES + 32) {
      throw new PlugwatchError("PROTOCOL_ERROR", `${this.address} sent a ${h1.body.length}-byte handshake1 reply (expected ${SEED_BYTES + 32})`);
    }
    const remote = h1.body.subarray(0, SEED_BYTES);
    const proof = h1.body.subarray(SEED_BYTES);
    const match = this.candidates.find((c) => sameProof(handshake1Proof(c.version, local, remote, c.hash), proof));
    if (!match) {
      this.authFailures++;
      const wait = Math.min(this.backoffCap, this.backoffBase * 2 ** (this.authFailures - 1));
      this.authBlockedUntil = this.now() + wait;
      throw new PlugwatchError(
        "AUTH_FAILED",
        `${this.address} rejected the TP-Link account (check e-mail and password); next handshake in ${Math.ceil(wait / 1000)} s`,
      );
    }
    const id = h1.cookies.get("TP_SESSIONID");
    const cookie = id === undefined ? undefined : `TP_SESSIONID=${id}`;
    const timeoutS = Number(h1.cookies.get("TIMEOUT") ?? DEFAULT_SESSION_S);
    const lifeS = Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : DEFAULT_SESSION_S;
    const h2 = await this.post("/app/handshake2", handshake2Proof(match.version, local, remote, match.hash), cookie, remaining());
    if (h2.status !== 200) throw new PlugwatchError("DEVICE_ERROR", `${this.address} answered HTTP ${h2.status} to handshake2`);
    this.authFailures = 0;
    this.authBlockedUntil = 0;
    this.acceptedAs = match.label;
    this.version = match.version;
    this.session = {
      crypto: new KlapSession(local, remote, match.hash),
      cookie,
      expiresAt: this.now() + (lifeS - Math.min(EXPIRY_MARGIN_S, lifeS / 10)) * 1000,
      requests: 0,
    };
  }

  private async request(text: string, remaining: () => number): Promise<string> {
    const s = this.session;
    if (!s) throw new PlugwatchError("INTERNAL", "no KLAP session");
    const { seq, body } = s.crypto.encryptRequest(text);
    s.requests++;
    let res: PostResult;
    try {
      res = await this.post(`/app/request?seq=${seq}`, body, s.cookie, remaining());
    } catch (err) {
      this.session = undefined;
      const failure = err instanceof PlugwatchError ? err : new PlugwatchError("DEVICE_UNREACHABLE", String(err));
      // A reset or a reply that is not HTTP (not a timeout) is how firmware that serves one request per session
      // says so (python-kasa notes it for HS110 SHIP 2.0 firmware): a fresh session gets one more try.
      if ((failure.code === "DEVICE_UNREACHABLE" && !/within/.test(failure.message)) || failure.code === "PROTOCOL_ERROR") throw new SessionLost(failure);
      throw failure;
    }
    if (res.status === 403 || res.status === 401) {
      this.session = undefined;
      throw new SessionLost(new PlugwatchError("DEVICE_ERROR", `${this.address} refused the KLAP session (HTTP ${res.status})`));
    }
    if (res.status !== 200) {
      this.session = undefined;
      throw new PlugwatchError("DEVICE_ERROR", `${this.address} answered HTTP ${res.status} to request seq ${seq}`);
    }
    try {
      return s.crypto.open(res.body, seq, { verify: this.verify }).toString("utf8");
    } catch (err) {
      this.session = undefined;
      throw new SessionLost(err as PlugwatchError);
    }
  }

  private post(path: string, body: Buffer, cookie: string | undefined, timeoutMs: number): Promise<PostResult> {
    return this.connections.post({ host: this.host, port: this.port, path, body, tls: this.tls, cookie, timeoutMs });
  }
}

/** A failure that means the session is gone (retry once with a fresh handshake if the session was reused). */
class SessionLost extends Error {
  constructor(readonly failure: PlugwatchError) {
    super(failure.message);
  }
}
