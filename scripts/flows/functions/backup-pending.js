// @ts-check
/**
 * @param {import("./sandbox").NodeApi} node
 * @returns {import("./sandbox").Result}
 */
export default function backupPending(node) {
  node.warn("no plugwatch-influx-backup node in this flow yet: run the backup command from docs/deployment.md");
  return null;
}
