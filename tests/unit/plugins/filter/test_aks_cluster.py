"""The aks_cluster filters: each profile's module arguments, and every refused input.

The profiles (fixtures/aks_cluster/*.yml) give the operator's variables over
the role's defaults and what Azure answered; their ``expected`` arguments
were written from azure.azcollection 3.12.0's module documentation, and the
test also checks every built argument against that documentation as
installed (option names, suboptions, choices), so an option the module does
not have fails here rather than in Azure.
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.retailops.odoo_platform.plugins.filter.aks_cluster import (
    aks_cluster,
    aks_cluster_problems,
)
from conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "aks_cluster"
DEFAULTS = yaml.safe_load((ROOT / "roles" / "aks_cluster" / "defaults" / "main.yml").read_text())
REGISTER = str(ROOT / "inventories" / "branch_register" / "eu-west.yml")
AZURE = "ansible_collections.azure.azcollection.plugins.modules."


def profile(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / f"{name}.yml").read_text())
    return data


def settings(name: str, **overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(DEFAULTS), **profile(name)["vars"], **overrides}


def module_options(module: str) -> dict[str, Any]:
    """A module's options as documented in the installed azure.azcollection."""
    doc = importlib.import_module(AZURE + module).DOCUMENTATION
    options: dict[str, Any] = yaml.safe_load(doc)["options"]
    options.update({"tags": {"type": "dict"}})  # the azure_tags documentation fragment
    return options


def undocumented(args: dict[str, Any], options: dict[str, Any], where: str = "") -> list[str]:
    """Arguments that are not an option of the module (or not one of its choices)."""
    found = []
    for key, value in args.items():
        spec = options.get(key)
        if spec is None:
            found.append(f"{where}{key}")
            continue
        if spec.get("choices") and value is not None:
            values = value if isinstance(value, list) else [value]
            found.extend(f"{where}{key}={v}" for v in values if v not in spec["choices"])
        sub = spec.get("suboptions")
        if sub and isinstance(value, dict):
            found.extend(undocumented(value, sub, f"{where}{key}."))
        if sub and isinstance(value, list):
            for item in value:
                found.extend(undocumented(item, sub, f"{where}{key}[]."))
    return found


@pytest.mark.parametrize("name", ["production", "pilot"])
def test_profile_builds_the_recorded_arguments(name: str) -> None:
    data = profile(name)
    built = aks_cluster(settings(name), subnet_ids=data["subnet_ids"], current=data["current"])
    expected = yaml.safe_load((FIXTURES / f"{name}.expected.yml").read_text())
    assert built == expected


@pytest.mark.parametrize("name", ["production", "pilot"])
def test_profile_arguments_are_module_options(name: str) -> None:
    data = profile(name)
    built = aks_cluster(settings(name), subnet_ids=data["subnet_ids"], current=data["current"])
    assert undocumented(built["resource_group"], module_options("azure_rm_resourcegroup")) == []
    assert undocumented(built["virtual_network"], module_options("azure_rm_virtualnetwork")) == []
    for subnet in built["subnets"]:
        assert undocumented(subnet, module_options("azure_rm_subnet")) == []
    assert undocumented(built["cluster"], module_options("azure_rm_aks")) == []
    for pool in built["pools"]:
        assert undocumented(pool, module_options("azure_rm_aksagentpool")) == []


def test_the_conformance_check_can_fail() -> None:
    assert undocumented({"node_taints": []}, module_options("azure_rm_aks")) == ["node_taints"]
    assert undocumented(
        {"network_profile": {"network_plugin": "cilium"}}, module_options("azure_rm_aks")
    ) == ["network_profile.network_plugin=cilium"]


def test_every_pool_is_given_to_the_cluster_module_with_its_scheduling() -> None:
    """azure_rm_aks deletes pools it is not given; the pool module sets what it cannot (taints)."""
    built = aks_cluster(settings("production"), subnet_ids=profile("production")["subnet_ids"])
    names = [p["name"] for p in DEFAULTS["aks_cluster_pools"]]
    assert [p["name"] for p in built["cluster"]["agent_pool_profiles"]] == names
    assert [p["name"] for p in built["pools"]] == names
    odoo = next(p for p in built["pools"] if p["name"] == "odoo")
    assert odoo["node_labels"] == {"retailops.io/pool": "odoo"}
    assert odoo["node_taints"] == ["retailops.io/pool=odoo:NoSchedule"]
    assert all("count" not in p for p in built["pools"])  # the pool module keeps the running count


def test_an_autoscaled_pool_keeps_its_count_within_new_bounds() -> None:
    data = profile("pilot")
    current = copy.deepcopy(data["current"])
    current["agent_pool_profiles"][1]["count"] = 9  # above the odoo pool's new max_count 4
    built = aks_cluster(settings("pilot"), subnet_ids=data["subnet_ids"], current=current)
    assert built["cluster"]["agent_pool_profiles"][1]["count"] == 4


def test_a_cluster_never_goes_back_to_an_older_version() -> None:
    data = profile("pilot")
    built = aks_cluster(settings("pilot", aks_cluster_kubernetes_version="1.31.1"), current=data["current"])
    assert built["cluster"]["kubernetes_version"] == "1.31.1"  # newer than the running 1.30.9: an upgrade
    built = aks_cluster(settings("pilot"), current=data["current"])
    assert built["cluster"]["kubernetes_version"] == "1.30.9"  # the patch channel's, not the older 1.30.7


@pytest.mark.parametrize("name", ["production", "pilot"])
def test_profile_has_no_problem(name: str) -> None:
    assert aks_cluster_problems(settings(name)) == []


def test_settings_with_problems_build_nothing() -> None:
    with pytest.raises(Exception, match="aks_cluster_name"):
        aks_cluster(settings("production", aks_cluster_name=""))


# ---------------------------------------------------------------------------
# Refused input: each case names the variable the message must start with.

PROD = profile("production")["vars"]
ODOO_POOL = DEFAULTS["aks_cluster_pools"][1]


def pools_with(index: int, **change: Any) -> list[dict[str, Any]]:
    pools: list[dict[str, Any]] = copy.deepcopy(DEFAULTS["aks_cluster_pools"])
    pools[index].update(change)
    return pools


def subnets_with(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*PROD["aks_cluster_subnets"], *extra]


REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "no location": ({"aks_cluster_location": ""}, "aks_cluster_location must be set"),
    "location with spaces": ({"aks_cluster_location": "West Europe"}, "aks_cluster_location"),
    "cluster name with a dot": ({"aks_cluster_name": "aks.erp"}, "aks_cluster_name"),
    "cluster name too long": ({"aks_cluster_name": "a" * 64}, "aks_cluster_name"),
    "cluster name ending with a dash": ({"aks_cluster_name": "aks-erp-"}, "aks_cluster_name"),
    "dns prefix with an underscore": ({"aks_cluster_dns_prefix": "erp_nl"}, "aks_cluster_dns_prefix"),
    "resource group ending with a dot": (
        {"aks_cluster_resource_group": "rg-erp."},
        "aks_cluster_resource_group",
    ),
    "node resource group with a slash": (
        {"aks_cluster_node_resource_group": "mc/erp"},
        "aks_cluster_node_resource_group",
    ),
    "version without a patch": ({"aks_cluster_kubernetes_version": "1.31"}, "aks_cluster_kubernetes_version"),
    "private API with authorized ranges": (
        {"aks_cluster_authorized_ip_ranges": ["198.51.100.0/27"]},
        "aks_cluster_authorized_ip_ranges",
    ),
    "public API open to the Internet": (
        {"aks_cluster_private_api": False},
        "aks_cluster_authorized_ip_ranges",
    ),
    "authorized range that is not a network": (
        {"aks_cluster_private_api": False, "aks_cluster_authorized_ip_ranges": ["198.51.100.1/27"]},
        "aks_cluster_authorized_ip_ranges",
    ),
    "identity that is not a resource ID": (
        {"aks_cluster_user_assigned_identity": "id-aks"},
        "aks_cluster_user_assigned_identity",
    ),
    "workspace that is not a resource ID": (
        {"aks_cluster_monitoring_workspace_id": "law-erp"},
        "aks_cluster_monitoring_workspace_id",
    ),
    "admin group that is not a GUID": (
        {"aks_cluster_aad_admin_group_object_ids": ["ops-admins"]},
        "aks_cluster_aad_admin_group_object_ids",
    ),
    "maintenance window too short": (
        {
            "aks_cluster_maintenance_window": {
                "day": "Sunday",
                "start": "01:00",
                "hours": 2,
                "utc_offset": "+00:00",
            }
        },
        "aks_cluster_maintenance_window",
    ),
    "maintenance window at 25:00": (
        {
            "aks_cluster_maintenance_window": {
                "day": "Sunday",
                "start": "25:00",
                "hours": 4,
                "utc_offset": "+00:00",
            }
        },
        "aks_cluster_maintenance_window",
    ),
    "pool name with capitals": (
        {"aks_cluster_pools": pools_with(1, name="OdooHttp")},
        "aks_cluster_pools[OdooHttp].name",
    ),
    "pool name longer than 12": (
        {"aks_cluster_pools": pools_with(1, name="odoohttpworkers")},
        "aks_cluster_pools[odoohttpworkers].name",
    ),
    "pool name starting with a digit": (
        {"aks_cluster_pools": pools_with(2, name="1cron")},
        "aks_cluster_pools[1cron].name",
    ),
    "two pools of one name": (
        {"aks_cluster_pools": pools_with(2, name="odoo")},
        "aks_cluster_pools: the name odoo",
    ),
    "no system pool": ({"aks_cluster_pools": pools_with(0, mode="User")}, "aks_cluster_pools must hold"),
    "system pool scaled to zero": (
        {"aks_cluster_pools": pools_with(0, min_count=0)},
        "aks_cluster_pools[system].min_count",
    ),
    "min above max": (
        {"aks_cluster_pools": pools_with(3, min_count=7)},
        "aks_cluster_pools[ingress].min_count",
    ),
    "zone 4": ({"aks_cluster_pools": pools_with(3, zones=[1, 4])}, "aks_cluster_pools[ingress].zones"),
    "max pods above Azure CNI's limit": (
        {"aks_cluster_pools": pools_with(2, max_pods=300)},
        "aks_cluster_pools[odoocron].max_pods",
    ),
    "pool on an unknown subnet": (
        {"aks_cluster_pools": pools_with(1, subnet="snet-app")},
        "aks_cluster_pools[odoo].subnet",
    ),
    "surge that is not a count": (
        {"aks_cluster_pools": pools_with(1, max_surge="a third")},
        "aks_cluster_pools[odoo].max_surge",
    ),
    "label with a reserved prefix": (
        {"aks_cluster_pools": pools_with(1, labels={"kubernetes.azure.com/mode": "odoo"})},
        "aks_cluster_pools[odoo].labels",
    ),
    "label value with a space": (
        {"aks_cluster_pools": pools_with(1, labels={"retailops.io/pool": "odoo http"})},
        "aks_cluster_pools[odoo].labels",
    ),
    "taint without an effect": (
        {"aks_cluster_pools": pools_with(1, taints=["retailops.io/pool=odoo"])},
        "aks_cluster_pools[odoo].taints",
    ),
    "Odoo pool below the disruption budget": (
        {"aks_cluster_odoo_pdb_min_available": 3},
        "aks_cluster_pools[odoo].min_count",
    ),
    "Odoo pool with fewer nodes than zones": (
        {"aks_cluster_odoo_pdb_min_available": 1, "aks_cluster_pools": pools_with(1, min_count=2)},
        "aks_cluster_pools[odoo].min_count",
    ),
    "Odoo pool that does not exist": ({"aks_cluster_odoo_pool": "odoohttp"}, "aks_cluster_odoo_pool"),
    "subnet too small for its pools": (
        {"aks_cluster_pools": pools_with(3, max_count=40)},
        "aks_cluster_subnets[snet-aks-ingress].cidr",
    ),
    "subnet outside the VNet": (
        {"aks_cluster_subnets": subnets_with({"name": "snet-mgmt", "cidr": "10.41.0.0/24"})},
        "aks_cluster_subnets[snet-mgmt].cidr",
    ),
    "subnets that overlap": (
        {"aks_cluster_subnets": subnets_with({"name": "snet-mgmt", "cidr": "10.40.16.128/25"})},
        "aks_cluster_subnets[snet-mgmt].cidr",
    ),
    "subnet that is not a network": (
        {"aks_cluster_subnets": subnets_with({"name": "snet-mgmt", "cidr": "10.40.250.1/24"})},
        "aks_cluster_subnets[snet-mgmt].cidr",
    ),
    "subnet name Azure refuses": (
        {"aks_cluster_subnets": subnets_with({"name": "snet mgmt", "cidr": "10.40.250.0/24"})},
        "aks_cluster_subnets[snet mgmt].name",
    ),
    "service CIDR inside the VNet": (
        {"aks_cluster_service_cidr": "10.40.128.0/20", "aks_cluster_dns_service_ip": "10.40.128.10"},
        "aks_cluster_service_cidr",
    ),
    "DNS service outside the service CIDR": (
        {"aks_cluster_dns_service_ip": "172.31.0.10"},
        "aks_cluster_dns_service_ip",
    ),
    "DNS service on the API server's address": (
        {"aks_cluster_dns_service_ip": "172.30.0.1"},
        "aks_cluster_dns_service_ip",
    ),
    "Overlay without a pod CIDR": ({"aks_cluster_network_plugin_mode": "Overlay"}, "aks_cluster_pod_cidr"),
    "pod CIDR without Overlay": ({"aks_cluster_pod_cidr": "172.28.0.0/16"}, "aks_cluster_pod_cidr"),
    "pod CIDR overlapping the services": (
        {"aks_cluster_network_plugin_mode": "Overlay", "aks_cluster_pod_cidr": "172.30.0.0/15"},
        "aks_cluster_service_cidr",
    ),
}

# Against the branch register (eu-west: platform 10.20.0.0/16, tunnel pools 10.99.0.0/22 and
# 10.99.4.0/22, branch LANs 10.101.1.0/24 ...).
IN_PLATFORM = {
    "aks_cluster_vnet_address_prefixes": ["10.20.0.0/16"],
    "aks_cluster_subnets": [
        {"name": "snet-aks-system", "cidr": "10.20.8.0/22"},
        {"name": "snet-aks-ingress", "cidr": "10.20.12.0/22"},
        {"name": "snet-aks-odoo", "cidr": "10.20.16.0/21"},
    ],
}
REFUSED_BY_REGISTER: dict[str, tuple[dict[str, Any], str]] = {
    "VNet outside the register's platform networks": ({}, "aks_cluster_vnet_address_prefixes: 10.40.0.0/16"),
    "service CIDR over a tunnel pool": (
        {
            **IN_PLATFORM,
            "aks_cluster_service_cidr": "10.99.0.0/16",
            "aks_cluster_dns_service_ip": "10.99.8.10",
        },
        "aks_cluster_service_cidr (10.99.0.0/16) overlaps the tunnel pool of hub hub-ams",
    ),
    "pod CIDR over a branch LAN": (
        {
            **IN_PLATFORM,
            "aks_cluster_network_plugin_mode": "Overlay",
            "aks_cluster_pod_cidr": "10.101.0.0/16",
        },
        "aks_cluster_pod_cidr (10.101.0.0/16) overlaps the LAN of branch AMS-001",
    ),
    "register that does not exist": (
        {**IN_PLATFORM, "aks_cluster_branch_register": ["/nonexistent/register.yml"]},
        "aks_cluster_branch_register",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_input_names_the_variable(case: str) -> None:
    change, expect = REFUSED[case]
    found = aks_cluster_problems(settings("production", **change))
    assert found, case
    assert any(p.startswith(expect) for p in found), found


@pytest.mark.parametrize("case", sorted(REFUSED_BY_REGISTER))
def test_networks_keep_clear_of_the_branch_register(case: str) -> None:
    change, expect = REFUSED_BY_REGISTER[case]
    register = change.pop("aks_cluster_branch_register", [REGISTER])
    found = aks_cluster_problems(settings("production", **change), register=register)
    assert any(p.startswith(expect) for p in found), found


def test_a_vnet_within_the_platform_networks_passes_the_register() -> None:
    assert aks_cluster_problems(settings("production", **IN_PLATFORM), register=[REGISTER]) == []


# ---------------------------------------------------------------------------
# What only Azure can tell: its answers, shaped as the modules document them.


def sku(name: str, zones: list[str], restricted: list[str] | None = None) -> dict[str, Any]:
    return {
        "resource_type": "virtualMachines",
        "name": name,
        "location_info": [{"location": "westeurope", "zones": zones}],
        "restrictions": (
            [
                {
                    "type": "Zone",
                    "reason_code": "NotAvailableForSubscription",
                    "restriction_info": {"locations": ["westeurope"], "zones": restricted},
                }
            ]
            if restricted
            else []
        ),
    }


SKUS = {
    "Standard_D4s_v5": [sku("Standard_D4s_v5", ["1", "2", "3"]), sku("Standard_D4s_v5_Promo", ["1"])],
    "Standard_D8s_v5": [sku("Standard_D8s_v5", ["3", "1", "2"])],
}
VERSIONS = ["1.30.9", "1.31.5", "1.32.1"]


def test_azure_offers_what_the_production_profile_asks() -> None:
    assert aks_cluster_problems(settings("production"), skus=SKUS, versions=VERSIONS) == []


def test_a_vm_size_missing_from_a_zone_is_refused() -> None:
    skus = {**SKUS, "Standard_D8s_v5": [sku("Standard_D8s_v5", ["1", "2", "3"], restricted=["3"])]}
    found = aks_cluster_problems(settings("production"), skus=skus, versions=VERSIONS)
    assert found == [
        "aks_cluster_pools[odoo].zones is [1, 2, 3]: Standard_D8s_v5 is not offered in zone 3 of westeurope "
        "(offered: 1, 2)."
    ]


def test_a_vm_size_not_offered_in_the_region_is_refused() -> None:
    found = aks_cluster_problems(
        settings("production"), skus={**SKUS, "Standard_D8s_v5": []}, versions=VERSIONS
    )
    assert found == [
        "aks_cluster_pools[odoo].vm_size is Standard_D8s_v5: not offered to this subscription in westeurope."
    ]


def test_a_version_aks_does_not_offer_is_refused_unless_it_runs() -> None:
    found = aks_cluster_problems(settings("production"), skus=SKUS, versions=["1.32.1"])
    assert [p.split(":")[0] for p in found] == ["aks_cluster_kubernetes_version is 1.31.5"]
    running = {"kubernetes_version": "1.31.7"}
    assert aks_cluster_problems(settings("production"), skus=SKUS, versions=["1.32.1"], current=running) == []


def test_cli_steps_cover_what_the_modules_cannot_set() -> None:
    steps = aks_cluster(settings("production"))["cli_steps"]
    assert [s.split(" --")[0] for s in steps] == [
        "az aks maintenanceconfiguration add",
        "az aks maintenanceconfiguration add",
        "az aks show",
        "az aks addon update",
    ]
    assert all("--resource-group rg-erp-nl" in s for s in steps)
    assert (
        "--day-of-week Sunday --interval-weeks 1 --start-time 01:00 --duration 4 --utc-offset +00:00"
        in steps[0]
    )
