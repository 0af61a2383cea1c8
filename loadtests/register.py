"""Branches of the region under test, read from the branch register.

The register is the collection's (``plugins/module_utils/branch_register/``,
schema in ``plugins/README.md``, imported by ``loadtests.collection``): the
same file feeds the inventory, the Traefik allow lists and this harness, and
its ``Branch`` is the harness's branch (code, name, region, kind, tier, link,
``link_class``). Each simulated user belongs to one of its live branches, so
traffic and results break down by branch, region, kind, tier and link class.
Every problem in the file is reported at once, with the file, the branch and
the field.
"""

from __future__ import annotations

from pathlib import Path

from loadtests.collection import Branch, load_register
from loadtests.endpoints import EndpointError, base_url
from loadtests.errors import ConfigError, ConfigErrors


def erp_url(branch: Branch) -> str:
    """The ERP as this branch's devices see it (its ``vars.erp_url``); "" when it uses the run's --host."""
    return str(branch.vars.get("erp_url", ""))


def load_branches(path: str | Path) -> list[Branch]:
    """Live (not retired) branches of every region in the register file or directory."""
    reg = load_register([str(path)])
    if reg.problems:
        raise ConfigErrors([ConfigError(p.source, f"{p.subject}.{p.field}", p.message) for p in reg.problems])
    branches: list[Branch] = reg.branches
    if not branches:
        raise ConfigError(path, "branches", "no live branch in the register")
    bad = []
    for b in branches:
        if erp_url(b):
            try:
                base_url(erp_url(b))
            except EndpointError as exc:
                bad.append(ConfigError(path, f"{b.code}.vars.erp_url", str(exc)))
    if bad:
        raise ConfigErrors(bad)
    return branches
