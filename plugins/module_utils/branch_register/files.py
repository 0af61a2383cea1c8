# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register files: files and directories of region files, read strictly (duplicate YAML keys refused).

``load_register(paths, load=None)`` is the entry point of the inventory
plugin, the allow-list lookup and the load harness: read errors become
problems like any other, so every problem is reported at once.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, List, Optional, Tuple

from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import Problem
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.register import (
    Register,
    build_register,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

YAML_SUFFIXES = (".yml", ".yaml")


def find_register_files(paths: Iterable[str]) -> Tuple[List[str], List[Problem]]:
    """Expand files and directories (their *.yml / *.yaml, sorted, not recursive)."""
    files: List[str] = []
    problems: List[Problem] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(YAML_SUFFIXES))
            if not found:
                problems.append(Problem(path, "register", "(path)", "directory holds no .yml or .yaml file"))
            files.extend(found)
        elif os.path.isfile(path):
            files.append(path)
        else:
            problems.append(Problem(path, "register", "(path)", "no such file or directory"))
    return files, problems


if HAS_YAML:
    # libyaml's parser when PyYAML was built with it: several times faster on big registers
    _SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _StrictLoader(_SafeBase):  # type: ignore[misc,valid-type]  # pylint: disable=too-many-ancestors
        """SafeLoader that refuses duplicate keys instead of silently keeping the last."""

    def _mapping_no_duplicates(loader: Any, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate key %r" % (key,), key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node, deep)

    _StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_no_duplicates)


def read_yaml(path: str) -> Any:
    """Default file reader: PyYAML safe loading, duplicate keys refused."""
    if not HAS_YAML:
        raise RuntimeError("PyYAML is needed to read register files")
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # a SafeLoader subclass


def load_register(paths: Iterable[str], load: Optional[Callable[[str], Any]] = None) -> Register:
    """Read register files/directories with ``load`` (default ``read_yaml``) and build the register.

    Read errors become problems like any other, so every problem is reported at once.
    """
    load = load or read_yaml
    files, problems = find_register_files(paths)
    documents = []
    for path in files:
        try:
            documents.append((path, load(path)))
        except Exception as exc:  # pylint: disable=broad-except  # any reader error is a problem to report
            problems.append(Problem(path, "register", "(file)", "cannot read: %s" % exc))
    register = build_register(documents)
    register.problems[:0] = problems
    return register
