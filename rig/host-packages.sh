#!/usr/bin/env bash
# Install the Debian packages the checks need on this machine, only when
# missing: the shell linter, PostgreSQL 15 server binaries (initdb, pg_ctl:
# the contract tests start a private cluster on loopback) and redis-server
# (Redis session tests), Debian's chromium (the load-test report is checked
# in headless Chromium), prometheus (its promtool checks and unit-tests the
# alert and recording rules and parses the dashboards' queries; with
# prometheus-alertmanager, the load harness's alert sink is checked against
# both, live, on loopback), rsyslog
# (rsyslogd checks log_shipping's rules and ships entries with them to a
# VictoriaLogs), pgbouncer (monitoring_exporters' PgBouncer exporter is
# checked against a live one) and rclone (filestore_backup's runs, against
# an encrypted remote on a local directory). The system services these packages may start
# are not used by the tests.
# shellcheck source=rig/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(shellcheck postgresql-15 redis-server chromium prometheus prometheus-alertmanager rsyslog pgbouncer rclone bind9)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  log "host packages present: ${packages[*]}"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "missing host packages ${missing[*]}: run as root: apt-get install ${missing[*]}"
log "installing host packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
