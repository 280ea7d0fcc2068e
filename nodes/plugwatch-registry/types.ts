// Types of the plugwatch-registry config node, imported by the nodes that use it.
import type { Node, NodeDef } from "node-red";
import type { Registry, RegistryError } from "../../lib/registry";

export interface PlugwatchRegistryNodeDef extends NodeDef {
  source: "file" | "json";
  file: string;
  json: string;
  /** Policy for well-formed readings of ids not in the registry (lib/pending.ts); absent in flows saved before it: reject. */
  unknownDevices?: string;
}

export interface PlugwatchRegistryNode extends Node {
  /** The validated registry, or undefined when the file is invalid (see `loadError`). */
  registry?: Registry;
  loadError?: RegistryError;
  /** Returns the registry or throws the RegistryError explaining why there is none. */
  require(): Registry;
}
