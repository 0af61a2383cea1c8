# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: aks_cluster
short_description: The azure.azcollection module arguments of the aks_cluster role, built from its settings
version_added: 0.1.0
description:
  - Returns a dict with the arguments of every module the aks_cluster role calls, built in one place
    (C(plugins/module_utils/aks.py)) so that they can be unit-tested without Azure - C(resource_group)
    (azure_rm_resourcegroup), C(virtual_network) (azure_rm_virtualnetwork), C(subnets) (a list, one
    azure_rm_subnet call each), C(cluster) (azure_rm_aks, every node pool listed - the module deletes pools it
    is not given), C(pools) (a list, one azure_rm_aksagentpool call each - taints and upgrade surge, which
    azure_rm_aks cannot set) and C(cli_steps) (C(az) commands for what azure.azcollection 3.12.0 cannot
    set - the maintenance windows, the Azure Files CSI driver check, Key Vault secret rotation).
  - The input must have passed C(retailops.odoo_platform.aks_cluster_problems) (defined in this file).
author:
  - RetailOps platform engineering (@retailops)
options:
  _input:
    description: The role's variables, name (C(aks_cluster_*)) to value.
    type: dict
    required: true
  subnet_ids:
    description: Subnet name to resource ID (azure_rm_subnet's C(state.id)); empty before the subnets exist.
    type: dict
    default: {}
  current:
    description:
      - The cluster as azure_rm_aks_info returns it (an item of its C(aks) list), or empty when there is none.
      - An autoscaled pool keeps its current node count (AKS refuses a manual scale of an autoscaled pool),
        and a cluster that its upgrade channel took past C(aks_cluster_kubernetes_version) keeps its version.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: The cluster
  azure.azcollection.azure_rm_aks:
    name: "{{ (settings | retailops.odoo_platform.aks_cluster(subnet_ids=ids)).cluster.name }}"
"""

RETURN = r"""
_value:
  description: resource_group, virtual_network, subnets, cluster, pools and cli_steps.
  type: dict
"""

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from ansible.errors import AnsibleFilterError
from ansible_collections.retailops.odoo_platform.plugins.module_utils import aks
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.files import (
    load_register,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    MissingLibrary,
    RegisterError,
)


def aks_cluster(
    settings: Mapping[str, Any],
    subnet_ids: Optional[Mapping[str, str]] = None,
    current: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """Every module's arguments; refuses settings that still have problems."""
    found = aks.problems(settings)
    if found:
        raise AnsibleFilterError("aks_cluster: %s" % " ".join(found))
    network = aks.network_arguments(settings)
    ids = dict(subnet_ids or {})
    return {
        **network,
        "cluster": aks.cluster_arguments(settings, ids, current or None),
        "pools": aks.pool_arguments(settings, ids),
        "cli_steps": aks.cli_steps(settings),
    }


def aks_cluster_problems(
    settings: Mapping[str, Any],
    register: Sequence[str] = (),
    skus: Optional[Mapping[str, Sequence[Mapping[str, Any]]]] = None,
    versions: Optional[Sequence[str]] = None,
    current: Optional[Mapping[str, Any]] = None,
) -> List[str]:
    """The settings' problems, each naming its variable; with skus and versions, Azure's answers too."""
    branch_register = None
    paths = [str(p) for p in register or []]
    if paths:
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            return ["aks_cluster_branch_register: %s does not exist." % ", ".join(missing)]
        try:
            branch_register = load_register(paths).check()
        except (MissingLibrary, RegisterError) as exc:
            return ["aks_cluster_branch_register: %s" % exc]
    found: List[str] = aks.problems(settings, branch_register)
    if not found and skus is not None:
        found = aks.online_problems(settings, skus, list(versions or []), current or None)
    return found


class FilterModule:
    """The aks_cluster role's input checks and module arguments."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"aks_cluster": aks_cluster, "aks_cluster_problems": aks_cluster_problems}
