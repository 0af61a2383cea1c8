"""redis_sentinel_info against real Sentinels (redis-server --sentinel) and Redis servers on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from ansible_collections.retailops.odoo_platform.plugins.modules import redis_sentinel_info

from loadtests.links_setup import free_port
from tests.fixtures.ansible_module import ModuleResult, run_module
from tests.fixtures.plugin import RedisFactory
from tests.fixtures.services import RedisServer


def run(sentinel: RedisServer | int, check_mode: bool = False, **args: Any) -> ModuleResult:
    """The module for the master named odoo; ``name=None`` leaves the name out."""
    port = sentinel if isinstance(sentinel, int) else sentinel.port
    module_args = {"login_port": port, "name": "odoo", **args}
    if module_args["name"] is None:
        del module_args["name"]
    return run_module(redis_sentinel_info.main, module_args, check_mode=check_mode)


def wait_for(what: str, probe: Callable[[], ModuleResult | None], timeout: float = 30) -> ModuleResult:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def monitoring(redis_factory: RedisFactory, master: RedisServer, *directives: str) -> RedisServer:
    return redis_factory(f"sentinel monitor odoo 127.0.0.1 {master.port} 1", *directives, sentinel=True)


def test_reports_the_master_its_replicas_and_the_other_sentinels(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    replica = redis_factory(f"replicaof 127.0.0.1 {master.port}")
    sentinel = monitoring(redis_factory, master)
    peer = monitoring(redis_factory, master)

    def complete() -> ModuleResult | None:
        result = run(sentinel)
        return result if result.get("replicas") and result.get("sentinels") else None

    # Sentinel learns replicas from the master's INFO and peers from their hello messages (every 2 s).
    result = wait_for("the replica and the peer Sentinel", complete)

    assert not result.failed, result.msg
    assert not result.changed
    assert (result["available"], result["monitored"]) == (True, True)
    master_view = result["master"]
    assert (master_view["ip"], master_view["port"], master_view["quorum"]) == (
        "127.0.0.1",
        str(master.port),
        "1",
    )
    assert "master" in master_view["flags"].split(",")
    assert [r["port"] for r in result["replicas"]] == [str(replica.port)]
    assert [s["port"] for s in result["sentinels"]] == [str(peer.port)]
    assert "error" not in result.data

    checked = run(sentinel, check_mode=True)

    assert not checked.changed
    assert checked["master"]["port"] == str(master.port)


def test_a_name_it_does_not_monitor(redis_factory: RedisFactory) -> None:
    master = redis_factory()
    sentinel = monitoring(redis_factory, master)

    result = run(sentinel, name="billing")

    assert not result.failed, result.msg
    assert (result["available"], result["monitored"]) == (True, False)
    assert "master" not in result.data
    assert "replicas" not in result.data


@pytest.mark.parametrize("unreachable_ok", [False, True])
def test_an_unreachable_sentinel(unreachable_ok: bool) -> None:
    port = free_port()

    result = run(port, unreachable_ok=unreachable_ok)

    assert result.failed is not unreachable_ok
    said = result.msg if result.failed else result["error"]
    assert said.startswith(f"Sentinel at 127.0.0.1:{port}: ")
    assert "Connection refused" in said
    assert (result["available"], result["monitored"]) == (False, False)


@pytest.mark.parametrize("password", [None, "not-it"])
def test_refused_credentials(redis_factory: RedisFactory, password: str | None) -> None:
    master = redis_factory()
    sentinel = monitoring(redis_factory, master, "requirepass sentinel-secret")

    failed = run(sentinel, login_password=password)
    tolerated = run(sentinel, login_password=password, unreachable_ok=True)
    accepted = run(sentinel, login_password="sentinel-secret")

    assert failed.failed
    assert failed.msg.startswith(f"Sentinel at 127.0.0.1:{sentinel.port}: ")
    # without a password redis-py's HELLO is refused, with a wrong one AUTH is
    assert "authenticat" in failed.msg.lower() or "invalid username-password pair" in failed.msg
    assert not tolerated.failed
    assert tolerated["available"] is False
    assert tolerated["error"] == failed.msg
    assert not accepted.failed, accepted.msg
    assert accepted["monitored"] is True
    texts = failed.text + tolerated.text + accepted.text
    assert [s for s in ("not-it", "sentinel-secret") if s in texts] == []


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        ({"name": None}, "missing required arguments: name"),
        ({"name": ""}, "name must not be empty"),
        ({"unreachable_ok": "sometimes"}, "argument 'unreachable_ok' is of type str"),
        ({"login_port": "sentinel"}, "argument 'login_port' is of type str"),
        ({"state": "present"}, "Unsupported parameters for (redis_sentinel_info) module: state"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(args: dict[str, Any], msg: str) -> None:
    result = run(free_port(), **args)

    assert result.failed
    assert msg in result.msg
