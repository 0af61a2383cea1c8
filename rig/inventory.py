"""Reading an inventory as ``ansible-inventory --list`` prints it."""

from __future__ import annotations

from typing import Any


def group_hosts(listing: dict[str, Any], group: str) -> list[str]:
    """The hosts of ``group``, its children's included, in the listing's order, each once."""
    found: list[str] = []

    def walk(name: str, seen: frozenset[str]) -> None:
        entry = listing.get(name) or {}
        for host in entry.get("hosts", []):
            if host not in found:
                found.append(host)
        for child in entry.get("children", []):
            if child not in seen:
                walk(child, seen | {name})

    walk(group, frozenset())
    return found
