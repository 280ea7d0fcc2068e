// The editor's list of devices not in the registry (lib/pending.ts): GET lists them, POST approves or rejects one.
import type { NodeAPI } from "node-red";
import type { PlugwatchRegistryNode } from "./types";

export function servePending(RED: NodeAPI): void {
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
    if (!unknown || (decision !== "approve" && decision !== "reject"))
      return void res.status(404).json({ code: "NOT_FOUND", message: "no deployed registry with this id, or not approve/reject" });
    try {
      res.json(decision === "approve" ? unknown.approve(param(req.params.device)) : unknown.reject(param(req.params.device)));
    } catch (err) {
      res.status(404).json({ code: "UNKNOWN_DEVICE", message: (err as Error).message });
    }
  });
}
