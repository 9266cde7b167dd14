#!/usr/bin/env bash
# Records the HTTP/2 and gRPC fixtures in Tests/Fixtures/http2/ from real peers: each
# client talks to its server through hack/capture-relay.py, which writes both directions
# of every connection. Run again only to refresh them (the tests' expectations follow
# the conversations below); needs nghttp2 from Debian and grpcio, hypercorn and httpx
# from PyPI (installed into /opt/periscope/venv-http2).
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/Fixtures/http2
venv=/opt/periscope/venv-http2
relay_port=18600
server_port=18601

dpkg-query -W -f='${Status}' nghttp2 2>/dev/null | grep -q "install ok installed" \
  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nghttp2 >/dev/null; }
if ! "$venv/bin/python" -c "import grpc, hypercorn, httpx, h2" 2>/dev/null; then
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check grpcio hypercorn 'httpx[http2]'
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 100); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.1
  done
  echo "record: nothing listens on port $1" >&2
  return 1
}

# record NAME: runs the commands in "$@" against the relay while it records into NAME-*.txt.
start_relay() {
  python3 hack/capture-relay.py --listen "$relay_port" --upstream "127.0.0.1:$server_port" --out "$work/$1" --prefix "$1" &
  relay=$!
  wait_port "$relay_port"
}
stop_relay() {
  sleep 0.5
  kill "$relay"
  wait "$relay" 2>/dev/null || true
  cp "$work/$1"/*.txt "$out/"
}
start_server() {
  "$@" &
  server=$!
  pids+=("$server")
  wait_port "$server_port"
}
stop_server() {
  kill "$server"
  wait "$server" 2>/dev/null || true
}

rm -f "$out"/*.txt
mkdir -p "$out" "$work/www"
# Fixed content: a 1,234-byte page and a 100,000-byte file.
python3 -c "import sys; sys.stdout.write(''.join(chr(97 + i % 26) for i in range(1234)))" > "$work/www/index.html"
python3 -c "import sys; sys.stdout.write('z' * 100000)" > "$work/www/big.txt"

# nghttpd with curl (prior knowledge), nghttp (three streams at once) and h2load.
start_server nghttpd --no-tls -d "$work/www" "$server_port"
start_relay nghttpd-curl
base="http://127.0.0.1:$relay_port"
curl -sS --http2-prior-knowledge -o /dev/null "$base/index.html"
curl -sS --http2-prior-knowledge -o /dev/null "$base/missing"
curl -sS --http2-prior-knowledge -o /dev/null --data-binary @"$work/www/index.html" "$base/index.html"
stop_relay nghttpd-curl
start_relay nghttpd-nghttp
nghttp -n "$base/index.html" "$base/big.txt" "$base/missing"
stop_relay nghttpd-nghttp
start_relay h2load
h2load -n 100 -c 2 -m 10 "$base/index.html" >/dev/null
stop_relay h2load
stop_server

# hypercorn with httpx (prior knowledge) and curl upgrading from HTTP/1.1 (h2c).
start_server env PYTHONPATH=hack/http2-peers "$venv/bin/hypercorn" --bind "127.0.0.1:$server_port" asgi_app:app
start_relay hypercorn-httpx
"$venv/bin/python" hack/http2-peers/httpx_client.py "$base"
stop_relay hypercorn-httpx
start_relay hypercorn-curl-upgrade
curl -sS --http2 -o /dev/null "$base/hello"
stop_relay hypercorn-curl-upgrade
stop_server

# grpcio: unary, server streaming, an error status and an unimplemented method.
start_server "$venv/bin/python" hack/http2-peers/grpc_peers.py serve "$server_port"
start_relay grpc
"$venv/bin/python" hack/http2-peers/grpc_peers.py call "$relay_port"
stop_relay grpc
stop_server

ls -l "$out"
