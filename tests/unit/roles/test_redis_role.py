"""redis: the ACL file the role writes (hashes only, each user's rules), and its users' input refused before
any change.

The role's validate entry point runs on this machine (connection local), each case a host of its own that
is the only Redis node and one of three Sentinels (the other case hosts); users.acl is rendered after it
for a three-node inventory. Nothing is installed: the redis_ha scenario checks the running users (the
monitoring user's refusals, the exporter reading Redis through it).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from conftest import assert_case_refused, inventory_cases, render_role_templates, role_entry_task

PASSWORDS = {
    "redis_admin_password": "admin-password-0123456789",
    "redis_app_password": "app-password-0123456789",
    "redis_replication_password": "replication-password-0123456789",
    "redis_sentinel_auth_password": "sentinel-auth-0123456789",
    "redis_sentinel_password": "sentinel-password-0123456789",
    "redis_monitoring_password": "monitoring-password-0123456789",
}
# The topology of one case host: itself the only data node (no replica to wait for), three case hosts the
# Sentinels.
TOPOLOGY = {
    "redis_servers": "{{ [inventory_hostname] }}",
    "redis_sentinels": "{{ ansible_play_hosts_all[:3] }}",
    "redis_bind_address": "10.213.4.11",
    "redis_allowed_networks": ["10.213.4.0/24"],
    "redis_maxmemory": "64M",
    "redis_min_replicas_to_write": 0,
}
GOOD: dict[str, Any] = {**TOPOLOGY, **PASSWORDS}
WITHOUT_MONITORING_PASSWORD = {k: v for k, v in GOOD.items() if k != "redis_monitoring_password"}
# case -> (the case host's variables, the variable its refusal names)
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "monitoring password missing": (WITHOUT_MONITORING_PASSWORD, "redis_monitoring_password"),
    "monitoring password short": (
        {**GOOD, "redis_monitoring_password": "short"},
        "redis_monitoring_password",
    ),
    "monitoring password with a '#'": (
        {**GOOD, "redis_monitoring_password": "monitoring#password-0123"},
        "redis_monitoring_password",
    ),
    "monitoring user is the Sentinel's": (
        {**GOOD, "redis_monitoring_user": "sentinel"},
        "redis_monitoring_user",
    ),
    "monitoring user is default": ({**GOOD, "redis_monitoring_user": "default"}, "redis_monitoring_user"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    cases = {"good": GOOD, **{case: case_vars for case, (case_vars, _e) in BAD.items()}}
    found: dict[str, dict[str, Any]] = inventory_cases(
        tmp_path_factory.mktemp("validate"), {"all": {}}, [role_entry_task("redis")], cases, facts=False
    )
    return found


def test_the_good_input_passes(runs: dict[str, dict[str, Any]]) -> None:
    assert runs["good"]["ok"], runs["good"]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_naming_the_variable(case: str, runs: dict[str, dict[str, Any]]) -> None:
    assert_case_refused(runs[case], BAD[case][1])


@pytest.fixture(scope="module")
def users_acl(tmp_path_factory: pytest.TempPathFactory) -> str:
    nodes = {f"redis-{n}": {"redis_bind_address": f"10.213.4.1{n}"} for n in (1, 2, 3)}
    inventory = {
        "all": {
            "vars": {"redis_allowed_networks": ["10.213.4.0/24"], "redis_maxmemory": "64M", **PASSWORDS},
            "children": {"redis_servers": {"hosts": nodes}, "redis_sentinels": {"hosts": nodes}},
        }
    }
    rendered: dict[str, dict[str, str]] = render_role_templates(
        tmp_path_factory.mktemp("acl"), "redis", inventory, ["users.acl"]
    )
    assert rendered["redis-1"] == rendered["redis-2"] == rendered["redis-3"]
    return rendered["redis-1"]["users.acl"]


def sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def test_the_acl_file_holds_hashes_only(users_acl: str) -> None:
    for password in PASSWORDS.values():
        assert password not in users_acl
    assert users_acl.count(" on #") == 5
    assert f"#{sha256(PASSWORDS['redis_monitoring_password'])} " in users_acl


def test_the_monitoring_user_runs_what_the_exporter_needs_and_nothing_else(users_acl: str) -> None:
    """What redis_exporter 1.45 runs with its default flags, no key or channel pattern, no write."""
    (line,) = [line for line in users_acl.splitlines() if line.startswith("user monitoring ")]
    assert line == (
        f"user monitoring on #{sha256(PASSWORDS['redis_monitoring_password'])}"
        " +info +client|setname +latency|latest +slowlog|len"
    )


def test_every_user_has_its_line(users_acl: str) -> None:
    users = [line.split()[1] for line in users_acl.splitlines() if line.startswith("user ")]
    assert users == ["default", "admin", "odoo", "replication", "sentinel", "monitoring"]
