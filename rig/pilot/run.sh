#!/usr/bin/env bash
# make pilot: the local pilot region from nothing (or from an existing pilot)
# to GO / NO-GO. Each step is a playbook of the collection or of rig/pilot/;
# a second run re-converges (changed=0 expected) and validates again.
set -euo pipefail

cd "$(dirname "$0")/../.."
: "${PILOT_STATE:=$PWD/.cache/pilot}"
export PILOT_STATE
inventory=inventories/pilot-local/
register=inventories/branch_register/pilot-local.yml
logs=results/pilot-logs
mkdir -p "$logs" "$PILOT_STATE"
started=$SECONDS

step() { printf '\n[pilot] === %s (%ds)\n' "$*" "$((SECONDS - started))"; }
# follow FILE LOG CMD...: run CMD (output into LOG) and print FILE's lines as they come. Ansible
# prints a task's output only when the task ends; the harness writes its progress lines to FILE.
follow() {
  local file="$1" log="$2" tailer rc=0
  shift 2
  tail -n +1 -F --pid=$$ "$file" 2>/dev/null &
  tailer=$!
  "$@" >"$log" 2>&1 || rc=$?
  sleep 1 # its last lines
  kill "$tailer" 2>/dev/null || true
  return "$rc"
}
play() { # log-name playbook args...
  local name="$1"; shift
  if ! ansible-playbook -i "$inventory" "$@" >"$logs/$name.log" 2>&1; then
    tail -n 40 "$logs/$name.log"
    printf '[pilot] %s failed; full log: %s\n' "$name" "$logs/$name.log" >&2
    exit 1
  fi
  sed -n '/^PLAY RECAP/,$p' "$logs/$name.log"
}

step "Odoo under test"
bash rig/pilot/odoo.sh
odoo_vars="$PILOT_STATE/odoo.yml"
label=$(sed -n 's/^pilot_odoo_label: "\(.*\)"$/\1/p' "$odoo_vars")

step "containers, secrets, PKI, Azurite (rig/pilot/up.yml)"
play up rig/pilot/up.yml

step "converge the region (playbooks/site.yml)"
play site playbooks/site.yml -e "@$odoo_vars"
changed=$(sed -n '/^PLAY RECAP/,$p' "$logs/site.log" | grep -o 'changed=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
printf '[pilot] site.yml changed %s task(s) in total\n' "$changed"

step "initialise the database (once)"
first_app=$(ansible-inventory -i "$inventory" --host pilot-app-1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_address"])')
db_password=$(cat "$PILOT_STATE/secrets/odoo-db")
if PGPASSWORD="$db_password" PGCONNECT_TIMEOUT=10 psql -h "$first_app" -p 6432 -U odoo -d retail -tAc \
     'select count(*) > 0 from pos_config' 2>/dev/null | grep -qx t; then
  echo "[pilot] the database is initialised already"
else
  play odoo-init playbooks/odoo_db.yml -e odoo_oneshot_operation=init -e "@$odoo_vars"
fi

export ODOO_PASSWORD="${ODOO_PASSWORD:-admin}" # the pilot's own admin login, never a real region's

step "sessions shared by the app nodes, master password (rig/pilot/sessions.py)"
nodes=()
for node in $(ansible-inventory -i "$inventory" --graph odoo_nodes | sed -n 's/^.*--\(pilot-[a-z0-9-]*\)$/\1/p'); do
  nodes+=(--node "http://$(ansible-inventory -i "$inventory" --host "$node" | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_address"])'):8069")
done
if ! python3 rig/pilot/sessions.py --db retail --login admin "${nodes[@]}" >"$logs/sessions.json" 2>&1; then
  cat "$logs/sessions.json"
  printf '[pilot] sessions are not shared by the app nodes (or the master password check failed): NO-GO\n' >&2
  exit 3
fi
printf '[pilot] a session made on the first app node is valid on the others; a wrong master password is refused (%s)\n' \
  "$logs/sessions.json"

step "validate from the branches (playbooks/validate_pilot.yml)"
out="results/pilot/$(date -u +%Y%m%dT%H%M%SZ)"
printf '[pilot] branch relays and reachability probes, then the harness; its lines follow (%s/harness.log)\n' "$out"
rc=0
follow "$out/harness.log" "$logs/validate.log" \
  ansible-playbook -i "$inventory" playbooks/validate_pilot.yml -e "@$odoo_vars" \
  -e "validate_pilot_register=$PWD/$register" -e "validate_pilot_out=$PWD/$out" || rc=$?
# what the playbook itself said: the reachability probes, a failed task
grep -E '^ +"msg": "|^fatal' "$logs/validate.log" | tail -n 12 || true

printf '\n[pilot] Odoo under test: %s\n' "$label"
printf '[pilot] converge: changed=%s; total time %ds\n' "$changed" "$((SECONDS - started))"
if [[ $rc -eq 0 ]]; then
  printf '[pilot] GO - report: %s/report.html\n' "$out"
else
  printf '[pilot] NO-GO (validate_pilot.yml exit %d) - report: %s/report.html, log: %s/validate.log\n' "$rc" "$out" "$logs"
fi
exit "$rc"
