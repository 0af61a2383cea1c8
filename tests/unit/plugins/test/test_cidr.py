"""The cidr Jinja2 test that roles use to refuse bad network input."""

from __future__ import annotations

import pytest
from ansible_collections.retailops.odoo_platform.plugins.test import cidr as cidr_plugin


@pytest.mark.parametrize("value", ["10.0.0.0/8", "192.168.10.0/24", "10.1.2.3/32", "fd00:10::/64"])
def test_accepts_networks(value: str) -> None:
    assert cidr_plugin.cidr(value)


@pytest.mark.parametrize(
    "value",
    ["10.0.0.1/8", "10.0.0.0", "10.0.0.0/33", "not-a-net", "", None, 42, ["10.0.0.0/8"], "10.0.0.0/8 "],
)
def test_refuses_anything_else(value: object) -> None:
    assert not cidr_plugin.cidr(value)


def test_version_filter() -> None:
    assert cidr_plugin.cidr("10.0.0.0/8", version=4)
    assert not cidr_plugin.cidr("10.0.0.0/8", version=6)
    assert cidr_plugin.cidr("fd00::/64", version=6)


def test_registered_under_its_name() -> None:
    assert cidr_plugin.TestModule().tests() == {"cidr": cidr_plugin.cidr}
