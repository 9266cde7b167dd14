#!/usr/bin/env bash
# images/binaries.sh PRODUCT OUT_DIR: the release build of one executable as its image ships it —
# Swift's standard library and FoundationEssentials linked in statically, symbols stripped (the
# agent's BPF objects are embedded) — copied into OUT_DIR.
# Run from the repository root; used by images/*/Containerfile and hack/images.sh alike.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PRODUCT OUT_DIR" >&2; exit 64; }
product=$1 out=$2
swift build -c release --product "$product" --static-swift-stdlib >&2
bin=$(swift build -c release --show-bin-path)
mkdir -p "$out"
rm -rf "${out:?}/$product"
strip --strip-all -o "$out/$product" "$bin/$product"
