# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja2 tests for network input: ``x is retailops.odoo_platform.cidr``."""

from __future__ import annotations

import ipaddress

DOCUMENTATION = r"""
name: cidr
author: RetailOps platform engineering
version_added: 0.1.0
short_description: Test whether a value is a network in CIDR notation
description:
  - True when the value is an IPv4 or IPv6 network written as C(address/prefix)
    with no host bits set, for example C(10.20.0.0/16) or C(fd00:10::/64).
  - Roles use it to refuse bad allow lists, address pools and subnets before
    anything changes.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
  version:
    description: Only accept this IP version.
    type: int
    choices: [4, 6]
"""

EXAMPLES = r"""
- name: Refuse a bad allow list
  ansible.builtin.assert:
    that: item is retailops.odoo_platform.cidr
    fail_msg: "allowed_networks: {{ item }} is not a CIDR"
  loop: "{{ allowed_networks }}"

- name: IPv4 only
  ansible.builtin.assert:
    that: pool is retailops.odoo_platform.cidr(version=4)
"""

RETURN = r"""
_value:
  description: Whether the input is a network in CIDR notation.
  type: bool
"""


def cidr(value: object, version: int | None = None) -> bool:
    """Return True for a string like ``10.0.0.0/8`` with a prefix and no host bits."""
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return version is None or network.version == version


class TestModule:
    """Ansible test plugin entry point."""

    def tests(self) -> dict[str, object]:
        return {"cidr": cidr}
