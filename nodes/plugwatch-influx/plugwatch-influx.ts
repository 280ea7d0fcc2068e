// Config node: one InfluxDB connection (URL, flavour, credentials, TLS, timeout) and its shared keep-alive HTTP pool.
import type { NodeAPI } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";
import { InfluxHttp } from "../../lib/influx/http";
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
        node.http = new InfluxHttp(node.settings);
      } catch (err) {
        // Users of this config node get the error from require(); the config node itself stays up.
        node.configError = err instanceof Error ? err : new Error(String(err));
        node.error(kit.t("error.config", { message: node.configError.message }));
      }
      node.require = () => {
        if (node.settings && node.http) return { settings: node.settings, http: node.http };
        throw node.configError ?? new PlugwatchError("STORAGE_UNAVAILABLE", kit.t("error.notLoaded"));
      };
      kit.onClose(() => {
        node.http?.close();
        node.http = undefined;
      });
    },
    { credentials: { username: { type: "text" }, password: { type: "password" }, token: { type: "password" } } },
  );
