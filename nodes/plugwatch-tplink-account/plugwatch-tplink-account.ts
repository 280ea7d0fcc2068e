// Config node: the TP-Link account (e-mail + password, Node-RED credentials) used by the KLAP/Tapo transports.
// The values are handed to lib/transports only; they never go into a status, a log line, a message or an error.
import type { NodeAPI } from "node-red";
import { defineNode } from "../shared/kit";
import type { PlugwatchTplinkAccountCredentials, PlugwatchTplinkAccountNode, PlugwatchTplinkAccountNodeDef } from "./types";

export = (RED: NodeAPI) =>
  defineNode<PlugwatchTplinkAccountNodeDef, null, PlugwatchTplinkAccountCredentials, PlugwatchTplinkAccountNode>(
    RED,
    "plugwatch-tplink-account",
    () => null,
    (node) => {
      node.account = () => {
        const user = (node.credentials?.email ?? "").trim();
        return user ? { user, password: node.credentials?.password ?? "" } : undefined;
      };
    },
    { credentials: { email: { type: "text" }, password: { type: "password" } } },
  );
