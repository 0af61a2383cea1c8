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
# release with its own go.mod/go.sum; the main package is app/victoria-logs.
# CGO is off (upstream's "pure" build) so the binary runs on any Debian host
# without a C library of a particular version; the version is stamped into
# buildinfo as upstream's Makefile does, and `-version` prints it.
# GOPROXY, GOFLAGS and the caches are the machine's own Go configuration.
# The build runs under `nice -n 19`: it takes a few minutes of both cores.
#
# Set VICTORIALOGS_VERSION to build another release (roles/log_store pins its
# own in log_store_version; tests/unit/roles/test_log_store.py checks both
# agree).
# shellcheck source=rig/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

VICTORIALOGS_VERSION="${VICTORIALOGS_VERSION:-v1.52.2}"
VICTORIALOGS_PACKAGE=github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
BIN_DIR="$RIG_CACHE/bin"
TARGET="$BIN_DIR/victoria-logs-$VICTORIALOGS_VERSION"
STAMPED="victoria-logs-$VICTORIALOGS_VERSION"

# One build at a time; a second caller waits and then finds the binary built.
mkdir -p "$BIN_DIR"
exec {victorialogs_lock}>"$BIN_DIR/.victoria-logs-$VICTORIALOGS_VERSION.lock"
flock "$victorialogs_lock"

if [[ -x "$TARGET" ]] && [[ "$("$TARGET" -version 2>/dev/null)" == "$STAMPED" ]]; then
  log "victoria-logs $VICTORIALOGS_VERSION is built ($TARGET)"
  printf '%s\n' "$TARGET"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "the Go toolchain is needed to build victoria-logs $VICTORIALOGS_VERSION (go not in PATH)"

build_dir=$(mktemp -d "${TMPDIR:-/tmp}/victorialogs-build.XXXXXX")
trap 'rm -rf "$build_dir"' EXIT

log "building victoria-logs $VICTORIALOGS_VERSION from the Go module proxy (a few minutes with a cold module cache)"
started=$SECONDS
GOBIN="$build_dir" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-$(go env GOFLAGS)} -trimpath" \
  nice -n 19 go install \
  -ldflags "-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=$STAMPED" \
  "$VICTORIALOGS_PACKAGE@$VICTORIALOGS_VERSION" >"$RIG_CACHE/victorialogs-build.log" 2>&1 \
  || { tail -n 30 "$RIG_CACHE/victorialogs-build.log" >&2; die "go install of victoria-logs $VICTORIALOGS_VERSION failed"; }
[[ "$("$build_dir/victoria-logs" -version)" == "$STAMPED" ]] || die "the built victoria-logs does not answer -version with $STAMPED"
install -m 0755 "$build_dir/victoria-logs" "$TARGET.partial"
mv "$TARGET.partial" "$TARGET"
log "built $TARGET in $((SECONDS - started)) s ($(stat -c %s "$TARGET") bytes)"
printf '%s\n' "$TARGET"
