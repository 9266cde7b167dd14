#!/usr/bin/env bash
# Controller scale benchmark: BENCH_NODES nodes (500), BENCH_PODS running pods (5000) and
# BENCH_POLICIES policies (200) on an API server; the periscope-controller executable (release
# build, its own process) resolves them. Prints the time to first full resolution, pod change →
# node object latency (median, p95, max) for restarts, label-only changes, moves out of and into
# policies, creates and deletes; API writes per change against the minimum; the controller's CPU
# per change and peak RSS; whether every node object and status is right after start and after
# the changes.
#
#   hack/bench-controller.sh                a real kube-apiserver + etcd when the cluster kit's
#                                           binaries are built (PERISCOPE_CLUSTER_HOME, default
#                                           ~/.cache/kube-local/bin) and etcd is installed, else
#                                           the in-process test API server
#   hack/bench-controller.sh --test-server  the in-process test API server
#   hack/bench-controller.sh --real         a real API server, or fail
#
# The real API server is started for the run only: its own etcd (temporary data directory),
# certificates and token, on loopback ports of its own (BENCH_API_PORT 16443, BENCH_ETCD_PORT
# 12379); both are stopped at exit. Nothing of a running cluster is touched.
#   BENCH_CHANGES (default 20 of each kind; 0: the start only)  BENCH_SCRATCH_PATH (default .build)
#   BENCH_STARTS (default 1): first full resolutions measured, the controller's writes taken back
#   between two; the median is reported
#   BENCH_COMPARE: another periscope-controller executable whose starts alternate with this one's
#   BENCH_CONTROLLER: another periscope-controller executable to measure (e.g. an older build)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=auto
case "${1:-}" in
  --test-server) mode=test ;;
  --real) mode=real ;;
  "") ;;
  *) echo "usage: $0 [--test-server|--real]" >&2; exit 2 ;;
esac
kit_bin=${PERISCOPE_CLUSTER_HOME:-$HOME/.cache/kube-local}/bin
if [ "$mode" = auto ]; then
  if [ -x "$kit_bin/kube-apiserver" ] && command -v etcd >/dev/null; then mode=real; else mode=test; fi
fi
if [ "$mode" = real ] && { [ ! -x "$kit_bin/kube-apiserver" ] || ! command -v etcd >/dev/null; }; then
  echo "$0: --real needs the cluster kit's kube-apiserver in $kit_bin (../shared/cluster/build.sh) and etcd (apt-get install etcd-server)" >&2
  exit 1
fi

scratch=${BENCH_SCRATCH_PATH:-.build}
swift build -c release --scratch-path "$scratch" --product periscope-controller >&2
swift build -c release --scratch-path "$scratch" --product periscope-controller-bench >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
controller=${BENCH_CONTROLLER:-$bin/periscope-controller}

if [ "$mode" = test ]; then
  exec "$bin/periscope-controller-bench" "$PWD/crds" "$controller"
fi

# ---- a real kube-apiserver with its own etcd ----
api_port=${BENCH_API_PORT:-16443}
etcd_port=${BENCH_ETCD_PORT:-12379}
work=$(mktemp -d /tmp/periscope-bench-api.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
say() { echo "$(date +%T) bench-controller: $*" >&2; }

say "certificates and token in $work"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$work/apiserver.key" -out "$work/apiserver.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$work/apiserver.ext"
openssl x509 -req -in "$work/apiserver.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/apiserver.ext" -out "$work/apiserver.crt" 2>/dev/null
openssl genrsa -out "$work/sa.key" 2048 2>/dev/null
openssl rsa -in "$work/sa.key" -pubout -out "$work/sa.pub" 2>/dev/null
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,bench,bench,system:masters" > "$work/tokens.csv"

say "etcd on 127.0.0.1:$etcd_port"
etcd --name bench --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" --initial-cluster "bench=http://127.0.0.1:$((etcd_port + 1))" \
  > "$work/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null || { tail -20 "$work/etcd.log" >&2; exit 1; }

say "kube-apiserver on https://127.0.0.1:$api_port"
"$kit_bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 --secure-port="$api_port" \
  --advertise-address=127.0.0.1 --insecure-port=0 --cert-dir="$work/certs" --tls-cert-file="$work/apiserver.crt" \
  --tls-private-key-file="$work/apiserver.key" --client-ca-file="$work/ca.crt" --token-auth-file="$work/tokens.csv" \
  --authorization-mode=RBAC --disable-admission-plugins=ServiceAccount \
  --service-account-key-file="$work/sa.pub" --service-account-signing-key-file="$work/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local --service-cluster-ip-range=10.112.0.0/16 \
  > "$work/apiserver.log" 2>&1 &
pids+=($!)
cat > "$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: "https://127.0.0.1:$api_port", certificate-authority: "$work/ca.crt"}}]
users: [{name: bench, user: {token: "$token"}}]
contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: kube-system}}]
current-context: bench
EOF
kubectl=("$kit_bin/kubectl" --kubeconfig="$work/kubeconfig")
for _ in $(seq 1 150); do "${kubectl[@]}" get --raw /readyz >/dev/null 2>&1 && break; sleep 0.4; done
"${kubectl[@]}" get --raw /readyz >/dev/null || { tail -20 "$work/apiserver.log" >&2; exit 1; }
"${kubectl[@]}" apply -f crds/ >&2
"${kubectl[@]}" wait --for condition=established --timeout=60s crd/instrumentationpolicies.periscope.dev crd/nodeinstrumentations.periscope.dev >&2
BENCH_KUBECONFIG="$work/kubeconfig" "$bin/periscope-controller-bench" "$PWD/crds" "$controller"
