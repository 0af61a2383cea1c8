# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One region file -> a ``Region``, with the checks that need the region: hubs, tiers, endpoints.

The field types are the model's (model.py); this module adds what a type
cannot know: a branch's hub and tier must be the region's, a second hub needs
a tier that allows it, a branch has an endpoint unless it roams, ``branch_*``
variables are reserved, a hub needs a pool, ``dr_hub`` needs ``dr_region``.  A field that fails a check is
marked invalid so that later checks leave it alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Type

from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register import model
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    E,
    Problem,
    Say,
    describe,
)

if TYPE_CHECKING:
    from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
        Branch,
        Hub,
        Region,
    )


def _sayer(problems: List[Problem], source: str, subject: str) -> Say:
    def say(field: str, message: str) -> None:
        problems.append(Problem(source, subject, field, message))

    return say


def _subject(kind: str, item: Any, key: str, fallback: str) -> str:
    """``branch AMS-001`` when the entry names itself, else its position (``branches[3]``)."""
    value = item.get(key) if isinstance(item, dict) else None
    return "%s %s" % (kind, value) if isinstance(value, str) and value else fallback


def _entries(data: Dict[str, Any], field: str, say: Say, allow_empty: bool) -> List[Any]:
    value = data.get(field, [])
    if not isinstance(value, list):
        say(field, "expected a list, got %s" % describe(value))
        return []
    if not value and not allow_empty and field in data:
        say(field, "must list at least one entry")
    return value


def parse_region(problems: List[Problem], source: str, data: Any) -> Optional[Region]:
    """The region of one file, or None when it has no valid name; every problem goes to ``problems``."""
    if not isinstance(data, dict):
        problems.append(
            Problem(
                source,
                "region",
                "(document)",
                "expected a mapping with region, hubs and branches; got %s" % describe(data),
            )
        )
        return None
    say = _sayer(problems, source, _subject("region", data, "region", "region"))
    region = model.Region.parse(data, say, later=("hubs", "branches"))
    region.source = source
    region.hubs = []
    for index, item in enumerate(_entries(data, "hubs", say, allow_empty=False)):
        hub = _parse_hub(problems, region, index, item)
        if hub is None:
            continue
        if any(h.name == hub.name for h in region.hubs):
            problems.append(Problem(source, "hub %s" % hub.name, "name", "hub defined twice in this region"))
            continue
        region.hubs.append(hub)
    _check_dr_fields(region, say)
    region.branches = []
    for index, item in enumerate(_entries(data, "branches", say, allow_empty=True)):
        branch = _parse_branch(problems, region, index, item)
        if branch is not None:
            region.branches.append(branch)
    return region if region.valid("region") else None


def _check_dr_fields(region: Region, say: Say) -> None:
    """``dr_hub`` needs ``dr_region``; the DR region itself is checked with every file (checks.check_dr)."""
    if region.dr_hub is not None and region.dr_region is None and region.valid("dr_region"):
        say("dr_hub", "names a hub of a DR region, but dr_region is not set: set dr_region or drop dr_hub")
        region.invalidate("dr_hub")


def _entry(
    record: Type[E], problems: List[Problem], source: str, *, field: str, index: int, item: Any
) -> Tuple[Say, Optional[E]]:
    """One entry of ``hubs`` or ``branches``, its problems under its own name (``hub hub-a``)."""
    where = "%s[%d]" % (field, index)
    kind, key = {"hubs": ("hub", "name"), "branches": ("branch", "code")}[field]
    say = _sayer(problems, source, _subject(kind, item, key, where))
    if not isinstance(item, dict):
        say(where, "expected a mapping, got %s" % describe(item))
        return say, None
    return say, record.parse(item, say)


def _parse_hub(problems: List[Problem], region: Region, index: int, item: Any) -> Optional[Hub]:
    say, hub = _entry(model.Hub, problems, region.source, field="hubs", index=index, item=item)
    if hub is None:
        return None
    hub.region, hub.source = region.name, region.source
    if "listen_port" not in item and hub.valid("endpoint"):
        hub.listen_port = hub.endpoint.port
    if "tunnel_pool" not in item:
        if region.tunnel_pool is None and region.valid("tunnel_pool"):
            say("tunnel_pool", "no tunnel pool: set tunnel_pool on the hub or on the region")
        hub.tunnel_pool = region.tunnel_pool
    return hub if hub.valid("name") else None


def _parse_branch(problems: List[Problem], region: Region, index: int, item: Any) -> Optional[Branch]:
    say, branch = _entry(model.Branch, problems, region.source, field="branches", index=index, item=item)
    if branch is None:
        return None
    branch.region, branch.source, branch.index = region.name, region.source, index
    _check_tier(branch, region, say)
    _check_endpoint(branch, item, say)
    _check_hubs(branch, item, region, say)
    _check_vars(branch, say)
    return branch if branch.valid("code") else None


def _check_tier(branch: Branch, region: Region, say: Say) -> None:
    if branch.valid("tier") and region.valid("tiers") and branch.tier not in region.tiers:
        say("tier", "unknown tier %r; this region defines: %s" % (branch.tier, ", ".join(region.tiers)))
        branch.invalidate("tier")


def _check_endpoint(branch: Branch, item: Dict[str, Any], say: Say) -> None:
    if not branch.valid("roaming"):
        return
    if item.get("endpoint") is not None:
        if branch.roaming:
            say("endpoint", "a roaming branch has no fixed endpoint: drop endpoint or roaming")
    elif not branch.roaming:
        say("endpoint", "required unless roaming: true (a branch without a fixed public address)")


def _check_hubs(branch: Branch, item: Dict[str, Any], region: Region, say: Say) -> None:
    names = [h.name for h in region.hubs]
    for field in ("hub", "second_hub"):
        value = getattr(branch, field) if branch.valid(field) else None
        if value is not None and names and value not in names:
            say(field, "unknown hub %r; region %s defines: %s" % (value, region.name, ", ".join(names)))
            branch.invalidate(field)
    if branch.valid("hub", "second_hub") and branch.second_hub == branch.hub:
        say("second_hub", "is the same hub as hub (%s)" % branch.hub)
        branch.invalidate("second_hub")
    tier = region.tiers.get(branch.tier) if branch.valid("tier") and region.valid("tiers") else None
    if "second_hub" in item and tier is not None and not tier.second_hub:
        allowed = ", ".join(name for name, spec in region.tiers.items() if spec.second_hub) or "no tier"
        say("second_hub", "tier %r may not have a second hub (allowed for: %s)" % (branch.tier, allowed))
        branch.invalidate("second_hub")


def _check_vars(branch: Branch, say: Say) -> None:
    reserved = [key for key in branch.vars if key.startswith("branch_")]
    for key in reserved:
        say("vars.%s" % key, "variable names starting with branch_ are reserved for the register's own")
    if reserved:
        branch.vars = {k: v for k, v in branch.vars.items() if k not in reserved}
