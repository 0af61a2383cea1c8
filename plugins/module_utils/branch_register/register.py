# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The register: every region read, every problem found, and the views computed from them.

``build_register(documents)`` validates parsed region documents
``(source_name, data)``; ``files.load_register(paths)`` reads them first.
``Register.problems`` holds every problem (nothing stops at the first).  The
views (``inventory()``, ``allow_lists()``, ``branch_list()``,
``hub_peers()``) are only meaningful when there is none: ``check()`` raises
``RegisterError`` listing them otherwise.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.checks import check_all
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    IPNetwork,
    Problem,
    RegisterError,
    require_pydantic,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.regions import (
    parse_region,
)

if TYPE_CHECKING:
    from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
        Branch,
        Hub,
        Region,
    )

GROUP_SAFE_RE = re.compile(r"[^A-Za-z0-9_]")


def build_register(documents: Iterable[Tuple[str, Any]]) -> Register:
    """Validate parsed region documents ``(source_name, data)`` and compute the tunnel addresses."""
    require_pydantic()
    register = Register()
    for source, data in documents:
        region = parse_region(register.problems, source, data)
        if region is not None:
            register.regions.append(region)
    check_all(register.regions, register.problems)
    return register


def group_name(prefix: str, *parts: str) -> str:
    """Ansible-safe group name: ``group_name('', 'region', 'eu-west') == 'region_eu_west'``."""
    return GROUP_SAFE_RE.sub("_", prefix + "_".join(parts))


@dataclass
class Register:
    regions: List[Region] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    # ---- lookups -----------------------------------------------------------

    @property
    def hubs(self) -> List[Hub]:
        return [h for r in self.regions for h in r.hubs]

    @property
    def branches(self) -> List[Branch]:
        """Live branches (retired ones excluded), in register order."""
        return [b for r in self.regions for b in r.branches if not b.retired]

    @property
    def retired(self) -> List[Branch]:
        return [b for r in self.regions for b in r.branches if b.retired]

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(name)

    def hub(self, name: str) -> Hub:
        for hub in self.hubs:
            if hub.name == name:
                return hub
        raise KeyError(name)

    def branch(self, code: str) -> Branch:
        for region in self.regions:
            for branch in region.branches:
                if branch.code == code:
                    return branch
        raise KeyError(code)

    def dr_hub(self, branch: Branch) -> Optional[Hub]:
        """The hub of the branch's DR region it has a tunnel to, or None (no ``dr_region``)."""
        region = self.region(branch.region)
        if region.dr_region is None or region.dr_hub is None or not region.valid("dr_region", "dr_hub"):
            return None
        return self.hub(region.dr_hub)

    def dr_regions_of(self, hub: Hub) -> List[str]:
        """The regions whose branches ``hub`` serves as their DR hub."""
        return sorted(
            r.name
            for r in self.regions
            if r.dr_region is not None and r.dr_hub == hub.name and r.valid("dr_region", "dr_hub")
        )

    def check(self) -> Register:
        """Return self, or raise RegisterError listing every problem."""
        if self.problems:
            raise RegisterError(self.problems)
        return self

    # ---- views -------------------------------------------------------------

    def tunnels(self, branch: Branch) -> List[Dict[str, Any]]:
        """The tunnels of ``branch`` to hubs of its region, primary hub first (``dr_tunnel``: the DR one)."""
        return [self._tunnel(branch, self.hub(hub_name)) for hub_name in branch.hubs]

    def dr_tunnel(self, branch: Branch) -> Optional[Dict[str, Any]]:
        """The tunnel of ``branch`` to its DR hub (same keys as a ``tunnels`` entry), or None."""
        hub = self.dr_hub(branch)
        return self._tunnel(branch, hub) if hub is not None else None

    @staticmethod
    def _tunnel(branch: Branch, hub: Hub) -> Dict[str, Any]:
        address = branch.tunnel_addresses.get(hub.name)
        return {
            "hub": hub.name,
            "primary": hub.name == branch.hub,
            "address": str(address) if address else None,
            "prefix": hub.tunnel_pool.prefixlen if hub.tunnel_pool else None,
            "pool": str(hub.tunnel_pool) if hub.tunnel_pool else None,
            "hub_address": str(hub.tunnel_address) if hub.tunnel_address else None,
            "hub_endpoint": str(hub.endpoint) if hub.endpoint else None,
            "hub_listen_port": hub.listen_port,
        }

    def integrations(self, branch: Branch) -> List[Dict[str, Any]]:
        """Region-wide integrations followed by the branch's own."""
        region = self.region(branch.region)
        return [i.as_dict() for i in region.integrations + branch.integrations]

    def branch_vars(self, branch: Branch) -> Dict[str, Any]:
        region = self.region(branch.region)
        primary = branch.tunnel_addresses.get(branch.hub or "")
        dr_hub = self.dr_hub(branch)
        dr = self.region(dr_hub.region) if dr_hub is not None else None
        dr_address = branch.tunnel_addresses.get(dr_hub.name) if dr_hub is not None else None
        hostvars: Dict[str, Any] = dict(branch.vars)
        hostvars.update(
            {
                "branch_code": branch.code,
                "branch_name": branch.name,
                "branch_country": branch.country,
                "branch_kind": branch.kind,
                "branch_tier": branch.tier,
                "branch_link": branch.link,
                "branch_lan_subnets": [str(n) for n in branch.lan_subnets],
                "branch_endpoint": str(branch.endpoint) if branch.endpoint else None,
                "branch_roaming": branch.roaming,
                "branch_hub": branch.hub,
                "branch_second_hub": branch.second_hub,
                "branch_integrations": self.integrations(branch),
                "branch_tunnel_address": str(primary) if primary else None,
                "branch_tunnels": self.tunnels(branch),
                "branch_region": branch.region,
                "branch_retired": branch.retired,
                "branch_notes": branch.notes,
                "branch_erp_entrypoints": [str(e) for e in region.erp_entrypoints],
                "branch_platform_networks": [str(n) for n in region.platform_networks],
                "branch_dr_region": dr.name if dr is not None else None,
                "branch_dr_hub": dr_hub.name if dr_hub is not None else None,
                "branch_dr_tunnel_address": str(dr_address) if dr_address else None,
                "branch_dr_tunnel": self.dr_tunnel(branch),
                "branch_dr_erp_entrypoints": [str(e) for e in dr.erp_entrypoints] if dr else [],
                "branch_dr_platform_networks": [str(n) for n in dr.platform_networks] if dr else [],
            }
        )
        return hostvars

    def hub_peers(self, hub_name: str) -> List[Dict[str, Any]]:
        """WireGuard peers of a hub, straight from the register (never from play hosts).

        The hub's own region's branches first, then those it serves as their
        DR hub (``dr: true``): these reach the hub's region's ERP entrypoints
        only, so they carry no integrations.
        """
        served = set(self.dr_regions_of(self.hub(hub_name)))
        own = [b for b in self.branches if hub_name in b.hubs]
        dr = [b for b in self.branches if b.region in served and hub_name in b.tunnel_addresses]
        peers = []
        for is_dr, branch in [(False, b) for b in own] + [(True, b) for b in dr]:
            address = branch.tunnel_addresses[hub_name]
            allowed = [str(ipaddress.ip_network(address))] + [str(n) for n in branch.lan_subnets]
            peers.append(
                {
                    "code": branch.code,
                    "primary": branch.hub == hub_name,
                    "dr": is_dr,
                    "region": branch.region,
                    "tunnel_address": str(address),
                    "allowed_ips": allowed,
                    "endpoint": str(branch.endpoint) if branch.endpoint else None,
                    "roaming": branch.roaming,
                    "link": branch.link,
                    "tier": branch.tier,
                    "kind": branch.kind,
                    "integrations": [] if is_dr else self.integrations(branch),
                }
            )
        return peers

    def hub_vars(self, hub: Hub) -> Dict[str, Any]:
        region = self.region(hub.region)
        return {
            "hub_name": hub.name,
            "hub_region": hub.region,
            "hub_endpoint": str(hub.endpoint) if hub.endpoint else None,
            "hub_listen_port": hub.listen_port,
            "hub_tunnel_pool": str(hub.tunnel_pool) if hub.tunnel_pool else None,
            "hub_tunnel_address": str(hub.tunnel_address) if hub.tunnel_address else None,
            "hub_peers": self.hub_peers(hub.name),
            "hub_platform_networks": [str(n) for n in region.platform_networks],
            "hub_erp_entrypoints": [str(e) for e in region.erp_entrypoints],
            "hub_dr_regions": self.dr_regions_of(hub),
        }

    def branch_groups(self, branch: Branch, prefix: str = "") -> List[str]:
        """Groups of a live branch (the same names the inventory plugin creates)."""
        groups = [
            group_name(prefix, "branches"),
            group_name(prefix, "region", branch.region),
            group_name(prefix, "kind", str(branch.kind)),
            group_name(prefix, "tier", str(branch.tier)),
            group_name(prefix, "link", str(branch.link)),
        ]
        groups.extend(group_name(prefix, "hub", h) for h in branch.hubs)
        dr_hub = self.dr_hub(branch)
        if dr_hub is not None:
            groups.append(group_name(prefix, "dr_region", dr_hub.region))
            groups.append(group_name(prefix, "dr_hub", dr_hub.name))
        return groups

    def inventory(
        self, prefix: str = "", add_hubs: bool = True, regions: Optional[Sequence[str]] = None
    ) -> Dict[str, Any]:
        """``{"hosts": {name: hostvars}, "groups": {group: [host, ...]}}``.

        ``regions``: only these regions' branches and hubs are hosts (an inventory per region that
        reads every region's file: a region's ``dr_region`` must be in the register), and of the
        others only the DR hubs of their branches, in ``dr_hubs`` alone (a branch's DR tunnel
        fetches its pre-shared key there; no play of this inventory converges it). None: all."""
        self.check()
        names = [r.name for r in self.regions]
        unknown = sorted(set(regions or ()) - set(names))
        if unknown:
            raise RegisterError(
                [
                    Problem(
                        "the inventory's configuration",
                        "the plugin",
                        "regions",
                        "%s: not a region of the register (its regions: %s)"
                        % (", ".join(unknown), ", ".join(sorted(names))),
                    )
                ]
            )
        chosen = set(regions) if regions else set(names)
        hosts: Dict[str, Dict[str, Any]] = {}
        groups: Dict[str, List[str]] = {}

        def member(group: str, host: str) -> None:
            groups.setdefault(group, []).append(host)

        for branch in self.branches:
            if branch.region in chosen:
                hosts[branch.code] = self.branch_vars(branch)
                for group in self.branch_groups(branch, prefix):
                    member(group, branch.code)
        for branch in self.retired:
            if branch.region in chosen:
                hosts[branch.code] = self.branch_vars(branch)
                member(group_name(prefix, "retired_branches"), branch.code)
        if add_hubs:
            for hub in self.hubs:
                serves = set(self.dr_regions_of(hub)) & chosen
                if hub.region in chosen:
                    hosts[hub.name] = self.hub_vars(hub)
                    member(group_name(prefix, "hubs"), hub.name)
                    member(group_name(prefix, "region", hub.region), hub.name)
                elif serves:
                    hosts[hub.name] = self.hub_vars(hub)
                if (hub.region in chosen and self.dr_regions_of(hub)) or serves:
                    member(group_name(prefix, "dr_hubs"), hub.name)
        return {"hosts": hosts, "groups": groups}

    def allow_lists(self, prefix: str = "") -> Dict[str, List[str]]:
        """Source networks per branch group, for Traefik ipAllowList middlewares.

        Each list holds the LAN subnets and tunnel addresses of the group's
        live branches, collapsed; the keys are the inventory group names.
        """
        self.check()
        nets: Dict[str, List[IPNetwork]] = {}
        for branch in self.branches:
            own = list(branch.lan_subnets)
            own.extend(ipaddress.ip_network(a) for a in branch.tunnel_addresses.values())
            for group in self.branch_groups(branch, prefix):
                nets.setdefault(group, []).extend(own)
        result = {}
        for group, found in sorted(nets.items()):
            collapsed: List[str] = []
            v4 = [n for n in found if isinstance(n, ipaddress.IPv4Network)]
            v6 = [n for n in found if isinstance(n, ipaddress.IPv6Network)]
            collapsed.extend(str(n) for n in ipaddress.collapse_addresses(v4))
            collapsed.extend(str(n) for n in ipaddress.collapse_addresses(v6))
            result[group] = collapsed
        return result

    def _dr_address(self, branch: Branch) -> Optional[str]:
        hub = self.dr_hub(branch)
        address = branch.tunnel_addresses.get(hub.name) if hub is not None else None
        return str(address) if address else None

    def branch_list(self) -> List[Dict[str, Any]]:
        """Live branches as plain dicts, for the load harness."""
        self.check()
        return [
            {
                "code": b.code,
                "name": b.name,
                "region": b.region,
                "country": b.country,
                "kind": b.kind,
                "tier": b.tier,
                "link": b.link,
                "hub": b.hub,
                "second_hub": b.second_hub,
                "tunnel_address": str(b.tunnel_addresses[b.hub or ""]),
                "dr_hub": getattr(self.dr_hub(b), "name", None),
                "dr_tunnel_address": self._dr_address(b),
                "lan_subnets": [str(n) for n in b.lan_subnets],
                "vars": dict(b.vars),
            }
            for b in self.branches
        ]
