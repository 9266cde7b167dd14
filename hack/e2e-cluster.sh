#!/usr/bin/env bash
# hack/e2e-cluster.sh: Periscope on a real one-node Kubernetes (1.20, the test cluster kit in
# ../shared/cluster, PERISCOPE_CLUSTER_KIT), installed exactly as the README says.
#
#  1. builds (first time ~7 min) and starts an empty cluster in its own network namespace
#     (PERISCOPE_CLUSTER_ISOLATE=1: the host's network and iptables stay untouched);
#  2. loads the images hack/images.sh made (run it first) under the names manifests/ use;
#  3. deploys two namespaces of HTTP servers (hack/e2e/apps.yaml), then `kubectl apply -f
#     manifests/`; waits for the controller Deployment (2 replicas, one leader) and the agent
#     DaemonSet; `periscopectl instrument namespace e2e-shop` with an OTLP receiver as the policy's
#     export endpoint; sends requests until the first span;
#  4. checks spans in `kubectl logs` of the agent (pod name and namespace) and at the OTLP receiver
#     (pod, namespace, owner Deployment, service name), /metrics' service_name, the other namespace
#     silent, the policy Ready with its matched pods and nodes, the node status the agent wrote;
#  5. restarts a target pod, then the agent pod, and checks tracing resumes each time;
#     uninstruments and checks tracing stops;
#  6. `kubectl delete -f manifests/`: no BPF program or link of the agent is left, and a reinstall
#     of the CRDs shows no Periscope object; then E2E_UNINSTALL_ROUNDS (default 3) more rounds of
#     install, instrument, uninstall with the same checks;
#  7. prints the figures (image sizes, cluster start, kubectl apply to first span, uninstall) and
#     stops the cluster (E2E_KEEP=1 leaves it running).
# Prints PASS/FAIL lines; exit status 0 only when everything passed. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
[ "$(id -u)" -eq 0 ] || { echo "e2e: run as root (the cluster runs containerd and a kubelet)" >&2; exit 1; }

KIT=${PERISCOPE_CLUSTER_KIT:-}
if [ -z "$KIT" ]; then
  for candidate in "$REPO/../shared/cluster" /work/shared/cluster; do
    [ -x "$candidate/up.sh" ] && { KIT=$(cd "$candidate" && pwd); break; }
  done
fi
[ -n "$KIT" ] && [ -x "$KIT/up.sh" ] || { echo "e2e: no cluster kit (set PERISCOPE_CLUSTER_KIT to the directory with up.sh)" >&2; exit 1; }
export PERISCOPE_CLUSTER_ISOLATE=${PERISCOPE_CLUSTER_ISOLATE:-1}
NODE=${PERISCOPE_CLUSTER_NODE:-node-1}
NODE_IP=${PERISCOPE_CLUSTER_IP:-10.255.253.1}
IMAGES=${PERISCOPE_IMAGES_DIR:-$REPO/.build/images}
ROUNDS=${E2E_UNINSTALL_ROUNDS:-3}
OTLP_PORT=${E2E_OTLP_PORT:-14318}
VENV_PYTHON=/opt/periscope/venv/bin/python
SYS=periscope-system

work=$(mktemp -d /tmp/periscope-e2e.XXXXXX)
receiver_pid=
failures=0
declare -A figure=()
started_all=$SECONDS

say() { echo "$(date +%T) e2e: $*" >&2; }
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
abort() { echo "FAIL $*"; failures=$((failures + 1)); exit 1; }
in_cluster() { "$KIT/in.sh" "$@"; }
k() { "$KIT/in.sh" kubectl "$@"; }
ctl() { "$KIT/in.sh" "$PERISCOPECTL" "$@"; }
# eventually SECONDS DESCRIPTION COMMAND...: retries COMMAND every second until it succeeds.
eventually() {
  local limit=$1 description=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { say "gave up after ${limit}s: $description"; return 1; }
    sleep 1
  done
}
http_code() { in_cluster curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }

cleanup() {
  local status=$?
  [ -z "$receiver_pid" ] || kill "$receiver_pid" 2>/dev/null || true
  if [ $failures -gt 0 ] || [ $status -ne 0 ]; then
    say "diagnostics in $work"
    k get pods -A -o wide >"$work/pods.txt" 2>&1 || true
    k -n $SYS logs -l app.kubernetes.io/name=periscope-agent --tail=200 >"$work/agent.log" 2>&1 || true
    k -n $SYS logs -l app.kubernetes.io/name=periscope-controller --tail=200 --prefix >"$work/controller.log" 2>&1 || true
  else
    rm -rf "$work"
  fi
  if [ "${E2E_KEEP:-0}" != 1 ]; then
    "$KIT/down.sh" >/dev/null 2>&1 || say "down.sh failed"
  fi
  exit $((status != 0 ? status : failures > 0))
}
trap cleanup EXIT

# --- 1. cluster ---------------------------------------------------------------------------
for image in periscope-agent periscope-controller; do
  [ -f "$IMAGES/$image.tar" ] || abort "no $IMAGES/$image.tar: run hack/images.sh first"
done
say "building the cluster kit (cached after the first time)"
t=$SECONDS
"$KIT/build.sh" >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; abort "the cluster kit's build.sh"; }
figure[kit_build]=$((SECONDS - t))
t=$SECONDS
[ -f "${PERISCOPE_CLUSTER_HOME:-$HOME/.cache/kube-local}/images/debian-bookworm.tar" ] \
  || "$KIT/base-image.sh" >"$work/base-image.log" 2>&1 || { tail -n 30 "$work/base-image.log" >&2; abort "base-image.sh"; }
figure[kit_base_image]=$((SECONDS - t))
say "starting an empty cluster"
t=$SECONDS
"$KIT/up.sh" --fresh >"$work/up.out" 2>"$work/up.log" || { tail -n 30 "$work/up.log" >&2; abort "up.sh"; }
figure[cluster_start]=$((SECONDS - t))
pass "cluster up in ${figure[cluster_start]} s ($(k version --short 2>/dev/null | tail -n 1))"

# periscopectl runs on this host, as an operator would (the debug build hack/test.sh already made).
swift build --product periscopectl >"$work/periscopectl-build.log" 2>&1 \
  || { tail -n 30 "$work/periscopectl-build.log" >&2; abort "swift build periscopectl"; }
PERISCOPECTL=$(swift build --show-bin-path)/periscopectl

# --- 2. images ----------------------------------------------------------------------------
for image in periscope-agent periscope-controller; do
  name=$(awk '$1 == "image:" { print $2; exit }' "manifests/$image.yaml")
  t=$SECONDS
  "$KIT/load-image.sh" "$IMAGES/$image.tar" "$name" >/dev/null 2>"$work/load-$image.log" \
    || { cat "$work/load-$image.log" >&2; abort "load-image.sh $image"; }
  size=$(stat -c %s "$IMAGES/$image.tar")
  figure[image_$image]="$((size / 1000000)) MB"
  pass "image $name loaded ($((size / 1000000)) MB, $((SECONDS - t)) s)"
done

# --- helpers over the installed system ----------------------------------------------------
agent_pod() { k -n $SYS get pods -l app.kubernetes.io/name=periscope-agent -o jsonpath='{.items[0].metadata.name}'; }
agent_logs() { k -n $SYS logs "$1" --tail=-1 2>/dev/null; }
spans_of() { agent_logs "$1" | grep -c -- " pod=$2\b" || true; }
running_pods() { k -n "$1" get pods -l app=web --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.podIP}{"\n"}{end}'; }
ready_replicas() { [ "$(k -n "$1" get deployment "$2" -o jsonpath='{.status.readyReplicas}')" = "$3" ]; }
controller_ready() { ready_replicas $SYS periscope-controller 2; }
agent_ready() {
  [ "$(k -n $SYS get ds periscope-agent -o jsonpath='{.status.numberReady}/{.status.desiredNumberScheduled}')" = 1/1 ]
}
policy_field() { k -n e2e-shop get instrumentationpolicies.periscope.dev periscope-namespace -o jsonpath="$1"; }
policy_ready() { [ "$(policy_field '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
# A request to every shop pod until each one's span shows in the agent's log.
spans_for_every_pod() {
  local agent=$1 pod ip missing=0
  while read -r pod ip; do
    [ -n "$pod" ] || continue
    http_code "http://$ip:8080/hostname" >/dev/null
    [ "$(spans_of "$agent" "e2e-shop/$pod")" -gt 0 ] || missing=1
  done < <(running_pods e2e-shop)
  return $missing
}
# Host PIDs of the processes of one pod, found through their cgroups.
pod_pids() {
  local uid=$1 pid
  for pid in /proc/[0-9]*; do
    grep -qs "pod$uid" "$pid/cgroup" && echo "${pid#/proc/}"
  done
  return 0
}
# BPF program or link IDs these PIDs hold, from their file descriptors' fdinfo (prog_id:, link_id:).
bpf_ids_of() {
  local key=$1_id: pid fdinfo
  shift
  for pid in "$@"; do
    for fdinfo in /proc/"$pid"/fdinfo/*; do
      awk -v key="$key" '$1 == key { print $2 }' "$fdinfo" 2>/dev/null
    done
  done | sort -un
}
# Which of these BPF program or link IDs still exist.
bpf_ids_left() {
  local kind=$1
  shift
  bpftool -j "$kind" show 2>/dev/null | python3 -c '
import json, sys
wanted = set(int(i) for i in sys.argv[1:])
print(" ".join(str(item["id"]) for item in json.load(sys.stdin) if item["id"] in wanted))' "$@"
}

# uninstall ROUND: kubectl delete -f manifests/ as the README says, then the checks.
uninstall() {
  local round=$1 agent_uid pids progs links t
  agent_uid=$(k -n $SYS get pods -l app.kubernetes.io/name=periscope-agent -o jsonpath='{.items[0].metadata.uid}')
  mapfile -t pids < <(pod_pids "$agent_uid")
  mapfile -t progs < <(bpf_ids_of prog "${pids[@]}")
  mapfile -t links < <(bpf_ids_of link "${pids[@]}")
  if [ ${#progs[@]} -gt 0 ]; then
    pass "[$round] the agent (host PIDs ${pids[*]}) holds ${#progs[@]} BPF programs and ${#links[@]} links"
  else
    fail "[$round] found no BPF program of the agent pod (PIDs: ${pids[*]:-none})"
  fi
  t=$SECONDS
  if k delete -f "$REPO/manifests/" --timeout=180s >"$work/delete-$round.log" 2>&1; then
    pass "[$round] kubectl delete -f manifests/ in $((SECONDS - t)) s"
  else
    fail "[$round] kubectl delete -f manifests/: $(tail -n 3 "$work/delete-$round.log")"
  fi
  figure[uninstall]=$((SECONDS - t))
  eventually 120 "namespace $SYS gone" bash -c "! '$KIT/in.sh' kubectl get ns $SYS" || fail "[$round] namespace $SYS still there"
  local left_progs left_links still
  left_progs=$(bpf_ids_left prog "${progs[@]}")
  left_links=$(bpf_ids_left link "${links[@]}")
  still=$(pod_pids "$agent_uid")
  if [ -z "$left_progs" ] && [ -z "$left_links" ] && [ -z "$still" ]; then
    pass "[$round] none of the agent's BPF programs (${progs[*]}) or links (${links[*]}) is left (bpftool prog/link show), nor a process of its pod"
  else
    fail "[$round] left behind: programs '$left_progs' links '$left_links' processes '$still'"
  fi
  # A reinstall of the resource types shows whether any object survived in storage.
  k apply -f "$REPO/manifests/10-crd-instrumentationpolicy.yaml" -f "$REPO/manifests/10-crd-nodeinstrumentation.yaml" >/dev/null
  k wait --for condition=established --timeout=60s crd/instrumentationpolicies.periscope.dev crd/nodeinstrumentations.periscope.dev >/dev/null
  local survivors
  survivors=$(k get nodeinstrumentations.periscope.dev,instrumentationpolicies.periscope.dev -A -o name 2>&1)
  if [ -z "$survivors" ]; then
    pass "[$round] reinstalled CRDs show no NodeInstrumentation or InstrumentationPolicy"
  else
    fail "[$round] objects survived the uninstall: $survivors"
    k delete nodeinstrumentations.periscope.dev,instrumentationpolicies.periscope.dev -A --all >/dev/null 2>&1 || true
  fi
  k delete -f "$REPO/manifests/10-crd-instrumentationpolicy.yaml" -f "$REPO/manifests/10-crd-nodeinstrumentation.yaml" --timeout=60s >/dev/null
}

install_and_wait() {
  local round=$1
  k apply -f "$REPO/manifests/" >"$work/apply-$round.log" 2>&1 || abort "[$round] kubectl apply -f manifests/: $(cat "$work/apply-$round.log")"
  eventually 180 "controller Deployment ready" controller_ready || abort "[$round] the controller Deployment is not Ready: $(k -n $SYS get pods -o wide 2>&1)"
  eventually 180 "agent DaemonSet ready" agent_ready || abort "[$round] the agent DaemonSet is not Ready: $(k -n $SYS get pods -o wide 2>&1)"
}

# --- 3. install and first span --------------------------------------------------------------
k apply -f "$REPO/hack/e2e/apps.yaml" >/dev/null
eventually 180 "shop pods ready" ready_replicas e2e-shop web 2 || abort "the e2e-shop pods are not Ready: $(k -n e2e-shop get pods 2>&1)"
eventually 180 "quiet pod ready" ready_replicas e2e-quiet web 1 || abort "the e2e-quiet pod is not Ready"
pass "two namespaces of HTTP servers running (e2e-shop: 2 pods, e2e-quiet: 1 pod)"

say "starting the OTLP receiver at $NODE_IP:$OTLP_PORT"
# Started directly (not through a function, which would fork a subshell) so that $! is the
# receiver itself: in.sh execs nsenter, which execs Python.
"$KIT/in.sh" "$VENV_PYTHON" "$REPO/hack/otlp/receiver.py" --address "$NODE_IP" --port "$OTLP_PORT" --out "$work/otlp.jsonl" >"$work/receiver.log" 2>&1 &
receiver_pid=$!

say "kubectl apply -f manifests/"
t_apply=$SECONDS
install_and_wait main
figure[apply_to_ready]=$((SECONDS - t_apply))
pass "controller Deployment 2/2 and agent DaemonSet 1/1 Ready $((SECONDS - t_apply)) s after kubectl apply"
holder=$(k -n $SYS get lease periscope-controller -o jsonpath='{.spec.holderIdentity}')
controllers=$(k -n $SYS get pods -l app.kubernetes.io/name=periscope-controller -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.podIP}{"\n"}{end}')
leaders=0
while read -r pod ip; do
  value=$(in_cluster curl -s --max-time 5 "http://$ip:8080/metrics" | awk '$1 == "periscope_controller_leader" { print $2 }')
  [ "$value" = 1 ] && leaders=$((leaders + 1)) && leader_pod=$pod
done <<<"$controllers"
if [ $leaders = 1 ] && [ "${leader_pod:-}" = "$holder" ]; then
  pass "one leader among the 2 controller replicas: $holder (Lease and periscope_controller_leader agree)"
else
  fail "leadership: Lease holder '$holder', replicas reporting leader: $leaders"
fi

ctl instrument namespace e2e-shop >"$work/instrument.log" 2>&1 || fail "periscopectl instrument namespace e2e-shop: $(cat "$work/instrument.log")"
k -n e2e-shop patch instrumentationpolicies.periscope.dev periscope-namespace --type merge \
  -p "{\"spec\":{\"export\":{\"otlp\":{\"endpoint\":\"http://$NODE_IP:$OTLP_PORT\"}}}}" >/dev/null \
  || fail "setting the policy's export endpoint"
AGENT=$(agent_pod)
first_span() {
  local pod ip
  read -r pod ip < <(running_pods e2e-shop)
  http_code "http://$ip:8080/hostname" >/dev/null
  [ "$(spans_of "$AGENT" "e2e-shop/$pod")" -gt 0 ]
}
if eventually 120 "first span" first_span; then
  figure[apply_to_first_span]=$((SECONDS - t_apply))
  pass "first span in the agent's log $((SECONDS - t_apply)) s after kubectl apply"
else
  abort "no span in the agent's log within 120 s: $(agent_logs "$AGENT" | tail -n 20)"
fi

# --- 4. what the spans, statuses and metrics say ---------------------------------------------
eventually 60 "a span from every shop pod" spans_for_every_pod "$AGENT" \
  && pass "spans from both e2e-shop pods in kubectl logs, named pod=e2e-shop/<pod>" \
  || fail "not every e2e-shop pod's requests were traced: $(agent_logs "$AGENT" | grep -c ' pod=') span lines"
line=$(agent_logs "$AGENT" | grep -m 1 -- " GET .* pod=e2e-shop/" || true)
case "$line" in
  *" SERVER "*"GET "*"/hostname "*" 200 "*"->"*":8080 "*"python3"*" pod=e2e-shop/web-"*" trace="*) pass "a span line reads as expected: $(tr -s ' ' <<<"$line")" ;;
  *) fail "unexpected span line: $line" ;;
esac

read -r quiet_pod quiet_ip < <(running_pods e2e-quiet)
for _ in 1 2 3 4 5; do http_code "http://$quiet_ip:8080/hostname" >/dev/null; done
sleep 3
if [ "$(agent_logs "$AGENT" | grep -c -- " pod=e2e-quiet/" || true)" = 0 ] && [ "$(agent_logs "$AGENT" | grep -c "$quiet_ip:8080" || true)" = 0 ]; then
  pass "e2e-quiet ($quiet_pod) answered 5 requests and is silent"
else
  fail "spans from the uninstrumented namespace: $(agent_logs "$AGENT" | grep -m 3 -e " pod=e2e-quiet/" -e "$quiet_ip:8080")"
fi

eventually 60 "policy Ready" policy_ready || true
ready=$(policy_field '{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}')
matched=$(policy_field '{.status.matchedPods}') nodes=$(policy_field '{.status.nodes.applied}/{.status.nodes.desired}')
if [ "$ready" = True/Applied ] && [ "$matched" = 2 ] && [ "$nodes" = 1/1 ]; then
  pass "policy e2e-shop/periscope-namespace Ready (Applied), 2 matched pods, nodes applied 1/1"
else
  fail "policy status: Ready $ready, matchedPods $matched, nodes $nodes"
fi

ni=$(k get nodeinstrumentations.periscope.dev "$NODE" -o json)
python3 - "$ni" <<'EOF' && pass "NodeInstrumentation $NODE: targets with owner Deployment/web; status written by the agent" || fail "NodeInstrumentation $NODE: see above"
import json, sys
ni = json.loads(sys.argv[1])
spec, status, problems = ni["spec"], ni.get("status", {}), []
targets = [t for t in spec.get("targets", []) if t["namespace"] == "e2e-shop"]
if len(targets) != 2: problems.append(f"{len(targets)} e2e-shop targets, want 2")
for t in targets:
    if t.get("owner") != {"kind": "Deployment", "name": "web"}: problems.append(f"owner {t.get('owner')}")
    if not all(c["id"].startswith("containerd://") for c in t["containers"]): problems.append(f"container ids {t['containers']}")
if any(t["namespace"] == "e2e-quiet" for t in spec.get("targets", [])): problems.append("e2e-quiet is a target")
if status.get("observedGeneration") != ni["metadata"]["generation"]:
    problems.append(f"observedGeneration {status.get('observedGeneration')} != generation {ni['metadata']['generation']}")
if (status.get("processesAttached") or 0) < 2: problems.append(f"processesAttached {status.get('processesAttached')}")
if not status.get("kernelFeatures"): problems.append("no kernelFeatures")
if "lastError" in status: problems.append(f"lastError {status['lastError']}")
if not any(p["namespace"] == "e2e-shop" for p in status.get("policies", [])): problems.append(f"status.policies {status.get('policies')}")
for p in problems: print("  " + p)
print(f"  processesAttached={status.get('processesAttached')} kernelFeatures={status.get('kernelFeatures')}")
sys.exit(1 if problems else 0)
EOF

agent_ip=$(k -n $SYS get pod "$AGENT" -o jsonpath='{.status.podIP}')
metrics=$(in_cluster curl -s --max-time 5 "http://$agent_ip:9464/metrics" || true)
if grep -q 'service_name="storefront"' <<<"$metrics"; then
  pass "the agent's /metrics carry service_name=\"storefront\" (the pods' app.kubernetes.io/name)"
else
  fail "no service_name=\"storefront\" series at http://$agent_ip:9464/metrics"
fi

otlp_check() {
  python3 - "$work/otlp.jsonl" <<'EOF'
import json, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    sys.exit(1)
for line in lines:
    request = json.loads(line)
    for span in request.get("spans", []):
        r = span["resource"]
        if r.get("k8s.namespace.name") == "e2e-shop" and r.get("k8s.pod.name", "").startswith("web-") \
                and r.get("k8s.deployment.name") == "web" and r.get("service.name") == "storefront" \
                and r.get("k8s.node.name"):
            print(f"{r['k8s.namespace.name']}/{r['k8s.pod.name']} deployment={r['k8s.deployment.name']} service.name={r['service.name']} node={r['k8s.node.name']}")
            sys.exit(0)
sys.exit(1)
EOF
}
if eventually 30 "spans at the OTLP receiver" otlp_check; then
  pass "OTLP receiver named by the policy got spans with $(otlp_check)"
else
  fail "no span with pod, namespace, k8s.deployment.name=web and service.name=storefront reached the OTLP receiver at $NODE_IP:$OTLP_PORT ($(wc -l <"$work/otlp.jsonl" 2>/dev/null || echo 0) requests received)"
fi

# --- 5. restarts and uninstrument -------------------------------------------------------------
read -r old_pod _ < <(running_pods e2e-shop)
k -n e2e-shop delete pod "$old_pod" --wait=true >/dev/null
eventually 120 "shop pods ready again" ready_replicas e2e-shop web 2 || fail "the e2e-shop Deployment did not recover"
if eventually 60 "spans from the replacement pod" spans_for_every_pod "$AGENT"; then
  pass "target pod $old_pod restarted: its replacement is traced"
else
  fail "no span from the pod that replaced $old_pod"
fi

k -n $SYS delete pod "$AGENT" --wait=true >/dev/null
eventually 120 "agent ready again" agent_ready || fail "the agent DaemonSet did not recover"
NEW_AGENT=$(agent_pod)
if [ "$NEW_AGENT" != "$AGENT" ] && eventually 60 "spans in the new agent's log" spans_for_every_pod "$NEW_AGENT"; then
  pass "agent pod restarted ($AGENT → $NEW_AGENT): tracing resumed"
else
  fail "tracing did not resume after the agent pod restarted ($AGENT → $NEW_AGENT)"
fi
AGENT=$NEW_AGENT

ctl uninstrument namespace e2e-shop >"$work/uninstrument.log" 2>&1 || fail "periscopectl uninstrument namespace e2e-shop: $(cat "$work/uninstrument.log")"
no_targets() {
  [ "$(k get nodeinstrumentations.periscope.dev "$NODE" -o jsonpath='{.spec.targets}')" = "" ] || [ "$(k get nodeinstrumentations.periscope.dev "$NODE" -o jsonpath='{.spec.targets}')" = "[]" ]
}
applied() { [ "$(k get nodeinstrumentations.periscope.dev "$NODE" -o jsonpath='{.metadata.generation}')" = "$(k get nodeinstrumentations.periscope.dev "$NODE" -o jsonpath='{.status.observedGeneration}')" ]; }
eventually 60 "targets gone" no_targets && eventually 60 "agent applied" applied || fail "the node's object still lists targets after uninstrument"
sleep 1
before=$(agent_logs "$AGENT" | grep -c -- " pod=e2e-shop/" || true)
while read -r pod ip; do http_code "http://$ip:8080/hostname" >/dev/null; done < <(running_pods e2e-shop)
sleep 4
after=$(agent_logs "$AGENT" | grep -c -- " pod=e2e-shop/" || true)
if [ "$before" = "$after" ]; then
  pass "uninstrumented: requests to e2e-shop are no longer traced"
else
  fail "spans after uninstrument: $before → $after"
fi

# --- 6. uninstall, several times ---------------------------------------------------------------
uninstall main
for round in $(seq 1 "$ROUNDS"); do
  install_and_wait "$round"
  ctl instrument namespace e2e-shop >/dev/null 2>&1 || fail "[$round] periscopectl instrument"
  eventually 90 "policy Ready" policy_ready || fail "[$round] the policy did not become Ready"
  uninstall "$round"
done

# --- 7. figures ----------------------------------------------------------------------------
k delete -f "$REPO/hack/e2e/apps.yaml" --wait=false >/dev/null 2>&1 || true
echo "figures:"
echo "  image periscope-agent:            ${figure[image_periscope-agent]}"
echo "  image periscope-controller:       ${figure[image_periscope-controller]}"
echo "  cluster kit build.sh:             ${figure[kit_build]} s"
echo "  cluster kit base image:           ${figure[kit_base_image]} s"
echo "  cluster start (up.sh --fresh):    ${figure[cluster_start]} s"
echo "  kubectl apply to all Ready:       ${figure[apply_to_ready]} s"
echo "  kubectl apply to first span:      ${figure[apply_to_first_span]:-none} s"
echo "  kubectl delete -f manifests/:     ${figure[uninstall]} s (last round)"
echo "  end-to-end test:                  $((SECONDS - started_all)) s"
if [ $failures = 0 ]; then echo "E2E OK"; else echo "E2E FAILED ($failures)"; fi
