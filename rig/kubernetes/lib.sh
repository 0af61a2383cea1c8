# shellcheck shell=bash
# Shared settings of the Kubernetes rig: pinned versions, where the cache and
# the running cluster live, and the cluster's addresses. Sourced, never executed.
#
# shellcheck disable=SC2034 # variables are used by the scripts that source this

# log, die and RIG_CACHE come from the container rig.
# shellcheck source=rig/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

K8S_RIG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Pinned versions. Kubernetes stays on 1.35: a 1.36+ kubelet needs the CRI
# RuntimeConfig call, which Debian 12's containerd 1.6 does not have.
K8S_VERSION="${K8S_VERSION:-v1.35.4}"
K8S_COREDNS_VERSION="${K8S_COREDNS_VERSION:-v1.14.7}"
K8S_METRICS_SERVER_VERSION="${K8S_METRICS_SERVER_VERSION:-v0.8.0}"
# NetworkPolicy enforcement: kube-router's firewall (iptables and ipset).
# sigs.k8s.io/kube-network-policies cannot run on this kernel: it queues
# packets with the nftables queue expression, and the kernel is built without
# CONFIG_NFT_QUEUE (README.md, "NetworkPolicy"). v2.1.0 is the only
# kube-router v2 release the Go module proxy serves here.
K8S_KUBE_ROUTER_VERSION="${K8S_KUBE_ROUTER_VERSION:-v2.1.0}"
# Debian packages unpacked (never installed) into the cache.
K8S_DEBS=(containerd runc containernetworking-plugins etcd-server etcd-client conntrack busybox-static
  ipset libipset13)
# Image references the rig builds itself (no registry): the pod sandbox, the
# probe image and metrics-server.
K8S_PAUSE_IMAGE=rig.local/pause:3.10
K8S_BUSYBOX_IMAGE=rig.local/busybox:1.35
K8S_METRICS_SERVER_IMAGE="rig.local/metrics-server:$K8S_METRICS_SERVER_VERSION"
# The ingress controller (roles/traefik_kubernetes): rig/traefik.sh's release
# (TRAEFIK_VERSION, its binary in $RIG_CACHE/bin) as an image of its own.
K8S_TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.6.12}"
K8S_TRAEFIK_IMAGE="rig.local/traefik:$K8S_TRAEFIK_VERSION"
# The project's images every node loads (images.sh saves them from Docker):
# the Odoo double, and the real-Odoo image when one is given as ODOO_IMAGE
# (make real-odoo) or PILOT_ODOO_IMAGE (make pilot), e.g. retailops/rig-odoo:18.0
# from rig/odoo-image.sh. K8S_RIG_IMAGES replaces the whole list.
K8S_ODOO_DOUBLE_IMAGE="$RIG_IMAGE_PREFIX-odoo-double:18.0"
K8S_RIG_IMAGES="${K8S_RIG_IMAGES:-$K8S_ODOO_DOUBLE_IMAGE${ODOO_IMAGE:+ $ODOO_IMAGE}${PILOT_ODOO_IMAGE:+ $PILOT_ODOO_IMAGE}}"

# Go builds run under this prefix (e.g. "nice -n 19 ionice -c3" beside other work).
RIG_NICE="${RIG_NICE:-}"

K8S_CACHE="$RIG_CACHE/kubernetes"
K8S_BIN="$K8S_CACHE/bin"
K8S_DEB_ROOT="$K8S_CACHE/debs/root"
K8S_IMAGES="$K8S_CACHE/images"
K8S_PROJECT_IMAGES="$K8S_CACHE/project-images"
K8S_STAMPS="$K8S_CACHE/stamps"
# The running cluster: certificates, configs, logs, etcd and containerd data.
# Removed by `cluster.sh down`.
K8S_STATE="$K8S_CACHE/state"
K8S_KUBECONFIG="$K8S_STATE/admin.kubeconfig"
# kubectl's discovery cache, kept with the cluster instead of in ~/.kube
export KUBECACHEDIR="$K8S_STATE/kube-cache"

# The cluster: a control-plane network namespace joined to the host by a veth
# pair, and K8S_RIG_NODES node namespaces on a bridge inside it. No namespace
# has a default route: nothing in the cluster reaches past this machine.
K8S_RIG_NODES="${K8S_RIG_NODES:-2}"
# Node pools, as on AKS (one pool per workload): the pool of each node in
# turn, e.g. "odoo odoo general". A node is labelled retailops.io/pool=<pool>
# and topology.kubernetes.io/zone=rig-zone-<N>; a node of any pool but
# "general" is also tainted retailops.io/pool=<pool>:NoSchedule, so only pods
# that tolerate it run there. Nodes not listed are "general".
K8S_RIG_NODE_POOLS="${K8S_RIG_NODE_POOLS:-}"
K8S_NAME=k8srig                   # network namespace and cgroup prefix
K8S_HOST_NET=10.254.0.0/30
K8S_HOST_IP=10.254.0.1            # host end of the veth
K8S_CP_IP=10.254.0.2              # control plane, seen from the host (kubeconfig)
K8S_FABRIC_IP=10.254.1.1          # control plane, seen from nodes and pods (advertised)
K8S_FABRIC_NET=10.254.1.0/24
K8S_POD_CIDR=10.244.0.0/16        # node N gets 10.244.N.0/24
K8S_SERVICE_CIDR=10.96.0.0/16
K8S_API_SERVICE_IP=10.96.0.1
K8S_DNS_SERVICE_IP=10.96.0.10
K8S_GATEWAY_TABLE=7254            # host routing table of `cluster.sh gateway`

k8s_node_name() { printf 'rig-node-%s\n' "$1"; }
k8s_node_ip() { printf '10.254.1.%s\n' "$((10 + $1))"; }
k8s_node_pod_cidr() { printf '10.244.%s.0/24\n' "$1"; }
k8s_node_pool() {
  local pools
  read -ra pools <<<"$K8S_RIG_NODE_POOLS"
  printf '%s\n' "${pools[$(($1 - 1))]:-general}"
}

export PATH="$K8S_BIN:$K8S_DEB_ROOT/usr/bin:$K8S_DEB_ROOT/usr/sbin:$PATH"

# k8s_render FILE...: the rig's manifests with @IMAGE@ and address
# placeholders filled in, on stdout.
k8s_render() {
  sed -e "s|@METRICS_SERVER_IMAGE@|$K8S_METRICS_SERVER_IMAGE|g" -e "s|@BUSYBOX_IMAGE@|$K8S_BUSYBOX_IMAGE|g" -e "s|@ODOO_DOUBLE_IMAGE@|$K8S_ODOO_DOUBLE_IMAGE|g" \
    -e "s|@DNS_SERVICE_IP@|$K8S_DNS_SERVICE_IP|g" -e "s|@DNS_SERVER_IP@|$K8S_FABRIC_IP|g" "$@"
}
