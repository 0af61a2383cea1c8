# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checks across records and files: unique names, overlapping networks, DR regions, tunnel addresses.

They read only fields that passed the model's and the region's checks, so
a bad value is reported once, where it is, and not again by every check
that meets it.

A region's ``dr_region`` (disaster recovery) gives each of its branches a
tunnel to the DR region's ``dr_hub`` (default: its first hub) and an address
on that hub's pool.  Those addresses are handed out after the pool's own
branches (its region's, in register order), so naming a DR region moves no
branch's primary or second-hub address; see ``assign_branch_addresses``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

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
        Branch,
        Hub,
        Region,
    )


def check_all(regions: Sequence[Region], problems: List[Problem]) -> None:
    """Every cross-record check, then each branch's tunnel addresses (DR tunnels included)."""
    check_unique(regions, problems)
    check_overlaps(regions, problems)
    check_dr(regions, problems)
    for region in regions:
        assign_branch_addresses(region, problems, dr_branches(regions, region))


def check_dr(regions: Sequence[Region], problems: List[Problem]) -> None:
    """Each ``dr_region``: another loaded region, not chained, with a hub and ERP entrypoints,
    its platform networks apart from the region's own; and ``dr_hub`` one of its hubs
    (set to its first hub when not given).

    The other overlaps (a branch LAN or tunnel pool of the region against the DR
    region's platform networks or pools) are ``check_overlaps``'s, for every
    region pair.  A refused ``dr_region`` is marked invalid: the region's
    branches then get no DR tunnel.

    Chains: two regions may name each other (a pair that backs each other up),
    but a DR region naming a third region is refused: failover is not
    transitive (the branches get a tunnel to their DR region's hub only, never
    to its DR region's), so a chain would promise a protection that no tunnel
    carries.
    """
    by_name = {r.name: r for r in regions if r.name}
    for region in regions:
        if region.dr_region is None or not region.valid("dr_region"):
            continue
        message = _dr_refusal(region, by_name.get(region.dr_region))
        if message:
            problems.append(Problem(region.source, "region %s" % region.name, "dr_region", message))
            region.invalidate("dr_region")
            continue
        dr = by_name[region.dr_region]
        hubs = [h.name for h in dr.hubs]
        if region.dr_hub is None:
            if region.valid("dr_hub"):
                region.dr_hub = hubs[0]
        elif region.valid("dr_hub") and region.dr_hub not in hubs:
            problems.append(
                Problem(
                    region.source,
                    "region %s" % region.name,
                    "dr_hub",
                    "unknown hub %r; DR region %s defines: %s" % (region.dr_hub, dr.name, ", ".join(hubs)),
                )
            )
            region.invalidate("dr_hub")


def _dr_refusal(region: Region, dr: Optional[Region]) -> str:
    """Why ``region``'s ``dr_region`` cannot serve it ("" when it can)."""
    if region.dr_region == region.name:
        return "is this region itself: name another region of the register"
    if dr is None:
        return "unknown region %r: no loaded register file defines it" % region.dr_region
    return _dr_chain(region, dr) or _dr_service(dr) or _dr_overlap(region, dr)


def _dr_chain(region: Region, dr: Region) -> str:
    if dr.dr_region is None or dr.dr_region in (region.name, dr.name):
        return ""
    return (
        "region %s names a DR region of its own, %s: DR regions do not chain (the branches of %s "
        "would get no tunnel to %s when %s is lost); a DR region may name only this region back "
        "(a pair that backs each other up)" % (dr.name, dr.dr_region, region.name, dr.dr_region, dr.name)
    )


def _dr_service(dr: Region) -> str:
    """What the branches need of the DR region: a hub to dial and ERP entrypoints to reach."""
    if not dr.hubs:
        return "region %s has no hub the branches could dial" % dr.name
    if not dr.valid("erp_entrypoints", "platform_networks"):
        return "region %s has a bad erp_entrypoints or platform_networks (see its problems)" % dr.name
    if not dr.erp_entrypoints:
        return "region %s lists no erp_entrypoints: the branches would reach nothing there" % dr.name
    return ""


def _dr_overlap(region: Region, dr: Region) -> str:
    """Platform networks of both regions apart: a branch routes each into its own tunnel."""
    if not region.valid("platform_networks"):
        return ""
    for own_index, own in enumerate(region.platform_networks):
        for theirs in dr.platform_networks:
            if own.version == theirs.version and own.overlaps(theirs):
                return (
                    "platform network %s of region %s overlaps this region's platform_networks[%d] %s: "
                    "a branch could not tell which tunnel leads there" % (theirs, dr.name, own_index, own)
                )
    return ""


def dr_branches(regions: Sequence[Region], dr: Region) -> List[Tuple[Branch, str]]:
    """(branch, DR hub) of every branch whose region names ``dr`` as its DR region, in register order.

    Retired branches are included: their DR address stays reserved, as their own.
    """
    found: List[Tuple[Branch, str]] = []
    for region in regions:
        if region.dr_region != dr.name or not dr.name or not region.valid("dr_region", "dr_hub"):
            continue
        found.extend((branch, str(region.dr_hub)) for branch in region.branches)
    return found


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


def assign_branch_addresses(
    region: Region, problems: List[Problem], dr_members: Sequence[Tuple[Branch, str]] = ()
) -> None:
    """The hubs' own addresses, then each branch's on each of its hubs' pools (allocation.py).

    ``dr_members`` (branch, hub) are branches of other regions that have this
    region as their DR region: each pool serves them after its own branches,
    so they never move one of those (and appending to their region moves none
    of them either).  A region that onboards a branch of its own can move a DR
    address that was displaced from its first choice, never a primary one.
    """
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
        own = len(members)
        members.extend((branch, [hub], None) for branch, hub in dr_members if hub in names)
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
                        "pool %s is exhausted: %d usable addresses (%d for hubs) for %d branches%s; "
                        "no address for %s"
                        % (
                            pool,
                            count,
                            len(reserved),
                            len(members),
                            (" (%d of other regions, for DR)" % (len(members) - own))
                            if len(members) > own
                            else "",
                            ", ".join(alloc.unplaced),
                        )
                    ),
                )
            )
