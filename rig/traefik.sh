#!/usr/bin/env bash
# Build the pinned Traefik release the app_tier scenario runs, from the Go
# module proxy with the Go toolchain, into $RIG_CACHE/bin/traefik-<version>.
# Rebuilt only when missing (or when its recorded version does not answer).
#
# Why not `go install .../traefik/v3/cmd/traefik@<version>`: Traefik's go.mod
# has replace directives, which `go install pkg@version` refuses. So the
# module is downloaded (`go mod download -json`), its read-only module
# directory copied to a scratch directory, and built there with the release's
# own go.mod/go.sum, as Traefik's Makefile does (-trimpath, version stamped).
#
# Why v3.6.12 and not v3.7.x: every v3.7 release listed by the proxy
# (v3.7.11-13 here) needs github.com/go-acme/lego/v5, which the proxy
# answers with 403 "This module version is not available", and its
# `replace ... => ./pkg/config/dynamic/ext` points at a directory missing from
# the module zip. v3.6.12 is the newest release that builds from the proxy.
# v3.6 has passiveHealthCheck (v3.6.0+) but not the v3.7 retry options
# (status, timeout, retryNonIdempotentMethod).
#
# Set TRAEFIK_VERSION to build another release (the roles pin theirs in
# roles/traefik/defaults/main.yml; production installs the official binary or
# image, see roles/traefik/README.md).
# shellcheck source=rig/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.6.12}"
TRAEFIK_MODULE=github.com/traefik/traefik/v3
BIN_DIR="$RIG_CACHE/bin"
TARGET="$BIN_DIR/traefik-$TRAEFIK_VERSION"

# One build at a time (`make rig` and the Kubernetes rig's cache build both
# run this); the second waits and then finds the binary built.
mkdir -p "$BIN_DIR"
exec {traefik_lock}>"$BIN_DIR/.traefik-$TRAEFIK_VERSION.lock"
flock "$traefik_lock"

if [[ -x "$TARGET" ]] && "$TARGET" version 2>/dev/null | grep -qx "Version:[[:space:]]*$TRAEFIK_VERSION"; then
  log "traefik $TRAEFIK_VERSION is built ($TARGET)"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "the Go toolchain is needed to build traefik $TRAEFIK_VERSION (go not in PATH)"
mkdir -p "$BIN_DIR"

log "downloading $TRAEFIK_MODULE@$TRAEFIK_VERSION from the Go module proxy"
info=$(go mod download -json "$TRAEFIK_MODULE@$TRAEFIK_VERSION") || die "go mod download $TRAEFIK_MODULE@$TRAEFIK_VERSION failed"
moddir=$(printf '%s' "$info" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir","")); sys.exit(1 if d.get("Error") else 0)') \
  || die "go mod download: $(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Error"))')"
[[ -d "$moddir/cmd/traefik" ]] || die "module directory $moddir has no cmd/traefik"

work=$(mktemp -d "${TMPDIR:-/tmp}/traefik-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$moddir/." "$work/src"
chmod -R u+w "$work/src"

log "building traefik $TRAEFIK_VERSION (a few minutes with a cold module cache)"
(
  cd "$work/src"
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    -o "$work/traefik" ./cmd/traefik
) >"$RIG_CACHE/traefik-build.log" 2>&1 || { tail -n 30 "$RIG_CACHE/traefik-build.log" >&2; die "go build of traefik $TRAEFIK_VERSION failed"; }
"$work/traefik" version >/dev/null || die "the built traefik does not run"
mv "$work/traefik" "$TARGET.partial"
mv "$TARGET.partial" "$TARGET"
log "built $TARGET"
