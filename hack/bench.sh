#!/usr/bin/env bash
# Benchmark: wrk against nginx on loopback, without and with the agent, in one run
# (alternating rounds), for the case users hit first — both ends of the connection traced
# (the policy selects nginx's port, so wrk's client side and nginx's server side) — and,
# as a second row, nginx alone. Two loads:
#   paced      — BENCH_PACED_CONNECTIONS connections (default 50), each sending one request
#                every BENCH_PACE_MS (default 2): a fixed offered rate, as on a production node.
#   saturating — wrk -t1 -c16 closed loop: each cycle the agent spends comes out of nginx's
#                throughput.
# Prints throughput and p99 ratios, the agent's CPU per request split into user and system
# time, the BPF programs' run time per request (bpf_stats), peak RSS, events lost, and the
# share of nginx server spans parented to wrk's client span in the same trace. A last row
# measures the node-wide tax: the programs attached, nothing selected, nginx saturated, with
# bpf_stats off as on a node (counting each program run costs more than the small programs
# every syscall runs), then again with bpf_stats on for the programs' run time. The
# last one weighs trace context in traffic: both ends traced and saturated, with `propagation:
# none` against the default, where the kernel writes traceparent into each of wrk's requests.
# The HTTPS rows run the same loads against nginx over TLS, wrk's and nginx's plaintext read
# at OpenSSL by the agent's uprobes (both ends traced).
#   BENCH_SECONDS (default 8)  BENCH_ROUNDS (default 2)  BENCH_AGENT_ARGS (extra arguments)
#   BENCH_SCRATCH_PATH (default .build-static)
#   BENCH_ONLY: the loads to run, among both server https none quiet (default: all of them,
#     then the database and HTTP/2 workloads); e.g. BENCH_ONLY=https for the HTTPS rows alone
#   BENCH_AGENT: an agent executable to measure instead of building one
# The agent is built as its image builds it: release, Swift runtime linked statically.
# hack/bench-db.sh then runs the database workloads (pgbench, redis-benchmark) with it.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/bench.sh
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (the agent loads BPF programs)" >&2; exit 1; }
hack/setup.sh
agent=$(bench_agent)
only=" ${BENCH_ONLY:-both server https none quiet} "
runs() { [[ "$only" == *" $1 "* ]]; }
seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-2}
paced_connections=${BENCH_PACED_CONNECTIONS:-50}
pace_ms=${BENCH_PACE_MS:-2}
port=18600
tls_port=18601

work="$(mktemp -d /tmp/periscope-bench.XXXXXX)"
stats_before=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/tls/nginx.pid" ] && kill "$(cat "$work/tls/nginx.pid")" 2>/dev/null || true
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  sysctl -q -w kernel.bpf_stats_enabled="$stats_before" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null
start_nginx "$work" "$port"
start_nginx_tls "$work" "$tls_port"
echo "ports: [$port]" > "$work/both.yaml"
printf 'ports: [%s]\npropagation: none\n' "$port" > "$work/quiet.yaml"
echo "ports: [$tls_port]" > "$work/https.yaml"
echo 'executables: ["nginx"]' > "$work/server.yaml"
echo 'executables: ["/nonexistent/periscope-bench"]' > "$work/none.yaml"
echo "function delay() return $pace_ms end" > "$work/pace.lua"

# run_wrk saturating|paced [URL]: prints "requests_per_second p99_milliseconds total_requests".
run_wrk() {
  local shape=(-c16)
  [ "$1" = paced ] && shape=(-c"$paced_connections" -s "$work/pace.lua")
  wrk -t1 "${shape[@]}" -d"${seconds}s" --latency "${2:-http://127.0.0.1:$port/}" > "$work/wrk.txt"
  awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
               p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
    /requests in/ { total = $1 }
    END { printf "%s %s %s\n", rps, p99, total }' "$work/wrk.txt"
}

# parented FILE: the share of nginx server spans whose parent is a wrk client span of the same trace.
parented() {
  python3 - "$1" <<'PY'
import json, sys
clients, servers = {}, []
for line in open(sys.argv[1]):
    try:
        span = json.loads(line)
    except ValueError:
        continue
    attributes = span.get("attributes", {})
    executable = str(attributes.get("process.executable.path", ""))
    if span.get("kind") == "SPAN_KIND_CLIENT" and "wrk" in executable:
        clients[span["spanId"]] = span["traceId"]
    elif span.get("kind") == "SPAN_KIND_SERVER" and "nginx" in executable:
        servers.append(span)
good = sum(1 for s in servers if clients.get(s.get("parentSpanId")) == s["traceId"])
print("%.4f" % (good / len(servers)) if servers else "n/a")
PY
}

declare -A results
rss_kb=0
# measure MODE SHAPE ROUND: one run without and one with the agent; appends to results[MODE,SHAPE,*].
measure() {
  local mode=$1 shape=$2 round=$3 rps p99 total user0 sys0 user1 sys1 bpf0 bpf1 hwm key="$1,$2" url=
  [ "$mode" = https ] && url="https://127.0.0.1:$tls_port/"
  read -r rps p99 _ < <(run_wrk "$shape" "$url")
  results[$key,base_rps]+=" $rps"; results[$key,base_p99]+=" $p99"
  echo "$mode $shape round $round without agent: $rps req/s, p99 ${p99} ms" >&2

  # shellcheck disable=SC2086
  local config=$mode stats=1
  # The node-wide tax as a node pays it: bpf_stats off (what its run time would say comes from
  # the row measured with it on).
  [ "$mode" = none ] && stats=0
  [ "$mode" = nonestats ] && config=none
  "$agent" --config "$work/$config.yaml" --output json ${BENCH_AGENT_ARGS:-} > "$work/spans.json" 2> "$work/agent.log" &
  agent_pid=$!
  await_agent "$agent_pid" "$work/agent.log" bench
  sysctl -q -w kernel.bpf_stats_enabled="$stats" >/dev/null
  read -r user0 sys0 < <(cpu_split "$agent_pid"); bpf0=$(bpf_run_ns)
  read -r rps p99 total < <(run_wrk "$shape" "$url")
  sleep 0.5
  read -r user1 sys1 < <(cpu_split "$agent_pid"); bpf1=$(bpf_run_ns)
  sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$agent_pid/status")
  [ "$hwm" -gt "$rss_kb" ] && rss_kb=$hwm
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  results[$key,with_rps]+=" $rps"; results[$key,with_p99]+=" $p99"
  results[$key,user]+=" $(awk -v a="$user0" -v b="$user1" -v n="$total" 'BEGIN { printf "%.3f", (b - a) / n * 1e6 }')"
  results[$key,sys]+=" $(awk -v a="$sys0" -v b="$sys1" -v n="$total" 'BEGIN { printf "%.3f", (b - a) / n * 1e6 }')"
  if [ "$stats" = 1 ]; then
    results[$key,bpf]+=" $(awk -v a="$bpf0" -v b="$bpf1" -v n="$total" 'BEGIN { printf "%.3f", (b - a) / n / 1000 }')"
  fi
  results[$key,lost]+=" $(awk '/periscope_events_lost/ { print $2 }' "$work/agent.log" | tail -1)"
  results[$key,missed]+=" $(awk '/periscope_callers_missed/ { print $2 }' "$work/agent.log" | tail -1)"
  results[$key,injected]+=" $(awk -v n="$total" '/periscope_propagation_headers_injected/ { v = $2 } END { printf "%.3f", v / n }' "$work/agent.log")"
  [ "$mode" = both ] || [ "$mode" = https ] && results[$key,parented]+=" $(parented "$work/spans.json")"
  echo "$mode $shape round $round with agent:    $rps req/s, p99 ${p99} ms" >&2
  grep -E "periscope_(events_read|events_lost|spans_emitted|callers_late|callers_missed)" "$work/agent.log" | sed 's/^/    /' >&2
}

for round in $(seq "$rounds"); do
  for mode in both server https; do
    runs "$mode" || continue
    measure "$mode" paced "$round"
    measure "$mode" saturating "$round"
  done
  if runs none; then measure none saturating "$round"; measure nonestats saturating "$round"; fi
  if runs quiet; then measure quiet saturating "$round"; fi
done

mean() { printf '%s\n' $1 | awk '$1 != "n/a" { s += $1; n++ } END { if (n) printf "%.3f", s / n; else print "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
report() {
  local key=$1 title=$2 base with
  [ -n "${results[$key,base_rps]:-}" ] || return 0
  echo
  echo "$title"
  base=$(mean "${results[$key,base_rps]}"); with=$(mean "${results[$key,with_rps]}")
  printf '  %-44s %s / %s  (ratio %s)\n' "requests/s without / with agent:" "$base" "$with" "$(ratio "$with" "$base")"
  base=$(mean "${results[$key,base_p99]}"); with=$(mean "${results[$key,with_p99]}")
  printf '  %-44s %s / %s  (ratio %s)\n' "p99 ms without / with agent:" "$base" "$with" "$(ratio "$with" "$base")"
  printf '  %-44s %s user + %s system\n' "agent CPU µs per request:" "$(mean "${results[$key,user]}")" "$(mean "${results[$key,sys]}")"
  if [ -n "${results[$key,bpf]:-}" ]; then
    printf '  %-44s %s\n' "BPF run time µs per request (bpf_stats):" "$(mean "${results[$key,bpf]}")"
  else
    printf '  %-44s %s\n' "BPF run time µs per request (bpf_stats):" "not measured (bpf_stats off)"
  fi
  printf '  %-44s %s\n' "events lost / callers missed per run:" "$(mean "${results[$key,lost]}") / $(mean "${results[$key,missed]}")"
  [ -n "${results[$key,parented]:-}" ] && printf '  %-44s %s\n' "nginx server spans parented to wrk's span:" "$(mean "${results[$key,parented]}")"
  return 0
}
echo
echo "nginx on loopback, ${seconds}s × $rounds rounds per load, agent writing every span as JSON"
report both,paced "both ends traced, paced: wrk -t1 -c$paced_connections, one request per connection every ${pace_ms} ms"
report both,saturating "both ends traced, saturating: wrk -t1 -c16, closed loop"
report server,paced "nginx only, paced"
report server,saturating "nginx only, saturating"
report https,paced "HTTPS, both ends traced (plaintext at OpenSSL), paced"
report https,saturating "HTTPS, both ends traced (plaintext at OpenSSL), saturating"
report none,saturating "node-wide tax: programs attached, nothing selected, nginx saturated (bpf_stats off)"
report nonestats,saturating "node-wide tax, bpf_stats on (their own cost included)"
if runs both && runs quiet; then
  echo
  echo "trace context in traffic: both ends traced, saturating, traceparent written into wrk's requests vs propagation: none"
  printf '  %-44s %s / %s  (ratio %s)\n' "requests/s propagation none / on:" "$(mean "${results[quiet,saturating,with_rps]}")" \
    "$(mean "${results[both,saturating,with_rps]}")" "$(ratio "$(mean "${results[both,saturating,with_rps]}")" "$(mean "${results[quiet,saturating,with_rps]}")")"
  printf '  %-44s %s / %s\n' "headers written per request none / on:" "$(mean "${results[quiet,saturating,injected]}")" "$(mean "${results[both,saturating,injected]}")"
fi
echo
printf '%-46s %s\n' "agent peak RSS (MB):" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')"

[ -z "${BENCH_ONLY:-}" ] || exit 0
# The database workloads (pgbench, redis-benchmark) with the same agent binary.
BENCH_AGENT="$agent" BENCH_SECONDS="$seconds" BENCH_ROUNDS="$rounds" hack/bench-db.sh
# HTTP/2 (h2load against nghttpd) against HTTP/1.1, with the same agent binary.
BENCH_AGENT="$agent" BENCH_SECONDS="$seconds" BENCH_ROUNDS="$rounds" hack/bench-http2.sh
