#!/usr/bin/env bash
# Build toxiproxy-server (pinned) with `go install` into the rig cache, once.
# Prints the binary's path. Rebuilt only when the binary is missing or the
# pinned version changes. Used by the load harness for link profiles.
#
#   bash rig/toxiproxy.sh            -> ~/.cache/retailops-rig/bin/toxiproxy-server
# shellcheck source=rig/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
TARGET="$RIG_CACHE/bin/toxiproxy-server"
STAMP="$RIG_CACHE/bin/.toxiproxy-server.version"

rig_bin_lock "${TARGET##*/}"
if [[ ! -x "$TARGET" || ! -f "$STAMP" || "$(cat "$STAMP")" != "$TOXIPROXY_VERSION" ]]; then
  # Since v2.x the server's main package is cmd/server (the binary is "server");
  # rig_go_install puts it at TARGET under its usual name.
  rig_go_install "$TARGET" "github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}"
  "$TARGET" -version >&2 || die "built toxiproxy-server does not run"
  printf '%s\n' "$TOXIPROXY_VERSION" >"$STAMP"
fi
printf '%s\n' "$TARGET"
