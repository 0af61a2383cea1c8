#!/usr/bin/env bash
# Install the Debian packages the checks need on this machine, only when
# missing: the shell linter, and the servers the unit and contract suites
# start privately on loopback (PostgreSQL 15 server binaries: initdb, pg_ctl;
# redis-server for the Redis session tests).
# shellcheck source=tools/rig/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(shellcheck)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ((${#missing[@]} == 0)); then
  log "host packages present"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "missing packages ${missing[*]}: install them (needs root)"
log "installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start a system cluster and redis service; the tests do not use them.
