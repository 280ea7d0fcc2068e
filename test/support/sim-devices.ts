// Registry devices for node tests that talk to a SimulatedOffice plug on loopback.
import type { Device } from "../../lib/contracts";

/**
 * An HS110 of kind "other" on 127.0.0.1 in building hq, floor 1, `room`. Port 0: SimulatedOffice binds a free port
 * (portFor: () => 0) and the test's registry is built from the plug's actual port. `props` overrides fields.
 */
export function simPlug(id: string, name: string, room: string, props: Partial<Device> = {}): Device {
  return { id, name, model: "HS110", host: "127.0.0.1", port: 0, kind: "other", location: { building: "hq", floor: "1", room }, ...props };
}
