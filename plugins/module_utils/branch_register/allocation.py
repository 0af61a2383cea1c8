# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tunnel address allocation: which address of a pool each branch gets.

Each pool hands out addresses in register order (the order of branches in the
region file).  A branch's first choice is derived from a hash of its code;
when that address is taken it probes upwards.  A branch therefore depends only
on the branches listed before it, so appending a branch never moves anyone,
and offboarding by ``retired: true`` keeps the retired branch's address
reserved so nobody moves either.  ``tunnel_address`` pins an address.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    IPAddress,
    IPNetwork,
)


def usable_range(pool: IPNetwork) -> Tuple[int, int]:
    """First usable address (as int) and how many there are in ``pool``.

    IPv4 pools lose the network and broadcast address (except /31 and /32),
    IPv6 pools lose the subnet-router anycast address (except /127 and /128).
    """
    first = int(pool.network_address)
    count = pool.num_addresses
    if pool.version == 4 and pool.prefixlen <= 30:
        return first + 1, count - 2
    if pool.version == 6 and pool.prefixlen <= 126:
        return first + 1, count - 1
    return first, count


def home_index(code: str, count: int) -> int:
    """Where ``code`` would like to live in a pool of ``count`` addresses."""
    digest = hashlib.sha256(code.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass
class Allocation:
    addresses: Dict[str, IPAddress] = field(default_factory=dict)
    conflicts: Dict[str, str] = field(default_factory=dict)
    unplaced: List[str] = field(default_factory=list)


def allocate(
    pool: IPNetwork, members: Sequence[Tuple[str, Optional[IPAddress]]], reserved: Iterable[IPAddress] = ()
) -> Allocation:
    """Assign addresses from ``pool`` to ``members`` = [(code, pinned or None)] in register order.

    Each member depends only on the members before it: pinned members take
    their pin, others start at ``home_index(code)`` and probe upwards
    (wrapping) past taken addresses.  ``reserved`` (hub addresses) are never
    handed out.  Conflicting pins land in ``conflicts``; members left over
    when the pool is full land in ``unplaced``.
    """
    first, count = usable_range(pool)
    version = pool.version
    taken = {int(a) for a in reserved if a.version == version}
    owners: Dict[int, str] = {}
    result = Allocation()
    free = count - sum(1 for a in taken if first <= a < first + count)
    for code, pin in members:
        if pin is not None:
            value = int(pin)
            if pin.version != version or not first <= value < first + count:
                result.conflicts[code] = "%s is not a usable address of the pool %s" % (pin, pool)
            elif value in taken:
                holder = owners.get(value)
                result.conflicts[code] = "%s is already taken by %s" % (
                    pin,
                    "branch %s" % holder if holder else "a hub",
                )
            else:
                taken.add(value)
                owners[value] = code
                free -= 1
                result.addresses[code] = pin
            continue
        if free <= 0:
            result.unplaced.append(code)
            continue
        index = home_index(code, count)
        while first + index in taken:
            index = (index + 1) % count
        taken.add(first + index)
        owners[first + index] = code
        free -= 1
        result.addresses[code] = ipaddress.ip_address(first + index)
    return result
