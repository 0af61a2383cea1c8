"""inventories/example-aks-region/ is a usable AKS region inventory.

What this proves, without Azure or any host: the inventory parses with the
fixture vault password (and not without it: the secrets are encrypted);
the roles' argument specs and validate tasks accept it - aks_cluster on the
cluster (its branch register check included), odoo_kubernetes on every
tenant, traefik_kubernetes on the ingress, and the data tier, hub and
branch roles through site.yml's own validation play, prometheus and
alertmanager on the monitoring node through monitoring.yml's (its scrape
jobs name only groups this region has, and Traefik's pods are its
Kubernetes job traefik, with a discovery account that may only list the
ingress namespace's pods, its credentials stood in for the cluster's, and
the pods' metrics port open to the monitoring node only); the VNet plan's ranges
do not overlap each other, the Kubernetes service range or the branch
register; the tenants' HTTP pods land on the Odoo pool and their cron pods
and Jobs on the odoocron pool the cluster defines (the pod specs as the
role renders them), with the budget the Odoo pool is sized for; the data
tier admits their subnet; the ingress controller's pods land on the ingress
pool, its Service asks for an internal load balancer in snet-edge at the
register's ERP entrypoint, it serves every tenant under a host name its
certificate covers; the hubs and branches are the register's; the
playbooks the README names pass --syntax-check. What it does not prove:
anything in Azure (see roles/aks_cluster/README.md, "Validation in a
sandbox subscription"), e.g. that AKS gives the Service that address.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    COLLECTIONS_PATH,
    LOCAL,
    PRELOAD_PLUGINS,
    ROOT,
    SyntaxChecks,
    role_render_tasks,
    role_rendered,
)
from cryptography import x509

from rig.inventory import group_hosts as inventory_group_hosts

INVENTORY = ROOT / "inventories" / "example-aks-region"
VAULT_FILE = INVENTORY / "group_vars" / "all" / "vault.yml"
VAULT_ID = f"example_aks_region@{ROOT / 'tests' / 'fixtures' / 'example-aks-region.vault-pass'}"
REGISTER = ROOT / "inventories" / "branch_register" / "eu-west.yml"
BIN = Path(sys.executable).parent
README_PLAYBOOKS = sorted(set(re.findall(r"playbooks/(\w+\.yml)", (INVENTORY / "README.md").read_text())))
SHOWN = [
    "region_networks",
    "region_service_cidr",
    "aks_cluster_vnet_address_prefixes",
    "aks_cluster_subnets",
    "aks_cluster_service_cidr",
    "aks_cluster_pools",
    "aks_cluster_odoo_pool",
    "aks_cluster_odoo_pdb_min_available",
    "region_ingress_address",
    "odoo_kubernetes_node_selector",
    "odoo_kubernetes_tolerations",
    "odoo_kubernetes_pdb_min_available",
    "odoo_kubernetes_namespace",
    "odoo_kubernetes_ingress_namespace",
    "odoo_kubernetes_egress",
    "odoo_db_host",
    "pgbouncer_allowed_networks",
    "redis_allowed_networks",
    "nftables_segmentation_platform_networks",
    "postgresql_patroni_allowed_networks",
    "traefik_kubernetes_namespace",
    "traefik_kubernetes_tenants",
    "traefik_tls_certificates",
    "hub_erp_entrypoints",
    "prometheus_kubernetes_jobs",
    "prometheus_scrape_jobs",
    "ansible_host",
]
# What each tenant and the ingress controller would apply, as the roles render it (no cluster is read:
# the tenants' configuration digest is a stand-in).
TENANT_PODS = {
    component: (f"{{{{ {expression} }}}}", {"odoo_kubernetes__component": component})
    for component, expression in (
        ("http", "odoo_kubernetes__http_deployment.spec.template.spec"),
        ("cron", "odoo_kubernetes__cron_deployment.spec.template.spec"),
        ("job", "odoo_kubernetes__pod_spec"),
    )
}
INGRESS: dict[str, tuple[str, dict[str, Any]]] = {
    "pod": ("{{ traefik_kubernetes__deployment.spec.template.spec }}", {}),
    "service_type": ("{{ traefik_kubernetes_service_type }}", {}),
    "service_annotations": ("{{ traefik_kubernetes_service_annotations }}", {}),
    "discovery": (
        "{{ traefik_kubernetes__discovery_objects + [traefik_kubernetes__discovery_secret_object] }}",
        {},
    ),
    "metrics_peers": ("{{ traefik_kubernetes_metrics_peers }}", {}),
    "metrics_port": ("{{ traefik_kubernetes_entrypoints.metrics.port }}", {}),
}
CLUSTER: dict[str, tuple[str, dict[str, Any]]] = {
    "monitoring_account": (
        "{{ kubernetes_monitoring__objects + [kubernetes_monitoring__secret_object] }}",
        {},
    ),
}
AZURE_LB = "service.beta.kubernetes.io/azure-load-balancer-"
STAND_IN_API_SERVER = "https://aks-erp-eu-west-0a1b2c3d.privatelink.westeurope.azmk8s.io:443"


def ansible(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            # the validation run: a host's facts gathered once (site.yml's and monitoring.yml's plays both
            # gather the same subset, network, of this machine's)
            "ANSIBLE_GATHERING": "smart",
            **PRELOAD_PLUGINS,
        }
    )
    return subprocess.run(
        [str(BIN / tool), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=900
    )


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"rc={result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def validation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """site.yml's validation play; aks_cluster's, odoo_kubernetes' and traefik_kubernetes' validation, the
    last two with what they would apply; then every value rendered."""
    site = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())[0]
    monitoring_plays = yaml.safe_load((ROOT / "playbooks" / "monitoring.yml").read_text())
    monitoring = next(p for p in monitoring_plays if p["name"] == "Validate the monitoring input")
    # monitoring.yml's first plays read the ingress controller's discovery credentials and the cluster's
    # node monitoring account from the cluster (traefik_kubernetes and kubernetes_monitoring,
    # scrape_credentials); there is no cluster here: the facts they set, stood in.
    assert [p["hosts"] for p in monitoring_plays[:2]] == ["kubernetes_ingress", "kubernetes_clusters"]
    for play in monitoring_plays[:2]:
        assert play["tasks"][0]["ansible.builtin.include_role"]["tasks_from"] == "scrape_credentials"
    stand_in_nodes = {
        "name": "Stand in for the cluster's node monitoring credentials",
        "hosts": "kubernetes_clusters",
        "gather_facts": False,
        "tasks": [
            {
                "name": "The fact scrape_credentials sets",
                "ansible.builtin.set_fact": {
                    "kubernetes_monitoring_scrape": {
                        "api_server": STAND_IN_API_SERVER,
                        "selector": "",
                        "token": "stand-in-node-token",
                        "ca": "{{ hostvars['ingress-eu-west'].traefik_tls_certificates[0].cert }}",
                    }
                },
            }
        ],
    }
    stand_in = {
        "name": "Stand in for the cluster's discovery credentials",
        "hosts": "kubernetes_ingress",
        "gather_facts": False,
        "tasks": [
            {
                "name": "The fact scrape_credentials sets",
                "ansible.builtin.set_fact": {
                    "traefik_kubernetes_scrape": {
                        "api_server": STAND_IN_API_SERVER,
                        "namespace": "{{ traefik_kubernetes_namespace }}",
                        "selector": "app.kubernetes.io/name=traefik,app.kubernetes.io/instance=traefik",
                        "port": "metrics",
                        "token": "stand-in-token",
                        "ca": "{{ traefik_tls_certificates[0].cert }}",  # any certificate: a CA stand-in
                    }
                },
            }
        ],
    }
    plays = [site, stand_in, stand_in_nodes, monitoring]
    plays.append(
        {
            "name": "Validate aks_clusters",
            "hosts": "aks_clusters",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Validate",
                    "ansible.builtin.include_role": {
                        "name": "retailops.odoo_platform.aks_cluster",
                        "tasks_from": "validate",
                    },
                }
            ],
        }
    )
    plays += [
        {
            "name": f"Validate and render {group}",
            "hosts": group,
            "gather_facts": False,
            "vars": play_vars,
            "tasks": role_render_tasks(role, shown),
        }
        for group, role, shown, play_vars in (
            (
                "odoo_tenants",
                "odoo_kubernetes",
                TENANT_PODS,
                {"odoo_kubernetes__config_digest": {"http": "stand-in", "cron": "stand-in"}},
            ),
            ("kubernetes_ingress", "traefik_kubernetes", INGRESS, {}),
            ("kubernetes_clusters", "kubernetes_monitoring", CLUSTER, {}),
        )
    ]
    plays.append(
        {
            "name": "Show the rendered values",
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Values",
                    "ansible.builtin.debug": {
                        "msg": "{{ dict(shown | zip(query('ansible.builtin.vars', *shown, default=''))) }}"
                    },
                    "vars": {"shown": SHOWN},
                }
            ],
        }
    )
    path = tmp_path_factory.mktemp("example-aks") / "validate.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    result = ansible(
        "ansible-playbook",
        "-i",
        f"{INVENTORY}/",
        "--vault-id",
        VAULT_ID,
        "-f",
        "20",
        "--check",
        *LOCAL,
        str(path),
    )
    assert result.returncode == 0, tail(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def rendered(validation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    task = validation["plays"][-1]["tasks"][0]
    return {host: r["msg"] for host, r in task["hosts"].items()}


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)  # the example region is IPv4 only


def test_the_secrets_are_encrypted_and_each_one_used() -> None:
    assert VAULT_FILE.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;example_aks_region")
    without = ansible("ansible-inventory", "-i", f"{INVENTORY}/", "--list")
    assert without.returncode != 0 or "vault_odoo_db_password" not in without.stdout
    shown = ansible("ansible-vault", "view", "--vault-id", VAULT_ID, str(VAULT_FILE))
    assert shown.returncode == 0, tail(shown)
    secrets = yaml.safe_load(shown.stdout)
    assert all(name.startswith("vault_") and len(str(v)) >= 16 for name, v in secrets.items())
    text = "\n".join(p.read_text() for p in INVENTORY.rglob("*.yml") if p != VAULT_FILE)
    assert set(re.findall(r"\bvault_\w+", text)) == set(secrets)
    assert not re.search(r"(password|passwd|_pass|_key): (?!\"\{\{ vault_)", text)


@pytest.mark.slow
def test_every_role_validates_the_inventory(validation: dict[str, Any]) -> None:
    stats = validation["stats"]
    register = yaml.safe_load(REGISTER.read_text())
    assert set(stats) == {
        "aks-erp-eu-west",
        "tenant-acme",
        "tenant-borealis",
        "ingress-eu-west",
        *(f"erp-{kind}-{n}" for kind in ("db", "redis") for n in (1, 2, 3)),
        "erp-mon-1",
        *(hub["name"] for hub in register["hubs"]),
        *(branch["code"] for branch in register["branches"]),
    }
    assert all(s["failures"] == 0 and s["unreachable"] == 0 for s in stats.values()), stats
    ran = {
        re.sub(r" : .*", "", task["task"]["name"])
        for play in validation["plays"]
        for task in play["tasks"]
        if any(not r.get("skipped") for r in task["hosts"].values())
    }
    for role in (
        "aks_cluster",
        "odoo_kubernetes",
        "postgresql_patroni",
        "etcd",
        "pgbouncer",
        "pg_routing",
        "redis",
        "traefik_kubernetes",
        "branch_vpn",
        "nftables_segmentation",
        "prometheus",
        "alertmanager",
    ):
        assert f"retailops.odoo_platform.{role}" in ran, role


@pytest.mark.slow
def test_the_networks_do_not_overlap(validation: dict[str, Any]) -> None:
    values = rendered(validation)
    cluster = values["aks-erp-eu-west"]
    plan = {name: net(cidr) for name, cidr in cluster["region_networks"].items()}
    vnet = [net(p) for p in cluster["aks_cluster_vnet_address_prefixes"]]
    names = sorted(plan)
    for i, a in enumerate(names):
        assert any(plan[a].subnet_of(v) for v in vnet), a
        for b in names[i + 1 :]:
            assert not plan[a].overlaps(plan[b]), (a, b)
    assert sorted(net(s["cidr"]) for s in cluster["aks_cluster_subnets"]) == sorted(plan.values())
    service = net(cluster["aks_cluster_service_cidr"])
    assert service == net(cluster["region_service_cidr"])
    register = yaml.safe_load(REGISTER.read_text())
    theirs = [net(h["tunnel_pool"]) for h in register["hubs"]]
    theirs += [net(lan) for b in register["branches"] for lan in b["lan_subnets"]]
    for mine in [*vnet, service]:
        assert not any(mine.overlaps(t) for t in theirs), mine
    assert all(any(v.subnet_of(net(p)) for p in register["platform_networks"]) for v in vnet)
    assert not any(service.overlaps(v) for v in vnet)


@pytest.mark.slow
def test_tenants_land_on_the_odoo_pool_and_the_data_tier_admits_it(validation: dict[str, Any]) -> None:
    values = rendered(validation)
    cluster = values["aks-erp-eu-west"]
    pool = next(p for p in cluster["aks_cluster_pools"] if p["name"] == cluster["aks_cluster_odoo_pool"])
    pool_net = next(s["cidr"] for s in cluster["aks_cluster_subnets"] if s["name"] == pool["subnet"])
    for tenant in ("tenant-acme", "tenant-borealis"):
        mine = values[tenant]
        assert mine["odoo_kubernetes_node_selector"].items() <= pool["labels"].items()
        taints = {f"{t['key']}={t['value']}:{t['effect']}" for t in mine["odoo_kubernetes_tolerations"]}
        assert set(pool["taints"]) <= taints
        assert mine["odoo_kubernetes_pdb_min_available"] <= cluster["aks_cluster_odoo_pdb_min_available"]
        vnet = [net(p) for p in cluster["aks_cluster_vnet_address_prefixes"]]
        assert all(any(net(e["cidr"]).subnet_of(v) for v in vnet) for e in mine["odoo_kubernetes_egress"])
        assert any(
            ipaddress.ip_address(mine["odoo_db_host"]) in net(e["cidr"])
            for e in mine["odoo_kubernetes_egress"]
        )
    for host in ("erp-db-1", "erp-db-2", "erp-db-3"):
        assert pool_net in values[host]["pgbouncer_allowed_networks"]
        assert pool_net in values[host]["nftables_segmentation_platform_networks"]
    for host in ("erp-redis-1", "erp-redis-2", "erp-redis-3"):
        assert pool_net in values[host]["redis_allowed_networks"]


def pool_of(cluster: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The one pool of the cluster whose labels the pod spec selects and whose taints it tolerates."""
    tolerated = {
        f"{t['key']}={t['value']}:{t['effect']}" for t in spec["tolerations"] if t.get("operator") == "Equal"
    }
    pools: list[dict[str, Any]] = [
        p
        for p in cluster["aks_cluster_pools"]
        if spec["nodeSelector"]
        and spec["nodeSelector"].items() <= p["labels"].items()
        and set(p["taints"]) <= tolerated
    ]
    assert len(pools) == 1, (spec["nodeSelector"], spec["tolerations"])
    return pools[0]


def subnet(cluster: dict[str, Any], name: str) -> ipaddress.IPv4Network:
    return net(next(s["cidr"] for s in cluster["aks_cluster_subnets"] if s["name"] == name))


@pytest.mark.slow
def test_cron_pods_and_jobs_land_on_the_odoocron_pool_and_the_data_tier_admits_it(
    validation: dict[str, Any],
) -> None:
    values, pods = rendered(validation), role_rendered(validation)
    cluster = values["aks-erp-eu-west"]
    for tenant in ("tenant-acme", "tenant-borealis"):
        assert pool_of(cluster, pods[tenant]["http"])["name"] == cluster["aks_cluster_odoo_pool"] == "odoo"
        assert pool_of(cluster, pods[tenant]["cron"])["name"] == "odoocron"
        assert pool_of(cluster, pods[tenant]["job"])["name"] == "odoocron"
    cron_net = str(subnet(cluster, pool_of(cluster, pods["tenant-acme"]["cron"])["subnet"]))
    for host in ("erp-db-1", "erp-db-2", "erp-db-3"):
        assert cron_net in values[host]["pgbouncer_allowed_networks"]
        assert cron_net in values[host]["nftables_segmentation_platform_networks"]
    for host in ("erp-redis-1", "erp-redis-2", "erp-redis-3"):
        assert cron_net in values[host]["redis_allowed_networks"]


def covers(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.count(".") == pattern.count(".") and host.endswith(pattern[1:])
    return host == pattern


@pytest.mark.slow
def test_the_ingress_runs_on_the_ingress_pool_behind_the_registers_entrypoint(
    validation: dict[str, Any],
) -> None:
    values, shown = rendered(validation), role_rendered(validation)
    cluster, ingress = values["aks-erp-eu-west"], shown["ingress-eu-west"]
    assert pool_of(cluster, ingress["pod"])["name"] == "ingress"
    assert ingress["service_type"] == "LoadBalancer"
    annotations = ingress["service_annotations"]
    assert annotations[AZURE_LB + "internal"] == "true"
    edge = subnet(cluster, annotations[AZURE_LB + "internal-subnet"])
    address = ipaddress.ip_address(annotations[AZURE_LB + "ipv4"])
    assert annotations[AZURE_LB + "internal-subnet"] == "snet-edge"
    assert address in edge
    assert address not in (edge.network_address, edge.broadcast_address)
    assert address == ipaddress.ip_address(values["ingress-eu-west"]["region_ingress_address"])
    register = yaml.safe_load(REGISTER.read_text())
    assert register["erp_entrypoints"] == [f"{address}:443"]
    hubs = {h["name"] for h in register["hubs"]}
    assert all(values[hub]["hub_erp_entrypoints"] == register["erp_entrypoints"] for hub in hubs)
    # no VM of the inventory has the frontend's address
    inventory = list_inventory()
    assert str(address) not in {v.get("ansible_host") for v in inventory["_meta"]["hostvars"].values()}
    # every tenant served, through the namespace its policies admit, under a host name the certificate covers
    tenants = values["ingress-eu-west"]["traefik_kubernetes_tenants"]
    assert sorted(t["namespace"] for t in tenants) == sorted(
        values[t]["odoo_kubernetes_namespace"] for t in ("tenant-acme", "tenant-borealis")
    )
    namespace = values["ingress-eu-west"]["traefik_kubernetes_namespace"]
    for tenant in ("tenant-acme", "tenant-borealis"):
        assert values[tenant]["odoo_kubernetes_ingress_namespace"] == namespace
    names = [
        name
        for c in values["ingress-eu-west"]["traefik_tls_certificates"]
        for name in x509.load_pem_x509_certificate(c["cert"].encode())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value.get_values_for_type(x509.DNSName)
    ]
    for host in (h for t in tenants for h in t["hosts"]):
        assert any(covers(name, host) for name in names), (host, names)


@pytest.mark.slow
def test_the_monitoring_node_scrapes_every_traefik_pod_with_a_namespaced_account(
    validation: dict[str, Any],
) -> None:
    values, shown = rendered(validation), role_rendered(validation)
    monitor, ingress = values["erp-mon-1"], shown["ingress-eu-west"]
    # Traefik is the Kubernetes job traefik (the SLI rules and the Odoo alerts read job="traefik"), its every
    # field read from the cluster by monitoring.yml (the stand-in here), none written in the inventory
    job = monitor["prometheus_kubernetes_jobs"][0]
    assert job["name"] == "traefik"
    assert job["api_server"] == STAND_IN_API_SERVER
    assert job["token"] == "stand-in-token"
    assert (job["namespace"], job["port"]) == (
        values["ingress-eu-west"]["traefik_kubernetes_namespace"],
        "metrics",
    )
    assert "traefik" not in [j["name"] for j in monitor["prometheus_scrape_jobs"]]
    # the discovery account: a Role in the ingress namespace that lists its pods, nothing else, nothing
    # cluster-wide; a token Secret Kubernetes fills for it
    kinds = {o["kind"]: o for o in ingress["discovery"]}
    assert set(kinds) == {"ServiceAccount", "Role", "RoleBinding", "Secret"}
    assert {o["metadata"]["namespace"] for o in ingress["discovery"]} == {job["namespace"]}
    assert kinds["Role"]["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    assert kinds["RoleBinding"]["roleRef"]["kind"] == "Role"
    assert kinds["ServiceAccount"]["automountServiceAccountToken"] is False
    assert kinds["Secret"]["type"] == "kubernetes.io/service-account-token"
    assert kinds["Secret"]["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": kinds["ServiceAccount"]["metadata"]["name"]
    }
    # the pods' metrics port admits the monitoring node only
    assert ingress["metrics_peers"] == [{"ipBlock": {"cidr": f"{values['erp-mon-1']['ansible_host']}/32"}}]
    assert int(ingress["metrics_port"]) == 9100


def test_the_monitoring_node_scrapes_every_kubelet_with_an_account_that_reads_metrics_only(
    validation: dict[str, Any],
) -> None:
    values, shown = rendered(validation), role_rendered(validation)
    # each node's kubelet: job kubelet (KubernetesNodeUnreachable reads it), every field read from the
    # cluster by monitoring.yml (the stand-in here)
    job = values["erp-mon-1"]["prometheus_kubernetes_jobs"][1]
    assert (job["name"], job["role"]) == ("kubelet", "node")
    assert (job["api_server"], job["token"]) == (STAND_IN_API_SERVER, "stand-in-node-token")
    # the account: list the nodes, read their metrics; nothing else (not nodes/proxy: the kubelet's whole API)
    account = shown["aks-erp-eu-west"]["monitoring_account"]
    kinds = {o["kind"]: o for o in account}
    assert set(kinds) == {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Secret"}
    assert kinds["ClusterRole"]["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]},
        {"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
    ]
    assert kinds["ClusterRoleBinding"]["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": kinds["ServiceAccount"]["metadata"]["name"],
            "namespace": kinds["Namespace"]["metadata"]["name"],
        }
    ]
    assert kinds["ServiceAccount"]["automountServiceAccountToken"] is False
    assert kinds["Secret"]["type"] == "kubernetes.io/service-account-token"


def plain(obj: dict[str, Any]) -> Any:
    """Values from the register plugin come marked unsafe: {"__ansible_unsafe": value}."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def list_inventory() -> dict[str, Any]:
    result = ansible("ansible-inventory", "-i", f"{INVENTORY}/", "--vault-id", VAULT_ID, "--list")
    assert result.returncode == 0, tail(result)
    data: dict[str, Any] = json.loads(result.stdout, object_hook=plain)
    return data


def group_hosts(inventory: dict[str, Any], group: str) -> set[str]:
    return set(inventory_group_hosts(inventory, group))


def test_hubs_and_branches_come_from_the_register() -> None:
    inventory = list_inventory()
    register = yaml.safe_load(REGISTER.read_text())
    meta = inventory["_meta"]["hostvars"]
    hubs = {h["name"] for h in register["hubs"]}
    assert group_hosts(inventory, "hubs") == hubs
    assert group_hosts(inventory, "branches") == {
        b["code"] for b in register["branches"] if not b.get("retired")
    }
    assert group_hosts(inventory, "vpn") == hubs | group_hosts(inventory, "branches")
    for hub in hubs:
        edge = net(meta[hub]["region_networks"]["edge"])
        assert ipaddress.ip_address(meta[hub]["ansible_host"]) in edge, hub
        assert meta[hub]["hub_erp_entrypoints"] == register["erp_entrypoints"]
    # the hubs get their firewall from branch_vpn.yml, not from site.yml's segmented_platform
    assert not hubs & group_hosts(inventory, "segmented_platform")
    assert group_hosts(inventory, "kubernetes_ingress") == {"ingress-eu-west"}
    assert group_hosts(inventory, "ingress") == set()  # Traefik on VMs (site.yml) has no host here


def test_readme_names_the_operator_playbooks() -> None:
    assert {
        "aks_cluster.yml",
        "odoo_kubernetes.yml",
        "postgresql_ha.yml",
        "traefik_kubernetes.yml",
        "branch_vpn.yml",
    } <= set(README_PLAYBOOKS)


@pytest.fixture(scope="module")
def syntax() -> SyntaxChecks:
    def check(playbooks: list[Path]) -> subprocess.CompletedProcess[str]:
        return ansible(
            "ansible-playbook",
            *("-i", f"{INVENTORY}/", "--vault-id", VAULT_ID, "--syntax-check"),
            *map(str, playbooks),
        )

    return SyntaxChecks(check, [ROOT / "playbooks" / p for p in README_PLAYBOOKS])


@pytest.mark.slow
@pytest.mark.parametrize("playbook", README_PLAYBOOKS)
def test_operator_playbooks_pass_syntax_check(playbook: str, syntax: SyntaxChecks) -> None:
    result = syntax.of(ROOT / "playbooks" / playbook)
    assert result.returncode == 0, tail(result)
