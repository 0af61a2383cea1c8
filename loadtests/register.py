"""Branches of the region under test, read from the branch register.

The register is the collection's (``plugins/module_utils/branch_register.py``,
schema in ``plugins/README.md``): the same file feeds the inventory, the
Traefik allow lists and this harness. Each simulated user belongs to one of
its live branches, so traffic and results break down by branch, region, kind,
tier and link class. Every problem in the file is reported at once, with the
file, the branch and the field.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from loadtests.endpoints import EndpointError, base_url
from loadtests.errors import ConfigError, ConfigErrors

# "dual" (fiber with an LTE backup) behaves like fiber until a drill flaps it
LINK_TO_CLASS = {"fiber": "fiber", "broadband": "broadband", "lte": "lte", "dual": "fiber"}
_LIBRARY = Path(__file__).resolve().parent.parent / "plugins" / "module_utils" / "branch_register.py"
_COLLECTION_MODULE = "ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register"


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


def _library() -> ModuleType:
    """The register library: from the installed collection, else from this checkout."""
    try:
        return importlib.import_module(_COLLECTION_MODULE)
    except ImportError:
        pass
    name = "retailops_branch_register"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _LIBRARY)
    if spec is None or spec.loader is None:
        raise ImportError(f"branch register library not found at {_LIBRARY}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module while executing it
    spec.loader.exec_module(module)
    return module


def load_branches(path: str | Path) -> list[Branch]:
    """Live (not retired) branches of every region in the register file or directory."""
    reg = _library().load_register([str(path)])
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
