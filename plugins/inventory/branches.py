# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: branches
short_description: Branches and VPN hubs from the branch register
version_added: 0.1.0
description:
  - Reads the branch register (one YAML file per region, see the collection's C(plugins/README.md))
    and adds every branch and every hub as a host.
  - Branch host names are the branch codes; hub host names are the hub names. When another inventory
    source defines a host of the same name (for example a hub with its C(ansible_host)), Ansible merges
    the two.
  - Each branch gets a tunnel address from its hub's pool, derived from a hash of its code and handed
    out in register order, so appending a branch or retiring one (C(retired=true)) never moves another
    branch. C(tunnel_address) in the register pins an address.
  - A region naming a C(dr_region) gives each of its branches a tunnel to that region's C(dr_hub) (default
    its first hub), with an address on that hub's pool handed out after the pool's own branches, so
    naming a DR region moves no primary address.
  - The register is validated as a whole before anything is added. On any problem (duplicate codes,
    overlapping subnets, pool exhaustion, unknown hub or tier, bad CIDRs, bad values, unknown or missing
    fields) the plugin fails with every problem listed, each naming the file, the branch or hub and the
    field, and the inventory gets nothing from this source.
  - "Groups (with O(group_prefix) in front): V(branches) (live branches), V(hubs), V(region_<region>)
    (branches and hubs of a region), V(kind_<kind>), V(tier_<tier>), V(link_<link>), V(hub_<hub>)
    (branches that peer with the hub, as primary or second hub), V(retired_branches), and for disaster
    recovery V(dr_region_<region>) (branches whose region names it as C(dr_region)), V(dr_hub_<hub>)
    (branches with a DR tunnel to the hub) and V(dr_hubs) (hubs that serve another region's branches).
    Characters other than letters, digits and C(_) become C(_)."
  - "Branch variables: C(branch_code), C(branch_name), C(branch_country), C(branch_kind), C(branch_tier),
    C(branch_link), C(branch_lan_subnets), C(branch_endpoint), C(branch_roaming), C(branch_hub),
    C(branch_second_hub), C(branch_integrations), C(branch_tunnel_address), C(branch_tunnels),
    C(branch_region), C(branch_retired), C(branch_notes), C(branch_erp_entrypoints),
    C(branch_platform_networks), C(branch_dr_region), C(branch_dr_hub), C(branch_dr_tunnel_address),
    C(branch_dr_tunnel), C(branch_dr_erp_entrypoints), C(branch_dr_platform_networks) (null or empty
    without a DR region), plus the branch's own C(vars)."
  - "Hub variables: C(hub_name), C(hub_region), C(hub_endpoint), C(hub_listen_port), C(hub_tunnel_pool),
    C(hub_tunnel_address), C(hub_peers) (the hub's WireGuard peers from the register, never from the
    play's hosts; the branches it serves for their DR region come last, with C(dr=true)),
    C(hub_platform_networks), C(hub_erp_entrypoints), C(hub_dr_regions)."
author:
  - RetailOps platform engineering (@retailops)
requirements:
  - pydantic >= 2.6 (the Python library, on the controller)
options:
  plugin:
    description: Marks this file as a source for this plugin.
    required: true
    type: str
    choices: [retailops.odoo_platform.branches]
  register:
    description:
      - Register files, or directories whose C(*.yml) and C(*.yaml) files are all read (not recursively).
      - Relative paths are relative to the directory of this configuration file.
      - Environment variables (C($VAR), C(${VAR})) and C(~) are expanded first, so one
        configuration can point at registers kept elsewhere.
    required: true
    type: list
    elements: path
  group_prefix:
    description: Put in front of every group name this plugin creates, for example C(br_).
    type: str
    default: ""
  add_hubs:
    description: Add the hubs as hosts (with their C(hub_*) variables) to the V(hubs) and region groups.
    type: bool
    default: true
  regions:
    description:
      - Only these regions' branches and hubs become hosts; empty, every region's. For an inventory per
        region that reads every region's file (a region's C(dr_region) must be in the register it reads).
      - The DR hubs of these regions' branches are added too, in V(dr_hubs) only (not V(hubs)), with their
        C(hub_*) variables, so that a branch's run reaches them (its DR tunnel's pre-shared key) and no play
        over V(hubs) converges them.
      - A name that is not a region of the register fails the inventory, naming it.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.constructed
notes:
  - The configuration file name must end in C(branches.yml) or C(branches.yaml).
  - Keep the register files outside any directory given to C(-i), otherwise Ansible tries to read them
    as inventories of their own.
  - The same checks run from the command line with C(retailops-branchctl validate <register>).
"""

EXAMPLES = r"""
# inventories/example-region/branches.yml
plugin: retailops.odoo_platform.branches
register:
  - ../branch_register/       # every region file in that directory

---
# One region of several, and the DR hub of its branches
plugin: retailops.odoo_platform.branches
register:
  - ../branch_register/       # both regions' files: eu-west names eu-central as its dr_region
regions: [eu-west]
---
# With a prefix and extra groups built from the branch variables
plugin: retailops.odoo_platform.branches
register:
  - ../registers/eu-west.yml
  - ../registers/eu-north.yml
group_prefix: br_
add_hubs: false
keyed_groups:
  - key: branch_country
    prefix: country
groups:
  roaming_branches: branch_roaming
"""

import os
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.files import (
    load_register,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    MissingLibrary,
    RegisterError,
)


class InventoryModule(BaseInventoryPlugin, Constructable):  # type: ignore[misc]
    """Hosts and groups from the branch register."""

    NAME = "retailops.odoo_platform.branches"

    def verify_file(self, path: str) -> bool:
        return bool(super().verify_file(path)) and path.endswith(("branches.yml", "branches.yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        base = os.path.dirname(os.path.abspath(path))
        paths = [
            os.path.join(base, os.path.expanduser(os.path.expandvars(p))) for p in self.get_option("register")
        ]
        try:
            register = load_register(paths, load=lambda name: loader.load_from_file(name, cache="none"))
            view = register.inventory(
                self.get_option("group_prefix"), self.get_option("add_hubs"), self.get_option("regions")
            )
        except (MissingLibrary, RegisterError) as exc:
            raise AnsibleParserError(str(exc)) from exc
        self._populate(view)

    def _populate(self, view: dict[str, Any]) -> None:
        strict = self.get_option("strict")
        for group in view["groups"]:
            self.inventory.add_group(group)
        for name, hostvars in view["hosts"].items():
            self.inventory.add_host(name)
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
        for group, hosts in view["groups"].items():
            for host in hosts:
                self.inventory.add_child(group, host)
        for name, hostvars in view["hosts"].items():
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
