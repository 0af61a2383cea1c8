#!/usr/bin/env bash
# A real multi-node Kubernetes cluster of plain processes, for tests.
#
#   cluster.sh up            a fresh cluster (removes any previous one first)
#   cluster.sh down          stop it and remove everything it made
#   cluster.sh kill-node N [NS/SELECTOR]  node loss: kill node N's kubelet,
#                            kube-proxy, containerd and every container on it
#                            (refused unless it runs a pod SELECTOR matches)
#   cluster.sh restart-node N  bring a killed node back (its state kept, as after a reboot)
#   cluster.sh connect CIDR...  route the pods to networks of this machine
#                            (the rig's Docker containers: the data tier)
#   cluster.sh gateway GW CIDR...  send the cluster's packets for CIDR through
#                            GW (a container that routes them: a VPN hub)
#   cluster.sh lb CIDR       the load balancer of LoadBalancer Services,
#                            frontends from CIDR (lb.py)
#   cluster.sh import        load the image archives again into the running nodes
#   cluster.sh status        nodes and kube-system pods
#
# Layout (addresses in lib.sh):
#   host  --veth--  netns k8srig: etcd, kube-apiserver, controller-manager,
#                   scheduler, CoreDNS; bridge br0 on 10.254.1.1/24
#                     |-- veth -- netns k8srig-n1: node rig-node-1 (10.254.1.11)
#                     `-- veth -- netns k8srig-n2: node rig-node-2 (10.254.1.12)
# Each node has its own containerd, kubelet, kube-proxy and kube-router
# (NetworkPolicy with iptables and ipset), its own mount namespace (its mounts
# and NODE_PRIVATE_DIRS are private to it) and its own cgroup tree k8srig-nN;
# the bridge CNI gives it pod CIDR 10.244.N.0/24, routed to the other nodes
# through br0. metrics-server serves the metrics API. No namespace has a
# default route. K8S_RIG_NODES sets the number of nodes (2).
#
# Every process runs in a cgroup named after the cluster (k8srig-cp, k8srig-nN),
# so stopping a node or the cluster kills exactly those pids, whatever they
# forked. Needs root, a cgroup v1 pids hierarchy and the cache from build.sh
# (`make k8s-rig`).
# shellcheck source=rig/kubernetes/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN_DIR="/run/$K8S_NAME"        # mount namespace handles, on a private mount
PKI="$K8S_STATE/pki"
LOGS="$K8S_STATE/logs"
CP_NETNS="$K8S_NAME"
# Host directories a node mounts a private tmpfs over, because its containerd
# or kubelet writes there whatever the configuration says (shim sockets, the
# CNI cache, log links, the device plugin socket); created when missing (and
# then removed by `down`).
NODE_PRIVATE_DIRS=(/run/containerd /var/lib/cni /var/log/containers /var/lib/kubelet)
# Host-wide sysctls a kubelet sets at start (its kernel tunables): saved before
# the first kubelet starts, restored by `down`.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

kubectl() { command kubectl --kubeconfig "$K8S_KUBECONFIG" "$@"; }
in_cp() { nsenter "--net=/run/netns/$CP_NETNS" -- "$@"; }
# node_enter N: the command prefix that runs in node N's network and mount namespaces.
node_enter() { NODE_ENTER=(nsenter "--net=/run/netns/$K8S_NAME-n$1" "--mount=$RUN_DIR/n$1.mnt" --); }
nodes() { seq 1 "$K8S_RIG_NODES"; }

# The mount points of the cgroup v1 hierarchies and of the unified one.
cgroup_mounts() { awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo; }
pids_root() {
  awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5; exit }' /proc/self/mountinfo
}

# group_create GROUP: the cgroup in every hierarchy, cpusets copied from the root.
group_create() {
  local mount
  while read -r mount; do
    mkdir -p "$mount/$1/system"
    if [[ -f "$mount/cpuset.cpus" ]]; then
      cat "$mount/cpuset.cpus" >"$mount/$1/cpuset.cpus"
      cat "$mount/cpuset.mems" >"$mount/$1/cpuset.mems"
      cat "$mount/cpuset.cpus" >"$mount/$1/system/cpuset.cpus"
      cat "$mount/cpuset.mems" >"$mount/$1/system/cpuset.mems"
    fi
  done < <(cgroup_mounts)
}

group_pids() { find "$(pids_root)/$1" -name cgroup.procs -exec cat {} + 2>/dev/null; }

# group_kill GROUP: SIGKILL every process in the group until none is left.
group_kill() {
  local pids
  for _ in $(seq 100); do
    pids=$(group_pids "$1")
    [[ -z "$pids" ]] && return 0
    # shellcheck disable=SC2086 # one pid per word
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done
  die "processes of cgroup $1 survive SIGKILL: $(group_pids "$1" | tr '\n' ' ')"
}

group_remove() {
  local mount
  while read -r mount; do
    [[ -d "$mount/$1" ]] && find "$mount/$1" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d "$mount/$1" ]] && log "warning: cgroup $mount/$1 is still there"
  done < <(cgroup_mounts)
  return 0
}

# spawn GROUP NAME COMMAND...: a detached process in cgroup GROUP (and the
# namespaces COMMAND enters), its output in logs/NAME.log.
spawn() {
  local group=$1 name=$2
  shift 2
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' spawn \
    "$(pids_root)/$group/system" "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
}

# wait_for DESCRIPTION SECONDS COMMAND...
wait_for() {
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq "$seconds"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "timed out after $seconds s waiting for $what (logs: $LOGS)"
}

preflight() {
  [[ $(id -u) -eq 0 ]] || die "the Kubernetes rig needs root (network namespaces, cgroups, mounts)"
  if [[ ! "$K8S_RIG_NODES" =~ ^[0-9]+$ ]] || ((K8S_RIG_NODES < 1 || K8S_RIG_NODES > 20)); then
    die "K8S_RIG_NODES must be a number of nodes from 1 to 20, got '$K8S_RIG_NODES'"
  fi
  local pool pools
  read -ra pools <<<"$K8S_RIG_NODE_POOLS"
  ((${#pools[@]} <= K8S_RIG_NODES)) || die "K8S_RIG_NODE_POOLS names ${#pools[@]} pools for $K8S_RIG_NODES nodes"
  for pool in "${pools[@]}"; do
    [[ "$pool" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] \
      || die "K8S_RIG_NODE_POOLS: '$pool' is not a pool name (lower-case letters, digits and '-')"
  done
  [[ -n "$(pids_root)" ]] || die "no cgroup v1 pids hierarchy: the rig runs its kubelets on cgroup v1"
  [[ -d /proc/sys/net/bridge ]] || die "br_netfilter is missing: modprobe br_netfilter"
  command -v iptables-restore >/dev/null || die "iptables is missing (kube-proxy needs it): apt-get install iptables"
  local stamp
  for stamp in debs kubernetes metrics_server images; do
    [[ -f "$K8S_STAMPS/$stamp" ]] || die "the Kubernetes rig is not built ($stamp): make k8s-rig"
  done
}

# ---- certificates ---------------------------------------------------------

# cert NAME CN O KIND [SANS] [CA]: an EC key and a certificate signed by CA
# (ca or front-proxy-ca); KIND is client, server or both.
cert() {
  local name=$1 cn=$2 org=$3 kind=$4 sans=${5:-} ca=${6:-ca} subject usage
  subject="/CN=$cn"
  [[ -n "$org" ]] && subject="/O=$org/CN=$cn"
  case $kind in
    client) usage=clientAuth ;;
    server) usage=serverAuth ;;
    both) usage=serverAuth,clientAuth ;;
  esac
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
  {
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
    printf 'extendedKeyUsage=%s\n' "$usage"
    [[ -n "$sans" ]] && printf 'subjectAltName=%s\n' "$sans"
  } >"$PKI/$name.ext"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" 2>/dev/null \
    | openssl x509 -req -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial -days 30 \
      -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.ext"
}

# kubeconfig NAME SERVER: $PKI/NAME.kubeconfig for the client certificate NAME.
kubeconfig() {
  cat >"$PKI/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $K8S_NAME
  cluster:
    server: https://$2:6443
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$1.crt")
    client-key-data: $(base64 -w0 "$PKI/$1.key")
contexts:
- name: $K8S_NAME
  context: {cluster: $K8S_NAME, user: $1}
current-context: $K8S_NAME
EOF
}

pki_up() {
  local ca n node
  mkdir -p "$PKI"
  for ca in ca front-proxy-ca; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/$ca.key" -days 30 -subj "/CN=$K8S_NAME-$ca" -out "$PKI/$ca.crt" 2>/dev/null
  done
  cert apiserver kube-apiserver "" server "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,\
DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$K8S_CP_IP,IP:$K8S_FABRIC_IP,IP:$K8S_API_SERVICE_IP"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
  cert front-proxy-client front-proxy-client "" client "" front-proxy-ca
  cert admin kubernetes-admin system:masters client
  cert controller-manager system:kube-controller-manager "" client
  cert scheduler system:kube-scheduler "" client
  cert kube-proxy system:kube-proxy "" client
  cert kube-router kube-router "" client
  for n in $(nodes); do
    node=$(k8s_node_name "$n")
    cert "kubelet-n$n" "system:node:$node" system:nodes both "DNS:$node,IP:$(k8s_node_ip "$n")"
    kubeconfig "kubelet-n$n" "$K8S_FABRIC_IP"
  done
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  kubeconfig admin "$K8S_CP_IP"
  kubeconfig controller-manager 127.0.0.1
  kubeconfig scheduler 127.0.0.1
  kubeconfig kube-proxy "$K8S_FABRIC_IP"
  kubeconfig kube-router "$K8S_FABRIC_IP"
  chmod 0600 "$PKI"/*.key "$PKI"/*.kubeconfig
  cp "$PKI/admin.kubeconfig" "$K8S_KUBECONFIG"
}

# ---- network --------------------------------------------------------------

network_up() {
  local n m
  [[ -d /run/netns ]] || echo /run/netns >>"$K8S_STATE/created-dirs"
  ip netns add "$CP_NETNS"
  ip link add "$K8S_NAME-h" type veth peer name eth0 netns "$CP_NETNS"
  ip addr add "$K8S_HOST_IP/30" dev "$K8S_NAME-h"
  ip link set "$K8S_NAME-h" up
  in_cp ip link set lo up
  in_cp ip addr add "$K8S_CP_IP/30" dev eth0
  in_cp ip link set eth0 up
  in_cp ip link add br0 type bridge
  in_cp ip addr add "$K8S_FABRIC_IP/24" dev br0
  in_cp ip link set br0 up
  in_cp sysctl -qw net.ipv4.ip_forward=1
  # The host reaches the nodes (NodePorts) through the control plane's namespace.
  ip route add "$K8S_FABRIC_NET" via "$K8S_CP_IP" dev "$K8S_NAME-h"
  for n in $(nodes); do
    ip netns add "$K8S_NAME-n$n"
    in_cp ip link add "n$n" type veth peer name eth0 netns "$K8S_NAME-n$n"
    in_cp ip link set "n$n" master br0 up
    in_cp ip route add "$(k8s_node_pod_cidr "$n")" via "$(k8s_node_ip "$n")"
    # The route for the Service range lets host-network processes (the
    # add-ons) connect to a ClusterIP: kube-proxy rewrites it after the
    # route lookup, and there is no default route to fall back on.
    # shellcheck disable=SC2016 # expanded by the inner shell
    nsenter "--net=/run/netns/$K8S_NAME-n$n" -- bash -euc '
      ip link set lo up
      ip addr add "$1/24" dev eth0
      ip link set eth0 up
      ip route add "$2" via "$3"
      ip route add "$4" via "$3"
      sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1' \
      node "$(k8s_node_ip "$n")" "$K8S_HOST_NET" "$K8S_FABRIC_IP" "$K8S_SERVICE_CIDR"
    for m in $(nodes); do
      [[ $m == "$n" ]] && continue
      nsenter "--net=/run/netns/$K8S_NAME-n$n" -- ip route add "$(k8s_node_pod_cidr "$m")" via "$(k8s_node_ip "$m")"
    done
  done
}

# ---- control plane --------------------------------------------------------

control_plane_up() {
  local api=(--kubeconfig) cm
  mkdir -p "$K8S_STATE/etcd"
  group_create "$K8S_NAME-cp"
  spawn "$K8S_NAME-cp" etcd nsenter "--net=/run/netns/$CP_NETNS" -- etcd --name "$K8S_NAME" \
    --data-dir "$K8S_STATE/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster "$K8S_NAME=http://127.0.0.1:2380" \
    --quota-backend-bytes 2147483648
  wait_for etcd 30 in_cp etcdctl --endpoints http://127.0.0.1:2379 endpoint health
  spawn "$K8S_NAME-cp" kube-apiserver nsenter "--net=/run/netns/$CP_NETNS" -- kube-apiserver \
    --etcd-servers http://127.0.0.1:2379 --bind-address 0.0.0.0 --secure-port 6443 \
    --advertise-address "$K8S_FABRIC_IP" --service-cluster-ip-range "$K8S_SERVICE_CIDR" \
    --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true
  # (aggregator routing: the apiserver reaches metrics-server at its pod IP;
  # its namespace has no kube-proxy to resolve a ClusterIP)
  wait_for kube-apiserver 120 kubectl get --raw /readyz
  cm="$PKI/controller-manager.kubeconfig"
  spawn "$K8S_NAME-cp" kube-controller-manager nsenter "--net=/run/netns/$CP_NETNS" -- kube-controller-manager \
    "${api[@]}" "$cm" --authentication-kubeconfig "$cm" --authorization-kubeconfig "$cm" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --allocate-node-cidrs=true --cluster-cidr "$K8S_POD_CIDR" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$K8S_SERVICE_CIDR" \
    --node-monitor-period 2s --node-monitor-grace-period 20s \
    --flex-volume-plugin-dir "$K8S_STATE/flex-volume-plugins"
  spawn "$K8S_NAME-cp" kube-scheduler nsenter "--net=/run/netns/$CP_NETNS" -- kube-scheduler \
    "${api[@]}" "$PKI/scheduler.kubeconfig" --authentication-kubeconfig "$PKI/scheduler.kubeconfig" \
    --authorization-kubeconfig "$PKI/scheduler.kubeconfig" --bind-address 127.0.0.1 --leader-elect=false
  # Cluster DNS: CoreDNS as a plain process on the fabric address, behind the
  # kube-dns Service; names outside cluster.local get NXDOMAIN (no upstream).
  cat >"$K8S_STATE/Corefile" <<EOF
cluster.local:53 in-addr.arpa:53 {
    bind $K8S_FABRIC_IP
    errors
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $K8S_KUBECONFIG $K8S_NAME
        pods insecure
        fallthrough in-addr.arpa
    }
    cache 30
}
.:53 {
    bind $K8S_FABRIC_IP
    template ANY ANY { rcode NXDOMAIN }
}
EOF
  spawn "$K8S_NAME-cp" coredns nsenter "--net=/run/netns/$CP_NETNS" -- coredns -conf "$K8S_STATE/Corefile"
}

# Node objects made ahead of their kubelets, so that each carries the pod
# CIDR its bridge CNI configuration and the routes were built for, and its
# pool and zone (labels, and the pool's taint: K8S_RIG_NODE_POOLS in lib.sh).
nodes_register() {
  local n pool taints
  for n in $(nodes); do
    pool=$(k8s_node_pool "$n")
    taints="[]"
    [[ $pool == general ]] || taints="[{key: retailops.io/pool, value: $pool, effect: NoSchedule}]"
    kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $(k8s_node_name "$n")
  labels:
    retailops.io/pool: $pool
    topology.kubernetes.io/zone: rig-zone-$n
spec:
  podCIDR: $(k8s_node_pod_cidr "$n")
  podCIDRs: [$(k8s_node_pod_cidr "$n")]
  taints: $taints
EOF
  done
}

# ---- nodes ----------------------------------------------------------------

node_configs() {
  local n=$1 dir=$K8S_STATE/nodes/n$1 node cidr
  node=$(k8s_node_name "$n")
  cidr=$(k8s_node_pod_cidr "$n")
  mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/kubelet" "$dir/pod-logs"
  cat >"$dir/containerd/config.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$K8S_PAUSE_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$dir/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$K8S_DEB_ROOT/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
EOF
  cat >"$dir/cni/net.d/10-rig.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "rig-n$n", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$dir/cni/ipam",
            "ranges": [[{"subnet": "$cidr", "gateway": "${cidr%.0/24}.1"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  echo "nameserver $K8S_FABRIC_IP" >"$dir/resolv.conf"
  cat >"$dir/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: /$K8S_NAME-n$n
failCgroupV1: false
containerRuntimeEndpoint: "unix://$dir/containerd/containerd.sock"
clusterDomain: cluster.local
clusterDNS: ["$K8S_DNS_SERVICE_IP"]
resolvConf: "$dir/resolv.conf"
tlsCertFile: "$PKI/kubelet-n$n.crt"
tlsPrivateKeyFile: "$PKI/kubelet-n$n.key"
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
podLogsDir: "$dir/pod-logs"
volumePluginDir: "$dir/kubelet/volume-plugins"
failSwapOn: false
protectKernelDefaults: false
nodeStatusUpdateFrequency: 4s
nodeLeaseDurationSeconds: 20
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%", nodefs.inodesFree: "2%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  cat >"$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$PKI/kube-proxy.kubeconfig"}
hostnameOverride: $node
mode: iptables
clusterCIDR: $K8S_POD_CIDR
nodePortAddresses: ["$K8S_FABRIC_NET"]
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
EOF
}

private_dirs_up() {
  local dir
  for dir in "${NODE_PRIVATE_DIRS[@]}"; do
    if [[ ! -d "$dir" ]]; then
      mkdir -p "$dir"
      echo "$dir" >>"$K8S_STATE/created-dirs"
    fi
  done
}

# The node's mount namespace: a copy of the host's that receives the host's
# mount changes (slave) and keeps its own, with a private tmpfs over each of
# NODE_PRIVATE_DIRS.
node_mounts_up() {
  local n=$1 dir
  node_enter "$n"
  touch "$RUN_DIR/n$n.mnt"
  unshare "--mount=$RUN_DIR/n$n.mnt" --propagation slave true
  for dir in "${NODE_PRIVATE_DIRS[@]}"; do
    "${NODE_ENTER[@]}" mount -t tmpfs -o mode=0755 "$K8S_NAME-n$n" "$dir"
  done
}

# node_import N: the rig's and the project's image archives into node N's containerd.
node_import() {
  local image
  for image in "$K8S_IMAGES"/*.tar "$K8S_PROJECT_IMAGES"/*.tar; do
    [[ -e "$image" ]] || continue
    ctr -a "$K8S_STATE/nodes/n$1/containerd/containerd.sock" -n k8s.io images import "$image" >/dev/null \
      || die "node $1: ctr images import $image failed"
  done
}

node_up() {
  local n=$1 dir=$K8S_STATE/nodes/n$1 sock
  sock="$dir/containerd/containerd.sock"
  node_configs "$n"
  node_mounts_up "$n"
  group_create "$K8S_NAME-n$n"
  spawn "$K8S_NAME-n$n" "containerd-n$n" "${NODE_ENTER[@]}" containerd --config "$dir/containerd/config.toml"
  wait_for "containerd of node $n" 30 ctr -a "$sock" version
  node_import "$n"
  # --containerd points the kubelet's cAdvisor at this node's containerd: the
  # container CPU and memory figures (metrics-server, HPA) come from it, since
  # containerd's own stats need cgroup hierarchies this host does not mount.
  spawn "$K8S_NAME-n$n" "kubelet-n$n" "${NODE_ENTER[@]}" kubelet --config "$dir/kubelet/config.yaml" \
    --kubeconfig "$PKI/kubelet-n$n.kubeconfig" --hostname-override "$(k8s_node_name "$n")" \
    --node-ip "$(k8s_node_ip "$n")" --root-dir "$dir/kubelet" --containerd "$sock" --v 1
  spawn "$K8S_NAME-n$n" "kube-proxy-n$n" "${NODE_ENTER[@]}" kube-proxy --config "$dir/kube-proxy.yaml"
}

# NetworkPolicy on node N: kube-router's firewall alone (no routing, no
# service proxy). It reads the node's addresses from its Node object, so it
# starts once the kubelet has posted them; it runs the unpacked ipset, which
# needs the unpacked libipset.
node_firewall_up() {
  local n=$1
  node_enter "$n"
  spawn "$K8S_NAME-n$n" "kube-router-n$n" "${NODE_ENTER[@]}" \
    env "LD_LIBRARY_PATH=$K8S_DEB_ROOT/usr/lib/x86_64-linux-gnu" kube-router \
    --run-firewall=true --run-router=false --run-service-proxy=false --health-port 20244 \
    --kubeconfig "$PKI/kube-router.kubeconfig" --hostname-override "$(k8s_node_name "$n")"
  wait_for "kube-router of node $n" 60 "${NODE_ENTER[@]}" bash -c 'exec 3<>/dev/tcp/127.0.0.1/20244'
}

# The add-ons and rights (rig/kubernetes/manifests, with the rig's image
# references), applied before the nodes join.
addons_apply() {
  k8s_render "$K8S_RIG_DIR"/manifests/*.yaml | kubectl apply -f - >/dev/null
}

addons_wait() {
  kubectl -n kube-system rollout status deployment/metrics-server --timeout 180s >/dev/null
  wait_for "the metrics API" 120 kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes
}

up() {
  local started=$SECONDS n
  preflight
  down >/dev/null
  mkdir -p "$LOGS" "$RUN_DIR"
  mountpoint -q "$RUN_DIR" || { mount --bind "$RUN_DIR" "$RUN_DIR" && mount --make-private "$RUN_DIR"; }
  pki_up
  network_up
  control_plane_up
  nodes_register
  addons_apply
  sysctl "${KUBELET_SYSCTLS[@]}" >"$K8S_STATE/host-sysctls"
  private_dirs_up
  local jobs=()
  for n in $(nodes); do
    node_up "$n" &
    jobs+=($!)
  done
  for n in "${jobs[@]}"; do wait "$n" || die "a node did not come up (logs: $LOGS)"; done
  for n in $(nodes); do
    wait_for "node $(k8s_node_name "$n") Ready" 120 \
      kubectl wait --for=condition=Ready "node/$(k8s_node_name "$n")" --timeout=1s
    node_firewall_up "$n"
  done
  addons_wait
  log "kubernetes rig: $K8S_RIG_NODES nodes up in $((SECONDS - started)) s; export KUBECONFIG=$K8S_KUBECONFIG"
}

# kill-node N [NAMESPACE/SELECTOR]: with a selector, refused unless node N
# runs a pod it matches (a drill that kills an empty node proves nothing).
kill_node() {
  local n=${1:-} target=${2:-} pods
  if [[ ! "$n" =~ ^[0-9]+$ ]] || ((n < 1 || n > K8S_RIG_NODES)); then
    die "kill-node needs a node number 1..$K8S_RIG_NODES, got '$n'"
  fi
  if [[ -n $target ]]; then
    [[ $target == */* ]] || die "kill-node: '$target' is not NAMESPACE/SELECTOR"
    pods=$(kubectl -n "${target%%/*}" get pods -l "${target#*/}" -o name \
      --field-selector "spec.nodeName=$(k8s_node_name "$n"),status.phase=Running")
    [[ -n $pods ]] || die "kill-node: $(k8s_node_name "$n") runs no pod matching ${target#*/} in ${target%%/*}: not killed"
    log "kubernetes rig: $(k8s_node_name "$n") runs $(tr '\n' ' ' <<<"$pods")"
  fi
  group_kill "$K8S_NAME-n$n"
  log "kubernetes rig: node $(k8s_node_name "$n") killed (kubelet, kube-proxy, containerd, containers)"
}

# restart-node N: node N's processes started again (after kill-node): its
# mount namespace (with its pods' network namespaces and mounts) is freed, as
# a reboot clears /run; containerd's and the kubelet's state directories are
# kept, and the kubelet finds its pods gone and starts them again.
restart_node() {
  local n=${1:-} started=$SECONDS
  if [[ ! "$n" =~ ^[0-9]+$ ]] || ((n < 1 || n > K8S_RIG_NODES)); then
    die "restart-node needs a node number 1..$K8S_RIG_NODES, got '$n'"
  fi
  [[ -f "$K8S_KUBECONFIG" ]] || die "no cluster is up"
  group_kill "$K8S_NAME-n$n"
  if [[ -e "$RUN_DIR/n$n.mnt" ]]; then
    umount "$RUN_DIR/n$n.mnt" 2>/dev/null || true
    rm -f "$RUN_DIR/n$n.mnt"
  fi
  node_up "$n"
  wait_for "node $(k8s_node_name "$n") Ready" 120 \
    kubectl wait --for=condition=Ready "node/$(k8s_node_name "$n")" --timeout=1s
  node_firewall_up "$n"
  log "kubernetes rig: node $(k8s_node_name "$n") back in $((SECONDS - started)) s"
}

down() {
  local started=$SECONDS groups group handle netns dir
  mapfile -t groups < <(cgroup_mounts | while read -r dir; do compgen -G "$dir/$K8S_NAME-*" || true; done \
    | xargs -rn1 basename | sort -u)
  host_rules_remove
  gateway_remove
  if ((${#groups[@]} == 0)) && [[ ! -e "$K8S_STATE" && ! -e "$RUN_DIR" ]] && ! ip netns list | grep -q "^$K8S_NAME"; then
    return 0  # no cluster
  fi
  for group in "${groups[@]}"; do group_kill "$group"; done
  lb_remove
  # Unmounting a handle frees the node's mount namespace, and with it every
  # mount its kubelet and containerd made (pod network namespaces included).
  for handle in "$RUN_DIR"/n*.mnt; do
    [[ -e "$handle" ]] || continue
    umount "$handle" 2>/dev/null || true
    rm -f "$handle"
  done
  if mountpoint -q "$RUN_DIR"; then umount "$RUN_DIR"; fi
  if [[ -d "$RUN_DIR" ]]; then rmdir "$RUN_DIR"; fi
  for netns in $(ip netns list | awk -v p="$K8S_NAME" '$1 == p || index($1, p "-n") == 1 { print $1 }'); do
    ip netns del "$netns"
  done
  for group in "${groups[@]}"; do group_remove "$group"; done
  if [[ -f "$K8S_STATE/host-sysctls" ]]; then sysctl -q -p "$K8S_STATE/host-sysctls"; fi
  if [[ -f "$K8S_STATE/created-dirs" ]]; then
    while read -r dir; do
      if [[ $dir == /run/netns ]]; then
        [[ -z "$(ls -A /run/netns)" ]] || continue  # someone else's namespaces live there
        if mountpoint -q /run/netns; then umount /run/netns; fi
      fi
      rmdir "$dir" 2>/dev/null || log "warning: $dir is not empty, left in place"
    done <"$K8S_STATE/created-dirs"
  fi
  rm -rf "$K8S_STATE"
  log "kubernetes rig: down in $((SECONDS - started)) s"
}

# route_to_host COMMAND CIDR: the control plane's namespace and every node
# route CIDR to the host (the nodes through the fabric); COMMAND names the
# caller in the error for a bad CIDR.
route_to_host() {
  local n
  python3 -c 'import ipaddress, sys; ipaddress.ip_network(sys.argv[1])' "$2" 2>/dev/null \
    || die "$1: '$2' is not a network in CIDR notation"
  in_cp ip route replace "$2" via "$K8S_HOST_IP"
  for n in $(nodes); do
    nsenter "--net=/run/netns/$K8S_NAME-n$n" -- ip route replace "$2" via "$K8S_FABRIC_IP"
  done
}

# connect CIDR...: routes between the cluster and networks on this machine
# (a Docker network of the rig's containers: the data tier). The control
# plane's namespace and every node route each CIDR to the host, the host
# routes the pod range back to the cluster, and Docker's DOCKER-USER chain
# lets the pods' connections into those networks (and only those: no
# namespace gets a default route). Pods keep their own addresses, as with
# Azure CNI, so what they reach is decided by NetworkPolicy and by the
# destination's own firewall; the networks' hosts keep theirs into the
# cluster. Rules carry the comment K8S_NAME; `down` removes them (the routes
# go with the namespaces and the veth).
connect() {
  local cidr
  (($# > 0)) || die "connect needs one or more networks (CIDR), e.g. connect 10.213.30.0/24"
  [[ -f "$K8S_KUBECONFIG" ]] || die "no cluster is up"
  for cidr in "$@"; do
    route_to_host connect "$cidr"
    if iptables -n -L DOCKER-USER >/dev/null 2>&1 \
      && ! iptables -C DOCKER-USER -i "$K8S_NAME-h" -s "$K8S_POD_CIDR" -d "$cidr" \
        -m comment --comment "$K8S_NAME" -j ACCEPT 2>/dev/null; then
      iptables -I DOCKER-USER -i "$K8S_NAME-h" -s "$K8S_POD_CIDR" -d "$cidr" -m comment --comment "$K8S_NAME" -j ACCEPT
    fi
    # Docker masquerades what leaves its networks for another interface; the
    # cluster routes them back, so their addresses stay (an ingress's allow
    # list sees the operator's address, not the host's end of the veth).
    if ! iptables -t nat -C POSTROUTING -s "$cidr" -o "$K8S_NAME-h" -m comment --comment "$K8S_NAME" -j RETURN 2>/dev/null; then
      iptables -t nat -I POSTROUTING -s "$cidr" -o "$K8S_NAME-h" -m comment --comment "$K8S_NAME" -j RETURN
    fi
  done
  ip route replace "$K8S_POD_CIDR" via "$K8S_CP_IP" dev "$K8S_NAME-h"
  log "kubernetes rig: pods ($K8S_POD_CIDR) reach $*"
}

# gateway GW CIDR...: the cluster's packets for CIDR leave through GW, a
# container on a Docker network of this machine that routes them (the pilot's
# VPN hub: replies to the branches go back through their tunnels, not over the
# host's own leg on a branch LAN). The cluster's namespaces route CIDR to the
# host; the host sends what comes in from the cluster for CIDR to GW (policy
# routing, table K8S_GATEWAY_TABLE), nothing else changes on the host.
gateway() {
  local gw=${1:-} cidr
  shift || true
  (($# > 0)) || die "gateway needs an address and one or more networks, e.g. gateway 10.213.20.10 10.213.22.0/24"
  [[ -f "$K8S_KUBECONFIG" ]] || die "no cluster is up"
  python3 -c 'import ipaddress, sys; ipaddress.ip_address(sys.argv[1])' "$gw" 2>/dev/null \
    || die "gateway: '$gw' is not an address"
  for cidr in "$@"; do
    route_to_host gateway "$cidr"
    ip route replace "$cidr" via "$gw" table "$K8S_GATEWAY_TABLE"
    ip rule show | grep -q "from all to $cidr iif $K8S_NAME-h lookup $K8S_GATEWAY_TABLE" \
      || ip rule add iif "$K8S_NAME-h" to "$cidr" table "$K8S_GATEWAY_TABLE"
  done
  log "kubernetes rig: the cluster reaches $* through $gw"
}

gateway_remove() {
  while ip rule del table "$K8S_GATEWAY_TABLE" 2>/dev/null; do :; done
  ip route flush table "$K8S_GATEWAY_TABLE" 2>/dev/null || true
}

# lb CIDR: lb.py, the load balancer of the LoadBalancer Services, in the
# control plane's cgroup (it stops with the cluster).
lb() {
  local pool=${1:-}
  [[ -f "$K8S_KUBECONFIG" ]] || die "no cluster is up"
  python3 -c 'import ipaddress, sys; ipaddress.ip_network(sys.argv[1])' "$pool" 2>/dev/null \
    || die "lb needs the frontends' network in CIDR notation, got '$pool'"
  if [[ -n "$(pgrep -f "$K8S_RIG_DIR/lb.py" || true)" ]]; then
    log "kubernetes rig: the load balancer runs already"
    return 0
  fi
  spawn "$K8S_NAME-cp" lb python3 "$K8S_RIG_DIR/lb.py" --kubeconfig "$K8S_KUBECONFIG" --pool "$pool" \
    --cp-netns "$CP_NETNS" --cp-address "$K8S_CP_IP" --host-dev "$K8S_NAME-h" --state "$K8S_STATE/lb-proxy-arp"
  log "kubernetes rig: load balancer for LoadBalancer Services, frontends from $pool (log: $LOGS/lb.log)"
}

# The proxy-ARP entries lb.py added on the host's networks, removed.
lb_remove() {
  local address dev
  [[ -f "$K8S_STATE/lb-proxy-arp" ]] || return 0
  while read -r address dev; do
    ip neigh del proxy "$address" dev "$dev" 2>/dev/null || true
  done <"$K8S_STATE/lb-proxy-arp"
  rm -f "$K8S_STATE/lb-proxy-arp"
}

# The host's iptables rules `connect` added (filter and nat tables), removed.
host_rules_remove() {
  local rule table
  for table in filter nat; do
    while read -r rule; do
      # shellcheck disable=SC2086 # the rule's own words
      iptables -t "$table" -D ${rule#-A } || log "warning: could not remove host rule: $rule"
    done < <(iptables -t "$table" -S 2>/dev/null | grep -- "--comment $K8S_NAME " || true)
  done
}

# Load the image archives again into every running node (after images.sh).
import_images() {
  local n
  [[ -f "$K8S_KUBECONFIG" ]] || die "no cluster is up"
  for n in $(nodes); do
    [[ -S "$K8S_STATE/nodes/n$n/containerd/containerd.sock" ]] && node_import "$n"
  done
  log "kubernetes rig: images imported into the running nodes"
}

status() {
  kubectl get nodes -o wide
  kubectl -n kube-system get pods -o wide
}

case ${1:-} in
  up) up ;;
  down) down ;;
  kill-node) kill_node "${2:-}" "${3:-}" ;;
  restart-node) restart_node "${2:-}" ;;
  import) import_images ;;
  connect) shift && connect "$@" ;;
  gateway) shift && gateway "$@" ;;
  lb) lb "${2:-}" ;;
  status) status ;;
  *) die "usage: $0 up|down|kill-node N [NS/SELECTOR]|restart-node N|connect CIDR...|gateway GW CIDR...|lb CIDR|import|status" ;;
esac
