// Config node: the TP-Link account (e-mail + password, Node-RED credentials) used by the KLAP/Tapo transports.
// The values are handed to lib/transports only; they never go into a status, a log line, a message or an error.
import type { NodeAPI } from "node-red";
import type { PlugwatchTplinkAccountCredentials, PlugwatchTplinkAccountNode, PlugwatchTplinkAccountNodeDef } from "./types";

export = (RED: NodeAPI) => {
  function PlugwatchTplinkAccount(this: PlugwatchTplinkAccountNode, def: PlugwatchTplinkAccountNodeDef) {
    RED.nodes.createNode(this, def);
    const creds: PlugwatchTplinkAccountCredentials = this.credentials ?? {};
    this.account = () => {
      const user = (creds.email ?? "").trim();
      return user ? { user, password: creds.password ?? "" } : undefined;
    };
  }
  RED.nodes.registerType<PlugwatchTplinkAccountNode, PlugwatchTplinkAccountNodeDef, object, PlugwatchTplinkAccountCredentials>("plugwatch-tplink-account", PlugwatchTplinkAccount, {
    credentials: { email: { type: "text" }, password: { type: "password" } },
  });
};
