"""Bad input to config_backup (its validate and validate_restore entry points): refused before anything
changes, naming the variable.

The good input is the app_tier scenario's shape (Azurite, path style, a CA, a DR store); the app_tier
scenario refuses a DR store that is the region's container and a restore into a directory that is not
empty on its real backup host, with nothing changed.
"""

from __future__ import annotations

from typing import Any

from conftest import ROOT, validate_tests

CA = (ROOT / "tests" / "unit" / "roles" / "data" / "filestore_backup" / "ca.pem").read_text()
KEY = "a2V5LWZvci11bml0LXRlc3RzLW9ubHk="
GOOD: dict[str, Any] = {
    "config_backup_paths": ["/etc/wireguard/branch_vpn", "/etc/patroni/config.yml"],
    "config_backup_patroni_api": "http://127.0.0.1:8008",
    "config_backup_azure_account": "appfilestore",
    "config_backup_azure_container": "odoo-config",
    "config_backup_azure_key": KEY,
    "config_backup_azure_host": "10.213.6.14",
    "config_backup_azure_port": 10000,
    "config_backup_azure_uri_style": "path",
    "config_backup_dr_enabled": True,
    "config_backup_dr_azure_account": "appfilestore",
    "config_backup_dr_azure_container": "odoo-config-dr",
    "config_backup_dr_azure_key": KEY,
    "config_backup_dr_azure_host": "10.213.16.14",
    "config_backup_dr_azure_port": 10000,
    "config_backup_dr_azure_uri_style": "path",
    "config_backup_storage_ca_content": CA,
    "config_backup_crypt_password": "unit-test-password-only",
    "config_backup_crypt_salt": "unit-test-salt-only",
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no storage key": ({"config_backup_azure_key": ""}, "config_backup_azure_key"),
    "no container": ({"config_backup_azure_container": ""}, "config_backup_azure_container"),
    "no DR key": ({"config_backup_dr_azure_key": ""}, "config_backup_dr_azure_key"),
    "the DR store is the region's": (
        {"config_backup_dr_azure_container": "odoo-config", "config_backup_dr_azure_host": "10.213.6.14"},
        "config_backup_dr_azure_container",
    ),
    "a DR store in words": ({"config_backup_dr_enabled": "sometimes"}, "config_backup_dr_enabled"),
    "no password": ({"config_backup_crypt_password": ""}, "config_backup_crypt_password"),
    "the salt is the password": (
        {"config_backup_crypt_salt": "unit-test-password-only"},
        "config_backup_crypt_salt",
    ),
    "a two-line salt": ({"config_backup_crypt_salt": "one\ntwo"}, "config_backup_crypt_salt"),
    "an interval too short": ({"config_backup_interval_seconds": 60}, "config_backup_interval_seconds"),
    "an interval of two days": ({"config_backup_interval_seconds": 172800}, "config_backup_interval_seconds"),
    "no retention": ({"config_backup_retention_days": 0}, "config_backup_retention_days"),
    "no snapshot kept": (
        {"config_backup_retention_min_snapshots": 0},
        "config_backup_retention_min_snapshots",
    ),
    "a CA that is not PEM": (
        {"config_backup_storage_ca_content": "not a certificate"},
        "config_backup_storage_ca_content",
    ),
    "a DR path style without a host": ({"config_backup_dr_azure_host": ""}, "config_backup_dr_azure_host"),
    "a URL for a host": (
        {"config_backup_azure_host": "https://10.213.6.14:10000"},
        "config_backup_azure_host",
    ),
    "a relative path": ({"config_backup_paths": ["etc/wireguard"]}, "config_backup_paths"),
    "the root": ({"config_backup_paths": ["/"]}, "config_backup_paths"),
    "a path twice": ({"config_backup_paths": ["/etc/patroni", "/etc/patroni/"]}, "config_backup_paths"),
    "a path that is not a list": ({"config_backup_paths": 42}, "config_backup_paths"),
    "nothing to back up": (
        {"config_backup_paths": [], "config_backup_patroni_api": ""},
        "config_backup_paths",
    ),
    "a Patroni API with a path": (
        {"config_backup_patroni_api": "http://127.0.0.1:8008/config"},
        "config_backup_patroni_api",
    ),
    "a collected age under an hour": (
        {"config_backup_collected_max_age_seconds": 600},
        "config_backup_collected_max_age_seconds",
    ),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "config_backup", GOOD, BAD
)
