"""An Odoo 18 source tree given by the user: checked, its addons path, its fingerprint.

Two layouts are supported: every addon under ``odoo/addons/`` (a tree with
``odoo-bin`` and ``odoo/`` only), and the official layout with ``addons/``
beside ``odoo/`` (``odoo/addons/`` then holds ``base`` and a few more).

The fingerprint keys the cached template database: a digest of the content
of every file except web assets (``static/`` directories), caches and
version-control data. Reading a whole tree takes seconds, so the digest is
remembered per stat signature (path, size, mtime of every file): an
untouched tree is fingerprinted in well under a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

SKIP_DIRS = {"static", "__pycache__", ".git", ".hg", ".svn", ".tox", ".venv", "node_modules"}
SKIP_SUFFIXES = (".pyc", ".pyo")


class TreeError(ValueError):
    """The given path is not an Odoo 18 source tree; the message names the variable."""


@dataclass(frozen=True)
class OdooTree:
    root: Path
    version_info: tuple[object, ...]

    @property
    def odoo_bin(self) -> Path:
        return self.root / "odoo-bin"

    @property
    def addons_path(self) -> list[Path]:
        """Directories holding addons: ``addons/`` (official layout) first, then ``odoo/addons/``."""
        return [p for p in (self.root / "addons", self.root / "odoo" / "addons") if _holds_addons(p)]

    def has_module(self, name: str) -> bool:
        return any((p / name / "__manifest__.py").is_file() for p in self.addons_path)


def _holds_addons(path: Path) -> bool:
    return path.is_dir() and any(child.joinpath("__manifest__.py").is_file() for child in path.iterdir())


_VERSION_INFO = re.compile(r"^version_info\s*=\s*\(([^)]*)\)", re.MULTILINE)


def release_version(release_py: Path) -> tuple[object, ...]:
    """``version_info`` of ``odoo/release.py``, read as text (the tree is never imported)."""
    match = _VERSION_INFO.search(release_py.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return ()
    items: list[object] = []
    for part in match.group(1).split(","):
        token = part.strip()
        if not token:
            continue
        items.append(int(token) if token.isdigit() else token.strip("'\""))
    return tuple(items)


def check_tree(value: str, variable: str = "ODOO_SRC") -> OdooTree:
    """The Odoo 18 tree at ``value``, or TreeError naming ``variable`` and what is missing."""
    if not value:
        raise TreeError(f"{variable} is empty: give the path of an Odoo 18 source tree")
    root = Path(value).expanduser().resolve()
    where = f"{variable}={value}"
    if not root.is_dir():
        raise TreeError(f"{where}: no such directory")
    if not (root / "odoo-bin").is_file():
        raise TreeError(f"{where}: not an Odoo source tree (no odoo-bin)")
    release = root / "odoo" / "release.py"
    if not release.is_file():
        raise TreeError(f"{where}: not an Odoo source tree (no odoo/release.py)")
    version = release_version(release)
    if tuple(version[:2]) != (18, 0):
        shown = ".".join(str(v) for v in version[:2]) or "unreadable"
        raise TreeError(f"{where}: odoo/release.py says version {shown}, the lane needs Odoo 18.0")
    tree = OdooTree(root, version)
    if not tree.addons_path:
        raise TreeError(f"{where}: no addons found (neither addons/ nor odoo/addons/ holds a module)")
    return tree


def missing_modules(tree: OdooTree, modules: list[str]) -> list[str]:
    return [m for m in modules if not tree.has_module(m)]


def _files(root: Path) -> list[Path]:
    out: list[Path] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        out.extend(Path(directory, f) for f in sorted(files) if not f.endswith(SKIP_SUFFIXES))
    return out


def stat_signature(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        st = path.stat()
        digest.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def content_digest(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def fingerprint(tree: OdooTree, cache: Path) -> str:
    """16 hex digits of the tree's content digest, remembered in ``cache`` by stat signature."""
    files = _files(tree.root)
    signature = stat_signature(tree.root, files)
    known: dict[str, str] = {}
    if cache.is_file():
        try:
            known = dict(json.loads(cache.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            known = {}
    if signature not in known:
        known[signature] = content_digest(tree.root, files)[:16]
        known = dict(list(known.items())[-20:])  # a few trees, not every one ever seen
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")
    return known[signature]
