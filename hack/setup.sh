#!/usr/bin/env bash
# Installs what building, the demo and the tests need on Debian 12: libbpf, libyaml, clang's BPF
# target comes with the Swift toolchain, the real peers (nginx, haproxy, curl, python3 and its requests,
# wrk; Node, Java, Go, Ruby's WEBrick and python's websockets for the connection lifecycle
# tests), bpftool and binutils (hack/images.sh strips the binaries). Idempotent: does nothing
# when everything is present.
set -euo pipefail

packages=(libbpf-dev libelf-dev libyaml-dev zlib1g-dev libcurl4-openssl-dev pkg-config bpftool nginx-light haproxy curl wrk python3 python3-venv python3-requests iproute2 openssl binutils nghttp2-server nghttp2-client redis-server redis-tools postgresql postgresql-contrib mariadb-server mariadb-client nodejs openjdk-17-jdk-headless golang-go ruby ruby-webrick python3-websockets)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The OTLP receiver and Prometheus parser the export tests use decode with the official
# Python packages, kept in their own virtual environment, with the database drivers the
# database tests run (psycopg over Debian's libpq, PyMySQL, redis-py) and the HTTP/2 and
# gRPC peers (hypercorn, httpx, grpcio).
python_venv=/opt/periscope/venv
python_packages=(opentelemetry-proto prometheus_client psycopg PyMySQL redis hypercorn 'httpx[http2]' grpcio)
if ! "$python_venv/bin/python" -c "import opentelemetry.proto, prometheus_client, psycopg, pymysql, redis, hypercorn, httpx, h2, grpc" 2>/dev/null; then
  echo "setup: installing ${python_packages[*]} into $python_venv" >&2
  /usr/bin/python3 -m venv "$python_venv"
  "$python_venv/bin/pip" install -q --disable-pip-version-check "${python_packages[@]}"
fi
# nginx and haproxy are started by the demo and the tests with their own configuration
# (the database tests start throwaway instances on ports of their own).
for service in nginx haproxy; do
  systemctl disable --now "$service" >/dev/null 2>&1 || true
  pkill -x "$service" 2>/dev/null || true
done

mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
