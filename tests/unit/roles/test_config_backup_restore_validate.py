"""Bad input to config_backup's restore entry point (its checks, validate_restore): refused before
anything changes, naming the variable. The role's own input is test_config_backup_validate.py's."""

from __future__ import annotations

from typing import Any

from conftest import ROOT, validate_tests
from test_config_backup_validate import GOOD

RESTORE_GOOD: dict[str, Any] = {**GOOD, "config_backup_restore_path": "/nonexistent/config-restore"}
RESTORE_BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no restore path": ({"config_backup_restore_path": ""}, "config_backup_restore_path"),
    "the root": ({"config_backup_restore_path": "/"}, "config_backup_restore_path"),
    "a backed-up path": (
        {"config_backup_restore_path": "/etc/patroni/config.yml/"},
        "config_backup_restore_path",
    ),
    "inside a backed-up path": (
        {"config_backup_restore_path": "/etc/wireguard/branch_vpn/restored"},
        "config_backup_restore_path",
    ),
    "holding a backed-up path": (
        {"config_backup_restore_path": "/etc/wireguard"},
        "config_backup_restore_path",
    ),
    "the collected state": (
        {"config_backup_restore_path": "/var/lib/retailops-config-backup/collected"},
        "config_backup_restore_path",
    ),
    "a directory that is not empty": (
        {"config_backup_restore_path": str(ROOT)},
        "config_backup_restore_path",
    ),
    "a snapshot that is not a stamp": (
        {"config_backup_restore_snapshot": "yesterday"},
        "config_backup_restore_snapshot",
    ),
    "an unknown store": ({"config_backup_restore_store": "tape"}, "config_backup_restore_store"),
    "the DR store without one": (
        {"config_backup_restore_store": "dr", "config_backup_dr_enabled": False},
        "config_backup_restore_store",
    ),
    "a host name with a slash": ({"config_backup_restore_host": "../db-1"}, "config_backup_restore_host"),
    "force given as a word": (
        {"config_backup_restore_path": str(ROOT), "config_backup_restore_force": "maybe"},
        "config_backup_restore_force",
    ),
    "the role's input is checked too": ({"config_backup_crypt_salt": ""}, "config_backup_crypt_salt"),
}


runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "config_backup", RESTORE_GOOD, RESTORE_BAD, tasks_from="validate_restore"
)
