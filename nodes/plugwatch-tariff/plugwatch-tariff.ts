// Config node: loads and validates the tariffs once (file in the user directory or inline JSON); the query component prices with them.
import type { NodeAPI } from "node-red";
import { loadTariffSource, TariffError, type TariffSource } from "../../lib/tariff/load";
import { resolveRegistryPath } from "../../lib/registry";
import { defineNode, type ParseEnv } from "../shared/kit";
import type { PlugwatchTariffNode, PlugwatchTariffNodeDef } from "./types";

function parseTariffConfig(def: PlugwatchTariffNodeDef, env: ParseEnv): TariffSource {
  if (def.source === "json") return { source: "json", label: `tariff '${def.name || def.id}' (inline JSON)`, json: def.json || "" };
  return { source: "file", label: def.file ? resolveRegistryPath(def.file, env.userDir) : "", json: "" };
}

export = (RED: NodeAPI) =>
  defineNode<PlugwatchTariffNodeDef, TariffSource, object, PlugwatchTariffNode>(RED, "plugwatch-tariff", parseTariffConfig, (node, src, kit) => {
    try {
      node.book = loadTariffSource(src);
      node.log(kit.t("log.loaded", { count: node.book.tariffs.size, file: src.label }));
    } catch (err) {
      node.loadError = err instanceof TariffError ? err : new TariffError(src.label, [{ file: src.label, path: "$", message: String(err) }]);
      // An invalid tariff must not stop Node-RED: every issue is logged, nothing is priced (never half a tariff).
      for (const issue of node.loadError.issues) node.error(`${issue.file} ${issue.path}: ${issue.message}`);
      kit.status.text("error", "TARIFF_INVALID");
    }
    node.require = () => {
      if (node.book) return node.book;
      throw node.loadError ?? new TariffError(src.label, [{ file: src.label, path: "$", message: kit.t("errors.notLoaded") }]);
    };
  });
