// Types of the plugwatch-tplink-account config node: the TP-Link account KLAP/Tapo plugs are bound to.
import type { Node, NodeDef } from "node-red";
import type { Credentials } from "../../lib/transports/klap";

/** What the editor saves: only the name (the account itself is in the credentials). */
export interface PlugwatchTplinkAccountNodeDef extends NodeDef {
  name: string;
}

/** Stored by Node-RED in its credentials file (never in the flow). */
export interface PlugwatchTplinkAccountCredentials {
  email?: string;
  password?: string;
}

export interface PlugwatchTplinkAccountNode extends Node<PlugwatchTplinkAccountCredentials> {
  /** The account for the transports, or undefined when no e-mail is set (blank credentials). */
  account(): Credentials | undefined;
}
