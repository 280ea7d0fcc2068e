// The core mqtt-broker config node as lib/api's BrokerPort: connected(), and publish() as a promise.
import type { BrokerPort } from "../../lib/api/service";
import type { MqttBrokerNode } from "../plugwatch-http-api/types";

/** Publishes at QoS 1, not retained; rejects with `notConnected()` while the broker is down (or none is selected). */
export function brokerPort(broker: MqttBrokerNode | undefined, notConnected: () => string): BrokerPort {
  return {
    connected: () => broker?.connected === true,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        if (!broker?.connected) return reject(new Error(notConnected()));
        broker.publish({ topic, payload, qos: 1, retain: false }, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
      }),
  };
}
