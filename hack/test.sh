#!/usr/bin/env bash
# Sets everything up and runs the whole test suite, kernel tests included (needs root): the Swift
# tests, the decoders' fuzzers (hack/fuzz.sh), then the images (hack/images.sh,
# hack/test-images.sh) and Periscope on a real one-node cluster (hack/e2e-cluster.sh). With
# arguments (e.g. --filter X) only `swift test "$@"` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test: the kernel tests load BPF programs; run as root" >&2; exit 1; }
hack/setup.sh
swift build --build-tests
swift test --skip-build "$@"
if [ $# -eq 0 ]; then
  # The decoders' fuzzers, each for a bounded time (FUZZ_SECONDS, default 30; 0 skips them).
  [ "${FUZZ_SECONDS:-30}" = 0 ] || hack/fuzz.sh "${FUZZ_SECONDS:-30}"
  hack/images.sh
  hack/test-images.sh
  hack/e2e-cluster.sh
fi
