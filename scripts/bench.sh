#!/bin/bash
# The performance benchmark of issue 7: builds rotor, rotor-emulator and the
# benchmarks in Release (build-bench/), then runs bench/rotor_bench: the real
# rotor plan / apply against rotor-emulator with 20 ms latency for N = 10,
# 100, 1000 and 5000 users at --parallelism 1 and at the default, with Key
# Vault's limits enforced, and the in-process micro benchmark. Prints the
# table and the targets, writes the JSON (default bench.json in the build
# folder). About 10 minutes on 2 cores.
#
#   scripts/bench.sh [--out FILE] [rotor_bench options: --sizes 10,100 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ROTOR_BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target rotor rotor-emulator rotor_bench rotor_plan_micro_bench
args=("$@")
if [[ " ${args[*]-} " != *" --out "* ]]; then args+=(--out "$build/bench.json"); fi
exec "$build/bench/rotor_bench" --build-dir "$PWD/$build" "${args[@]}"
