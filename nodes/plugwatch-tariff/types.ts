// Types of the plugwatch-tariff config node, imported by the nodes that use it.
import type { Node, NodeDef } from "node-red";
import type { TariffBook, TariffError } from "../../lib/tariff/load";

export interface PlugwatchTariffNodeDef extends NodeDef {
  source: "file" | "json";
  file: string;
  json: string;
  /** Id of a plugwatch-schedule config node whose holiday calendar is joined to the tariffs' own dates ('' or absent: none). */
  schedule?: string;
}

export interface PlugwatchTariffNode extends Node {
  /** The validated tariffs, or undefined when the definition is invalid (see `loadError`). */
  book?: TariffBook;
  loadError?: TariffError;
  /** Returns the tariffs or throws the TariffError (code TARIFF_INVALID) explaining why there are none. */
  require(): TariffBook;
}
