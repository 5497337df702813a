#!/usr/bin/env bash
# Fidelity test: the official Azure SDK for JavaScript (exact versions pinned
# in package-lock.json) against a fresh rotor-emulator.
#   run.sh EMULATOR_BINARY WORK_DIR
# Installs the packages with `npm ci` into WORK_DIR/node_modules (reused while
# the lock file is unchanged), starts the emulator on port 0, runs
# sdk_test.mjs with NODE_EXTRA_CA_CERTS pointing at the emulator's CA, and
# stops the emulator it started. Exit 77 (skipped) without node or npm.
set -euo pipefail

emulator=$1
work=$2
src=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node or npm is not installed: skipped"
  exit 77
fi

mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/sdk_test.mjs" "$work/"
if ! cmp -s "$src/package-lock.json" "$work/node_modules/.rotor-package-lock.json"; then
  (cd "$work" && npm ci --no-audit --no-fund)
  cp "$src/package-lock.json" "$work/node_modules/.rotor-package-lock.json"
fi

scratch=$(mktemp -d)
emulator_pid=""
cleanup() {
  if [[ -n "$emulator_pid" ]] && kill -0 "$emulator_pid" 2>/dev/null; then
    kill -TERM "$emulator_pid"
    wait "$emulator_pid" || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

state="$scratch/state"
"$emulator" --listen 127.0.0.1:0 --state "$state" --vault sdkvault --resource-group sdkrg \
  --client sdk-app:sdk-client-secret --deploy-duration 300ms \
  >"$scratch/emulator.log" 2>&1 &
emulator_pid=$!

for _ in $(seq 1 200); do
  [[ -s "$state/port" ]] && break
  if ! kill -0 "$emulator_pid" 2>/dev/null; then
    cat "$scratch/emulator.log"
    echo "rotor-emulator exited at start"
    exit 1
  fi
  sleep 0.05
done
port=$(tr -d '[:space:]' <"$state/port")

status=0
(cd "$work" && NODE_EXTRA_CA_CERTS="$state/ca.pem" EMULATOR_PORT="$port" \
  EMULATOR_TENANT="72c1f4d0-5e0b-4b5e-9d3a-7a6f0e1c2b3d" \
  EMULATOR_ARM_AUDIENCE="https://management.localhost:$port/e1b7a3c2-9d4f-4f60-8a2b-6c5d4e3f2a10" \
  AZURE_CLIENT_ID=sdk-app AZURE_CLIENT_SECRET=sdk-client-secret \
  node sdk_test.mjs) || status=$?
if [[ $status -ne 0 ]]; then
  echo "--- emulator log ---"
  tail -n 50 "$scratch/emulator.log"
fi
exit $status
