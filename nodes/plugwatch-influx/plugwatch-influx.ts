// Config node: one InfluxDB connection (URL, flavour, credentials, TLS, timeout), its shared keep-alive HTTP pool,
// and the retention tiers it keeps in step (lib/influx/retention-manager.ts).
import type { NodeAPI } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";
import { InfluxHttp } from "../../lib/influx/http";
import { lateWindowsFile, lateWindowsFileOf } from "../../lib/influx/late-windows-file";
import { RetentionManager } from "../../lib/influx/retention-manager";
import { parseRetentionSettings } from "../../lib/influx/retention";
import { influxSettingsFromConfig } from "../../lib/influx/settings";
import { defineNode } from "../shared/kit";
import type { PlugwatchInfluxCredentials, PlugwatchInfluxNode, PlugwatchInfluxNodeDef } from "./types";

export = (RED: NodeAPI) =>
  defineNode<PlugwatchInfluxNodeDef, PlugwatchInfluxNodeDef, PlugwatchInfluxCredentials, PlugwatchInfluxNode>(
    RED,
    "plugwatch-influx",
    (def) => def,
    (node, def, kit) => {
      try {
        const { url, flavour, database, retentionPolicy, org, bucket, timeout, gzip, rejectUnauthorized, caFile } = def;
        const creds = node.credentials ?? {};
        node.settings = influxSettingsFromConfig(
          { url, flavour, database, retentionPolicy, org, bucket, timeout, gzip, rejectUnauthorized, caFile, ...creds },
          kit.userDir,
        );
        const retention = parseRetentionSettings(def);
        const http = (node.http = new InfluxHttp(node.settings));
        const manager = new RetentionManager({
          influx: node.settings,
          retention,
          send: (spec, body) => http.send(spec, body),
          clock: kit.clock,
          log: (m) => node.log(m),
          warn: (m, key) => kit.warnLimited(key, m),
          // Late windows survive a crash or restart in userDir (memory only without one, e.g. embedded runtimes).
          ...(kit.userDir && retention.enabled ? { store: lateWindowsFile(lateWindowsFileOf(kit.userDir, node.id), (m) => node.warn(m)) } : {}),
        });
        node.retention = manager;
        // 3.x keeps no tiers (docs/retention.md): its queries always read raw readings.
        if (node.settings.flavour !== "3.x") node.rollups = retention;
        void kit.track(manager.start());
      } catch (err) {
        // Users of this config node get the error from require(); the config node itself stays up.
        node.configError = err instanceof Error ? err : new Error(String(err));
        node.error(kit.t("error.config", { message: node.configError.message }));
      }
      node.require = () => {
        if (node.settings && node.http) return { settings: node.settings, http: node.http };
        throw node.configError ?? new PlugwatchError("STORAGE_UNAVAILABLE", kit.t("error.notLoaded"));
      };
      kit.onClose(async () => {
        await node.retention?.close();
        node.http?.close();
        node.http = undefined;
      });
    },
    { credentials: { username: { type: "text" }, password: { type: "password" }, token: { type: "password" } } },
  );
