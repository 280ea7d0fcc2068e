// Config node: loads and validates the device registry file once; agents, hooks and the API share it.
import type { NodeAPI } from "node-red";
import type { PlugwatchRegistryNode, PlugwatchRegistryNodeDef } from "./types";
import { unknownDevicesFor } from "../../lib/pending-file";
import { loadRegistrySource, RegistryError, resolveRegistryPath, type RegistrySource } from "../../lib/registry";
import { defineNode, type ParseEnv } from "../shared/kit";
import { servePending } from "./pending-endpoint";

interface RegistryConfig extends RegistrySource {
  /** Policy for readings of ids not in the registry (lib/pending.ts), checked by unknownDevicesFor. */
  unknownDevices: unknown;
}

function parseRegistryConfig(def: PlugwatchRegistryNodeDef, env: ParseEnv): RegistryConfig {
  if (def.source === "json")
    return { source: "json", label: `registry '${def.name || def.id}' (inline JSON)`, json: def.json || "", unknownDevices: def.unknownDevices };
  return { source: "file", label: def.file ? resolveRegistryPath(def.file, env.userDir) : "", json: "", unknownDevices: def.unknownDevices };
}

export = (RED: NodeAPI) => {
  defineNode<PlugwatchRegistryNodeDef, RegistryConfig, object, PlugwatchRegistryNode>(RED, "plugwatch-registry", parseRegistryConfig, (node, src, kit) => {
    try {
      node.registry = loadRegistrySource(src);
      node.log(kit.t("log.loaded", { count: node.registry.size, file: src.label }));
      const unknown = unknownDevicesFor(src.unknownDevices, kit.userDir, node.id, (m) => node.warn(m));
      node.registry.unknown = unknown;
      if (unknown.policy !== "reject") node.log(kit.t("log.unknown", { policy: unknown.policy, pending: unknown.count("pending") }));
    } catch (err) {
      node.loadError = err instanceof RegistryError ? err : new RegistryError(src.label, [{ file: src.label, path: "$", message: String(err) }]);
      // A bad file must not stop Node-RED: report every issue and leave the registry empty (never half-loaded).
      for (const issue of node.loadError.issues) node.error(`${issue.file} ${issue.path}: ${issue.message}`);
    }
    node.require = () => {
      if (node.registry) return node.registry;
      throw node.loadError ?? new RegistryError(src.label, [{ file: src.label, path: "$", message: kit.t("errors.notLoaded") }]);
    };
  });
  servePending(RED);
};
