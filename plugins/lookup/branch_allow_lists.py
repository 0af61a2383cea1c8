# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: branch_allow_lists
short_description: Source networks per branch group from the branch register
version_added: 0.1.0
description:
  - "Reads the branch register (files, or directories of C(*.yml)/C(*.yaml) files) and returns one dict,
    group name to a list of CIDRs, for Traefik C(ipAllowList) middlewares."
  - Each list holds the LAN subnets and tunnel addresses of the group's live branches, collapsed.
    The keys are the inventory group names of the C(retailops.odoo_platform.branches) inventory
    plugin (V(branches), V(kind_store), V(tier_critical), V(hub_<hub>), ...).
  - The register is validated as a whole first; any problem fails the lookup with every problem listed.
author:
  - RetailOps platform engineering (@retailops)
requirements:
  - pydantic >= 2.6 (the Python library, on the controller)
options:
  _terms:
    description: Register files or directories, on the controller.
    required: true
    type: list
    elements: path
  group_prefix:
    description: The prefix the inventory plugin puts in front of group names.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Allow lists for the Traefik role
  ansible.builtin.set_fact:
    allow_lists: "{{ lookup('retailops.odoo_platform.branch_allow_lists', inventory_dir ~ '/../registers') }}"
"""

RETURN = r"""
_raw:
  description: One dict, group name to a list of CIDRs.
  type: list
  elements: dict
"""

import os
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.files import (
    load_register,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    MissingLibrary,
    RegisterError,
)


class LookupModule(LookupBase):  # type: ignore[misc]
    """Per-group allow lists from the branch register."""

    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        prefix = str(kwargs.get("group_prefix", ""))
        paths = [str(t) for t in terms]
        for path in paths:
            if not os.path.exists(path):
                raise AnsibleLookupError("branch_allow_lists: register path %s does not exist" % path)
        try:
            return [load_register(paths).allow_lists(prefix)]
        except (MissingLibrary, RegisterError) as exc:
            raise AnsibleLookupError("branch_allow_lists: %s" % exc) from exc
