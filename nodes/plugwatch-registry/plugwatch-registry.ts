// Config node: loads and validates the device registry file once; agents, hooks and the API share it.
import type { NodeAPI } from "node-red";
import type { PlugwatchRegistryNode, PlugwatchRegistryNodeDef } from "./types";
import { buildRegistry, lineColumn, loadRegistryFile, RegistryError, resolveRegistryPath } from "../../lib/registry";
import { unknownDevicesFor } from "../../lib/pending-file";

export = (RED: NodeAPI) => {
  function PlugwatchRegistry(this: PlugwatchRegistryNode, def: PlugwatchRegistryNodeDef) {
    RED.nodes.createNode(this, def);
    const source = def.source === "json" ? "json" : "file";
    const label = source === "json" ? `registry '${def.name || def.id}' (inline JSON)` : resolveRegistryPath(def.file || "", RED.settings.userDir as string | undefined);
    try {
      if (source === "json") {
        let json: unknown;
        try {
          json = JSON.parse(def.json || "");
        } catch (err) {
          throw new RegistryError(label, [{ file: label, path: "$", message: `not valid JSON: ${(err as Error).message}${lineColumn(def.json || "", (err as Error).message)}` }]);
        }
        this.registry = buildRegistry(json, label);
      } else {
        if (!def.file) throw new RegistryError("(no file)", [{ file: "(no file)", path: "$", message: "no registry file configured" }]);
        this.registry = loadRegistryFile(label);
      }
      this.log(RED._("plugwatch-registry.log.loaded", { count: this.registry.size, file: label }));
      this.registry.unknown = unknownDevicesFor(def.unknownDevices, RED.settings.userDir as string | undefined, this.id, (m) => this.warn(m));
      if (this.registry.unknown.policy !== "reject") this.log(RED._("plugwatch-registry.log.unknown", { policy: this.registry.unknown.policy, pending: this.registry.unknown.count("pending") }));
    } catch (err) {
      this.loadError = err instanceof RegistryError ? err : new RegistryError(label, [{ file: label, path: "$", message: String(err) }]);
      // A bad file must not stop Node-RED: report every issue and leave the registry empty (never half-loaded).
      for (const issue of this.loadError.issues) this.error(`${issue.file} ${issue.path}: ${issue.message}`);
    }
    this.require = () => {
      if (this.registry) return this.registry;
      throw this.loadError ?? new RegistryError(label, [{ file: label, path: "$", message: "registry not loaded" }]);
    };
  }
  RED.nodes.registerType("plugwatch-registry", PlugwatchRegistry);
};
