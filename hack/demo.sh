#!/usr/bin/env bash
# Sets everything up, then runs the agent standalone against a small workload:
#   curl → nginx (127.0.0.1:8080, reverse proxy) → python3 http.server (127.0.0.1:8000)
# and prints the spans it sees. Runs for DEMO_SECONDS (default 10) and then stops the
# agent, which prints its self-metrics. Needs root (it loads BPF programs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (the agent loads BPF programs)" >&2; exit 1; }
hack/setup.sh
swift build --product periscope-agent >&2
agent="$(swift build --show-bin-path)/periscope-agent"

work="$(mktemp -d /tmp/periscope-demo.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/site/items" "$work/body" "$work/proxy"
for id in 1 2 3; do echo "item $id" > "$work/site/items/$id"; done
python3 -m http.server 8000 --bind 127.0.0.1 --directory "$work/site" >"$work/backend.log" 2>&1 &
pids+=($!)
sed "s|PREFIX|$work|g" hack/demo/nginx.conf > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8080/healthz && break; sleep 0.1; done

"$agent" --config hack/demo/policy.yaml --output "${DEMO_OUTPUT:-text}" &
agent_pid=$!
pids+=($agent_pid)
sleep 1
end=$((SECONDS + ${DEMO_SECONDS:-10}))
while [ $SECONDS -lt $end ]; do
  for id in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:8080/items/$id?color=blue"; done
  curl -s -o /dev/null http://127.0.0.1:8080/healthz
  curl -s -o /dev/null http://127.0.0.1:8080/missing
  sleep 1
done
kill -TERM "$agent_pid"
wait "$agent_pid" || true
