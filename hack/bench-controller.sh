#!/usr/bin/env bash
# Controller scale benchmark: the in-process test API server holds BENCH_NODES nodes (500),
# BENCH_PODS running pods (5000) and BENCH_POLICIES policies (200); the periscope-controller
# executable (release build, its own process) resolves them. Prints the time to first full
# resolution, the time from a pod change (container restart) to its node's object updated, API
# writes per pod change and the controller's RSS.
#   BENCH_CHANGES (default 20)  BENCH_SCRATCH_PATH (default .build)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${BENCH_SCRATCH_PATH:-.build}
swift build -c release --scratch-path "$scratch" --product periscope-controller >&2
swift build -c release --scratch-path "$scratch" --product periscope-controller-bench >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
exec "$bin/periscope-controller-bench" "$PWD/crds" "$bin/periscope-controller"
