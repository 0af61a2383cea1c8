#!/usr/bin/env bash
# Host packages the test suites need: PostgreSQL 15 server binaries (initdb,
# pg_ctl; the contract tests start a private cluster) and redis-server (Redis
# session tests). Idempotent: installs only what is missing.
set -euo pipefail

missing=()
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || missing+=(postgresql-15)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ((${#missing[@]} == 0)); then
  echo "host packages present: postgresql-15, redis-server"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing host packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing host packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start a system cluster and redis service; the tests do not use them.
