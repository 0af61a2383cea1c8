"""The branch_allow_lists lookup: the register's per-group networks, or every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.retailops.odoo_platform.plugins.lookup.branch_allow_lists import LookupModule
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.files import (
    load_register,
)
from conftest import EXAMPLE_REGISTER


def test_returns_the_registers_allow_lists() -> None:
    (result,) = LookupModule().run([str(EXAMPLE_REGISTER)], variables={})
    assert result == load_register([str(EXAMPLE_REGISTER)]).allow_lists()
    assert "branches" in result
    assert all("/" in c for c in result["branches"])


def test_prefix_is_applied() -> None:
    (result,) = LookupModule().run([str(EXAMPLE_REGISTER)], variables={}, group_prefix="br_")
    assert "br_branches" in result


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AnsibleLookupError, match="does not exist"):
        LookupModule().run([str(tmp_path / "nope.yml")], variables={})


def test_invalid_register_fails_with_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        EXAMPLE_REGISTER.read_text().replace("lan_subnets: [10.101.1.0/24]", "lan_subnets: [10.101.1.1/24]")
    )
    with pytest.raises(AnsibleLookupError, match="lan_subnets"):
        LookupModule().run([str(bad)], variables={})
