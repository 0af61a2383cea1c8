"""aks_cluster refuses bad input before Azure is asked anything, naming the variable.

The role's validate entry point runs on localhost with no Azure at all: a
good cluster passes, each bad one fails with the variable in the message
(the argument specs' types and choices, then tasks/validate.yml). Then the
playbook itself: its syntax, and its dry run (--check) here, where no Azure
endpoint and no Azure SDK exist: bad input stops at validation, good input
passes it and stops at the first read of Azure, before any change.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import ROOT, assert_refused, playbook_env, validate_tests

FIXTURE = Path(__file__).parents[1] / "plugins" / "filter" / "fixtures" / "aks_cluster" / "production.yml"
GOOD: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())["vars"]
REGISTER = str(ROOT / "inventories" / "branch_register" / "eu-west.yml")
DEFAULT_POOLS: list[dict[str, Any]] = yaml.safe_load(
    (ROOT / "roles" / "aks_cluster" / "defaults" / "main.yml").read_text()
)["aks_cluster_pools"]


def pools_with(index: int, **change: Any) -> list[dict[str, Any]]:
    pools = [dict(p) for p in DEFAULT_POOLS]
    pools[index].update(change)
    return pools


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "unknown upgrade channel": ({"aks_cluster_upgrade_channel": "weekly"}, "aks_cluster_upgrade_channel"),
    "unknown network policy": ({"aks_cluster_network_policy": "cilium"}, "aks_cluster_network_policy"),
    "pool without a subnet": (
        {"aks_cluster_pools": [{k: v for k, v in p.items() if k != "subnet"} for p in DEFAULT_POOLS]},
        "aks_cluster_pools",
    ),
    "pool name Azure refuses": (
        {"aks_cluster_pools": pools_with(1, name="odoo-http")},
        "aks_cluster_pools[odoo-http].name",
    ),
    "Odoo pool below the disruption budget": (
        {"aks_cluster_odoo_pdb_min_available": 3},
        "aks_cluster_pools[odoo].min_count",
    ),
    "cluster name Azure refuses": ({"aks_cluster_name": "aks.erp.nl"}, "aks_cluster_name"),
    "VNet outside the register's platform": (
        {"aks_cluster_branch_register": [REGISTER]},
        "aks_cluster_vnet_address_prefixes",
    ),
    "service CIDR in the VNet": (
        {"aks_cluster_service_cidr": "10.40.192.0/20", "aks_cluster_dns_service_ip": "10.40.192.10"},
        "aks_cluster_service_cidr",
    ),
    "public API open to the Internet": (
        {"aks_cluster_private_api": False},
        "aks_cluster_authorized_ip_ranges",
    ),
}
runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "aks_cluster", GOOD, BAD
)
ENV = playbook_env()
PLAYBOOK_BIN = str(Path(sys.executable).parent / "ansible-playbook")


def dry_run(tmp_path: Path, extra: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inventory.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **GOOD, **extra}
    inventory.write_text(
        yaml.safe_dump({"all": {"children": {"aks_clusters": {"hosts": {"aks-erp-nl": host}}}}})
    )
    env = {k: v for k, v in ENV.items() if not k.startswith("AZURE_")}
    return subprocess.run(
        [PLAYBOOK_BIN, "-i", str(inventory), "--check", str(ROOT / "playbooks" / "aks_cluster.yml")],
        env={**env, "ANSIBLE_AZURE_AUTH_SOURCE": "env"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_playbook_passes_syntax_check() -> None:
    result = subprocess.run(
        [PLAYBOOK_BIN, "--syntax-check", "-i", "localhost,", str(ROOT / "playbooks" / "aks_cluster.yml")],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_stops_bad_input_before_azure(tmp_path: Path) -> None:
    result = dry_run(tmp_path, {"aks_cluster_odoo_pdb_min_available": 3})
    assert_refused(result, "aks_cluster_pools[odoo].min_count")
    assert "The cluster as it runs" not in result.stdout  # no Azure task started


def test_dry_run_of_good_input_stops_at_the_first_read_of_azure(tmp_path: Path) -> None:
    """Here: no Azure SDK and no credentials. The modules read Azure even in check mode."""
    result = dry_run(tmp_path, {})
    assert result.returncode != 0
    assert (
        "ok: [aks-erp-nl]"
        in result.stdout.split("TASK [retailops.odoo_platform.aks_cluster : The cluster as it runs]")[0]
    )
    tail = result.stdout.split("TASK [retailops.odoo_platform.aks_cluster : The cluster as it runs]")[1]
    assert "fatal: [aks-erp-nl]" in tail
    assert "changed:" not in result.stdout
