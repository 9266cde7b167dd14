#!/usr/bin/env bash
# hack/images.sh [IMAGE...]: builds the periscope-agent and periscope-controller images without a
# registry or container engine, as docker-archives in .build/images/ (PERISCOPE_IMAGES_DIR) tagged
# as manifests/ names them; `docker load -i`, `podman load -i`, `ctr images import` and the test
# cluster's load-image.sh read them. Same contents as images/<name>/Containerfile (the release
# binaries stripped, with Swift linked in statically, and the agent's BPF objects, from
# images/binaries.sh; Debian's libraries and CA certificates unpacked by images/rootfs.sh).
# Needs root (files owned by root and nonroot) and Debian 12's apt. Prints each image's size.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "images: run as root (image files are owned by root and 65532)" >&2; exit 1; }
out=${PERISCOPE_IMAGES_DIR:-$PWD/.build/images}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[ $# -gt 0 ] || set -- periscope-agent periscope-controller
# Reproducible: every file's time is clamped to the last commit's.
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)

for image in "$@"; do
  [ -f "images/$image/Containerfile" ] || { echo "images: no images/$image/Containerfile" >&2; exit 64; }
  name=$(awk '$1 == "image:" { print $2; exit }' "manifests/$image.yaml")
  [ -n "$name" ] || { echo "images: manifests/$image.yaml names no image" >&2; exit 1; }
  user=$(awk '$1 == "USER" { print $2 }' "images/$image/Containerfile" | tail -n 1)
  work="$out/$image.work"
  rm -rf "$work"
  mkdir -p "$work"
  started=$SECONDS
  images/binaries.sh "$image" "$work/bin"
  DEB_CACHE="$out/debs" images/rootfs.sh "images/$image/packages" "$work/root"
  mkdir -p "$work/root/usr/local/bin"
  cp -a "$work/bin/." "$work/root/usr/local/bin/"
  # Every library the binary needs is in the image: it starts there (with /proc, as in a
  # container, mounted in a mount namespace of its own).
  if ! unshare --mount --fork sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" "/usr/local/bin/$2" --help' \
    sh "$work/root" "$image" >/dev/null 2>"$work/chroot.err"; then
    echo "images: /usr/local/bin/$image does not start inside the image:" >&2
    cat "$work/chroot.err" >&2
    exit 1
  fi
  python3 hack/lib/image-archive.py pack "$work/root" "$name" "$out/$image.tar" \
    --entrypoint "[\"/usr/local/bin/$image\"]" ${user:+--user "$user"} --mtime "$mtime" >&2
  rm -rf "$work"
  size=$(stat -c %s "$out/$image.tar")
  echo "images: $image $name $((size / 1000000)) MB ($size bytes) in $((SECONDS - started)) s: $out/$image.tar"
done
