"""Make the collection importable as ansible_collections.retailops.odoo_platform.

Plugins import each other by their collection path; unit tests do the same,
through the checkout itself (the Makefile's `collection` target makes the
same link for Ansible and Molecule).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "retailops" / "odoo_platform"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(ROOT)
sys.path.insert(0, str(COLLECTIONS))
