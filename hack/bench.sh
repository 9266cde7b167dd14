#!/usr/bin/env bash
# Benchmark: wrk against nginx on loopback, without and with the agent tracing nginx, in
# one run (alternating rounds). Prints requests/s and p99 latency ratios, the agent's CPU
# seconds per 10k requests, its peak RSS and its self-metrics.
#   BENCH_SECONDS (default 10)  BENCH_ROUNDS (default 2)  BENCH_CONNECTIONS (default 16)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/bench.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (the agent loads BPF programs)" >&2; exit 1; }
hack/setup.sh
swift build -c release --product periscope-agent >&2
agent="$(swift build -c release --show-bin-path)/periscope-agent"
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-2}
connections=${BENCH_CONNECTIONS:-16}
port=18600

work="$(mktemp -d /tmp/periscope-bench.XXXXXX)"
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_nginx "$work" "$port"
echo 'executables: ["nginx"]' > "$work/policy.yaml"

# Prints "requests_per_second p99_milliseconds total_requests".
run_wrk() {
  wrk -t1 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/" > "$work/wrk.txt"
  awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
               p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
    /requests in/ { total = $1 }
    END { printf "%s %s %s\n", rps, p99, total }' "$work/wrk.txt"
}

base_rps=(); base_p99=(); with_rps=(); with_p99=(); cpu_per_10k=(); rss_kb=0; anon_kb=0
for round in $(seq "$rounds"); do
  read -r rps p99 _ < <(run_wrk)
  base_rps+=("$rps"); base_p99+=("$p99")
  echo "round $round without agent: $rps req/s, p99 ${p99} ms" >&2

  "$agent" --config "$work/policy.yaml" --output text > /dev/null 2> "$work/agent.log" &
  agent_pid=$!
  for _ in $(seq 200); do grep -q agent.ready "$work/agent.log" && break; sleep 0.05; done
  cpu_before=$(cpu_seconds "$agent_pid")
  read -r rps p99 total < <(run_wrk)
  sleep 0.5
  cpu_after=$(cpu_seconds "$agent_pid")
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$agent_pid/status")
  [ "$hwm" -gt "$rss_kb" ] && rss_kb=$hwm
  # RSS also counts shared libraries and the ring buffer, which is mapped twice.
  anon=$(awk '/^Anonymous:/ { print $2 }' "/proc/$agent_pid/smaps_rollup")
  [ "$anon" -gt "$anon_kb" ] && anon_kb=$anon
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  with_rps+=("$rps"); with_p99+=("$p99")
  cpu_per_10k+=("$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$total" 'BEGIN { printf "%.3f", (b - a) / n * 10000 }')")
  echo "round $round with agent:    $rps req/s, p99 ${p99} ms" >&2
  grep -E "periscope_(events_read|events_lost|spans_emitted|decode_errors)" "$work/agent.log" | sed 's/^/    /' >&2
done

mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.2f", s / NR }'; }
echo
echo "nginx, wrk -t1 -c$connections, ${seconds}s × $rounds rounds each, loopback"
printf '%-34s %s\n' "requests/s without agent:" "$(mean "${base_rps[@]}")"
printf '%-34s %s\n' "requests/s with agent:" "$(mean "${with_rps[@]}")"
printf '%-34s %s\n' "throughput ratio (with/without):" "$(awk -v a="$(mean "${with_rps[@]}")" -v b="$(mean "${base_rps[@]}")" 'BEGIN { printf "%.3f", a / b }')"
printf '%-34s %s\n' "p99 ms without / with:" "$(mean "${base_p99[@]}") / $(mean "${with_p99[@]}")"
printf '%-34s %s\n' "p99 latency ratio (with/without):" "$(awk -v a="$(mean "${with_p99[@]}")" -v b="$(mean "${base_p99[@]}")" 'BEGIN { printf "%.3f", a / b }')"
printf '%-34s %s\n' "agent CPU s per 10k requests:" "$(mean "${cpu_per_10k[@]}")"
printf '%-34s %s\n' "agent peak RSS (MB):" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-34s %s\n' "agent heap after load (MB):" "$(awk -v k="$anon_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
