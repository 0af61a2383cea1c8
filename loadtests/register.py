"""Branches of the region under test, read from the branch register.

The register (issue 7, ``plugins/module_utils/branch_register.py``) is one
YAML document per region listing branches with code, name, country, kind
(store / warehouse / office / dark_store), criticality tier and link
(fiber / broadband / lte / dual). The harness needs only part of it: each
simulated user belongs to a branch, so traffic and results break down by
branch, region, kind, tier and link class. When the collection's register
library is importable it validates the file; otherwise the same fields are
read here and checked minimally (file, key and reason on errors).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.errors import ConfigError, ConfigErrors, load_yaml_mapping

KINDS = ("store", "warehouse", "office", "dark_store")
# "dual" (fiber with an LTE backup) behaves like fiber until the drill flaps it
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


def _library() -> Any | None:
    for mod in (
        "plugins.module_utils.branch_register",
        "ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register",
    ):
        try:
            return importlib.import_module(mod)
        except ImportError:
            continue
    return None


def load_branches(path: str | Path) -> list[Branch]:
    """Active (not retired) branches of every region in the register file."""
    lib = _library()
    if lib is not None and hasattr(lib, "load_register"):
        reg = lib.load_register([str(path)])
        if reg.problems:
            raise ConfigErrors(
                [ConfigError(p.source, f"{p.subject}.{p.field}", p.message) for p in reg.problems]
            )
        out = []
        for region in reg.regions.values() if isinstance(reg.regions, dict) else reg.regions:
            for b in region.branches:
                if not b.retired:
                    url = str((b.vars or {}).get("erp_url", ""))
                    out.append(
                        Branch(b.code, str(b.name), region.name, str(b.kind), str(b.tier), str(b.link), url)
                    )
        if not out:
            raise ConfigError(path, "branches", "no active branch in the register")
        return out
    return _read_minimal(path)


def _read_minimal(path: str | Path) -> list[Branch]:
    data = load_yaml_mapping(path)
    region = data.get("region")
    if not isinstance(region, str) or not region:
        raise ConfigError(path, "region", "required: the region's name")
    items = data.get("branches")
    if not isinstance(items, list) or not items:
        raise ConfigError(path, "branches", "required: a non-empty list of branches")
    errors: list[ConfigError] = []
    out: list[Branch] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"branches[{i}]"
        if not isinstance(item, dict):
            errors.append(ConfigError(path, where, "expected a mapping"))
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code:
            errors.append(ConfigError(path, f"{where}.code", "required"))
            continue
        if code in seen:
            errors.append(ConfigError(path, f"{where}.code", f"duplicate branch code {code!r}"))
        seen.add(code)
        kind = item.get("kind")
        if kind not in KINDS:
            errors.append(ConfigError(path, f"{where}.kind", f"must be one of {', '.join(KINDS)}"))
        link = item.get("link")
        if link not in LINK_TO_CLASS:
            errors.append(ConfigError(path, f"{where}.link", f"must be one of {', '.join(LINK_TO_CLASS)}"))
        if item.get("retired"):
            continue
        extra = item.get("vars") or {}
        out.append(
            Branch(
                code,
                str(item.get("name", code)),
                region,
                str(kind),
                str(item.get("tier", "standard")),
                str(link),
                str(extra.get("erp_url", "")) if isinstance(extra, dict) else "",
            )
        )
    if errors:
        raise ConfigErrors(errors)
    return out
