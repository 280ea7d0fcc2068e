// Config node: one InfluxDB connection (URL, flavour, credentials, TLS, timeout) and its shared keep-alive HTTP pool.
import type { NodeAPI } from "node-red";
import { PlugwatchError } from "../../lib/contracts/errors";
import { InfluxHttp } from "../../lib/influx/http";
import { influxSettingsFromConfig } from "../../lib/influx/settings";
import type { PlugwatchInfluxCredentials, PlugwatchInfluxNode, PlugwatchInfluxNodeDef } from "./types";

export = (RED: NodeAPI) => {
  function PlugwatchInflux(this: PlugwatchInfluxNode, def: PlugwatchInfluxNodeDef) {
    RED.nodes.createNode(this, def);
    const creds: PlugwatchInfluxCredentials = this.credentials ?? {};
    try {
      this.settings = influxSettingsFromConfig(
        {
          url: def.url,
          flavour: def.flavour,
          database: def.database,
          retentionPolicy: def.retentionPolicy,
          org: def.org,
          bucket: def.bucket,
          timeout: def.timeout,
          gzip: def.gzip,
          rejectUnauthorized: def.rejectUnauthorized,
          caFile: def.caFile,
          ...creds,
        },
        (RED.settings as { userDir?: string }).userDir,
      );
      this.http = new InfluxHttp(this.settings);
    } catch (err) {
      this.configError = err instanceof Error ? err : new Error(String(err));
      this.error(RED._("plugwatch-influx.error.config", { message: this.configError.message }));
    }
    this.require = () => {
      if (this.settings && this.http) return { settings: this.settings, http: this.http };
      throw this.configError ?? new PlugwatchError("STORAGE_UNAVAILABLE", "InfluxDB configuration is not loaded");
    };
    this.on("close", (_removed: boolean, done: () => void) => {
      this.http?.close();
      this.http = undefined;
      done();
    });
  }
  RED.nodes.registerType<PlugwatchInfluxNode, PlugwatchInfluxNodeDef, object, PlugwatchInfluxCredentials>("plugwatch-influx", PlugwatchInflux, {
    credentials: { username: { type: "text" }, password: { type: "password" }, token: { type: "password" } },
  });
};
