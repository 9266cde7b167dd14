# Shared by the benchmarks: sourced, not run.

# start_nginx WORK PORT: nginx with one worker answering every request with a fixed
# 17-byte body on 127.0.0.1:PORT, its files under WORK (pid in WORK/nginx.pid).
start_nginx() {
  local work=$1 port=$2
  mkdir -p "$work/body" "$work/proxy"
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.1; done
  echo "nginx did not start on port $port" >&2
  return 1
}

# start_nginx_tls WORK PORT: the same nginx answer over HTTPS (TLS 1.3, a self-signed
# certificate) on 127.0.0.1:PORT, its files under WORK/tls (pid in WORK/tls/nginx.pid).
start_nginx_tls() {
  local work=$1/tls port=$2
  mkdir -p "$work/body" "$work/proxy"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 2 -subj /CN=127.0.0.1 2>/dev/null
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF
  nginx -c "$work/nginx.conf" -p "$work"
  for _ in $(seq 50); do curl -sk -o /dev/null "https://127.0.0.1:$port/" && return 0; sleep 0.1; done
  echo "nginx did not start on port $port (TLS)" >&2
  return 1
}

# cpu_seconds PID: user + system CPU time of a process, in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# cpu_split PID: "user system" CPU seconds of a process.
cpu_split() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.3f %.3f\n", $12 / hz, $13 / hz }' "/proc/$1/stat"
}

# bpf_run_ns: total run time (ns) of the agent's BPF programs so far, from bpf_stats
# (kernel.bpf_stats_enabled must be 1).
bpf_run_ns() {
  bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
total = 0
for prog in json.load(sys.stdin):
    if prog.get("name", "").startswith("periscope"):
        total += prog.get("run_time_ns", 0)
print(total)'
}

# bench_agent: the agent to measure: BENCH_AGENT, or built as its image builds it (release,
# Swift runtime linked statically) under BENCH_SCRATCH_PATH (default .build-static).
bench_agent() {
  if [ -n "${BENCH_AGENT:-}" ]; then
    echo "$BENCH_AGENT"
    return
  fi
  local scratch=${BENCH_SCRATCH_PATH:-.build-static}
  swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product periscope-agent >&2
  echo "$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/periscope-agent"
}

# await_agent PID LOG NAME: waits (up to a minute) for the agent PID, started in the background
# with its standard error in LOG, to be ready, then two seconds more: what is measured is the
# agent at work, not its first moments (probing the TLS libraries of every process it traces,
# on a thread of its own, after agent.ready). LOG may still hold the agent.ready of the agent
# before: it is read only once PID runs the agent, when the shell has truncated it. Exits when
# the agent exits or never becomes ready.
await_agent() {
  local pid=$1 log=$2 name=$3 shell
  shell=$(readlink "/proc/$$/exe")
  for _ in $(seq 1200); do
    kill -0 "$pid" 2>/dev/null || break
    [ "$(readlink "/proc/$pid/exe")" != "$shell" ] && grep -qs agent.ready "$log" && { sleep 2; return 0; }
    sleep 0.05
  done
  echo "$name: the agent did not become ready" >&2
  cat "$log" >&2
  exit 1
}
