"""Branches of the region under test, read from the branch register.

The register is the collection's (``plugins/module_utils/branch_register.py``,
schema in ``plugins/README.md``, imported by ``loadtests.collection``): the same file feeds the inventory, the
Traefik allow lists and this harness. Each simulated user belongs to one of
its live branches, so traffic and results break down by branch, region, kind,
tier and link class. Every problem in the file is reported at once, with the
file, the branch and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loadtests.collection import CollectionMissing, register_library
from loadtests.endpoints import EndpointError, base_url
from loadtests.errors import ConfigError, ConfigErrors

# "dual" (fiber with an LTE backup) behaves like fiber until a drill flaps it
LINK_TO_CLASS = {"fiber": "fiber", "broadband": "broadband", "lte": "lte", "dual": "fiber"}


@dataclass(frozen=True)
class Branch:
    code: str
    name: str
    region: str
    kind: str
    tier: str
    link: str  # as in the register
    url: str = ""  # optional ERP entrypoint as seen from this branch (vars.erp_url)

    @property
    def link_class(self) -> str:
        return LINK_TO_CLASS.get(self.link, "")


def load_branches(path: str | Path) -> list[Branch]:
    """Live (not retired) branches of every region in the register file or directory."""
    try:
        library = register_library()
    except CollectionMissing as exc:
        raise ConfigError(path, "", str(exc)) from None
    reg = library.load_register([str(path)])
    if reg.problems:
        raise ConfigErrors([ConfigError(p.source, f"{p.subject}.{p.field}", p.message) for p in reg.problems])
    branches = [
        Branch(
            b["code"],
            str(b["name"]),
            b["region"],
            b["kind"],
            b["tier"],
            b["link"],
            str(b["vars"].get("erp_url", "")),
        )
        for b in reg.branch_list()
    ]
    if not branches:
        raise ConfigError(path, "branches", "no live branch in the register")
    bad = []
    for b in branches:
        if b.url:
            try:
                base_url(b.url)
            except EndpointError as exc:
                bad.append(ConfigError(path, f"{b.code}.vars.erp_url", str(exc)))
    if bad:
        raise ConfigErrors(bad)
    return branches
