# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks across records and files: unique names, overlapping networks, tunnel addresses.

They read only fields that passed the model's and the region's checks, so
a bad value is reported once, where it is, and not again by every check
that meets it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Sequence, Tuple

from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.allocation import (
    allocate,
    usable_range,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    IPNetwork,
    Problem,
)

if TYPE_CHECKING:
    from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
        Hub,
        Region,
    )


def check_all(regions: Sequence[Region], problems: List[Problem]) -> None:
    """Every cross-record check, then each branch's tunnel addresses."""
    check_unique(regions, problems)
    check_overlaps(regions, problems)
    for region in regions:
        assign_branch_addresses(region, problems)


def check_unique(regions: Sequence[Region], problems: List[Problem]) -> None:
    """Region names, and hub names and branch codes together (case-insensitive: they are host names)."""
    region_files: Dict[str, str] = {}
    owners: Dict[str, Tuple[str, str]] = {}
    for region in regions:
        if region.name in region_files:
            problems.append(
                Problem(
                    region.source,
                    "region %s" % region.name,
                    "region",
                    "region already defined in %s" % region_files[region.name],
                )
            )
        region_files.setdefault(region.name, region.source)
        hosts = [(hub.name, "hub %s" % hub.name, "name", "name already used") for hub in region.hubs]
        hosts += [
            (b.code, "branch %s" % b.code, "code", "duplicate code: already used") for b in region.branches
        ]
        for name, subject, field, clash in hosts:
            key = name.lower()
            if key in owners:
                owner_subject, owner_source = owners[key][1], owners[key][0]
                problems.append(
                    Problem(
                        region.source, subject, field, "%s by %s in %s" % (clash, owner_subject, owner_source)
                    )
                )
            owners.setdefault(key, (region.source, subject))


@dataclass
class _Net:
    net: IPNetwork
    what: str  # "platform", "pool" or "lan"
    rank: Tuple[int, str, int, int]  # higher rank gets the blame for an overlap
    where: Tuple[str, str, str]  # source, subject, field
    label: str


def _collect_nets(regions: Sequence[Region]) -> List[_Net]:
    order = {"platform": 0, "pool": 1, "lan": 2}
    items = []
    for r_index, region in enumerate(regions):
        platform = region.platform_networks if region.valid("platform_networks") else []
        for i, net in enumerate(platform):
            items.append(
                _Net(
                    net,
                    "platform",
                    (order["platform"], region.source, r_index, i),
                    (region.source, "region %s" % region.name, "platform_networks[%d]" % i),
                    "platform network %s of region %s" % (net, region.name),
                )
            )
        seen_pools = set()
        for h_index, hub in enumerate(region.hubs):
            if hub.tunnel_pool is None or hub.tunnel_pool in seen_pools:
                continue
            seen_pools.add(hub.tunnel_pool)
            shared = hub.tunnel_pool == region.tunnel_pool
            subject = "region %s" % region.name if shared else "hub %s" % hub.name
            items.append(
                _Net(
                    hub.tunnel_pool,
                    "pool",
                    (order["pool"], region.source, r_index, h_index),
                    (region.source, subject, "tunnel_pool"),
                    "tunnel pool %s of %s" % (hub.tunnel_pool, subject),
                )
            )
        for branch in region.branches:
            if branch.retired or not branch.valid("lan_subnets"):
                continue
            for i, net in enumerate(branch.lan_subnets):
                items.append(
                    _Net(
                        net,
                        "lan",
                        (order["lan"], region.source, r_index, branch.index * 1000 + i),
                        (region.source, "branch %s" % branch.code, "lan_subnets[%d]" % i),
                        "branch %s lan_subnets[%d] %s" % (branch.code, i, net),
                    )
                )
    return items


def check_overlaps(regions: Sequence[Region], problems: List[Problem]) -> None:
    """No two of these overlap: branch LANs (also of one branch), tunnel pools, platform networks.

    Platform networks may overlap each other.
    """
    items = _collect_nets(regions)
    items.sort(key=lambda n: (n.net.version, int(n.net.network_address), -n.net.num_addresses))
    active: List[_Net] = []
    for item in items:
        start = int(item.net.network_address)
        active = [
            a for a in active if a.net.version == item.net.version and int(a.net.broadcast_address) >= start
        ]
        for other in active:
            if other.what == item.what == "platform":
                continue
            blamed, innocent = (item, other) if item.rank > other.rank else (other, item)
            source, subject, fld = blamed.where
            problems.append(
                Problem(
                    source,
                    subject,
                    fld,
                    "%s overlaps %s (%s)" % (blamed.net, innocent.label, innocent.where[0]),
                )
            )
        active.append(item)


def _assign_hub_addresses(region: Region, problems: List[Problem]) -> Dict[IPNetwork, List[Hub]]:
    by_pool: Dict[IPNetwork, List[Hub]] = {}
    for hub in region.hubs:
        if hub.tunnel_pool is not None:
            by_pool.setdefault(hub.tunnel_pool, []).append(hub)
    for pool, hubs in by_pool.items():
        first, count = usable_range(pool)
        seen: Dict[int, str] = {}
        for hub in hubs:
            if hub.tunnel_address is None:
                if not hub.valid("tunnel_address"):
                    continue
                if len(hubs) > 1:
                    names = ", ".join(h.name for h in hubs)
                    problems.append(
                        Problem(
                            region.source,
                            "hub %s" % hub.name,
                            "tunnel_address",
                            "hubs %s share the pool %s: each needs a tunnel_address" % (names, pool),
                        )
                    )
                    continue
                hub.tunnel_address = ipaddress.ip_address(first)
            address = hub.tunnel_address
            value = int(address)
            message = ""
            if address.version != pool.version or not first <= value < first + count:
                message = "%s is not a usable address of the pool %s" % (address, pool)
            elif value in seen:
                message = "%s is already the address of hub %s" % (address, seen[value])
            if message:
                problems.append(Problem(region.source, "hub %s" % hub.name, "tunnel_address", message))
            seen.setdefault(value, hub.name)
    return by_pool


def assign_branch_addresses(region: Region, problems: List[Problem]) -> None:
    """The hubs' own addresses, then each branch's on each of its hubs' pools (allocation.py)."""
    by_pool = _assign_hub_addresses(region, problems)
    for pool, hubs in by_pool.items():
        names = {h.name for h in hubs}
        members = []
        for branch in region.branches:
            mine = [h for h in branch.hubs if h in names]
            if not mine:
                continue
            pinned = branch.valid("hub", "tunnel_address") and branch.hub in names
            members.append((branch, mine, branch.tunnel_address if pinned else None))
        reserved = [h.tunnel_address for h in hubs if h.tunnel_address is not None]
        alloc = allocate(pool, [(m[0].code, m[2]) for m in members], reserved)
        for branch, mine, _pin in members:
            if branch.code in alloc.conflicts:
                problems.append(
                    Problem(
                        region.source,
                        "branch %s" % branch.code,
                        "tunnel_address",
                        alloc.conflicts[branch.code],
                    )
                )
            elif branch.code in alloc.addresses:
                for hub_name in mine:
                    branch.tunnel_addresses[hub_name] = alloc.addresses[branch.code]
        if alloc.unplaced:
            subject = "region %s" % region.name if pool == region.tunnel_pool else "hub %s" % hubs[0].name
            count = usable_range(pool)[1]
            problems.append(
                Problem(
                    region.source,
                    subject,
                    "tunnel_pool",
                    (
                        "pool %s is exhausted: %d usable addresses (%d for hubs) for %d branches; "
                        "no address for %s"
                        % (pool, count, len(reserved), len(members), ", ".join(alloc.unplaced))
                    ),
                )
            )
