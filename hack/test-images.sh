#!/usr/bin/env bash
# hack/test-images.sh [IMAGE...]: the archives hack/images.sh made hold exactly what
# images/<name>/Containerfile makes: the Containerfile is followed on this host
# (hack/lib/containerfile-tree.py) and its final tree compared with the archive, file by file
# (path, type, mode, owner, size or link target), and its ENTRYPOINT and USER with the archive's.
# Also checks each image's size budget. Needs root; run hack/images.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${PERISCOPE_IMAGES_DIR:-$PWD/.build/images}
[ $# -gt 0 ] || set -- periscope-agent periscope-controller
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for image in "$@"; do
  archive="$out/$image.tar"
  [ -f "$archive" ] || { echo "FAIL $image: no $archive (run hack/images.sh)" >&2; exit 1; }
  config=$(DEB_CACHE="$out/debs" python3 hack/lib/containerfile-tree.py "images/$image/Containerfile" "$work/$image")
  python3 hack/lib/image-archive.py list-tree "$work/$image" >"$work/$image.expected"
  python3 -c 'import json, sys; c = json.loads(sys.argv[1]); print("config Entrypoint=" + json.dumps(c["Entrypoint"]) + " User=" + c["User"])' \
    "$config" >>"$work/$image.expected"
  python3 hack/lib/image-archive.py list "$archive" >"$work/$image.actual"
  entries=$(wc -l <"$work/$image.actual")
  if diff -u "$work/$image.expected" "$work/$image.actual" >"$work/$image.diff"; then
    echo "PASS $image: the archive and the Containerfile give the same $((entries - 1)) entries, entrypoint and user"
  else
    echo "FAIL $image: the archive differs from what the Containerfile makes (- Containerfile, + archive):" >&2
    head -n 40 "$work/$image.diff" >&2
    status=1
  fi
done
# Size budgets, uncompressed (what `docker images` shows); a registry transfers the gzip size.
# No shipped module links Foundation's ICU data (34 MB): an image over budget has most likely
# gained an `import Foundation` or a resource bundle.
for image in "$@"; do
  size=$(stat -c %s "$out/$image.tar")
  compressed=$(gzip -1 -c "$out/$image.tar" | wc -c)
  limit=60000000
  if [ "$size" -lt "$limit" ]; then
    echo "PASS $image image: $((size / 1000000)) MB, $((compressed / 1000000)) MB gzip-compressed (budget $((limit / 1000000)) MB)"
  else
    echo "FAIL $image image: $((size / 1000000)) MB, over its $((limit / 1000000)) MB budget" >&2
    status=1
  fi
done
exit $status
