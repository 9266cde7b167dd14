#!/usr/bin/env bash
# images/rootfs.sh PACKAGES_FILE OUT_DIR: the runtime layer of an image, made from Debian packages
# without a package manager, shell or base image inside: the packages PACKAGES_FILE lists (one a
# line, # comments) with their dependencies as apt resolves them for an empty system, unpacked
# with dpkg-deb; plus, from data-only packages, /etc/os-release (base-files), /etc/services and
# /etc/protocols (netbase) and the CA bundle /etc/ssl/certs/ca-certificates.crt (ca-certificates,
# every certificate, as update-ca-certificates makes it); /etc/passwd and /etc/group with root
# and nonroot (65532); /tmp. Manuals, documentation other than copyright files, translations and
# glibc's iconv modules are left out. Each package's control record goes to
# /var/lib/dpkg/status.d/ for scanners.
# Needs a Debian 12 apt; run from anywhere. Used by images/*/Containerfile and hack/images.sh.
# DEB_CACHE=DIR keeps downloaded packages between runs.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PACKAGES_FILE OUT_DIR" >&2; exit 64; }
packages_file=$1 out=$2
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$packages_file" | grep -v '^$')
data_packages=(base-files netbase ca-certificates)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=${DEB_CACHE:-$work/debs}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
  apt-get update -qq >&2
fi
# What apt would install on a system with nothing installed and nothing essential.
: >"$work/status"
resolved=$(apt-get -s -q -o Dir::State::status="$work/status" -o pkgCacheGen::Essential=none \
  -o APT::Install-Recommends=false install "${wanted[@]}" | awk '$1 == "Inst" { gsub(/[()]/, "", $3); print $2 "=" $3 }')
for package in "${data_packages[@]}"; do
  resolved+=$'\n'"$package=$(apt-cache policy "$package" | awk '$1 == "Candidate:" { print $2 }')"
done
resolved=$(sort -u <<<"$resolved")

# apt-get download names files name_version_arch.deb with the epoch's colon as %3a.
deb_of() { find "$cache" -maxdepth 1 -name "${1%%=*}_$(sed 's/:/%3a/' <<<"${1#*=}")_*.deb" | head -n 1; }
missing=()
for spec in $resolved; do
  [ -n "$(deb_of "$spec")" ] || missing+=("$spec")
done
if [ ${#missing[@]} -gt 0 ]; then
  (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}" >&2)
fi

rm -rf "$out"
mkdir -p "$out/var/lib/dpkg/status.d"
for spec in $resolved; do
  deb=$(deb_of "$spec")
  [ -n "$deb" ] || { echo "rootfs: apt-get download $spec left no package in $cache" >&2; exit 1; }
  dpkg-deb -x "$deb" "$out"
  dpkg-deb -f "$deb" >"$out/var/lib/dpkg/status.d/${spec%%=*}"
done

# The CA bundle, as update-ca-certificates writes it when every certificate is enabled.
mkdir -p "$out/etc/ssl/certs"
find "$out/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | while read -r cert; do
  sed -e '$a\' "$cert"
done >"$out/etc/ssl/certs/ca-certificates.crt"
rm -rf "$out/usr/share/ca-certificates" "$out/usr/sbin/update-ca-certificates" "$out/etc/ca-certificates" \
  "$out/usr/share/base-files" "$out/etc/update-motd.d" "$out/etc/profile" "$out/etc/dot.bashrc" "$out/etc/skel" \
  "$out/root/.profile" "$out/root/.bashrc"

printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/etc/group"
printf 'hosts: files dns\n' >"$out/etc/nsswitch.conf"
mkdir -p "$out/tmp" "$out/root" "$out/home/nonroot"
chmod 1777 "$out/tmp"
chmod 700 "$out/root"
chown 65532:65532 "$out/home/nonroot"

# Documentation, manuals and translations; copyright files stay.
find "$out/usr/share/doc" -mindepth 1 \( -type f -o -type l \) ! -name copyright -delete 2>/dev/null || true
find "$out/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$out/usr/share/man" "$out/usr/share/info" "$out/usr/share/locale" "$out/usr/share/lintian" "$out/usr/share/bug"
# glibc's iconv modules (8 MB): Periscope converts no character sets through iconv, and the
# conversions glibc has built in (UTF-8, UTF-16, UTF-32, ASCII, Latin-1) stay.
rm -rf "$out/usr/lib/x86_64-linux-gnu/gconv"
# The dynamic loader's cache for the unpacked libraries.
ldconfig -r "$out"
