#!/usr/bin/env bash
# Node-RED 3.1 load check: installs node-red@3.1 into .tmp/nr3 (git-ignored), starts it on this Node with a
# temporary userDir whose settings.js has nodesDir: [repo root], and fails unless every node set and the plugin
# of the BUILT package (dist/, so run `npm run build` first) loads with no error. Stops it afterwards.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tmp/nr3"

if [ ! -f "$dir/node_modules/node-red/red.js" ]; then
  mkdir -p "$dir"
  printf '{ "name": "node-red-3-compat", "private": true }\n' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error node-red@3.1
fi

cd "$root"
node node_modules/tsx/dist/cli.mjs test/e2e/support/load-check.ts "$dir/node_modules/node-red/red.js"
