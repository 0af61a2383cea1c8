"""Bad input to filestore_backup's restore entry point (its checks, validate_restore): refused before
anything changes, naming the variable. The role's own input is test_filestore_backup_validate.py's."""

from __future__ import annotations

from typing import Any

from conftest import ROOT, validate_tests
from test_filestore_backup_validate import GOOD

RESTORE_GOOD: dict[str, Any] = {**GOOD, "filestore_backup_restore_path": "/nonexistent/filestore-restore"}
RESTORE_BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no restore path": ({"filestore_backup_restore_path": ""}, "filestore_backup_restore_path"),
    "the root": ({"filestore_backup_restore_path": "/"}, "filestore_backup_restore_path"),
    "the live filestore": (
        {"filestore_backup_restore_path": "/srv/odoo-filestore/"},
        "filestore_backup_restore_path",
    ),
    "inside the live filestore": (
        {"filestore_backup_restore_path": "/srv/odoo-filestore/restored"},
        "filestore_backup_restore_path",
    ),
    "a directory that is not empty": (
        {"filestore_backup_restore_path": str(ROOT)},
        "filestore_backup_restore_path",
    ),
    "force given as a word": (
        {"filestore_backup_restore_path": str(ROOT), "filestore_backup_restore_force": "maybe"},
        "filestore_backup_restore_force",
    ),
    "inside the live filestore, even restoring live": (
        {
            "filestore_backup_restore_path": "/srv/odoo-filestore/restored",
            "filestore_backup_restore_live": True,
        },
        "filestore_backup_restore_path",
    ),
    "live given as a word": (
        {
            "filestore_backup_restore_path": "/srv/odoo-filestore",
            "filestore_backup_restore_live": "yes please",
        },
        "filestore_backup_restore_live",
    ),
    "the role's input is checked too": ({"filestore_backup_crypt_salt": ""}, "filestore_backup_crypt_salt"),
}


runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "filestore_backup", RESTORE_GOOD, RESTORE_BAD, tasks_from="validate_restore"
)
