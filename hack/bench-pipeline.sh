#!/usr/bin/env bash
# The agent's user-space cost per HTTP request without the kernel: recorded-style events of
# wrk → nginx keep-alive requests, both ends traced with trace context in traffic, through
# the connection tracker, the pipeline and the JSON printer (release build, as the image
# builds it). Quick to rerun while working on the hot path; hack/bench.sh measures the whole.
#   hack/bench-pipeline.sh [requests] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${BENCH_SCRATCH_PATH:-.build-static}
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product periscope-pipeline-bench >&2
"$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/periscope-pipeline-bench" "$@"
