"""The collection's libraries (its module_utils), for the harness: the one place the harness imports them.

The register (``plugins/module_utils/branch_register/``) belongs to the
collection, because the inventory plugin and the allow-list lookup run it
inside Ansible; so does Patroni's cluster view (``plugins/module_utils/patroni.py``,
the ``patroni_cluster_info`` module's). The harness and ``retailops-branchctl``
use the very same modules by their collection name, from wherever Ansible
finds collections (``ANSIBLE_COLLECTIONS_PATH``, the configured
``collections_path``, the defaults): when they are not importable as they
are, those directories are put on ``sys.path`` as Ansible's own loader would
see them. In this checkout ``make collection`` links it under
``.cache/collections``.

Every other harness module takes the register's names from here: ``Branch``
(the one shape of a branch, from the register to the harness),
``LINK_CLASSES``, ``load_register`` and the rest; ``library(name)`` gives any
other module_utils module.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

MODULE_UTILS = "ansible_collections.retailops.odoo_platform.plugins.module_utils"


class CollectionMissing(ImportError):
    pass


def collection_paths() -> list[str]:
    """Where Ansible looks for collections, as ansible-core's configuration says (env and ansible.cfg)."""
    from ansible import constants  # noqa: PLC0415 - ansible's config is read once, when needed

    return [str(p) for p in constants.COLLECTIONS_PATHS]


def library(name: str) -> ModuleType:
    """``plugins/module_utils/<name>`` of the installed collection retailops.odoo_platform."""
    module = f"{MODULE_UTILS}.{name}"
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    for path in collection_paths():
        if path not in sys.path:
            sys.path.append(path)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise CollectionMissing(
            "the collection retailops.odoo_platform is not installed where Ansible looks for collections "
            f"({', '.join(collection_paths())}): install it with ansible-galaxy collection install, or set "
            f"ANSIBLE_COLLECTIONS_PATH ({exc})"
        ) from None


def collection_root() -> Path:
    """The installed collection's directory (this checkout under ``make collection``): its roles' files
    (the alert rules, the dashboards) are read from there."""
    return Path(str(library("patroni").__file__)).resolve().parents[2]


library("branch_register")

# importable once library() has found the collection, hence E402
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.files import (  # noqa: E402
    load_register,
    read_yaml,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (  # noqa: E402
    HOSTNAME_RE,
    KINDS,
    LINK_CLASS,
    LINK_CLASSES,
    LINKS,
    RECORDS,
    Branch,
    Problem,
    RegisterError,
    file_fields,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.register import (  # noqa: E402
    Register,
    build_register,
)

__all__ = [
    "HOSTNAME_RE",
    "KINDS",
    "LINKS",
    "LINK_CLASS",
    "LINK_CLASSES",
    "RECORDS",
    "Branch",
    "CollectionMissing",
    "Problem",
    "Register",
    "RegisterError",
    "build_register",
    "collection_root",
    "file_fields",
    "library",
    "load_register",
    "read_yaml",
]
