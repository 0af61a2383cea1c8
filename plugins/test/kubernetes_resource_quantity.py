# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 test: ``x is retailops.odoo_platform.kubernetes_resource_quantity``."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.retailops.odoo_platform.plugins.filter.kubernetes_quantity import (
    kubernetes_quantity as _value,
)

DOCUMENTATION = r"""
name: kubernetes_resource_quantity
author: RetailOps platform engineering
version_added: 0.1.0
short_description: Test whether a value is a Kubernetes quantity a resource can take
description:
  - True when the C(retailops.odoo_platform.kubernetes_quantity) filter accepts the value (C(500m), C(2),
    C(512Mi), C(1e3)), which is what the Kubernetes API accepts, and it is not negative (requests, limits,
    quotas and storage sizes never are); the filter's parser decides, so a check and the arithmetic after it
    agree. Spaces around the value are refused, as the API refuses them.
  - Roles use it to refuse a bad CPU, memory or storage quantity, naming the variable, before anything is
    applied (the filter itself stops the run with an error that does not name it).
options:
  _input:
    description: The value to test (a string or a number).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a bad memory limit
  ansible.builtin.assert:
    that: resources.limits.memory is retailops.odoo_platform.kubernetes_resource_quantity
    fail_msg: "resources.limits.memory: {{ resources.limits.memory }} is not a Kubernetes quantity"
"""

RETURN = r"""
_value:
  description: Whether the input is a Kubernetes quantity.
  type: bool
"""


def kubernetes_resource_quantity(value: object) -> bool:
    """True for a non-negative quantity the kubernetes_quantity filter accepts, written without spaces."""
    if isinstance(value, str) and value != value.strip():
        return False
    try:
        return bool(_value(value) >= 0)
    except AnsibleFilterError:
        return False


class TestModule:
    """Ansible test plugin entry point."""

    def tests(self) -> dict[str, object]:
        return {"kubernetes_resource_quantity": kubernetes_resource_quantity}
