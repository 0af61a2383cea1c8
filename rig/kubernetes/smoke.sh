#!/usr/bin/env bash
# The Kubernetes rig's own check: a fresh cluster, probes that each look at
# the cluster from outside what they test, then teardown and a look for
# anything left behind. Prints one line per probe and "N passed, N failed";
# exits non-zero on any failure. The cluster is removed even when a probe fails.
#
# Workloads (namespace rig-smoke, manifests/smoke/):
#   web       the project's Odoo double image, one replica per node
#             (required anti-affinity), each answering HTTP with its pod name
#   probe     busybox on every node, allowed to reach web once policies apply
#   stranger  busybox on every node, never allowed
# shellcheck source=rig/kubernetes/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

((K8S_RIG_NODES >= 2)) || die "the smoke check needs two nodes or more (K8S_RIG_NODES=$K8S_RIG_NODES)"
NS=rig-smoke
CLUSTER="$K8S_RIG_DIR/cluster.sh"
export KUBECONFIG="$K8S_KUBECONFIG"
passed=0
failed=0

check() {  # DESCRIPTION COMMAND...: one probe, one line (and its "note:" lines)
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    printf 'ok   %s\n' "$what"
    grep '^note: ' <<<"$out" | sed 's/^note: /     /' || true
    passed=$((passed + 1))
  else
    printf 'FAIL %s\n' "$what"
    printf '%s\n' "$out" | tail -n 15 | sed 's/^/     /'
    failed=$((failed + 1))
  fi
}

retry() {  # SECONDS COMMAND...: until COMMAND succeeds
  local seconds=$1
  shift
  for _ in $(seq "$seconds"); do
    "$@" && return 0
    sleep 1
  done
  "$@"
}

pods() {  # APP [NODE]: names of Running pods of app APP (on NODE)
  kubectl -n "$NS" get pods -l "app=$1" ${2:+--field-selector "spec.nodeName=$2"} \
    -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name}{"\n"}{end}'
}
pod_ip() { kubectl -n "$NS" get pod "$1" -o jsonpath='{.status.podIP}'; }
node_of() { kubectl -n "$NS" get pod "$1" -o jsonpath='{.spec.nodeName}'; }

# http_get FROM_POD ADDRESS: the body of GET / on ADDRESS:8069, from inside FROM_POD.
http_get() {
  kubectl -n "$NS" exec "$1" -- sh -c \
    "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $2 8069 | sed '1,/^\r\?$/d'"
}

# ---- probes ---------------------------------------------------------------

nodes_ready() {
  local n
  for n in $(seq 1 "$K8S_RIG_NODES"); do
    kubectl wait --for=condition=Ready "node/$(k8s_node_name "$n")" --timeout=5s || return 1
  done
}

workloads_on_every_node() {
  local app n
  kubectl -n "$NS" rollout status deployment/web --timeout=120s
  for app in probe stranger; do kubectl -n "$NS" rollout status "daemonset/$app" --timeout=120s; done
  for app in web probe stranger; do
    for n in $(seq 1 "$K8S_RIG_NODES"); do
      [[ -n "$(pods "$app" "$(k8s_node_name "$n")")" ]] || { echo "no $app pod on $(k8s_node_name "$n")"; return 1; }
    done
  done
}

# Every probe pod reaches every web pod by its pod IP: the same node and across.
pod_to_pod() {
  local from to body
  for from in $(pods probe); do
    for to in $(pods web); do
      body=$(http_get "$from" "$(pod_ip "$to")")
      [[ "$body" == "$to" ]] || { echo "$from ($(node_of "$from")) -> $to ($(node_of "$to")): '$body'"; return 1; }
    done
  done
}

# From every node, the web Service's ClusterIP reaches the web pods of both nodes.
service_across_nodes() {
  local from ip seen body
  ip=$(kubectl -n "$NS" get service web -o jsonpath='{.spec.clusterIP}')
  for from in $(pods probe); do
    seen=""
    for _ in $(seq 30); do
      body=$(http_get "$from" "$ip") || true
      [[ -n "$body" && "$seen" != *"$body"* ]] && seen+="$body "
      (($(wc -w <<<"$seen") == $(pods web | wc -l))) && break
    done
    (($(wc -w <<<"$seen") == $(pods web | wc -l))) || { echo "$from saw only: $seen"; return 1; }
  done
}

# Cluster DNS from every node: a Service name resolves to its ClusterIP, and
# the answer reaches the Service.
cluster_dns() {
  local from ip resolved
  ip=$(kubectl -n "$NS" get service web -o jsonpath='{.spec.clusterIP}')
  for from in $(pods probe); do
    resolved=$(kubectl -n "$NS" exec "$from" -- nslookup "web.$NS.svc.cluster.local" \
      | awk '/^Address/ { a = $NF } END { print a }')
    [[ "$resolved" == "$ip" ]] || { echo "$from: web.$NS resolved to '$resolved', not $ip"; return 1; }
    [[ -n "$(http_get "$from" "$resolved")" ]] || { echo "$from: no answer from $resolved"; return 1; }
  done
  kubectl -n "$NS" exec "$(pods probe | head -n1)" -- nslookup kubernetes.default.svc.cluster.local \
    | grep -q "$K8S_API_SERVICE_IP"
}

# The metrics API serves node and pod usage (what `kubectl top` and an HPA read).
metrics_api() {
  local nodes web
  nodes=$(kubectl top nodes --no-headers | awk '{ print $1 }' | sort | tr '\n' ' ')
  [[ "$nodes" == "$(seq 1 "$K8S_RIG_NODES" | while read -r n; do k8s_node_name "$n"; done | sort | tr '\n' ' ')" ]] \
    || { echo "kubectl top nodes: $nodes"; return 1; }
  web=$(kubectl get --raw "/apis/metrics.k8s.io/v1beta1/namespaces/$NS/pods" \
    | python3 -c 'import json, sys
items = [i for i in json.load(sys.stdin)["items"] if i["metadata"]["name"].startswith("web-")]
print(sum(1 for i in items if i["containers"][0]["usage"]["memory"] not in ("", "0")))')
  (("$web" == $(pods web | wc -l))) || { echo "metrics for $web web pods"; kubectl top pods -n "$NS"; return 1; }
}

# reaches FROM TO: FROM gets an answer from web pod TO within the nc timeout.
reaches() { [[ "$(http_get "$1" "$(pod_ip "$2")" 2>/dev/null)" == "$2" ]]; }
refused() { ! reaches "$@"; }
cross_node_web() {  # FROM_POD: a web pod on another node
  local node
  node=$(node_of "$1")
  kubectl -n "$NS" get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' \
    | awk -v n="$node" '$2 != n { print $1; exit }'
}

# NetworkPolicy is enforced: a default deny makes real connections fail; an
# allow for the probe pods lets them through, and the strangers stay out.
network_policy() {
  local probe stranger web
  probe=$(pods probe | head -n1)
  stranger=$(pods stranger | head -n1)
  web=$(cross_node_web "$probe")
  if ! reaches "$probe" "$web" || ! reaches "$stranger" "$web"; then
    echo "before any policy: no connection to $web"
    return 1
  fi
  kubectl apply -f "$K8S_RIG_DIR/manifests/smoke/deny.yaml" >/dev/null
  retry 30 refused "$probe" "$web" || { echo "default deny: $probe still reaches $web"; return 1; }
  refused "$stranger" "$web" || { echo "default deny: $stranger still reaches $web"; return 1; }
  kubectl apply -f "$K8S_RIG_DIR/manifests/smoke/allow-probe.yaml" >/dev/null
  retry 30 reaches "$probe" "$web" || { echo "allow: $probe does not reach $web"; return 1; }
  refused "$stranger" "$web" || { echo "allow: $stranger reaches $web though not allowed"; return 1; }
  echo "note: $probe and $stranger -> $web ($(node_of "$web")): denied, then only $probe allowed"
}

# kubernetes.core.k8s applies an object (changed) and re-applies it (unchanged).
k8s_module_idempotent() {
  local bin
  bin=$(dirname "$(command -v ansible-playbook)")
  K8S_AUTH_KUBECONFIG="$K8S_KUBECONFIG" ansible-playbook -i localhost, -c local \
    -e "ansible_python_interpreter=$bin/python" -e "smoke_namespace=$NS" "$K8S_RIG_DIR/smoke-k8s.yml"
}

node_ready_status() {
  kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'
}
node_not_ready() { [[ "$(node_ready_status "$1")" != True ]]; }
# web_serving_only_on NODE: the web Service's ready endpoints are all on NODE.
web_serving_only_on() {
  [[ "$(kubectl -n "$NS" get endpointslices -l kubernetes.io/service-name=web \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.nodeName}{"\n"}{end}' | sort -u)" == "$1" ]]
}

# serves_from POD ADDRESS EXPECTED: 10 requests in a row from POD to ADDRESS,
# each answered by the web pod EXPECTED.
serves_from() {
  local body
  for _ in $(seq 10); do
    body=$(http_get "$1" "$2" 2>&1) || true
    [[ "$body" == "$3" ]] || { echo "answer: '$body'"; return 1; }
  done
}

# Node loss: node 2's kubelet, containerd and containers are killed; the node
# turns NotReady, its web pod leaves the Service, and once node 1's kube-proxy
# has caught up, node 1 serves every request.
node_loss() {
  local lost probe ip web killed not_ready
  lost=$(k8s_node_name 2)
  probe=$(pods probe "$(k8s_node_name 1)")
  web=$(pods web "$(k8s_node_name 1)")
  ip=$(kubectl -n "$NS" get service web -o jsonpath='{.spec.clusterIP}')
  killed=$SECONDS
  bash "$CLUSTER" kill-node 2
  retry 90 node_not_ready "$lost" || { echo "$lost still Ready 90 s after its kill"; return 1; }
  not_ready=$((SECONDS - killed))
  retry 60 web_serving_only_on "$(k8s_node_name 1)" || { echo "the web Service still lists a pod on $lost"; return 1; }
  retry 30 serves_from "$probe" "$ip" "$web" || { echo "the web Service does not answer from $(k8s_node_name 1)"; return 1; }
  kubectl get --raw /readyz >/dev/null
  echo "note: $lost Ready=$(node_ready_status "$lost") ${not_ready} s after the kill; then 10 of 10 requests answered by $web"
}

# ---- teardown: nothing left ------------------------------------------------

nothing_left() {
  local left=()
  ip netns list | grep -q "^$K8S_NAME" && left+=("netns: $(ip netns list | grep "^$K8S_NAME" | tr '\n' ' ')")
  ip link show "$K8S_NAME-h" >/dev/null 2>&1 && left+=("host veth $K8S_NAME-h")
  ip route | grep -q '10\.254\.' && left+=("host routes: $(ip route | grep '10\.254\.')")
  compgen -G "/sys/fs/cgroup/*/$K8S_NAME-*" >/dev/null && left+=("cgroups: $(compgen -G "/sys/fs/cgroup/*/$K8S_NAME-*" | tr '\n' ' ')")
  grep -qE " ($RIG_CACHE/kubernetes|/run/$K8S_NAME)" /proc/self/mountinfo && left+=("mounts under $K8S_CACHE or /run/$K8S_NAME")
  [[ -e "/run/$K8S_NAME" ]] && left+=("/run/$K8S_NAME")
  [[ -e "$K8S_STATE" ]] && left+=("$K8S_STATE")
  iptables-save 2>/dev/null | grep -qE '10\.244\.|10\.254\.|KUBE-' && left+=("host iptables rules of the cluster")
  [[ "$(host_paths)" == "$host_paths_before" ]] || left+=("host paths changed: $(diff <(echo "$host_paths_before") <(host_paths) | grep '^[<>]' | head -n 5 | tr '\n' ' ')")
  [[ -e /run/netns && -z "$netns_before" ]] && left+=("/run/netns")
  [[ "$(sysctl "${HOST_SYSCTLS[@]}")" == "$sysctls_before" ]] || left+=("host sysctls: $(sysctl "${HOST_SYSCTLS[@]}" | tr '\n' ' ')")
  ((${#left[@]} == 0)) || { printf '%s\n' "${left[@]}"; return 1; }
}

# Before bring-up, with no cluster left from an earlier run: what the host has
# of the paths and settings the cluster must leave as they were.
bash "$CLUSTER" down >/dev/null
HOST_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables)
sysctls_before=$(sysctl "${HOST_SYSCTLS[@]}")
# Where a kubelet, containerd or kubectl writes by default on a host.
host_paths() {
  { find /var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers /etc/kubernetes /etc/cni /opt/cni \
    /usr/libexec/kubernetes "$HOME/.kube" 2>/dev/null || true; } | sort
}
host_paths_before=$(host_paths)
netns_before=$(if [[ -e /run/netns ]]; then echo yes; fi)

trap 'bash "$CLUSTER" down >/dev/null 2>&1' EXIT
started=$SECONDS
if ! bash "$CLUSTER" up; then
  echo "FAIL bring-up (logs in $K8S_STATE/logs, kept: run cluster.sh down to remove)"
  trap - EXIT
  exit 1
fi
up_seconds=$((SECONDS - started))
k8s_render "$K8S_RIG_DIR/manifests/smoke/workloads.yaml" | kubectl apply -f - >/dev/null
kubectl -n "$NS" scale deployment/web --replicas "$K8S_RIG_NODES" >/dev/null  # one per node

check "$K8S_RIG_NODES nodes Ready" nodes_ready
check "web (the Odoo double image), probe and stranger pods run on every node" workloads_on_every_node
check "pod to pod by IP, same node and across nodes" pod_to_pod
check "the web Service reaches both nodes' pods from every node" service_across_nodes
check "cluster DNS from every node" cluster_dns
check "metrics API: kubectl top nodes and pod usage" retry 90 metrics_api
check "NetworkPolicy: default deny refuses, allow admits (kube-router)" network_policy
check "kubernetes.core.k8s: apply changed, re-apply unchanged" k8s_module_idempotent
check "node loss: node 2 NotReady, node 1 keeps serving" node_loss

started=$SECONDS
bash "$CLUSTER" down >/dev/null
trap - EXIT
down_seconds=$((SECONDS - started))
check "teardown leaves no process, mount, cgroup, netns, route, iptables rule, sysctl or host file" nothing_left
echo "cluster up in $up_seconds s, down in $down_seconds s"
echo "$passed passed, $failed failed"
((failed == 0))
