#!/usr/bin/env bash
# make pilot: the local pilot region from nothing (or from an existing pilot)
# to GO / NO-GO (`run.sh converge`: up to the converged region, for make drills). Each step is a playbook of the collection or of rig/pilot/;
# a second run re-converges (changed=0 expected) and validates again.
set -euo pipefail

#
# PILOT_PLATFORM=docker (default): Odoo and Traefik on two Docker hosts
# (inventories/pilot-local/). PILOT_PLATFORM=kubernetes: Odoo and Traefik on
# the rig's Kubernetes cluster (inventories/pilot-kubernetes/), the same data
# tier, hubs and branches in containers.
cd "$(dirname "$0")/../.."
: "${PILOT_STATE:=$PWD/.cache/pilot}"
export PILOT_STATE
platform=${PILOT_PLATFORM:-docker}
case "$platform" in
  docker) inventory=inventories/pilot-local/ register=inventories/branch_register/pilot-local.yml ;;
  kubernetes) inventory=inventories/pilot-kubernetes/ register=inventories/branch_register/pilot-kubernetes/pilot-kubernetes.yml ;;
  *) printf '[pilot] error: PILOT_PLATFORM must be docker or kubernetes, not %s\n' "$platform" >&2; exit 2 ;;
esac
logs=results/pilot-logs
mkdir -p "$logs" "$PILOT_STATE"
started=$SECONDS
# One region per pilot state: the two platforms share the containers' names.
if [[ -s "$PILOT_STATE/platform" && "$(cat "$PILOT_STATE/platform")" != "$platform" ]]; then
  printf '[pilot] error: PILOT_PLATFORM=%s, but %s holds a pilot region on %s: remove it first (make pilot-down PILOT_PLATFORM=%s)\n' \
    "$platform" "$PILOT_STATE" "$(cat "$PILOT_STATE/platform")" "$(cat "$PILOT_STATE/platform")" >&2
  exit 2
fi
printf '%s\n' "$platform" >"$PILOT_STATE/platform"

PILOT_TAG=pilot
# shellcheck source=rig/pilot/lib.sh
source rig/pilot/lib.sh

step "Odoo under test"
bash rig/pilot/odoo.sh
odoo_vars="$PILOT_STATE/odoo.yml"
label=$(sed -n 's/^pilot_odoo_label: "\(.*\)"$/\1/p' "$odoo_vars")

# inventory_var HOST VAR: a variable as the inventory writes it (a list: one item a word).
inventory_var() {
  ansible-inventory -i "$inventory" --host "$1" | python3 -c '
import json, sys
value = json.load(sys.stdin)[sys.argv[1]]
print(" ".join(value) if isinstance(value, list) else value)' "$2"
}
: "${RIG_CACHE:=$HOME/.cache/retailops-rig}"
kube() { "$RIG_CACHE/kubernetes/bin/kubectl" --kubeconfig "$RIG_CACHE/kubernetes/state/admin.kubeconfig" "$@"; }
k8s=rig/kubernetes/cluster.sh
if [[ $platform == kubernetes ]]; then
  # Three nodes: rig-node-1 and -2 the Odoo pool, rig-node-3 the general pool (the ingress).
  export K8S_RIG_NODES=3 K8S_RIG_NODE_POOLS="odoo odoo general"
  odoo_image=$(sed -n 's/^odoo_image: "\(.*\)"$/\1/p' "$odoo_vars")
  K8S_RIG_IMAGES=retailops/rig-odoo-double:18.0
  [[ -z $odoo_image || $odoo_image == "$K8S_RIG_IMAGES" ]] || K8S_RIG_IMAGES+=" $odoo_image"
  export K8S_RIG_IMAGES
  step "the Kubernetes cluster (rig/kubernetes)"
  bash rig/kubernetes/build.sh
  bash rig/kubernetes/images.sh 2>&1 | tee "$logs/k8s-images.log"
  # A cluster of a previous run is kept (the second run converges it again);
  # a node a drill left down is brought back; a cluster that does not answer
  # is made again.
  if bash "$k8s" status >/dev/null 2>&1; then
    for n in $(seq "$K8S_RIG_NODES"); do
      ready=$(kube get node "rig-node-$n" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
      [[ $ready == True ]] || bash "$k8s" restart-node "$n"
    done
    if grep -q 'saved ' "$logs/k8s-images.log"; then
      bash "$k8s" import
      # The same tag now names another image (the double rebuilt from changed
      # source): the Odoo pods are rolled onto it after the converge below.
      reimported=1
    fi
  else
    bash "$k8s" up
  fi
fi

step "containers, secrets, PKI, Azurite (rig/pilot/up.yml)"
play up "$inventory" rig/pilot/up.yml

if [[ $platform == kubernetes ]]; then
  step "the cluster and the pilot's networks (cluster.sh connect, gateway, lb)"
  # The pods reach the platform network (PgBouncer, Redis); the cluster's
  # replies to the branches go back through the VPN hub, as the platform
  # hosts' do; the rig's load balancer gives the ingress its frontend.
  platform_network=$(inventory_var pilot-hub pilot_platform_network)
  bash "$k8s" connect "$platform_network"
  # shellcheck disable=SC2046 # one network a word
  bash "$k8s" gateway "$(inventory_var pilot-hub node_address)" $(inventory_var pilot-hub pilot_branch_routes)
  bash "$k8s" lb "$(inventory_var pilot-hub pilot_lb_pool)"
fi

step "converge the region (playbooks/site.yml)"
play site "$inventory" playbooks/site.yml -e "@$odoo_vars"
changed=$(changed "$logs/site.log")
printf '[pilot] site.yml changed %s task(s) in total\n' "$changed"

if [[ $platform == kubernetes ]]; then
  step "Odoo, the ingress and the monitoring account on the cluster (playbooks/odoo_kubernetes.yml, odoo_kubernetes_db.yml, traefik_kubernetes.yml, kubernetes_monitoring.yml)"
  play volumes "$inventory" rig/pilot/kubernetes.yml
  play odoo-kubernetes "$inventory" playbooks/odoo_kubernetes.yml -e "@$odoo_vars"
  play odoo-kubernetes-db "$inventory" playbooks/odoo_kubernetes_db.yml -e odoo_oneshot_operation=init -e "@$odoo_vars"
  play traefik-kubernetes "$inventory" playbooks/traefik_kubernetes.yml
  play kubernetes-monitoring "$inventory" playbooks/kubernetes_monitoring.yml
  logs_changed="odoo-kubernetes odoo-kubernetes-db traefik-kubernetes kubernetes-monitoring"
  if [[ ${reimported:-0} == 1 ]]; then
    play odoo-kubernetes-rollout "$inventory" playbooks/odoo_kubernetes_rollout.yml -e odoo_kubernetes_rollout_restart=true -e "@$odoo_vars"
    logs_changed+=" odoo-kubernetes-rollout"
  fi
  for log in $logs_changed; do
    changed=$((changed + $(changed "$logs/$log.log")))
  done
  printf '[pilot] with the cluster'"'"'s playbooks: %s task(s) changed in total\n' "$changed"
fi

# A region with a monitoring node (both pilot inventories: pilot-monitor):
# exporters on every platform host, Prometheus and Alertmanager, the central
# log store and the journals shipped to it. The pilot's coverage gate reads
# the alerts they raise during the drills.
if ansible-inventory -i "$inventory" --graph monitoring 2>/dev/null | grep -q -- '--'; then
  step "monitoring and central logs (playbooks/monitoring.yml, playbooks/logs.yml)"
  play monitoring "$inventory" playbooks/monitoring.yml
  play logs "$inventory" playbooks/logs.yml
  monitored=$(( $(changed "$logs/monitoring.log") + $(changed "$logs/logs.log") ))
  changed=$((changed + monitored))
  printf '[pilot] monitoring.yml and logs.yml changed %s task(s)\n' "$monitored"
fi

if [[ $platform == docker ]]; then
  step "initialise the database (once)"
  first_app=$(inventory_var pilot-app-1 node_address)
  db_password=$(cat "$PILOT_STATE/secrets/odoo-db")
  if PGPASSWORD="$db_password" PGCONNECT_TIMEOUT=10 psql -h "$first_app" -p 6432 -U odoo -d retail -tAc \
       'select count(*) > 0 from pos_config' 2>/dev/null | grep -qx t; then
    echo "[pilot] the database is initialised already"
  else
    play odoo-init "$inventory" playbooks/odoo_db.yml -e odoo_oneshot_operation=init -e "@$odoo_vars"
  fi
fi

# `run.sh converge` (make drills): the region up and converged, not validated.
if [[ ${1:-} == converge ]]; then
  printf '[pilot] region converged (changed=%s) in %ds; not validated (run.sh converge)\n' "$changed" "$((SECONDS - started))"
  exit 0
fi

export ODOO_PASSWORD="${ODOO_PASSWORD:-admin}" # the pilot's own admin login, never a real region's

step "sessions shared by the Odoo processes, master password (rig/pilot/sessions.py)"
nodes=()
forwards=()
if [[ $platform == docker ]]; then
  for node in $(ansible-inventory -i "$inventory" --graph odoo_nodes | sed -n 's/^.*--\(pilot-[a-z0-9-]*\)$/\1/p'); do
    nodes+=(--node "http://$(inventory_var "$node" node_address):8069")
  done
else
  # Each HTTP pod through a port-forward (the kubelet's, inside the pod): the
  # namespace's NetworkPolicies admit only the ingress controller.
  # The ready pods that stay: after a rollout (a changed image or setting)
  # the old ones finish their requests while terminating.
  kube -n retail rollout status deployment/odoo-http --timeout=300s >/dev/null
  port=18069
  for pod in $(kube -n retail get pods -l app.kubernetes.io/component=http -o json | python3 -c '
import json, sys
for pod in json.load(sys.stdin)["items"]:
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
    if ready and not pod["metadata"].get("deletionTimestamp"):
        print(pod["metadata"]["name"])'); do
    kube -n retail port-forward "pod/$pod" "$port:8069" >"$logs/port-forward-$port.log" 2>&1 &
    forwards+=($!)
    nodes+=(--node "http://127.0.0.1:$port")
    for _ in $(seq 30); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.5
    done
    port=$((port + 1))
  done
fi
sessions_rc=0
python3 rig/pilot/sessions.py --db retail --login admin "${nodes[@]}" >"$logs/sessions.json" 2>&1 || sessions_rc=$?
((${#forwards[@]} == 0)) || kill "${forwards[@]}" 2>/dev/null || true
if ((sessions_rc != 0)); then
  cat "$logs/sessions.json"
  printf '[pilot] sessions are not shared by the Odoo processes (or the master password check failed): NO-GO\n' >&2
  exit 3
fi
printf '[pilot] a session made on the first Odoo process is valid on the others; a wrong master password is refused (%s)\n' \
  "$logs/sessions.json"

step "validate from the branches (playbooks/validate_pilot.yml)"
out="results/pilot/$(date -u +%Y%m%dT%H%M%SZ)"
printf '[pilot] branch relays and reachability probes, then the harness; its lines follow (%s/harness.log)\n' "$out"
platform_vars=()
if [[ $platform == kubernetes ]]; then
  version=$(kube version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
  platform_vars=(-e "$(python3 -c 'import json, sys; print(json.dumps({"validate_pilot_platform": sys.argv[1]}))' \
    "Kubernetes $version (the rig's cluster: Odoo pool rig-node-1 and rig-node-2, ingress on rig-node-3 behind the rig's load balancer)")")
fi
rc=0
follow "$out/harness.log" "$logs/validate.log" \
  ansible-playbook -i "$inventory" playbooks/validate_pilot.yml -e "@$odoo_vars" "${platform_vars[@]}" \
  -e "validate_pilot_odoo_vars=$odoo_vars" \
  -e "validate_pilot_register=$PWD/$register" -e "validate_pilot_out=$PWD/$out" || rc=$?
# what the playbook itself said: the reachability probes, a failed task
grep -E '^ +"msg": "|^fatal' "$logs/validate.log" | tail -n 12 || true

printf '\n[pilot] Odoo under test: %s, on %s\n' "$label" "$platform"
printf '[pilot] converge: changed=%s; total time %ds\n' "$changed" "$((SECONDS - started))"
# The verdict is the harness's (report.json); a pilot check after it (the
# dashboards' panels) can still fail the run without turning GO into NO-GO.
harness_go=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["verdict"]["go"])' \
  "$out/report.json" 2>/dev/null || echo False)
if [[ $rc -eq 0 ]]; then
  printf '[pilot] GO - report: %s/report.html\n' "$out"
elif [[ $harness_go == True ]]; then
  printf '[pilot] GO from the harness, but a pilot check failed (validate_pilot.yml exit %d, above) - report: %s/report.html, log: %s/validate.log\n' \
    "$rc" "$out" "$logs"
else
  printf '[pilot] NO-GO (validate_pilot.yml exit %d) - report: %s/report.html, log: %s/validate.log\n' "$rc" "$out" "$logs"
fi
exit "$rc"
