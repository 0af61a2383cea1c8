#!/usr/bin/python
# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that every attachment a database references opens from a filestore, with the content it names."""

from __future__ import annotations

DOCUMENTATION = r"""
module: odoo_filestore_verify
author: RetailOps platform engineering (@retailops)
version_added: 0.2.0
short_description: Check that a filestore holds every attachment file a database references
description:
  - Odoo keeps an attachment's content in the filestore, under
    C(<data_dir>/filestore/<database>/<store_fname>), and its SHA-1 in the row's
    C(checksum). The name is made from the content (C(store_fname) is the first two
    hex digits of the SHA-1, a slash, then the SHA-1), and a file is never rewritten.
  - Given the rows of C(ir_attachment) that have a C(store_fname), reads each file
    and compares its SHA-1 with the row's checksum. A restore of the database and the
    filestore to one point in time is consistent when nothing is missing or mismatched.
extends_documentation_fragment:
  - retailops.odoo_platform.info_module
options:
  path:
    description: The database's filestore directory (C(<data_dir>/filestore/<database>)).
    type: path
    required: true
  attachments:
    description:
      - The attachment rows to check, each with C(store_fname) and C(checksum)
        (for example a C(json_agg) of C(ir_attachment) read with psql).
    type: list
    elements: dict
    required: true
  examples:
    description: How many missing and mismatched names to return (the counts are always complete).
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Read the restored database's attachments
  ansible.builtin.command:
    argv:
      - psql
      - -XAt
      - -d
      - retail
      - -c
      - >-
        SELECT coalesce(json_agg(json_build_object('store_fname', store_fname, 'checksum', checksum)), '[]')
        FROM ir_attachment WHERE store_fname IS NOT NULL
  register: rows
  changed_when: false

- name: Every attachment opens from the restored filestore
  retailops.odoo_platform.odoo_filestore_verify:
    path: /var/lib/restore-drill/filestore/retail
    attachments: "{{ rows.stdout | from_json }}"
  register: filestore
  failed_when: filestore.missing_count + filestore.mismatched_count > 0
"""

RETURN = r"""
checked:
  description: How many attachment rows were checked.
  returned: always
  type: int
bytes:
  description: The bytes read from the files found.
  returned: always
  type: int
missing_count:
  description: Rows whose file is not in the filestore (or cannot be read).
  returned: always
  type: int
mismatched_count:
  description: Rows whose file's SHA-1 is not the row's checksum.
  returned: always
  type: int
missing:
  description: The first I(examples) missing store_fnames.
  returned: always
  type: list
  elements: str
mismatched:
  description: The first I(examples) mismatched store_fnames.
  returned: always
  type: list
  elements: str
"""

import hashlib
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule

CHUNK = 1 << 20


def file_sha1(path: str) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: str, attachments: list[dict[str, Any]], examples: int) -> dict[str, Any]:
    """Count the rows whose file is missing or holds other content; a name may not leave ``path``."""
    root = os.path.realpath(path)
    missing: list[str] = []
    mismatched: list[str] = []
    read = 0
    for row in attachments:
        fname = str(row.get("store_fname") or "")
        checksum = str(row.get("checksum") or "")
        full = os.path.realpath(os.path.join(root, fname))
        if not fname or not full.startswith(root + os.sep):
            missing.append(fname)
            continue
        try:
            digest = file_sha1(full)
            read += os.path.getsize(full)
        except OSError:
            missing.append(fname)
            continue
        if digest != checksum:
            mismatched.append(fname)
    return {
        "checked": len(attachments),
        "bytes": read,
        "missing_count": len(missing),
        "mismatched_count": len(mismatched),
        "missing": missing[:examples],
        "mismatched": mismatched[:examples],
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "attachments": {"type": "list", "elements": "dict", "required": True},
            "examples": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isdir(path):
        module.fail_json(msg=f"path {path} is not a directory: no filestore to check")
    if module.params["examples"] < 0:
        module.fail_json(msg="examples must be 0 or more")
    module.exit_json(changed=False, **verify(path, module.params["attachments"], module.params["examples"]))


if __name__ == "__main__":
    main()
