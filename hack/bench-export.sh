#!/usr/bin/env bash
# Export benchmark: wrk drives nginx on loopback while the agent, pinned to one core,
# traces it and exports every span over OTLP/HTTP to hack/otlp/receiver.py (counting
# mode). Prints spans exported per second, spans per agent CPU-second (what one core
# sustains), bytes per span on the wire (plain and gzip) and drops.
#   BENCH_SECONDS (default 10)  BENCH_CONNECTIONS (default 16)  BENCH_CORE (default 0)
#   BENCH_SCRATCH_PATH (default .build)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/bench.sh
[ "$(id -u)" -eq 0 ] || { echo "bench-export: run as root (the agent loads BPF programs)" >&2; exit 1; }
hack/setup.sh
scratch=${BENCH_SCRATCH_PATH:-.build}
swift build -c release --scratch-path "$scratch" --product periscope-agent >&2
agent="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/periscope-agent"
python=/opt/periscope/venv/bin/python
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-16}
core=${BENCH_CORE:-0}
port=18610
receiver_port=14390

work="$(mktemp -d /tmp/periscope-bench-export.XXXXXX)"
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "${receiver_pid:-}" ] && kill "$receiver_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_nginx "$work" "$port"
echo 'executables: ["*nginx*"]
protocols: [http]
routes: ["/users/{id}"]' > "$work/policy.yaml"

metric() { awk -v n="periscope_$1" '$1 == n { v = $2 } END { print v + 0 }' "$work/agent.log"; }

run_round() {  # $1 = compression (none|gzip)
  : > "$work/received.jsonl"
  "$python" hack/otlp/receiver.py --port "$receiver_port" --out "$work/received.jsonl" --summary 2> /dev/null &
  receiver_pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$receiver_port/" && break; sleep 0.1; done
  rm -f "$work/agent.log"  # the last run's would say agent.ready before this one started
  OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port" OTEL_EXPORTER_OTLP_COMPRESSION="$1" \
    OTEL_BSP_MAX_QUEUE_SIZE=8192 OTEL_METRIC_EXPORT_INTERVAL=3600000 \
    taskset -c "$core" "$agent" --config "$work/policy.yaml" --output none > /dev/null 2> "$work/agent.log" &
  agent_pid=$!
  for _ in $(seq 200); do grep -qs agent.ready "$work/agent.log" && break; sleep 0.05; done
  local cpu_before start end cpu_after
  cpu_before=$(cpu_seconds "$agent_pid")
  start=$(date +%s.%N)
  wrk -t1 -c"$connections" -d"${seconds}s" "http://127.0.0.1:$port/users/42" > "$work/wrk.txt"
  sleep 6  # the last batches leave (schedule delay 5 s)
  cpu_after=$(cpu_seconds "$agent_pid")
  end=$(date +%s.%N)
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  kill "$receiver_pid"; wait "$receiver_pid" 2>/dev/null || true; receiver_pid=
  local exported bytes dropped emitted spans_received
  exported=$(metric spans_exported); bytes=$(metric export_bytes_sent); dropped=$(metric spans_dropped)
  emitted=$(metric spans_emitted)
  spans_received=$(awk -F'"spans": ' '/"signal": "traces"/ { split($2, a, /[,}]/); s += a[1] } END { print s + 0 }' "$work/received.jsonl")
  printf '%-6s spans emitted %s, exported %s (receiver counted %s), dropped %s\n' "$1" "$emitted" "$exported" "$spans_received" "$dropped"
  printf '%-6s %-36s %s\n' "$1" "agent CPU seconds:" "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }')"
  printf '%-6s %-36s %s\n' "$1" "spans exported per second (wall):" "$(awk -v n="$exported" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')"
  printf '%-6s %-36s %s\n' "$1" "spans per agent CPU-second (1 core):" "$(awk -v n="$exported" -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.0f", n / (b - a) }')"
  printf '%-6s %-36s %s\n' "$1" "bytes per span on the wire:" "$(awk -v b="$bytes" -v n="$exported" 'BEGIN { printf "%.1f", b / n }')"
}

echo "nginx, wrk -t1 -c$connections, ${seconds}s per round, agent pinned to core $core, OTLP/HTTP protobuf to a local receiver"
run_round none
run_round gzip
