# shellcheck shell=bash
# Shared helpers for the offline container rig. Sourced, never executed.
#
# shellcheck disable=SC2034 # variables are used by the scripts that source this

# Everything the rig downloads or builds is kept under RIG_CACHE, outside the
# repository, and rebuilt when it is missing.

set -Eeuo pipefail
# A command that stops a script says which one it was (errexit alone exits
# without a word: the cluster's `down` once exited 1 after a node kill with
# nothing on the screen). -E: the trap holds inside functions too.
trap 'printf "[rig] error: %s:%s: %s exited %s\n" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR

RIG_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RIG_CACHE="${RIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retailops-rig}"
# Where this machine keeps its apt sources (tests point it elsewhere).
RIG_APT_ETC="${RIG_APT_ETC:-/etc/apt}"
RIG_SUITE="${RIG_SUITE:-bookworm}"
RIG_IMAGE_PREFIX="${RIG_IMAGE_PREFIX:-retailops/rig}"
# fs.inotify.max_user_instances the rig needs at least (rig/engine.sh raises it).
RIG_INOTIFY_INSTANCES="${RIG_INOTIFY_INSTANCES:-1024}"
RIG_APTCACHE_NAME="${RIG_APTCACHE_NAME:-retailops-rig-aptcache}"
# Fixed: test containers look for the cache on this port of their gateway.
RIG_APTCACHE_PORT=3142
export DOCKER_BUILDKIT=0
mkdir -p "$RIG_CACHE"

log() { printf '[rig] %s\n' "$*" >&2; }
die() { printf '[rig] error: %s\n' "$*" >&2; exit 1; }

# The Debian mirror this machine already uses for a suite, read from its apt
# sources (deb822 first, then the one-line format). RIG_DEBIAN_MIRROR and
# RIG_DEBIAN_SECURITY_MIRROR override it.
rig_debian_mirror() {
  local suite="${1:-$RIG_SUITE}" uri=""
  case "$suite" in
    *-security) uri="${RIG_DEBIAN_SECURITY_MIRROR:-}" ;;
    *) uri="${RIG_DEBIAN_MIRROR:-}" ;;
  esac
  if [[ -n "$uri" ]]; then
    printf '%s\n' "${uri%/}"
    return
  fi
  if compgen -G "$RIG_APT_ETC/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk -v suite="$suite" '
      function found() { n = split(s, a, " "); for (i = 1; i <= n; i++) if (a[i] == suite) return 1; return 0 }
      FNR == 1 || /^[[:space:]]*$/ { if (u != "" && found()) { print u; exit } u = ""; s = "" }
      /^URIs:/   { u = $2 }
      /^Suites:/ { $1 = ""; s = $0 }
      END { if (u != "" && found()) print u }
    ' "$RIG_APT_ETC"/sources.list.d/*.sources | head -n1)
  fi
  if [[ -z "$uri" && -f "$RIG_APT_ETC/sources.list" ]]; then
    uri=$(awk -v suite="$suite" '
      $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == suite) { print $i; exit } break } }
    ' "$RIG_APT_ETC/sources.list")
  fi
  [[ -n "$uri" ]] || die "no Debian mirror for $suite found in $RIG_APT_ETC/sources*; set RIG_DEBIAN_MIRROR"
  printf '%s\n' "${uri%/}"
}

# A stable digest of the files that make up an image recipe.
rig_recipe_hash() {
  cat "$@" | sha256sum | cut -c1-16
}

# The recipe label of an image, or nothing when the image is missing.
rig_image_recipe() {
  docker image inspect --format '{{ index .Config.Labels "org.retailops.rig.recipe" }}' "$1" 2>/dev/null || true
}

# The address containers use to reach services published on this host:
# the gateway of Docker's default bridge.
rig_host_gateway() {
  docker network inspect bridge --format '{{ (index .IPAM.Config 0).Gateway }}'
}

# Go programs the rig builds into $RIG_CACHE/bin with `go install` from the Go
# module proxy (rig/toxiproxy.sh, rig/victorialogs.sh; rig/traefik.sh builds
# in a copy of its module instead: go install refuses Traefik's go.mod).

# rig_bin_lock NAME: one build of $RIG_CACHE/bin/NAME at a time, until the
# script exits (`make rig`, the load harness and the Kubernetes rig's cache
# build may run a script at once); a second caller waits here, then finds the
# binary built.
rig_bin_lock() {
  local lock
  mkdir -p "$RIG_CACHE/bin"
  exec {lock}>"$RIG_CACHE/bin/.$1.lock"
  flock "$lock"
}

# rig_go_install TARGET PACKAGE@VERSION [GO INSTALL FLAGS...]: build the main
# package with the release's own go.mod/go.sum into a private GOBIN and put
# its binary at TARGET whole. CGO off (runs on any Debian host), -trimpath
# added to the machine's own GOFLAGS, under `nice -n 19` (minutes of every
# core with a cold module cache); the output goes to
# $RIG_CACHE/<target name>-build.log, its tail to stderr when the build fails.
rig_go_install() {
  local target=$1 package=$2 name gobin build_log
  shift 2
  name=${target##*/}
  build_log="$RIG_CACHE/$name-build.log"
  command -v go >/dev/null 2>&1 || die "the Go toolchain is needed to build $name (go not in PATH)"
  mkdir -p "${target%/*}"
  gobin=$(mktemp -d "${TMPDIR:-/tmp}/$name-build.XXXXXX")
  log "building $name: go install $package (a few minutes with a cold module cache)"
  local started=$SECONDS
  if ! GOBIN="$gobin" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-$(go env GOFLAGS)} -trimpath" \
    nice -n 19 go install "$@" "$package" >"$build_log" 2>&1; then
    rm -rf "$gobin"
    tail -n 30 "$build_log" >&2
    die "go install $package failed (log: $build_log)"
  fi
  local built=("$gobin"/*)
  [[ ${#built[@]} == 1 && -x ${built[0]} ]] || { rm -rf "$gobin"; die "go install $package made ${#built[@]} files, not one binary"; }
  install -m 0755 "${built[0]}" "$target.partial"
  mv "$target.partial" "$target"
  rm -rf "$gobin"
  log "built $target in $((SECONDS - started)) s ($(stat -c %s "$target") bytes)"
}
