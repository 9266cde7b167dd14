#!/usr/bin/env bash
# Sets everything up and runs the whole test suite, kernel tests included (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test: the kernel tests load BPF programs; run as root" >&2; exit 1; }
hack/setup.sh
swift build --build-tests
swift test --skip-build "$@"
