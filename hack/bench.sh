#!/usr/bin/env bash
# Benchmark: wrk against nginx on loopback, without and with the agent tracing nginx, in
# one run (alternating rounds), under two loads:
#   paced      — many connections, each sending one request every BENCH_PACE_MS: a fixed
#                offered rate well below what the machine can serve, as on a production node.
#                The targets (throughput ≥ 95%, RSS ≤ 50 MB) are read here.
#   saturating — wrk's default closed loop: wrk and nginx use every core, so each cycle the
#                agent spends comes out of nginx's throughput. Shows the cost per request.
# Prints requests/s and p99 latency ratios, the agent's CPU seconds per 10k requests, its
# peak RSS and its self-metrics.
#   BENCH_SECONDS (default 10)  BENCH_ROUNDS (default 2)  BENCH_CONNECTIONS (default 16)
#   BENCH_PACED_CONNECTIONS (default 400)  BENCH_PACE_MS (default 5): about 50k requests/s offered,
#   a third of what nginx serves here flat out
#   BENCH_AGENT_ARGS (extra agent arguments)  BENCH_SCRATCH_PATH (default .build-static)
# The agent is built as its image builds it: release, Swift runtime linked statically.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/bench.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (the agent loads BPF programs)" >&2; exit 1; }
hack/setup.sh
scratch=${BENCH_SCRATCH_PATH:-.build-static}
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product periscope-agent >&2
agent="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/periscope-agent"
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-2}
connections=${BENCH_CONNECTIONS:-16}
paced_connections=${BENCH_PACED_CONNECTIONS:-400}
pace_ms=${BENCH_PACE_MS:-5}
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
# wrk waits this long on each connection before its next request.
echo "function delay() return $pace_ms end" > "$work/pace.lua"

# run_wrk saturating|paced: prints "requests_per_second p99_milliseconds total_requests".
run_wrk() {
  local shape=(-c"$connections")
  [ "$1" = paced ] && shape=(-c"$paced_connections" -s "$work/pace.lua")
  wrk -t1 "${shape[@]}" -d"${seconds}s" --latency "http://127.0.0.1:$port/" > "$work/wrk.txt"
  awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
               p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
    /requests in/ { total = $1 }
    END { printf "%s %s %s\n", rps, p99, total }' "$work/wrk.txt"
}

rss_kb=0; anon_kb=0
declare -A results
# measure SHAPE ROUND: one round without and one with the agent; appends to results[SHAPE,*].
measure() {
  local shape=$1 round=$2 rps p99 total cpu_before cpu_after hwm anon
  read -r rps p99 _ < <(run_wrk "$shape")
  results[$shape,base_rps]+=" $rps"; results[$shape,base_p99]+=" $p99"
  echo "$shape round $round without agent: $rps req/s, p99 ${p99} ms" >&2

  # shellcheck disable=SC2086
  "$agent" --config "$work/policy.yaml" --output text ${BENCH_AGENT_ARGS:-} > /dev/null 2> "$work/agent.log" &
  agent_pid=$!
  for _ in $(seq 200); do grep -q agent.ready "$work/agent.log" && break; sleep 0.05; done
  cpu_before=$(cpu_seconds "$agent_pid")
  read -r rps p99 total < <(run_wrk "$shape")
  sleep 0.5
  cpu_after=$(cpu_seconds "$agent_pid")
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$agent_pid/status")
  [ "$hwm" -gt "$rss_kb" ] && rss_kb=$hwm
  anon=$(awk '/^Anonymous:/ { print $2 }' "/proc/$agent_pid/smaps_rollup")
  [ "$anon" -gt "$anon_kb" ] && anon_kb=$anon
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  results[$shape,with_rps]+=" $rps"; results[$shape,with_p99]+=" $p99"
  results[$shape,cpu]+=" $(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$total" 'BEGIN { printf "%.3f", (b - a) / n * 10000 }')"
  echo "$shape round $round with agent:    $rps req/s, p99 ${p99} ms" >&2
  grep -E "periscope_(events_read|events_lost|spans_emitted|decode_errors)" "$work/agent.log" | sed 's/^/    /' >&2
}

for round in $(seq "$rounds"); do
  measure paced "$round"
  measure saturating "$round"
done

mean() { printf '%s\n' $1 | awk '{ s += $1 } END { printf "%.2f", s / NR }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
report() {
  local shape=$1 title=$2 base with
  echo
  echo "$title"
  base=$(mean "${results[$shape,base_rps]}"); with=$(mean "${results[$shape,with_rps]}")
  printf '  %-34s %s / %s\n' "requests/s without / with agent:" "$base" "$with"
  printf '  %-34s %s\n' "throughput ratio (with/without):" "$(ratio "$with" "$base")"
  base=$(mean "${results[$shape,base_p99]}"); with=$(mean "${results[$shape,with_p99]}")
  printf '  %-34s %s / %s\n' "p99 ms without / with agent:" "$base" "$with"
  printf '  %-34s %s\n' "p99 latency ratio (with/without):" "$(ratio "$with" "$base")"
  printf '  %-34s %s\n' "agent CPU s per 10k requests:" "$(mean "${results[$shape,cpu]}")"
}
echo
echo "nginx on loopback, ${seconds}s × $rounds rounds per load, agent printing every span as text"
report paced "paced: wrk -t1 -c$paced_connections, one request per connection every ${pace_ms} ms"
report saturating "saturating: wrk -t1 -c$connections, closed loop"
echo
printf '%-36s %s\n' "agent peak RSS (MB):" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-36s %s\n' "agent heap after load (MB):" "$(awk -v k="$anon_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
