# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: odoo_passwd_hash
short_description: Hash a password the way Odoo stores admin_passwd, keeping an existing matching hash
version_added: 0.1.0
description:
  - Returns the password hashed with passlib's C(pbkdf2_sha512), Odoo's format for C(admin_passwd)
    in C(odoo.conf) (C($pbkdf2-sha512$<rounds>$<salt>$<checksum>)).
  - When O(existing) is a hash of the same password with the same number of rounds, it is returned
    unchanged. A random salt is used only when the password (or the rounds) changed, so a role can
    re-render C(odoo.conf) on every run and report no change.
  - Runs on the controller; needs passlib there.
author:
  - RetailOps platform engineering (@retailops)
options:
  _input:
    description: The plain-text password.
    type: str
    required: true
  existing:
    description: The hash currently stored (an empty string when there is none).
    type: str
    default: ""
  rounds:
    description: PBKDF2 rounds; Odoo 18 uses 600000.
    type: int
    default: 600000
"""

EXAMPLES = r"""
- name: Hash admin_passwd, keeping the stored hash when the password did not change
  ansible.builtin.set_fact:
    admin_hash: "{{ odoo_admin_passwd | retailops.odoo_platform.odoo_passwd_hash(existing=current_hash) }}"
"""

RETURN = r"""
_value:
  description: A C($pbkdf2-sha512$...) hash of the password.
  type: str
"""

from typing import Any, Callable

from ansible.errors import AnsibleFilterError

try:
    from passlib.hash import pbkdf2_sha512
except ImportError:  # pragma: no cover - reported when the filter is used
    pbkdf2_sha512 = None

PREFIX = "$pbkdf2-sha512$"


def odoo_passwd_hash(password: Any, existing: Any = "", rounds: int = 600000) -> str:
    """pbkdf2_sha512 hash of ``password``; ``existing`` when it already matches."""
    if pbkdf2_sha512 is None:
        raise AnsibleFilterError("odoo_passwd_hash needs passlib on the controller (pip install passlib)")
    if not isinstance(password, str) or not password:
        raise AnsibleFilterError("odoo_passwd_hash: the password must be a non-empty string")
    if not isinstance(rounds, int) or rounds < 1000:
        raise AnsibleFilterError("odoo_passwd_hash: rounds must be an integer of at least 1000")
    current = existing if isinstance(existing, str) else ""
    if current.startswith(PREFIX) and current.split("$")[2] == str(rounds):
        try:
            if pbkdf2_sha512.verify(password, current):
                return current
        except ValueError:
            pass  # not a well-formed hash: replace it
    return str(pbkdf2_sha512.using(rounds=rounds).hash(password))


class FilterModule:
    """Odoo password hashing."""

    def filters(self) -> dict[str, Callable[..., str]]:
        return {"odoo_passwd_hash": odoo_passwd_hash}
