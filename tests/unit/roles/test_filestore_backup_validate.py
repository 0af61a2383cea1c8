"""Bad input to filestore_backup: refused before anything changes, naming the variable.

The good input is the app_tier scenario's shape (Azurite, path style, a CA);
the restore entry point's own checks are test_filestore_backup_restore_validate.py's.
The app_tier scenario refuses a restore into a directory that is not empty
on its real backup host, with nothing changed.
"""

from __future__ import annotations

from typing import Any

from conftest import ROOT, validate_tests

CA = (ROOT / "tests" / "unit" / "roles" / "data" / "filestore_backup" / "ca.pem").read_text()
GOOD: dict[str, Any] = {
    "filestore_backup_azure_account": "appfilestore",
    "filestore_backup_azure_container": "odoo-filestore",
    "filestore_backup_azure_key": "a2V5LWZvci11bml0LXRlc3RzLW9ubHk=",
    "filestore_backup_azure_host": "10.213.6.14",
    "filestore_backup_azure_port": 10000,
    "filestore_backup_azure_uri_style": "path",
    "filestore_backup_storage_ca_content": CA,
    "filestore_backup_crypt_password": "unit-test-password-only",
    "filestore_backup_crypt_salt": "unit-test-salt-only",
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no storage key": ({"filestore_backup_azure_key": ""}, "filestore_backup_azure_key"),
    "no container": ({"filestore_backup_azure_container": ""}, "filestore_backup_azure_container"),
    "no password": ({"filestore_backup_crypt_password": ""}, "filestore_backup_crypt_password"),
    "no salt": ({"filestore_backup_crypt_salt": ""}, "filestore_backup_crypt_salt"),
    "the salt is the password": (
        {"filestore_backup_crypt_salt": "unit-test-password-only"},
        "filestore_backup_crypt_salt",
    ),
    "a two-line password": (
        {"filestore_backup_crypt_password": "one\ntwo"},
        "filestore_backup_crypt_password",
    ),
    "an interval too short": ({"filestore_backup_interval_seconds": 30}, "filestore_backup_interval_seconds"),
    "an interval in words": (
        {"filestore_backup_interval_seconds": "5min"},
        "filestore_backup_interval_seconds",
    ),
    "no retention": (
        {"filestore_backup_removed_retention_days": 0},
        "filestore_backup_removed_retention_days",
    ),
    "a CA that is not PEM": (
        {"filestore_backup_storage_ca_content": "not a certificate"},
        "filestore_backup_storage_ca_content",
    ),
    "a path style without a host": ({"filestore_backup_azure_host": ""}, "filestore_backup_azure_host"),
    "a URL for a host": (
        {"filestore_backup_azure_host": "https://10.213.6.14:10000"},
        "filestore_backup_azure_host",
    ),
    "an unknown uri style": (
        {"filestore_backup_azure_uri_style": "virtual"},
        "filestore_backup_azure_uri_style",
    ),
    "a relative filestore": (
        {"filestore_backup_source_path": "srv/odoo-filestore"},
        "filestore_backup_source_path",
    ),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "filestore_backup", GOOD, BAD
)
