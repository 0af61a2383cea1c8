"""redis_sentinel_monitor against a real Sentinel (redis-server --sentinel) and Redis servers on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from ansible_collections.retailops.odoo_platform.plugins.modules import (
    redis_sentinel_info,
    redis_sentinel_monitor,
)

from loadtests.links_setup import free_port
from tests.fixtures.ansible_module import ModuleResult, run_module
from tests.fixtures.plugin import RedisFactory
from tests.fixtures.services import RedisServer, sentinel_fields

TIMINGS = {"down-after-milliseconds": 5000, "failover-timeout": 60000, "parallel-syncs": 2}


def run(sentinel: RedisServer | int, check_mode: bool = False, **args: Any) -> ModuleResult:
    """The module for the master named odoo; ``name=None`` leaves the name out."""
    port = sentinel if isinstance(sentinel, int) else sentinel.port
    module_args = {"login_port": port, "name": "odoo", **args}
    if module_args["name"] is None:
        del module_args["name"]
    return run_module(redis_sentinel_monitor.main, module_args, check_mode=check_mode)


def start_args(master: RedisServer, **extra: Any) -> dict[str, Any]:
    return {"master_host": "127.0.0.1", "master_port": master.port, "quorum": 1, **extra}


def masters(sentinel: RedisServer) -> dict[str, dict[str, str]]:
    """SENTINEL MASTERS, by name, straight from the Sentinel."""
    reply = sentinel.command("SENTINEL", "MASTERS")
    views = [sentinel_fields(item) for item in reply]
    return {view["name"]: view for view in views}


def replica_ports(sentinel: RedisServer) -> list[str]:
    reply = sentinel.command("SENTINEL", "REPLICAS", "odoo")
    return [sentinel_fields(item)["port"] for item in reply]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def monitored(redis_factory: RedisFactory, master: RedisServer, *directives: str) -> RedisServer:
    """A Sentinel that already monitors ``master`` as odoo (quorum 1), from its configuration file."""
    return redis_factory(f"sentinel monitor odoo 127.0.0.1 {master.port} 1", *directives, sentinel=True)


def test_starts_monitoring_then_changes_nothing(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = redis_factory(sentinel=True)

    first = run(sentinel, **start_args(master, options=TIMINGS))

    assert not first.failed, first.msg
    assert first.changed
    assert first["created"] is True
    assert first["changed_options"] == sorted(TIMINGS)
    view = masters(sentinel)["odoo"]
    assert (view["ip"], view["port"], view["quorum"]) == ("127.0.0.1", str(master.port), "1")
    assert {k: view[k] for k in TIMINGS} == {k: str(v) for k, v in TIMINGS.items()}
    assert first["master"]["port"] == str(master.port)
    assert f"sentinel monitor odoo 127.0.0.1 {master.port} 1" in sentinel.config_file.read_text()

    second = run(sentinel, **start_args(master, options=TIMINGS))

    assert not second.failed, second.msg
    assert not second.changed
    assert second["created"] is False
    assert second["changed_options"] == []


def test_check_mode_does_not_start_monitoring(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = redis_factory(sentinel=True)

    result = run(sentinel, check_mode=True, **start_args(master, options=TIMINGS))

    assert not result.failed, result.msg
    assert result.changed
    assert result["created"] is True
    assert "master" not in result.data
    assert masters(sentinel) == {}


@pytest.mark.parametrize("missing", ["master_host", "quorum"])
def test_starting_needs_master_host_and_quorum(redis_factory: RedisFactory, missing: str) -> None:
    master = redis_factory()
    sentinel = redis_factory(sentinel=True)
    args = start_args(master)
    del args[missing]

    result = run(sentinel, **args)

    assert result.failed
    assert result.msg == "Sentinel does not monitor 'odoo' yet: set master_host and quorum"
    assert masters(sentinel) == {}


def test_a_refused_monitor_reports_nothing_created(redis_factory: RedisFactory) -> None:
    sentinel = redis_factory(sentinel=True)

    result = run(sentinel, master_host="primary.invalid", master_port=6379, quorum=1)

    assert result.failed
    assert result.msg.startswith(f"Sentinel at 127.0.0.1:{sentinel.port}: ")
    assert result["created"] is False
    assert not result.changed
    assert masters(sentinel) == {}


def test_tunes_quorum_and_timings_that_differ(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = monitored(redis_factory, master, "sentinel down-after-milliseconds odoo 30000")
    wanted: dict[str, Any] = {"quorum": 2, "options": {"down-after-milliseconds": 2000, "parallel-syncs": 1}}

    checked = run(sentinel, check_mode=True, **wanted)

    assert checked.changed
    assert checked["changed_options"] == ["quorum", "down-after-milliseconds"]  # parallel-syncs is already 1
    assert masters(sentinel)["odoo"]["quorum"] == "1"

    applied = run(sentinel, **wanted)

    assert not applied.failed, applied.msg
    assert applied.changed
    assert applied["created"] is False
    view = masters(sentinel)["odoo"]
    assert (view["quorum"], view["down-after-milliseconds"]) == ("2", "2000")
    assert applied["master"]["quorum"] == "2"
    assert not run(sentinel, **wanted).changed


def test_never_moves_a_monitored_master(redis_factory: RedisFactory) -> None:
    """master_host and master_port only start monitoring; the address is Sentinel's afterwards."""
    master = redis_factory()
    other = redis_factory()
    sentinel = monitored(redis_factory, master)

    result = run(sentinel, master_host="127.0.0.1", master_port=other.port, quorum=1)

    assert not result.failed, result.msg
    assert not result.changed
    assert masters(sentinel)["odoo"]["port"] == str(master.port)


@pytest.mark.slow
def test_keeps_sentinels_view_after_a_failover(redis_factory: RedisFactory) -> None:
    """After Sentinel promoted the replica, a run with the bootstrap address changes nothing."""
    master = redis_factory()
    replica = redis_factory(f"replicaof 127.0.0.1 {master.port}")
    sentinel = monitored(redis_factory, master, "sentinel down-after-milliseconds odoo 1000")
    wait_for("Sentinel to know the replica", lambda: str(replica.port) in replica_ports(sentinel))

    def failover() -> bool:
        try:
            return bool(sentinel.command("SENTINEL", "FAILOVER", "odoo"))
        except redis.ResponseError:  # NOGOODSLAVE until Sentinel has the replica's INFO
            return False

    wait_for("SENTINEL FAILOVER to be accepted", failover)
    wait_for("the replica's promotion", lambda: masters(sentinel)["odoo"]["port"] == str(replica.port))

    result = run(sentinel, **start_args(master))

    assert not result.failed, result.msg
    assert not result.changed
    assert result["master"]["port"] == str(replica.port)
    assert masters(sentinel)["odoo"]["port"] == str(replica.port)
    info = run_module(redis_sentinel_info.main, {"login_port": sentinel.port, "name": "odoo"})
    assert info["master"]["port"] == str(replica.port)
    assert int(info["master"]["config-epoch"]) >= 1


def test_absent_stops_monitoring(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = monitored(redis_factory, master)

    checked = run(sentinel, check_mode=True, state="absent")

    assert checked.changed
    assert "odoo" in masters(sentinel)

    removed = run(sentinel, state="absent")

    assert not removed.failed, removed.msg
    assert removed.changed
    assert masters(sentinel) == {}
    assert "sentinel monitor odoo" not in sentinel.config_file.read_text()
    assert not run(sentinel, state="absent").changed


def test_credentials_are_set_on_create_and_rotated_only_when_asked(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = redis_factory(sentinel=True)
    auth = {"auth_user": "sentinel", "auth_password": "first-secret"}

    created = run(sentinel, **start_args(master, **auth))

    assert created.changed
    assert "sentinel auth-pass odoo first-secret" in sentinel.config_file.read_text()
    assert "sentinel auth-user odoo sentinel" in sentinel.config_file.read_text()
    assert "first-secret" not in created.text

    kept = run(sentinel, **start_args(master, auth_user="sentinel", auth_password="second-secret"))

    assert not kept.changed  # on_create: Sentinel does not report the password, nothing to compare
    assert "sentinel auth-pass odoo first-secret" in sentinel.config_file.read_text()

    rotated = run(
        sentinel,
        **start_args(master, auth_user="sentinel", auth_password="second-secret", update_password="always"),
    )

    assert not rotated.failed, rotated.msg
    assert rotated.changed
    assert rotated["changed_options"] == ["auth-user", "auth-pass"]
    assert "sentinel auth-pass odoo second-secret" in sentinel.config_file.read_text()
    assert "second-secret" not in rotated.text


def test_sentinel_password_is_used_and_never_returned(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = monitored(redis_factory, master, "requirepass sentinel-secret")

    refused = run(sentinel, login_password="not-it", quorum=1)
    accepted = run(sentinel, login_password="sentinel-secret", quorum=1)

    assert refused.failed
    assert "invalid username-password pair" in refused.msg
    assert not accepted.failed, accepted.msg
    assert not accepted.changed
    assert [s for s in ("not-it", "sentinel-secret") if s in refused.text + accepted.text] == []


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (
            {"options": {"notification-script": "/bin/true"}},
            "options ['notification-script'] cannot be compared with SENTINEL MASTER; "
            "use ['down-after-milliseconds', 'failover-timeout', 'parallel-syncs']",
        ),
        (
            {"quorum": 3, "options": {"down-after-milliseconds": -5, "parallel-syncs": "one"}},
            "options ['down-after-milliseconds', 'parallel-syncs'] must be whole numbers of 1 or more",
        ),
        ({"quorum": 0}, "quorum must be 1 or more, not 0"),
        ({"state": "gone"}, "value of state must be one of: present, absent, got: gone"),
        ({"update_password": "sometimes"}, "value of update_password must be one of: on_create, always"),
        ({"master_port": "primary"}, "argument 'master_port' is of type str"),
        ({"name": None}, "missing required arguments: name"),
        ({"name": ""}, "name must not be empty"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(
    redis_factory: RedisFactory, args: dict[str, Any], msg: str
) -> None:
    master = redis_factory()
    sentinel = monitored(redis_factory, master)

    result = run(sentinel, **args)

    assert result.failed
    assert msg in result.msg
    assert masters(sentinel)["odoo"]["quorum"] == "1"


def test_unreachable_sentinel_fails_with_its_address() -> None:
    port = free_port()

    result = run(port, quorum=1)

    assert result.failed
    assert result.msg.startswith(f"Sentinel at 127.0.0.1:{port}: ")
    assert "Connection refused" in result.msg
    assert not result.changed
