#!/usr/bin/env bash
# Build toxiproxy-server (pinned) with `go install` into the rig cache, once.
# Prints the binary's path. Rebuilt only when the binary is missing or the
# pinned version changes. Used by the load harness for link profiles.
#
#   bash rig/toxiproxy.sh            -> ~/.cache/retailops-rig/bin/toxiproxy-server
# shellcheck source=rig/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
BIN_DIR="$RIG_CACHE/bin"
TARGET="$BIN_DIR/toxiproxy-server"
STAMP="$BIN_DIR/.toxiproxy-server.version"

if [[ -x "$TARGET" && -f "$STAMP" && "$(cat "$STAMP")" == "$TOXIPROXY_VERSION" ]]; then
  printf '%s\n' "$TARGET"
  exit 0
fi
command -v go >/dev/null || die "go is needed to build toxiproxy-server"
mkdir -p "$BIN_DIR"
log "building toxiproxy-server $TOXIPROXY_VERSION with go install"
# Since v2.x the server's main package is cmd/server (the binary is "server");
# build it in a private GOBIN and install it under its usual name.
build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
GOBIN="$build_dir" GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install "github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}" >&2
install -m 0755 "$build_dir/server" "$TARGET"
"$TARGET" -version >&2 || die "built toxiproxy-server does not run"
printf '%s\n' "$TOXIPROXY_VERSION" >"$STAMP"
printf '%s\n' "$TARGET"
