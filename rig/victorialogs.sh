#!/usr/bin/env bash
# Build the pinned VictoriaLogs release (the log store of roles/log_store)
# from the Go module proxy with the machine's Go toolchain, into
# $RIG_CACHE/bin/victoria-logs-<version>. Prints the binary's path.
# Rebuilt only when missing (or when the binary does not answer with its
# recorded version).
#
#   bash rig/victorialogs.sh     -> ~/.cache/retailops-rig/bin/victoria-logs-v1.52.2
#
# The module (github.com/VictoriaMetrics/VictoriaLogs, Apache-2.0) has no
# replace directives, so `go install <main package>@<version>` builds the
# release (rig_go_install in rig/lib.sh: CGO off, upstream's "pure" build);
# the main package is app/victoria-logs. The version is stamped into
# buildinfo as upstream's Makefile does, and `-version` prints it.
#
# Set VICTORIALOGS_VERSION to build another release (roles/log_store pins its
# own in log_store_version; tests/unit/roles/test_log_store.py checks both
# agree).
# shellcheck source=rig/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

VICTORIALOGS_VERSION="${VICTORIALOGS_VERSION:-v1.52.2}"
TARGET="$RIG_CACHE/bin/victoria-logs-$VICTORIALOGS_VERSION"
STAMPED="victoria-logs-$VICTORIALOGS_VERSION"

rig_bin_lock "${TARGET##*/}"
if [[ -x "$TARGET" ]] && [[ "$("$TARGET" -version 2>/dev/null)" == "$STAMPED" ]]; then
  log "victoria-logs $VICTORIALOGS_VERSION is built ($TARGET)"
else
  rig_go_install "$TARGET" "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION" \
    -ldflags "-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=$STAMPED"
  [[ "$("$TARGET" -version)" == "$STAMPED" ]] || die "the built $TARGET does not answer -version with $STAMPED"
fi
printf '%s\n' "$TARGET"
