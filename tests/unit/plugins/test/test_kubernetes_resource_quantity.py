"""The kubernetes_resource_quantity Jinja2 test: the filter's parser, non-negative, no spaces."""

from __future__ import annotations

import pytest
from ansible_collections.retailops.odoo_platform.plugins.filter import kubernetes_quantity as filter_plugin
from ansible_collections.retailops.odoo_platform.plugins.test import kubernetes_resource_quantity as plugin


@pytest.mark.parametrize(
    "value", ["500m", "2", 2, 0.5, "1.5", "128Mi", "1Gi", "1G", "100k", "1e3", "250u", "+1", "0"]
)
def test_accepts_quantities(value: object) -> None:
    assert plugin.kubernetes_resource_quantity(value)
    filter_plugin.kubernetes_quantity(value)  # what the test accepts, the filter computes


@pytest.mark.parametrize(
    "value", ["", "1GB", "2 Gi", " 2", "2 ", "one", "1mi", None, True, "-", "-1", "-500m", [1], {"cpu": 1}]
)
def test_refuses_anything_else(value: object) -> None:
    assert not plugin.kubernetes_resource_quantity(value)


def test_registered_under_its_name() -> None:
    assert plugin.TestModule().tests() == {
        "kubernetes_resource_quantity": plugin.kubernetes_resource_quantity
    }
