"""The inventory plugin, run the way operators run it: ansible-inventory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE_REGISTER

ANSIBLE_INVENTORY = str(Path(sys.executable).parent / "ansible-inventory")
# inventories/example-region/ has a vault-encrypted group_vars/all/vault.yml,
# which Ansible reads with any inventory source in that directory.
EXAMPLE_VAULT_ID = "example_region@" + str(
    EXAMPLE_REGISTER.parents[2] / "tests" / "fixtures" / "example-region.vault-pass"
)


def run_inventory(collections_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_INVENTORY_ENABLED": "retailops.odoo_platform.branches",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_VAULT_IDENTITY_LIST": EXAMPLE_VAULT_ID,
    }
    return subprocess.run(
        [ANSIBLE_INVENTORY, "-i", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def plain(value: Any) -> Any:
    """Undo the inventory_legacy profile's marking of inventory strings as unsafe (not templated)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def write_config(tmp_path: Path, register: list[str], name: str = "branches.yml", **options: Any) -> Path:
    config = tmp_path / name
    config.write_text(
        yaml.safe_dump({"plugin": "retailops.odoo_platform.branches", "register": register, **options})
    )
    return config


def test_example_inventory_lists_branches_hubs_and_groups(collections_path: Path) -> None:
    config = EXAMPLE_REGISTER.parent.parent / "example-region" / "branches.yml"
    result = run_inventory(collections_path, config, "--list")
    assert result.returncode == 0, result.stderr
    inv = plain(json.loads(result.stdout))
    assert inv["branches"]["hosts"] == ["AMS-001", "AMS-WH1", "RTM-002", "BRU-001", "CGN-DS1"]
    assert inv["hubs"]["hosts"] == ["hub-ams", "hub-fra"]
    assert inv["retired_branches"]["hosts"] == ["UTR-003"]
    assert inv["kind_dark_store"]["hosts"] == ["CGN-DS1"]
    assert inv["link_lte"]["hosts"] == ["RTM-002"]
    assert inv["hub_hub_fra"]["hosts"] == ["AMS-001", "BRU-001", "CGN-DS1"]
    assert set(inv["region_eu_west"]["hosts"]) >= {"AMS-001", "hub-ams"}
    hostvars = inv["_meta"]["hostvars"]
    assert hostvars["CGN-DS1"]["branch_tunnel_address"] == "10.99.4.200"
    assert hostvars["RTM-002"]["ansible_host"] == "10.101.2.1"
    assert hostvars["RTM-002"]["branch_roaming"] is True
    assert {p["code"] for p in hostvars["hub-fra"]["hub_peers"]} == {"AMS-001", "BRU-001", "CGN-DS1"}
    assert hostvars["hub-fra"]["hub_listen_port"] == 51821


def test_prefix_and_constructed_options(collections_path: Path, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [str(EXAMPLE_REGISTER)],
        group_prefix="br_",
        add_hubs=False,
        keyed_groups=[{"key": "branch_country", "prefix": "country"}],
        groups={"roaming_branches": "branch_roaming"},
    )
    result = run_inventory(collections_path, config, "--list")
    assert result.returncode == 0, result.stderr
    inv = json.loads(result.stdout)
    assert "br_branches" in inv
    assert "branches" not in inv
    assert "br_hubs" not in inv
    assert "hub-ams" not in inv["_meta"]["hostvars"]
    assert inv["country_BE"]["hosts"] == ["BRU-001"]
    assert inv["roaming_branches"]["hosts"] == ["RTM-002"]


def test_register_paths_expand_environment_variables(
    collections_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAILOPS_TEST_REGISTER_DIR", str(EXAMPLE_REGISTER.parent))
    config = write_config(tmp_path, ["${RETAILOPS_TEST_REGISTER_DIR}/eu-west.yml"])
    result = run_inventory(collections_path, config, "--list")
    assert result.returncode == 0, result.stderr
    assert "AMS-001" in json.loads(result.stdout)["branches"]["hosts"]
    monkeypatch.delenv("RETAILOPS_TEST_REGISTER_DIR")
    result = run_inventory(collections_path, config, "--list")
    assert result.returncode != 0
    assert "no such file or directory" in " ".join(result.stderr.split())


def test_invalid_register_fails_with_every_problem(collections_path: Path, tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE_REGISTER.read_text())
    doc["branches"][0]["kind"] = "kiosk"
    doc["branches"][1]["lan_subnets"] = ["10.20.1.0/24"]  # inside the platform network
    doc["branches"][3]["hub"] = "hub-lon"
    bad = tmp_path / "eu-west.yml"
    bad.write_text(yaml.safe_dump(doc))
    result = run_inventory(collections_path, write_config(tmp_path, [str(bad)]), "--list")
    assert result.returncode != 0
    err = " ".join(result.stderr.split())
    assert "branch register has 3 problem(s)" in err
    for needle in (
        "branch AMS-001, field kind:",
        "branch AMS-WH1, field lan_subnets[0]:",
        "branch BRU-001, field hub:",
    ):
        assert needle in err
    assert "AMS-001" not in result.stdout


@pytest.mark.parametrize("name", ["inventory.yml", "branches.json"])
def test_config_file_must_be_named_branches_yml(collections_path: Path, tmp_path: Path, name: str) -> None:
    result = run_inventory(
        collections_path, write_config(tmp_path, [str(EXAMPLE_REGISTER)], name=name), "--list"
    )
    assert result.returncode != 0
