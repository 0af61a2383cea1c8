#!/usr/bin/env bash
# make pilot-dr: the disaster-recovery pilot. Two regions in containers,
# inventories/pilot-north/ (the primary) and inventories/pilot-south/ (its DR
# region: a standby cluster, Odoo warm, its hub), the DNS service that holds
# the ERP's name and two branch nodes; then branch load, the whole primary
# region killed, playbooks/dr_failover.yml, and the harness's verdict with the
# recovery time and point per tier (README, "make pilot-dr").
#
#   bash rig/pilot/dr.sh        build the pair from nothing and run the drill
#   bash rig/pilot/dr.sh down   remove both regions and the pair's state
#   bash rig/pilot/dr.sh failback prepare|switch
#                               fail back to pilot-north once its containers are
#                               back (playbooks/dr_failback.yml, one phase; results
#                               in results/pilot-dr/failback-<phase>.json)
#
# A run ends with the primary region lost and the DR region active: the next
# run removes that pair first and builds a new one.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${PILOT_STATE:=$PWD/.cache/pilot-dr}"
export PILOT_STATE
north=inventories/pilot-north/
south=inventories/pilot-south/
register=inventories/branch_register/pilot-dr/
logs=results/pilot-dr-logs
mkdir -p "$logs"
started=$SECONDS

PILOT_TAG=pilot-dr
# shellcheck source=rig/pilot/lib.sh
source rig/pilot/lib.sh

down() {
  # The DR region first: its containers have legs on the primary's network.
  play down-south "$south" rig/pilot/down.yml
  play down-north "$north" rig/pilot/down.yml
}

if [[ ${1:-} == down ]]; then
  down
  exit 0
fi

if [[ ${1:-} == failback ]]; then
  phase=${2:-}
  [[ $phase == prepare || $phase == switch ]] || { echo "usage: $0 failback prepare|switch" >&2; exit 2; }
  mkdir -p results/pilot-dr
  step "fail back to pilot-north: $phase (playbooks/dr_failback.yml)"
  play "failback-$phase" "$north" playbooks/dr_failback.yml -e dr_failback_from=pilot-south \
    -e dr_failback_phase="$phase" -e dr_failback_dr_inventory="$PWD/$south" \
    -e dr_failback_results="$PWD/results/pilot-dr/failback-$phase.json"
  printf '[pilot-dr] failback %s done in %ds: results/pilot-dr/failback-%s.json\n' "$phase" "$((SECONDS - started))" "$phase"
  exit 0
fi

if docker ps -a --filter label=org.retailops.rig.scenario=pilot-dr --format '{{.Names}}' | grep -q .; then
  step "an earlier pair of regions is here (its primary region lost by its run): removing it"
  down
fi

step "Odoo under test"
mkdir -p "$PILOT_STATE"
bash rig/pilot/odoo.sh
odoo_vars="$PILOT_STATE/odoo.yml"
label=$(sed -n 's/^pilot_odoo_label: "\(.*\)"$/\1/p' "$odoo_vars")

step "containers, secrets, PKI, blob stores, the DNS service (rig/pilot/up.yml, both regions)"
play up-north "$north" rig/pilot/up.yml
play up-south "$south" rig/pilot/up.yml

# Each hub publishes its key when it is converged, and a branch's tunnels need
# both hubs' keys: the DR region's hub first (its branch peers come with its
# converge below), then the primary region, then the DR region.
step "the DR region's hub (playbooks/branch_vpn.yml on pilot-south's hub)"
play hub-south "$south" playbooks/branch_vpn.yml --limit hubs

step "converge the primary region (playbooks/site.yml on pilot-north)"
play site-north "$north" playbooks/site.yml -e "@$odoo_vars"
converged=$(changed "$logs/site-north.log")

step "initialise the database (playbooks/odoo_db.yml on pilot-north)"
play odoo-init "$north" playbooks/odoo_db.yml -e odoo_oneshot_operation=init -e "@$odoo_vars"

step "converge the DR region (playbooks/site.yml on pilot-south: a standby cluster, Odoo warm)"
play site-south "$south" playbooks/site.yml -e "@$odoo_vars"
converged=$((converged + $(changed "$logs/site-south.log")))
printf '[pilot-dr] the converges changed %s task(s)\n' "$converged"

export ODOO_PASSWORD="${ODOO_PASSWORD:-admin}" # the pilot's own admin login, never a real region's

step "validate: branch load, the primary region lost, the DR region taking over (playbooks/validate_pilot.yml)"
out="results/pilot-dr/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
rc=0
follow "$out/harness.log" "$logs/validate.log" \
  ansible-playbook -i "$north" playbooks/validate_pilot.yml -e "@$odoo_vars" \
  -e "validate_pilot_odoo_vars=$odoo_vars" -e "validate_pilot_register=$PWD/$register" \
  -e "validate_pilot_out=$PWD/$out" \
  -e "{\"validate_pilot_vars\": {\"DR_INVENTORY\": \"$PWD/$south\"}}" || rc=$?
grep -E '^ +"msg": "|^fatal' "$logs/validate.log" | tail -n 12 || true

printf '\n[pilot-dr] Odoo under test: %s\n' "$label"
printf '[pilot-dr] total time %ds\n' "$((SECONDS - started))"
if [[ $rc -eq 0 ]]; then
  printf '[pilot-dr] GO - report: %s/report.html\n' "$out"
else
  printf '[pilot-dr] NO-GO (validate_pilot.yml exit %d) - report: %s/report.html, log: %s/validate.log\n' "$rc" "$out" "$logs"
fi
exit "$rc"
