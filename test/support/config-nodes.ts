// Config nodes for test flows: a plugwatch-registry with its devices inline, a plugwatch-influx connection.

/**
 * A plugwatch-registry config node (id "reg", source "json") holding `registry` inline: an object is serialised,
 * a string is used as it is (for registries that are invalid on purpose). `props` adds or overrides fields.
 */
export function registryConfig(registry: { devices: readonly unknown[] } | string, props: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "reg", type: "plugwatch-registry", source: "json", json: typeof registry === "string" ? registry : JSON.stringify(registry), ...props };
}

/** A plugwatch-influx config node (id "influx") for `url`; `props` adds the flavour, database, timeout and so on. */
export function influxConfig(url: string, props: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "influx", type: "plugwatch-influx", url, ...props };
}
