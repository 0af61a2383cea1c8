#!/usr/bin/env bash
# Build what the Kubernetes rig runs, from package registries only (the Go
# module proxy and Debian), into $RIG_CACHE/kubernetes. lib.sh pins versions.
#
#   debs            containerd, runc, CNI plugins, etcd, conntrack, ipset,
#                   busybox-static: Debian packages unpacked into debs/root,
#                   never installed (no service starts, nothing clashes with
#                   the host's Docker)
#   kubernetes      kube-apiserver, kube-controller-manager, kube-scheduler,
#                   kubelet, kube-proxy, kubectl, and coredns and kube-router:
#                   one wrapper module, one module graph
#   metrics-server  `go install` (its own module graph)
#   images          pause (the kubernetes module's pause.c), busybox and
#                   metrics-server as single-layer OCI archives (oci_image.py)
#   traefik         the ingress controller's image: rig/traefik.sh's binary
#                   (built from the Go module proxy, cached) as a single-layer
#                   OCI archive
#
# Each piece is rebuilt when its output is missing or fails its check, or when
# its recipe changed: the recipe is the piece's pinned inputs and the text of
# its build and check functions. Go builds run under RIG_NICE.
#
# Why a wrapper module for Kubernetes: the k8s.io/kubernetes module zip has no
# staging/ tree, so its `k8s.io/x => ./staging/src/k8s.io/x` replaces cannot
# resolve, and `go install k8s.io/kubernetes/cmd/...@v1.35.4` refuses a module
# with replaces. A module of our own requires k8s.io/kubernetes and replaces
# each staging module by its published v0.<minor>.<patch> tag instead.
# shellcheck source=rig/kubernetes/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
K8S_GO_BINARIES=("${K8S_COMMANDS[@]}" coredns kube-router)
read -ra NICE <<<"$RIG_NICE"

json_field() {  # FIELD < go mod download -json output
  python3 -c 'import json, sys; d = json.load(sys.stdin); e = d.get("Error")
if e: sys.exit("go mod download: " + e)
print(d[sys.argv[1]])' "$1"
}

module_dir() {  # MODULE@VERSION: its directory in the module cache (downloads it)
  go mod download -json "$1" | json_field Dir
}

# go_install NAME PACKAGE@VERSION [LDFLAGS]: one static binary into $K8S_BIN/NAME.
go_install() {
  local name=$1 target=$2 ldflags=${3:-} gobin built
  gobin=$(mktemp -d "$K8S_CACHE/gobin.XXXXXX")
  if ! CGO_ENABLED=0 GOBIN="$gobin" "${NICE[@]}" go install -trimpath -ldflags "-s -w $ldflags" "$target" \
      >"$K8S_CACHE/build-$name.log" 2>&1; then
    rm -rf "$gobin"
    tail -n 30 "$K8S_CACHE/build-$name.log" >&2
    die "go install $target failed (log: $K8S_CACHE/build-$name.log)"
  fi
  built=("$gobin"/*)
  ((${#built[@]} == 1)) || die "go install $target made ${#built[@]} binaries, expected one"
  install -m 0755 "${built[0]}" "$K8S_BIN/$name"
  rm -rf "$gobin"
}

build_debs() {
  local download deb
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq
  download=$(mktemp -d "$K8S_CACHE/debs.XXXXXX")
  chmod 0755 "$download"  # apt's download user writes there
  (cd "$download" && apt-get download -q "${K8S_DEBS[@]}") >"$K8S_CACHE/build-debs.log" 2>&1 \
    || { tail -n 20 "$K8S_CACHE/build-debs.log" >&2; rm -rf "$download"; die "apt-get download ${K8S_DEBS[*]} failed"; }
  rm -rf "$K8S_CACHE/debs"
  mkdir -p "$K8S_DEB_ROOT"
  for deb in "$download"/*.deb; do
    dpkg-deb -x "$deb" "$K8S_DEB_ROOT"
    dpkg-deb -f "$deb" Package Version | paste -sd ' ' >>"$K8S_CACHE/debs/versions"
  done
  rm -rf "$download"
}
check_debs() {
  local f
  for f in usr/bin/containerd usr/bin/containerd-shim-runc-v2 usr/bin/ctr usr/sbin/runc usr/bin/etcd \
    usr/bin/etcdctl usr/lib/cni/bridge usr/lib/cni/host-local usr/lib/cni/portmap usr/lib/cni/loopback \
    usr/sbin/conntrack usr/sbin/ipset bin/busybox; do
    [[ -x "$K8S_DEB_ROOT/$f" ]] || return 1
  done
  "$K8S_DEB_ROOT/usr/bin/containerd" --version
}

# The wrapper module builds Kubernetes' commands and, in the same module
# graph, CoreDNS (coredns/main.go: the Corefile's plugins only) and
# kube-router: they compile the shared packages (client-go and below) once, at
# Kubernetes' versions, instead of once per `go install`; each binary is still
# linked with its own version stamp. metrics-server v0.8.0 cannot join: with
# the apiserver library of 1.35 it panics at start ("cannot find model
# definition for io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics"), so it
# keeps its own module graph (go_install).
build_kubernetes() {
  local info gomod gover work minor ldflags pkg pkgs=() staging=() module
  info=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
  gomod=$(json_field GoMod <<<"$info")
  gover=$(awk '$1 == "go" { print $2; exit }' "$gomod")
  mapfile -t staging < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod")
  ((${#staging[@]} > 0)) || die "k8s.io/kubernetes@$K8S_VERSION: no staging replaces found in $gomod"
  work=$(mktemp -d "$K8S_CACHE/k8sbuild.XXXXXX")
  {
    printf 'module rig.local/k8sbuild\n\ngo %s\n\nrequire (\n' "$gover"
    printf '\tk8s.io/kubernetes %s\n' "$K8S_VERSION"
    printf '\tgithub.com/coredns/coredns %s\n' "$K8S_COREDNS_VERSION"
    printf '\tgithub.com/cloudnativelabs/kube-router/v2 %s\n' "$K8S_KUBE_ROUTER_VERSION"
    printf ')\n\nreplace (\n'
    for module in "${staging[@]}"; do printf '\t%s => %s v0.%s\n' "$module" "$module" "${K8S_VERSION#v1.}"; done
    printf ')\n'
  } >"$work/go.mod"
  mkdir "$work/coredns"
  cp "$K8S_RIG_DIR/coredns/main.go" "$work/coredns/main.go"
  minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  ldflags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    ldflags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  for pkg in "${K8S_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$pkg"); done
  : >"$K8S_CACHE/build-kubernetes.log"
  # The first build compiles the shared packages; the others link from the cache.
  wrapper_build "$work" "$ldflags" "${pkgs[@]}"
  wrapper_build "$work" "" ./coredns
  wrapper_build "$work" "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$K8S_KUBE_ROUTER_VERSION" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  for pkg in "${K8S_GO_BINARIES[@]}"; do install -m 0755 "$work/bin/$pkg" "$K8S_BIN/$pkg"; done
  rm -rf "$work"
}
# wrapper_build DIR LDFLAGS PACKAGE...: static binaries into DIR/bin.
wrapper_build() {
  local work=$1 ldflags=$2
  shift 2
  if ! (cd "$work" && GOFLAGS=-mod=mod CGO_ENABLED=0 "${NICE[@]}" go build -trimpath -ldflags "-s -w $ldflags" \
      -o "$work/bin/" "$@") >>"$K8S_CACHE/build-kubernetes.log" 2>&1; then
    rm -rf "$work"
    tail -n 30 "$K8S_CACHE/build-kubernetes.log" >&2
    die "go build of $* in the wrapper module failed (log: $K8S_CACHE/build-kubernetes.log)"
  fi
}
check_kubernetes() {
  local c version
  for c in "${K8S_COMMANDS[@]}"; do
    if [[ $c == kubectl ]]; then version=$("$K8S_BIN/$c" version --client 2>&1); else version=$("$K8S_BIN/$c" --version 2>&1); fi
    [[ "$version" == *"$K8S_VERSION"* ]] || return 1
  done
  [[ "$("$K8S_BIN/coredns" -version)" == *"CoreDNS-${K8S_COREDNS_VERSION#v}"* ]] || return 1
  [[ "$("$K8S_BIN/kube-router" --version 2>&1)" == *"$K8S_KUBE_ROUTER_VERSION"* ]]
}

build_metrics_server() {
  go_install metrics-server "sigs.k8s.io/metrics-server/cmd/metrics-server@$K8S_METRICS_SERVER_VERSION" \
    "-X k8s.io/client-go/pkg/version.gitVersion=$K8S_METRICS_SERVER_VERSION"
}
check_metrics_server() {
  [[ "$("$K8S_BIN/metrics-server" --version)" == "$K8S_METRICS_SERVER_VERSION" ]]
}

# The images the nodes load besides the project's: the pod sandbox (pause),
# a probe image (busybox: sh, nc, nslookup, httpd) and metrics-server.
build_images() {
  local src work applet
  if ! command -v gcc >/dev/null || [[ ! -e /usr/lib/x86_64-linux-gnu/libc.a ]]; then
    [[ $(id -u) -eq 0 ]] || die "gcc and libc6-dev are needed to build the pause image: apt-get install gcc libc6-dev"
    log "installing gcc and libc6-dev (the pause image is a static C program)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
  fi
  src=$(module_dir "k8s.io/kubernetes@$K8S_VERSION")
  work=$(mktemp -d "$K8S_CACHE/images.XXXXXX")
  mkdir -p "$work/pause" "$work/busybox/bin" "$work/busybox/etc" "$work/busybox/tmp" \
    "$work/metrics-server/tmp" "$K8S_IMAGES"
  gcc -Os -static -DVERSION="${K8S_PAUSE_IMAGE##*:}-rig" -o "$work/pause/pause" "$src/build/pause/linux/pause.c"
  strip "$work/pause/pause"
  cp "$K8S_DEB_ROOT/bin/busybox" "$work/busybox/bin/busybox"
  for applet in $("$K8S_DEB_ROOT/bin/busybox" --list); do
    [[ -e "$work/busybox/bin/$applet" ]] || ln -s busybox "$work/busybox/bin/$applet"
  done
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$work/busybox/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$work/busybox/etc/group"
  chmod 1777 "$work/busybox/tmp" "$work/metrics-server/tmp"
  cp "$K8S_BIN/metrics-server" "$work/metrics-server/metrics-server"
  rm -f "$K8S_IMAGES"/*.tar
  python3 "$K8S_RIG_DIR/oci_image.py" "$work/pause" "$K8S_PAUSE_IMAGE" "$K8S_IMAGES/pause.tar" --entrypoint /pause
  python3 "$K8S_RIG_DIR/oci_image.py" "$work/busybox" "$K8S_BUSYBOX_IMAGE" "$K8S_IMAGES/busybox.tar" --cmd /bin/sh
  python3 "$K8S_RIG_DIR/oci_image.py" "$work/metrics-server" "$K8S_METRICS_SERVER_IMAGE" \
    "$K8S_IMAGES/metrics-server.tar" --entrypoint /metrics-server
  rm -rf "$work"
}
check_images() {
  local image
  for image in pause busybox metrics-server; do
    [[ -s "$K8S_IMAGES/$image.tar" ]] || return 1
  done
}

# The ingress controller (roles/traefik_kubernetes): the binary alone, run as
# the pod's non-root user; /tmp is the pod's own volume.
build_traefik() {
  local work binary="$RIG_CACHE/bin/traefik-$K8S_TRAEFIK_VERSION"
  TRAEFIK_VERSION="$K8S_TRAEFIK_VERSION" "${NICE[@]}" bash "$K8S_RIG_DIR/../traefik.sh"
  work=$(mktemp -d "$K8S_CACHE/images.XXXXXX")
  mkdir -p "$work/traefik/tmp" "$K8S_IMAGES"
  chmod 1777 "$work/traefik/tmp"
  install -m 0755 "$binary" "$work/traefik/traefik"
  python3 "$K8S_RIG_DIR/oci_image.py" "$work/traefik" "$K8S_TRAEFIK_IMAGE" "$K8S_IMAGES/traefik.tar" --entrypoint /traefik
  rm -rf "$work"
}
check_traefik() {
  [[ -s "$K8S_IMAGES/traefik.tar" && -x "$RIG_CACHE/bin/traefik-$K8S_TRAEFIK_VERSION" ]]
}

# piece NAME INPUT...: run build_NAME unless the stamp matches the recipe and
# check_NAME passes.
piece() {
  local name=$1 recipe stamp started
  shift
  recipe=$({ printf '%s\n' "$@"; declare -f "build_$name" "check_$name"; } | sha256sum | cut -c1-16)
  stamp="$K8S_STAMPS/$name"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$recipe" ]] && "check_$name" >/dev/null 2>&1; then
    log "kubernetes rig: $name is built ($recipe)"
    return
  fi
  log "kubernetes rig: building $name"
  rm -f "$stamp"
  started=$SECONDS
  "build_$name"
  "check_$name" >/dev/null 2>&1 || die "$name was built but fails its check (check_$name in ${BASH_SOURCE[0]})"
  printf '%s\n' "$recipe" >"$stamp"
  log "kubernetes rig: built $name in $((SECONDS - started)) s"
}

command -v go >/dev/null || die "the Go toolchain is needed to build the Kubernetes rig (go not in PATH)"
mkdir -p "$K8S_BIN" "$K8S_STAMPS"
# One build at a time: `make test` starts one in the background early and
# molecule/kubernetes runs this again; the second waits, then finds it built.
exec {build_lock}>"$K8S_CACHE/.build.lock"
if ! flock -n "$build_lock"; then
  log "kubernetes rig: another build is running, waiting for it"
  flock "$build_lock"
fi
piece debs "${K8S_DEBS[*]}" "$RIG_SUITE"
piece kubernetes "$K8S_VERSION $K8S_COREDNS_VERSION $K8S_KUBE_ROUTER_VERSION" \
  "${K8S_GO_BINARIES[*]}" "$(declare -f wrapper_build)" "$(cat "$K8S_RIG_DIR/coredns/main.go")"
piece metrics_server "$K8S_METRICS_SERVER_VERSION" "$(declare -f go_install)"
# The images hold the busybox and metrics-server binaries: their digests are
# part of the recipe, so a rebuilt binary rebuilds the image.
piece images "$K8S_VERSION" "$K8S_PAUSE_IMAGE $K8S_BUSYBOX_IMAGE $K8S_METRICS_SERVER_IMAGE" \
  "$(cat "$K8S_RIG_DIR/oci_image.py" "$K8S_STAMPS/debs")" \
  "$(sha256sum "$K8S_DEB_ROOT/bin/busybox" "$K8S_BIN/metrics-server")"
# After images, which clears the archives it makes.
piece traefik "$K8S_TRAEFIK_IMAGE" "$(cat "$K8S_RIG_DIR/oci_image.py" "$K8S_RIG_DIR/../traefik.sh")"
log "kubernetes rig: binaries in $K8S_BIN, images in $K8S_IMAGES"
