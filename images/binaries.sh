#!/usr/bin/env bash
# images/binaries.sh PRODUCT OUT_DIR: the release build of one executable as its image ships it —
# Swift's standard library and Foundation linked in statically, symbols stripped — copied into
# OUT_DIR with the resource bundles it loads from beside itself (the agent's BPF objects).
# Run from the repository root; used by images/*/Containerfile and hack/images.sh alike.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PRODUCT OUT_DIR" >&2; exit 64; }
product=$1 out=$2
swift build -c release --product "$product" --static-swift-stdlib >&2
bin=$(swift build -c release --show-bin-path)
mkdir -p "$out"
rm -rf "${out:?}/$product"
strip --strip-all -o "$out/$product" "$bin/$product"
# Resource bundles the executable loads from beside itself (the agent's BPF objects): those
# whose name it contains.
for bundle in "$bin"/*.resources; do
  [ -d "$bundle" ] || continue
  name=$(basename "$bundle")
  rm -rf "${out:?}/$name"
  if grep -q -a -F "$name" "$bin/$product"; then
    cp -R "$bundle" "$out/$name"
  fi
done
