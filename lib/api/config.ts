// Editor configuration of the plugwatch-http-api node → checked settings (one clear message per bad value).
import { checkRoot, DEFAULT_ROOT } from "../topics";
import { showValue } from "../show-value";

export interface ApiConfig {
  root: string;
  basePath: string;
  timeoutMs: number;
  inactiveAfterDays: number;
  historySize: number;
  auth: "tokens" | "none";
  openHealth: boolean;
  openSpec: boolean;
}

export const CONFIG_DEFAULTS: ApiConfig = {
  root: DEFAULT_ROOT,
  basePath: "/api/v1",
  timeoutMs: 5000,
  inactiveAfterDays: 30,
  historySize: 1000,
  auth: "tokens",
  openHealth: true,
  openSpec: true,
};

export const CONFIG_RANGES = {
  timeoutMs: { min: 100, max: 120_000 },
  inactiveAfterDays: { min: 1, max: 3650 },
  historySize: { min: 1, max: 100_000 },
} as const;

export class ApiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApiConfigError";
  }
}

function intIn(value: unknown, name: keyof typeof CONFIG_RANGES, dflt: number): number {
  if (value === undefined || value === "") return dflt;
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value.trim()) : NaN;
  const { min, max } = CONFIG_RANGES[name];
  if (!Number.isInteger(n) || n < min || n > max) throw new ApiConfigError(`${name} must be a whole number from ${min} to ${max} (got '${showValue(value)}')`);
  return n;
}

const bool = (v: unknown, dflt: boolean): boolean => (v === undefined || v === "" ? dflt : v === true || v === "true");

/** The saved node configuration as it may arrive (editor strings, older flows): every field unchecked. */
export type ApiConfigInput = { readonly [K in keyof ApiConfig]?: unknown };

/** Checks the saved node configuration; throws ApiConfigError naming the bad property. */
export function parseApiConfig(def: ApiConfigInput): ApiConfig {
  const root = typeof def.root === "string" && def.root.trim() ? def.root.trim() : CONFIG_DEFAULTS.root;
  try {
    checkRoot(root);
  } catch (err) {
    throw new ApiConfigError((err as Error).message);
  }
  const basePath = typeof def.basePath === "string" && def.basePath.trim() ? def.basePath.trim().replace(/\/+$/, "") : CONFIG_DEFAULTS.basePath;
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) {
    throw new ApiConfigError(`base path '${String(def.basePath)}' must start with '/' and use letters, digits, '.', '_', '~', '-' (e.g. /api/v1)`);
  }
  const auth = def.auth === "none" ? "none" : def.auth === undefined || def.auth === "" || def.auth === "tokens" ? "tokens" : undefined;
  if (!auth) throw new ApiConfigError(`auth must be 'tokens' or 'none' (got '${String(def.auth)}')`);
  return {
    root,
    basePath,
    timeoutMs: intIn(def.timeoutMs, "timeoutMs", CONFIG_DEFAULTS.timeoutMs),
    inactiveAfterDays: intIn(def.inactiveAfterDays, "inactiveAfterDays", CONFIG_DEFAULTS.inactiveAfterDays),
    historySize: intIn(def.historySize, "historySize", CONFIG_DEFAULTS.historySize),
    auth,
    openHealth: bool(def.openHealth, CONFIG_DEFAULTS.openHealth),
    openSpec: bool(def.openSpec, CONFIG_DEFAULTS.openSpec),
  };
}

/** Topic replies come back on: one per node instance; requests are correlated by `id` (rule: lib/contracts/reply-topic). */
export { replyTopicOf } from "../contracts/reply-topic";
