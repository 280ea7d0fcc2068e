// Plugwatch's Node-RED settings: used by the demo (`npm start`) and by the tests' child runtimes
// (test/support/nodered.ts). Everything environment-specific comes from environment variables, so
// the same file serves a laptop, CI and a server. Start with:
//   node node_modules/node-red/red.js -s settings.js
// Environment variables (all optional) are listed in docs/development.md#runtime-settings.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

/** Trimmed value of an environment variable, or undefined when unset/empty. */
function env(name) {
  const v = process.env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

/** Integer environment variable with a default; a non-numeric value stops startup with a clear message. */
function envMs(name, fallback) {
  const v = env(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 3600000) throw new Error(`settings.js: ${name} must be a number of ms 0..3600000, got '${v}'`);
  return n;
}

function envInt(name, fallback) {
  const v = env(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`settings.js: ${name} must be an integer 0..65535, got '${v}'`);
  return n;
}

const repoRoot = __dirname;

// --- Admin (editor + admin API) authentication --------------------------------------------------
// Only when both PLUGWATCH_ADMIN_USER and PLUGWATCH_ADMIN_PASSWORD_HASH (a bcrypt hash, e.g. from
// `npx node-red admin hash-pw`) are set; otherwise the editor is open, which is why the default
// listen address is loopback only (PLUGWATCH_HOST).
const adminUser = env("PLUGWATCH_ADMIN_USER");
const adminHash = env("PLUGWATCH_ADMIN_PASSWORD_HASH");
if ((adminUser === undefined) !== (adminHash === undefined)) {
  throw new Error("settings.js: set both PLUGWATCH_ADMIN_USER and PLUGWATCH_ADMIN_PASSWORD_HASH, or neither");
}
const adminAuth = adminUser ? { type: "credentials", users: [{ username: adminUser, password: adminHash, permissions: "*" }] } : undefined;

// The editor and admin API can deploy code: beyond loopback they need a login. Refuse to start without one.
const uiHost = env("PLUGWATCH_HOST") || "127.0.0.1";
const loopbackHost = (h) => h === "localhost" || h === "::1" || /^127\./.test(h);
if (!loopbackHost(uiHost) && !adminAuth) {
  throw new Error(
    `settings.js: PLUGWATCH_HOST=${uiHost} exposes the editor and admin API beyond loopback without a login: ` +
      "set PLUGWATCH_ADMIN_USER and PLUGWATCH_ADMIN_PASSWORD_HASH (npx node-red admin hash-pw), or keep PLUGWATCH_HOST=127.0.0.1",
  );
}

// --- HTTP node authentication (the REST API, the dashboard) --------------------------------------
// Basic auth in front of every HTTP-in route, only when both variables are set. The plugwatch-http-api node has
// its own bearer tokens; this is an extra outer gate for deployments that want one.
const httpUser = env("PLUGWATCH_HTTP_USER");
const httpHash = env("PLUGWATCH_HTTP_PASSWORD_HASH");
if ((httpUser === undefined) !== (httpHash === undefined)) {
  throw new Error("settings.js: set both PLUGWATCH_HTTP_USER and PLUGWATCH_HTTP_PASSWORD_HASH, or neither");
}

// HTTPS for the editor, the admin API and the REST API: PLUGWATCH_HTTPS_KEY and PLUGWATCH_HTTPS_CERT (PEM files;
// a chain may follow the certificate). Both or neither.
const httpsKey = env("PLUGWATCH_HTTPS_KEY");
const httpsCert = env("PLUGWATCH_HTTPS_CERT");
if (Boolean(httpsKey) !== Boolean(httpsCert)) throw new Error("settings.js: set both PLUGWATCH_HTTPS_KEY and PLUGWATCH_HTTPS_CERT, or neither");
const https = httpsKey ? { key: fs.readFileSync(httpsKey), cert: fs.readFileSync(httpsCert) } : undefined;

module.exports = {
  // --- Where Node-RED listens ---------------------------------------------------------------------
  // PORT (default 1880); PLUGWATCH_HOST (default 127.0.0.1 — loopback only; set 0.0.0.0 to expose it,
  // and then set adminAuth). `red.js -p <port>` overrides PORT.
  uiPort: envInt("PORT", 1880),
  uiHost,
  https,

  // --- Files --------------------------------------------------------------------------------------
  // The user directory holds the flow file, credentials, context (alerts), the plugwatch-influx-hook spool.
  // Default: <repo>/.node-red (git-ignored). `red.js -u <dir>` overrides it.
  userDir: env("PLUGWATCH_USER_DIR") || path.join(repoRoot, ".node-red"),
  // Flow file, relative to userDir unless absolute.
  flowFile: env("PLUGWATCH_FLOW_FILE") || "flows.json",
  flowFilePretty: true,

  // --- Credential encryption -----------------------------------------------------------------------
  // Node credentials (tokens, passwords) are encrypted in flows_cred.json with this key. When
  // PLUGWATCH_CREDENTIAL_SECRET is unset, Node-RED generates a random key once and stores it in
  // <userDir>/.config.runtime.json: fine for one machine, but copy that key (or set the variable)
  // when moving the flow files elsewhere, or the credentials cannot be decrypted.
  credentialSecret: env("PLUGWATCH_CREDENTIAL_SECRET"),

  // --- Loading this package ------------------------------------------------------------------------
  // Node-RED loads a directory in nodesDir whose package.json has a `node-red` section as a node module:
  // the repo root → package.json `node-red.nodes` (dist/nodes/...) and examples/ (Import → Examples).
  // PLUGWATCH_NODES_DIR points elsewhere (the test harness uses it for builds outside dist/).
  nodesDir: env("PLUGWATCH_NODES_DIR") || repoRoot,

  // --- Security -----------------------------------------------------------------------------------
  adminAuth,
  httpNodeAuth: httpUser ? { user: httpUser, pass: httpHash } : undefined,
  // The editor shares the server's root path with the HTTP nodes, so the admin app's body parser (5 MB, HTML
  // errors) would read every request first. Requests for the REST API leave the admin app at once
  // (Express's documented next("router")), so the plugwatch-http-api node parses, limits and answers them
  // itself: a malformed or oversized body gets problem details, not an HTML page. PLUGWATCH_API_PATH names the
  // node's base path when it is not /api/v1.
  httpAdminMiddleware: (req, _res, next) => {
    const base = env("PLUGWATCH_API_PATH") || "/api/v1";
    if (req.path === base || req.path.startsWith(base + "/")) next("router");
    else next();
  },
  // Function nodes may not `require` npm modules (nothing gets installed at runtime).
  functionExternalModules: false,
  // Palette installs need the network, which the demo and CI do not have.
  externalModules: { autoInstall: false, palette: { allowInstall: env("PLUGWATCH_ALLOW_PALETTE_INSTALL") === "true" } },

  // --- Privacy and first-run noise ------------------------------------------------------------------
  // No update check, no telemetry prompt, no welcome tour, no projects, no diagnostics endpoint.
  telemetry: { enabled: false },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  editorTheme: {
    page: { title: "Plugwatch · Node-RED" },
    header: { title: "Plugwatch" },
    tours: false,
    projects: { enabled: false },
    palette: { catalogues: [] },
  },

  // --- Context storage ------------------------------------------------------------------------------
  // `memory` is the default store; `file` persists to <userDir>/context and is where the alert node
  // keeps its active alerts so they survive a restart (flushed every 30 s and on a clean stop).
  contextStorage: {
    default: { module: "memory" },
    memory: { module: "memory" },
    file: { module: "localfilesystem" },
  },
  exportGlobalContextKeys: false,

  // --- Logging --------------------------------------------------------------------------------------
  // PLUGWATCH_LOG_LEVEL: fatal | error | warn | info (default) | debug | trace.
  logging: {
    console: { level: env("PLUGWATCH_LOG_LEVEL") || "info", metrics: false, audit: false },
  },

  // --- Plugwatch ----------------------------------------------------------------------------------
  plugwatch: {
    // Limits on the HTTP server the editor and the REST API share (lib/http-limits.ts), applied by the
    // plugwatch-http-api node: a socket idle this long is closed, headers must arrive within headersTimeoutMs and
    // the whole request within requestTimeoutMs (checked every 30 s by Node), keep-alive sockets close after
    // keepAliveTimeoutMs. The editor's WebSocket is not affected. `httpServer: false` leaves Node's defaults.
    httpServer: {
      idleTimeoutMs: envMs("PLUGWATCH_HTTP_IDLE_MS", 30000),
      headersTimeoutMs: envMs("PLUGWATCH_HTTP_HEADERS_MS", 20000),
      requestTimeoutMs: envMs("PLUGWATCH_HTTP_REQUEST_MS", 120000),
      keepAliveTimeoutMs: envMs("PLUGWATCH_HTTP_KEEPALIVE_MS", 5000),
    },
  },

  // --- Misc ---------------------------------------------------------------------------------------
  // Debug sidebar messages are truncated to keep the editor responsive with ~1000 readings/s.
  debugMaxLength: 1000,
  // Give nodes time to close sockets, flush spools and persist alerts on stop/redeploy (ms).
  nodeCloseTimeout: 15000,
};
