// TCP_NODELAY on the MQTT connections of the core mqtt-broker config nodes.
//
// mqtt.js opens its TCP socket with Nagle's algorithm on (node_modules/mqtt/build/lib/connect/tcp.js). On a
// request/reply path (plugwatch-http-api → broker → plugwatch-influx-query → broker → plugwatch-http-api) a packet written while an earlier one
// on the same socket is still unacknowledged (e.g. a reply PUBLISH right after a PUBACK) then waits for the peer's
// delayed ACK — up to 40 ms on Linux, per hop. The API bench showed it as a bimodal ~45–60 ms step
// (docs/performance.md); disabling Nagle on those sockets removed it. The packets are the same, only sent
// without waiting.
//
// The core node creates a new client on every connect() and mqtt.js a new socket on every reconnect (through the
// client's streamBuilder), so this wraps connect() of each broker instance and the streamBuilder of each client:
// a reconnect's socket has the option before its first byte. The "connect" event sets it again as a safety net.
// It applies to every mqtt-broker node of the runtime once the package is installed, Plugwatch node or not.
import type { NodeAPI } from "node-red";

interface SocketLike {
  setNoDelay?: (noDelay?: boolean) => unknown;
}
interface MqttClientLike {
  stream?: SocketLike;
  streamBuilder?: (client: MqttClientLike) => SocketLike;
  on(event: "connect", cb: () => void): unknown;
}
/** The parts of the core mqtt-broker node (node_modules/@node-red/nodes/core/network/10-mqtt.js) this touches. */
export interface BrokerLike {
  client?: MqttClientLike;
  connect?: (...args: unknown[]) => unknown;
}

const WRAPPED = Symbol.for("plugwatch.mqtt-nodelay");
const watched = new WeakSet<object>();

function noDelay(s: SocketLike | undefined): void {
  // ws:// streams have no such option; TLS sockets pass it to their TCP socket; a socket still connecting keeps it.
  if (s && typeof s.setNoDelay === "function") s.setNoDelay(true);
}

function watch(client: MqttClientLike | undefined): void {
  if (!client || typeof client.on !== "function" || watched.has(client)) return;
  watched.add(client);
  const build = client.streamBuilder;
  if (typeof build === "function") {
    client.streamBuilder = (c: MqttClientLike) => {
      const stream = build(c);
      noDelay(stream);
      return stream;
    };
  }
  client.on("connect", () => noDelay(client.stream));
  noDelay(client.stream);
}

/** Makes one broker node's connections use TCP_NODELAY, now and after every (re)connect. Idempotent. */
export function noDelayBroker(broker: BrokerLike | null | undefined): void {
  if (!broker) return;
  const b = broker as BrokerLike & { [WRAPPED]?: true };
  if (!b[WRAPPED] && typeof b.connect === "function") {
    const connect = b.connect;
    b.connect = function (this: BrokerLike, ...args: unknown[]) {
      const r = connect.apply(this, args);
      watch(this.client);
      return r;
    };
    b[WRAPPED] = true;
  }
  watch(b.client);
}

/** The node API each runtime's events bus was last installed with (a test helper loads the modules again per test). */
const installed = new WeakMap<object, NodeAPI>();

/** False when settings.js has `plugwatch: { mqttNoDelay: false }`. */
function mqttNoDelayEnabled(RED: NodeAPI): boolean {
  const settings = RED.settings as unknown as { plugwatch?: { mqttNoDelay?: boolean } };
  return settings.plugwatch?.mqttNoDelay !== false;
}

/**
 * Applies noDelayBroker to every mqtt-broker config node of the runtime each time flows start, unless
 * settings.js has `plugwatch: { mqttNoDelay: false }` (read at each start). Called by the modules of the nodes on
 * MQTT request/reply paths; installs one listener per runtime however often it is called.
 */
export function installMqttNoDelay(RED: NodeAPI): void {
  const events = (RED as unknown as { events?: { on(e: string, cb: () => void): void } }).events;
  if (!events) return;
  const first = !installed.has(events);
  installed.set(events, RED);
  if (!first) return;
  events.on("flows:started", () => {
    const red = installed.get(events) ?? RED;
    // Runs inside the runtime's flows start: a failure here must never stop the flows.
    try {
      if (!mqttNoDelayEnabled(red)) return;
      red.nodes.eachNode((n) => {
        if (n.type === "mqtt-broker") noDelayBroker(red.nodes.getNode(n.id) as unknown as BrokerLike);
      });
    } catch (err) {
      red.log.warn(`plugwatch: could not set TCP_NODELAY on the MQTT connections: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}
