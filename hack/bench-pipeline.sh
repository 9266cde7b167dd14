#!/usr/bin/env bash
# The agent's user-space cost per HTTP request without the kernel: ring-buffer records as the
# kernel writes them for wrk → nginx keep-alive requests, both ends traced with trace context
# in traffic, each decoded into one reused event as the capture loop does, through the
# connection tracker, the pipeline and the JSON printer, the OTLP encoder or the telemetry
# sink (release build, as the image builds it). Quick to rerun while working on the hot path;
# hack/bench.sh measures the whole.
#   hack/bench-pipeline.sh [requests] [connections] [tracker|pipeline|all|otlp|sink]
# BENCH_INSTRUCTIONS=1: instructions per request instead, counted by valgrind (callgrind):
# the same on a busy machine as on a quiet one, so a change of a few percent shows. Slow:
# 10,000 requests unless told otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${BENCH_SCRATCH_PATH:-.build-static}
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product periscope-pipeline-bench >&2
bench="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/periscope-pipeline-bench"
if [ "${BENCH_INSTRUCTIONS:-0}" != 1 ]; then
  exec "$bench" "$@"
fi
command -v valgrind > /dev/null || { apt-get update -qq && apt-get install -y -qq valgrind > /dev/null; }
requests=${1:-10000} connections=${2:-16} stage=${3:-all}
work=$(mktemp -d /tmp/periscope-pipeline.XXXXXX)
trap 'rm -rf "$work"' EXIT
# valgrind cannot read the Swift toolchain's DWARF 5; symbols are enough for counting.
strip --strip-debug -o "$work/bench" "$bench"
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/bench" "$1" "$connections" "$stage" 2>&1 | awk '/Collected/ { print $4 }'; }
# Start-up and the connections' first requests cost the same in both runs: the difference
# is the steady state.
many=$(count "$requests")
few=$(count 2)
echo "stage $stage, $requests requests on $connections connections: $(( (many - few) / (requests - 2) )) instructions per request"
