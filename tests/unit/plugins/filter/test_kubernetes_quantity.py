"""Kubernetes quantities: the suffixes the API accepts, and nothing else."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.retailops.odoo_platform.plugins.filter import kubernetes_quantity as plugin


@pytest.mark.parametrize(
    ("quantity", "value"),
    [
        ("500m", 0.5),
        ("2", 2.0),
        (2, 2.0),
        ("1.5", 1.5),
        ("512Mi", 512 * 2**20),
        ("2Gi", 2 * 2**30),
        ("1G", 1e9),
        ("100k", 1e5),
        ("1e3", 1000.0),
        ("250u", 0.00025),
    ],
)
def test_values(quantity: object, value: float) -> None:
    assert plugin.kubernetes_quantity(quantity) == pytest.approx(value)


@pytest.mark.parametrize("quantity", ["", "1GB", "2 Gi", "one", "1mi", None, True, "-"])
def test_not_quantities_are_refused(quantity: object) -> None:
    with pytest.raises(AnsibleFilterError, match="not a quantity"):
        plugin.kubernetes_quantity(quantity)
