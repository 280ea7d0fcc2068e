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

  // The editor's list of devices not in the registry (lib/pending.ts): GET lists them, POST approves or rejects one.
  const unknownOf = (id: unknown) => (RED.nodes.getNode(String(id)) as PlugwatchRegistryNode | null)?.registry?.unknown;
  const param = (v: unknown): string => (typeof v === "string" ? v : "");
  RED.httpAdmin.get("/plugwatch-registry/:id/unknown", RED.auth.needsPermission("plugwatch-registry.read"), (req, res) => {
    const unknown = unknownOf(req.params.id);
    if (!unknown) return void res.status(404).json({ code: "REGISTRY_INVALID", message: "no deployed registry with this id" });
    res.json({ policy: unknown.policy, devices: unknown.list() });
  });
  RED.httpAdmin.post("/plugwatch-registry/:id/unknown/:device/:decision", RED.auth.needsPermission("plugwatch-registry.write"), (req, res) => {
    const unknown = unknownOf(req.params.id);
    const decision = req.params.decision;
    if (!unknown || (decision !== "approve" && decision !== "reject")) return void res.status(404).json({ code: "NOT_FOUND", message: "no deployed registry with this id, or not approve/reject" });
    try {
      res.json(decision === "approve" ? unknown.approve(param(req.params.device)) : unknown.reject(param(req.params.device)));
    } catch (err) {
      res.status(404).json({ code: "UNKNOWN_DEVICE", message: (err as Error).message });
    }
  });
};
