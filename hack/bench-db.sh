#!/usr/bin/env bash
# Database benchmark: pgbench (select-only, simple protocol) against PostgreSQL and
# redis-benchmark (GET and SET) against Redis on loopback, without and with the agent, in one
# run (alternating rounds), both ends traced (the policy selects the server's port). Prints
# throughput ratios, the agent's CPU per operation, the spans it wrote per operation (fewer
# than two when the kernel shed requests because the agent fell behind), events lost and
# requests shed, and the load average (the machine may be shared).
#   BENCH_SECONDS (default 8)  BENCH_ROUNDS (default 2)  BENCH_AGENT (an agent binary; default:
#   built as hack/bench.sh builds it)  BENCH_SCRATCH_PATH (default .build-static)
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/lib/bench.sh
[ "$(id -u)" -eq 0 ] || { echo "bench-db: run as root (the agent loads BPF programs)" >&2; exit 1; }
[ -n "${BENCH_AGENT:-}" ] || hack/setup.sh
agent=$(bench_agent)
seconds=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-2}
pg_port=18610
redis_port=18611
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work="$(mktemp -d /tmp/periscope-bench-db.XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A throwaway PostgreSQL cluster run as the postgres user (initdb refuses root).
mkdir -m 700 "$work/pg" && chown postgres: "$work/pg"
setpriv --reuid=postgres --regid=postgres --init-groups -- "$pg_bin/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
setpriv --reuid=postgres --regid=postgres --init-groups -- "$pg_bin/postgres" -D "$work/pg" -p "$pg_port" -k "$work/pg" \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off > "$work/pg.log" 2>&1 &
pids+=($!)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$pg_port" && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
echo "ports: [$pg_port]" > "$work/postgresql.yaml"
echo "ports: [$redis_port]" > "$work/redis.yaml"

# run_load postgresql|redis: prints "operations_per_second operations".
run_load() {
  if [ "$1" = postgresql ]; then
    pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -S -n -c 4 -j 1 -T "$seconds" postgres 2>/dev/null |
      awk '/actually processed/ { n = $NF } /^tps/ { tps = $3 } END { printf "%s %s\n", tps, n }'
  else
    # redis-benchmark has no duration: a request count sized to last about BENCH_SECONDS.
    local requests=$((seconds * 25000))
    redis-benchmark -p "$redis_port" -c 16 -n "$requests" -t set,get --csv 2>/dev/null |
      awk -F'"' -v n="$requests" '/^"(SET|GET)"/ { rps += $4; count++ } END { printf "%.1f %d\n", rps / count, n * count }'
  fi
}

declare -A results
measure() {
  local workload=$1 round=$2 rate ops user0 sys0 user1 sys1 spans
  read -r rate _ < <(run_load "$workload")
  results[$workload,base]+=" $rate"
  echo "$workload round $round without agent: $rate ops/s" >&2
  "$agent" --config "$work/$workload.yaml" --output json > "$work/spans.json" 2> "$work/agent.log" &
  agent_pid=$!
  await_agent "$agent_pid" "$work/agent.log" bench-db
  read -r user0 sys0 < <(cpu_split "$agent_pid")
  read -r rate ops < <(run_load "$workload")
  sleep 0.5
  read -r user1 sys1 < <(cpu_split "$agent_pid")
  kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=
  spans=$(grep -c '"db.system.name"' "$work/spans.json" || true)
  results[$workload,with]+=" $rate"
  results[$workload,cpu]+=" $(awk -v a="$user0" -v b="$user1" -v c="$sys0" -v d="$sys1" -v n="$ops" 'BEGIN { printf "%.3f", (b - a + d - c) / n * 1e6 }')"
  results[$workload,spans]+=" $(awk -v s="$spans" -v n="$ops" 'BEGIN { printf "%.3f", s / n }')"
  results[$workload,lost]+=" $(awk '/periscope_events_lost/ { print $2 }' "$work/agent.log" | tail -1)"
  results[$workload,shed]+=" $(awk '/periscope_(requests|connections)_shed/ { n[$1] = $2 } END { s = 0; for (k in n) s += n[k]; print s }' "$work/agent.log")"
  echo "$workload round $round with agent:    $rate ops/s, $ops operations, $spans database spans" >&2
}

for round in $(seq "$rounds"); do
  measure postgresql "$round"
  measure redis "$round"
done

mean() { printf '%s\n' $1 | awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n; else print "n/a" }'; }
report() {
  local workload=$1 title=$2 base with
  base=$(mean "${results[$workload,base]}"); with=$(mean "${results[$workload,with]}")
  echo
  echo "$title"
  printf '  %-44s %s / %s  (ratio %s)\n' "operations/s without / with agent:" "$base" "$with" "$(awk -v a="$with" -v b="$base" 'BEGIN { printf "%.3f", a / b }')"
  printf '  %-44s %s\n' "agent CPU µs per operation (user + system):" "$(mean "${results[$workload,cpu]}")"
  printf '  %-44s %s (2 = client and server span)\n' "database spans per operation:" "$(mean "${results[$workload,spans]}")"
  printf '  %-44s %s / %s\n' "events lost / requests and connections shed per run:" "$(mean "${results[$workload,lost]}")" "$(mean "${results[$workload,shed]}")"
}
echo
echo "databases on loopback, ${seconds}s × $rounds rounds per load, both ends traced, agent writing every span as JSON"
report postgresql "pgbench -S -c4 -j1 (select-only, simple protocol)"
report redis "redis-benchmark -c16 -t set,get"
echo
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
