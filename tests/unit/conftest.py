"""Make the collection importable as ansible_collections.retailops.odoo_platform.

Inside an ansible-test layout the checkout already sits at
ansible_collections/retailops/odoo_platform; elsewhere (a plain worktree) a
temporary directory gets that layout as a symlink. The path is also what
ANSIBLE_COLLECTIONS_PATH must be for ansible-inventory subprocesses.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_REGISTER = ROOT / "inventories" / "branch_register" / "eu-west.yml"


def _collections_path() -> Path:
    if ROOT.parent.name == "retailops" and ROOT.parent.parent.name == "ansible_collections":
        return ROOT.parent.parent.parent
    base = Path(tempfile.mkdtemp(prefix="retailops-collections-"))
    (base / "ansible_collections" / "retailops").mkdir(parents=True)
    (base / "ansible_collections" / "retailops" / "odoo_platform").symlink_to(ROOT)
    return base


COLLECTIONS_PATH = _collections_path()
sys.path.insert(0, str(COLLECTIONS_PATH))
sys.path.insert(0, str(ROOT / "tools"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the tests package, also when pytest is not run from the checkout

# the shared fixtures (tests/fixtures/plugin.py) this suite uses: Redis and Sentinel for the module tests
from tests.fixtures.patroni_api import patroni_api  # noqa: E402
from tests.fixtures.plugin import redis_factory  # noqa: E402

__all__ = ["patroni_api", "redis_factory"]

BASE_REGION: dict[str, Any] = {
    "region": "test-west",
    "platform_networks": ["10.20.0.0/16"],
    "erp_entrypoints": ["10.20.0.10:443"],
    "hubs": [
        {"name": "hub-a", "endpoint": "198.51.100.1:51820", "tunnel_pool": "10.99.0.0/24"},
        {"name": "hub-b", "endpoint": "198.51.100.2:51820", "tunnel_pool": "10.99.1.0/24"},
    ],
    "branches": [
        {
            "code": "S-001",
            "name": "Store one",
            "country": "NL",
            "kind": "store",
            "tier": "critical",
            "link": "dual",
            "lan_subnets": ["10.101.1.0/24"],
            "endpoint": "203.0.113.1:51820",
            "hub": "hub-a",
            "second_hub": "hub-b",
        },
        {
            "code": "S-002",
            "name": "Store two",
            "country": "BE",
            "kind": "warehouse",
            "tier": "standard",
            "link": "lte",
            "lan_subnets": ["10.101.2.0/24"],
            "roaming": True,
            "hub": "hub-a",
        },
        {
            "code": "S-003",
            "name": "Office three",
            "country": "DE",
            "kind": "office",
            "tier": "basic",
            "link": "fiber",
            "lan_subnets": ["10.101.3.0/24"],
            "endpoint": "office3.example.net:51820",
            "hub": "hub-b",
        },
    ],
}


@pytest.fixture
def collections_path() -> Path:
    return COLLECTIONS_PATH


@pytest.fixture
def region() -> dict[str, Any]:
    """A fresh, valid three-branch region document to mutate."""
    return copy.deepcopy(BASE_REGION)
