#!/usr/bin/env bash
# HTTP/2 benchmark: h2load (10 connections, 10 streams in flight on each) against nghttpd,
# and as the yardstick wrk (10 connections) against nginx over HTTP/1.1, on loopback, both
# answering a 17-byte body, without and with the agent, in one run (alternating rounds), both
# ends traced. Two loads each:
#   paced      — a fixed offered rate, BENCH_PACED_RATE requests/s in all (default 5000): wrk
#                with each connection waiting between requests, h2load --rps per connection.
#                Every request is captured: the agent's cost per request is the decoders'.
#   saturating — closed loops; the kernel sheds what the agent cannot keep up with.
# Prints throughput ratios, the agent's user and system CPU per request, the spans it wrote per
# request, the BPF run time per request, and the cost of an HTTP/2 request relative to an
# HTTP/1 one (the target is at most 1.5), with the load average (the machine may be shared).
#   BENCH_SECONDS (default 8)  BENCH_ROUNDS (default 2)  BENCH_AGENT (an agent binary; default:
#   built as hack/bench.sh builds it)  BENCH_SCRATCH_PATH (default .build-static)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/bench.sh
[ "$(id -u)" -eq 0 ] || { echo "bench-http2: run as root (the agent loads BPF programs)" >&2; exit 1; }
[ -n "${BENCH_AGENT:-}" ] || hack/setup.sh
agent=$(bench_agent)
seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-2}
paced_rate=${BENCH_PACED_RATE:-5000}
h1_port=18620
h2_port=18621

work="$(mktemp -d /tmp/periscope-bench-http2.XXXXXX)"
stats_before=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
pids=()
cleanup() {
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sysctl -q -w kernel.bpf_stats_enabled="$stats_before" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
sysctl -q -w kernel.bpf_stats_enabled=1 >/dev/null
start_nginx "$work" "$h1_port"
mkdir -p "$work/site" && printf 'hello from nghttpd\n' | head -c 17 > "$work/site/index.html"
nghttpd --no-tls -d "$work/site" "$h2_port" > "$work/nghttpd.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$h2_port/index.html" && break; sleep 0.1; done
echo "ports: [$h1_port]" > "$work/http1.yaml"
echo "ports: [$h2_port]" > "$work/http2.yaml"
# wrk's connections each wait this long between requests: 10 of them offer paced_rate.
echo "function delay() return $((10 * 1000 / paced_rate)) end" > "$work/pace.lua"

# run_load http1|http2 paced|saturating: prints "requests_per_second requests".
run_load() {
  local pace=()
  if [ "$1" = http1 ]; then
    [ "$2" = paced ] && pace=(-s "$work/pace.lua")
    wrk -t1 -c10 "${pace[@]}" -d"${seconds}s" "http://127.0.0.1:$h1_port/" |
      awk '/Requests\/sec:/ { rps = $2 } /requests in/ { n = $1 } END { printf "%s %s\n", rps, n }'
  else
    [ "$2" = paced ] && pace=(--rps "$((paced_rate / 10))")
    h2load -c10 -m10 "${pace[@]}" -D "$seconds" "http://127.0.0.1:$h2_port/index.html" 2>/dev/null |
      awk '/^finished in/ { rps = $4 } /^requests:/ { n = $8 } END { printf "%s %s\n", rps, n }'
  fi
}

declare -A results
measure() {
  local workload=$1 shape=$2 round=$3 key="$1,$2" rate requests user0 sys0 user1 sys1 bpf0 bpf1 spans
  read -r rate _ < <(run_load "$workload" "$shape")
  results[$key,base]+=" $rate"
  echo "$workload $shape round $round without agent: $rate requests/s" >&2
  "$agent" --config "$work/$workload.yaml" --output json > "$work/spans.json" 2> "$work/agent.log" &
  agent_pid=$!
  await_agent "$agent_pid" "$work/agent.log" bench-http2
  read -r user0 sys0 < <(cpu_split "$agent_pid"); bpf0=$(bpf_run_ns)
  read -r rate requests < <(run_load "$workload" "$shape")
  sleep 0.5
  read -r user1 sys1 < <(cpu_split "$agent_pid"); bpf1=$(bpf_run_ns)
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  spans=$(grep -c '"http.request.method"' "$work/spans.json" || true)
  results[$key,with]+=" $rate"
  results[$key,user]+=" $(awk -v a="$user0" -v b="$user1" -v n="$requests" 'BEGIN { printf "%.3f", (b - a) / n * 1e6 }')"
  results[$key,sys]+=" $(awk -v a="$sys0" -v b="$sys1" -v n="$requests" 'BEGIN { printf "%.3f", (b - a) / n * 1e6 }')"
  results[$key,bpf]+=" $(awk -v a="$bpf0" -v b="$bpf1" -v n="$requests" 'BEGIN { printf "%.3f", (b - a) / n / 1000 }')"
  results[$key,spans]+=" $(awk -v s="$spans" -v n="$requests" 'BEGIN { printf "%.3f", s / n }')"
  results[$key,lost]+=" $(awk '/periscope_events_lost/ { print $2 }' "$work/agent.log" | tail -1)"
  results[$key,shed]+=" $(awk '/periscope_requests_shed/ { print $2 }' "$work/agent.log" | tail -1)"
  results[$key,errors]+=" $(awk '/^periscope_decode_errors / { print $2 }' "$work/agent.log" | tail -1)"
  echo "$workload $shape round $round with agent:    $rate requests/s, $requests requests, $spans HTTP spans" >&2
  grep -E "^periscope_decode_errors\{" "$work/agent.log" | sed 's/^/    /' >&2 || true
}

for round in $(seq "$rounds"); do
  for shape in paced saturating; do
    measure http1 "$shape" "$round"
    measure http2 "$shape" "$round"
  done
done

mean() { printf '%s\n' $1 | awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n; else print "n/a" }'; }
report() {
  local key=$1 title=$2 base with
  base=$(mean "${results[$key,base]}"); with=$(mean "${results[$key,with]}")
  echo
  echo "$title"
  printf '  %-44s %s / %s  (ratio %s)\n' "requests/s without / with agent:" "$base" "$with" "$(awk -v a="$with" -v b="$base" 'BEGIN { printf "%.3f", a / b }')"
  printf '  %-44s %s user + %s system\n' "agent CPU µs per request:" "$(mean "${results[$key,user]}")" "$(mean "${results[$key,sys]}")"
  printf '  %-44s %s\n' "BPF run time µs per request (bpf_stats):" "$(mean "${results[$key,bpf]}")"
  printf '  %-44s %s (2 = client and server span)\n' "HTTP spans per request:" "$(mean "${results[$key,spans]}")"
  printf '  %-44s %s / %s / %s\n' "events lost / requests shed / decode errors:" "$(mean "${results[$key,lost]}")" "$(mean "${results[$key,shed]}")" "$(mean "${results[$key,errors]}")"
}
# ratio SHAPE: agent CPU (user + system) per HTTP/2 request over that per HTTP/1 request.
ratio() {
  local h1 h2
  h1=$(awk -v u="$(mean "${results[http1,$1,user]}")" -v s="$(mean "${results[http1,$1,sys]}")" 'BEGIN { print u + s }')
  h2=$(awk -v u="$(mean "${results[http2,$1,user]}")" -v s="$(mean "${results[http2,$1,sys]}")" 'BEGIN { print u + s }')
  awk -v a="$h2" -v b="$h1" 'BEGIN { printf "%.2f", a / b }'
}
echo
echo "HTTP/2 against HTTP/1.1 on loopback, ${seconds}s × $rounds rounds per load, both ends traced, agent writing every span as JSON"
report http1,paced "HTTP/1.1 paced: wrk -t1 -c10 against nginx, $paced_rate requests/s offered"
report http2,paced "HTTP/2 paced: h2load -c10 -m10 --rps $((paced_rate / 10)) against nghttpd, $paced_rate requests/s offered"
report http1,saturating "HTTP/1.1 saturating: wrk -t1 -c10 against nginx"
report http2,saturating "HTTP/2 saturating: h2load -c10 -m10 against nghttpd"
echo
printf '  %-44s %s paced, %s saturating (target ≤ 1.5)\n' "agent CPU per HTTP/2 request / per HTTP/1:" "$(ratio paced)" "$(ratio saturating)"
echo
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
