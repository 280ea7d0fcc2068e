// Shared building blocks of every Plugwatch contract: identifiers, timestamps, the envelope version.
import { Type, type Static } from "@sinclair/typebox";

/** Contract version carried in every payload as `v`. Bump only on a breaking change. */
export const CONTRACT_VERSION = 1 as const;
export const Version = Type.Literal(CONTRACT_VERSION, { description: "Contract version" });

/** Lower-case slug: safe as an MQTT topic level, an InfluxDB tag value and a URL path segment. */
export const SLUG_PATTERN = "^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$";
export const Slug = Type.String({
  pattern: SLUG_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: "Lower-case letters, digits, '-' and '_'; starts and ends with a letter or digit; 1-64 characters",
});
export type Slug = Static<typeof Slug>;

/** Milliseconds since the Unix epoch, between 2000-01-01 and 2100-01-01. */
export const MIN_TS_MS = 946684800000;
export const MAX_TS_MS = 4102444800000;
export const EpochMs = Type.Integer({
  minimum: MIN_TS_MS,
  maximum: MAX_TS_MS,
  description: "Time in milliseconds since the Unix epoch (UTC)",
});

/** Correlation id of a request; echoed unchanged in its reply. */
export const RequestId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^[\\x21-\\x7e]+$",
  description: "Unique request id (printable ASCII, no spaces)",
});

/** Topic the reply is published on: the schema part of the rule; the whole rule is in ./reply-topic. */
export { ReplyTopic } from "./reply-topic";
