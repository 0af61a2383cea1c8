"""inventories/example-aks-region/ is a usable AKS region inventory.

What this proves, without Azure or any host: the inventory parses with the
fixture vault password (and not without it: the secrets are encrypted);
the roles' argument specs and validate tasks accept it - aks_cluster on the
cluster (its branch register check included), odoo_kubernetes on every
tenant, and the data tier roles through site.yml's own validation play;
the VNet plan's ranges do not overlap each other, the Kubernetes service
range or the branch register; the tenants' HTTP pods land on the Odoo pool
and their cron pods and Jobs on the odoocron pool the cluster defines (the
pod specs as the role renders them), with the budget the Odoo pool is sized
for; the data tier admits their subnet; the playbooks the README names pass
--syntax-check. What it does not prove: anything in Azure (see
roles/aks_cluster/README.md, "Validation in a sandbox subscription").
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
from conftest import COLLECTIONS_PATH, LOCAL, ROOT, role_render_tasks, role_rendered

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
    "odoo_kubernetes_node_selector",
    "odoo_kubernetes_tolerations",
    "odoo_kubernetes_pdb_min_available",
    "odoo_kubernetes_egress",
    "odoo_db_host",
    "pgbouncer_allowed_networks",
    "redis_allowed_networks",
    "nftables_segmentation_platform_networks",
    "postgresql_patroni_allowed_networks",
]
# What each tenant would apply, as the role renders it (no cluster is read: the configuration digest is a
# stand-in).
TENANT_PODS = {
    component: (f"{{{{ {expression} }}}}", {"odoo_kubernetes__component": component})
    for component, expression in (
        ("http", "odoo_kubernetes__http_deployment.spec.template.spec"),
        ("cron", "odoo_kubernetes__cron_deployment.spec.template.spec"),
        ("job", "odoo_kubernetes__pod_spec"),
    )
}


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
        }
    )
    return subprocess.run(
        [str(BIN / tool), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=900
    )


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"rc={result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def validation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """site.yml's validation play; aks_cluster's and odoo_kubernetes' validation, the latter with what it
    would apply; then every value rendered."""
    site = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())[0]
    plays = [site]
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
    assert not re.search(r"(password|passwd|_key): (?!\"\{\{ vault_)", text)


@pytest.mark.slow
def test_every_role_validates_the_inventory(validation: dict[str, Any]) -> None:
    stats = validation["stats"]
    assert set(stats) == {
        "aks-erp-eu-west",
        "tenant-acme",
        "tenant-borealis",
        *(f"erp-{kind}-{n}" for kind in ("db", "redis") for n in (1, 2, 3)),
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


def test_readme_names_the_operator_playbooks() -> None:
    assert {"aks_cluster.yml", "odoo_kubernetes.yml", "postgresql_ha.yml"} <= set(README_PLAYBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("playbook", README_PLAYBOOKS)
def test_operator_playbooks_pass_syntax_check(playbook: str) -> None:
    result = ansible(
        "ansible-playbook",
        *("-i", f"{INVENTORY}/", "--vault-id", VAULT_ID, "--syntax-check"),
        str(ROOT / "playbooks" / playbook),
    )
    assert result.returncode == 0, tail(result)
