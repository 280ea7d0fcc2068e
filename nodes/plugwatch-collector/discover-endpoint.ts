// The editor's "discover" button: UDP broadcast (plus optional unicast probes) for a few seconds, answers as registry drafts.
import type { NodeAPI } from "node-red";
import { asPlugwatchError } from "../../lib/contracts/errors";
import { discover, parseDiscoveryQuery, toRegistryDrafts, type DiscoveryQuery } from "../../lib/discovery";

export function serveDiscovery(RED: NodeAPI): void {
  RED.httpAdmin.get("/plugwatch/discover", RED.auth.needsPermission("plugwatch-collector.read"), (req, res) => {
    let query: DiscoveryQuery;
    try {
      query = parseDiscoveryQuery(req.query);
    } catch (err) {
      const e = asPlugwatchError(err, "INVALID_REQUEST");
      res.status(400).json({ code: e.code, message: e.message });
      return;
    }
    discover({ broadcast: query.broadcast, timeoutMs: query.timeoutMs, probe: query.probe }).then(
      (plugs) => res.json({ broadcast: query.broadcast, timeoutMs: query.timeoutMs, found: plugs, drafts: toRegistryDrafts(plugs) }),
      (err: unknown) => {
        const e = asPlugwatchError(err);
        res.status(502).json({ code: e.code, message: e.message });
      },
    );
  });
}
