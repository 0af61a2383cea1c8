"""The Odoo double's Redis session store through a Sentinel failover (rig/odoo_double/sessions.py).

With fakes: which errors are tried again, that the pool's idle connections are dropped before each new
try (so the next connection asks Sentinel), the pauses, and where it gives up (a fake clock: no
wall-clock figure is asserted). On loopback: a session saved while Sentinel fails over lands on the
new primary instead of failing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.sentinel import MasterNotFoundError

from rig.odoo_double import sessions
from rig.odoo_double.config import Config
from rig.odoo_double.sessions import RedisSessionStore, sentinel_client, transient
from tests.fixtures.services import MissingTool, SentinelGroup, new_tempdir

NOREPLICAS = redis.ResponseError("NOREPLICAS Not enough good replicas to write.")


def sentinel_config(port: int = 26379, password: str | None = "pw") -> Config:
    return Config(
        session_redis=True,
        session_redis_sentinel_host="127.0.0.1",
        session_redis_sentinel_port=port,
        session_redis_sentinel_master_name="odoo",
        session_redis_password=password,
        session_redis_prefix="t",
    )


class FakePool:
    def __init__(self) -> None:
        self.disconnects: list[bool] = []

    def disconnect(self, inuse_connections: bool = True) -> None:
        self.disconnects.append(inuse_connections)


class FakeClient:
    """Answers SET/GET/DEL from a script: an exception to raise, or the reply."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, ...]] = []
        self.connection_pool = FakePool()

    def _next(self, *call: str) -> Any:
        self.calls.append(call)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def set(self, key: str, value: str, ex: int) -> Any:
        return self._next("SET", key)

    def get(self, key: str) -> Any:
        return self._next("GET", key)

    def delete(self, key: str) -> Any:
        return self._next("DEL", key)


class Clock:
    """time.monotonic and time.sleep of the store: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(sessions, "monotonic", fake.monotonic)
    monkeypatch.setattr(sessions, "sleep", fake.sleep)
    return fake


def store_with(client: FakeClient, cfg: Config | None = None) -> RedisSessionStore:
    return RedisSessionStore(cfg or sentinel_config(), client=client)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "error",
    [
        redis.ConnectionError("Error 111 connecting to 10.0.0.1:6379. Connection refused."),
        redis.TimeoutError("Timeout reading from socket"),
        MasterNotFoundError("No master found for 'odoo'"),
        redis.ReadOnlyError("You can't write against a read only replica."),
        NOREPLICAS,
    ],
    ids=["refused", "timeout", "no-master", "readonly", "noreplicas"],
)
def test_failover_errors_are_transient(error: redis.RedisError) -> None:
    assert transient(error)


@pytest.mark.parametrize(
    "error",
    [
        redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
        redis.AuthenticationError("invalid username-password pair"),
        redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'."),
    ],
    ids=["wrongtype", "auth", "oom"],
)
def test_other_errors_are_not(error: redis.RedisError) -> None:
    assert not transient(error)


def test_a_save_during_a_failover_is_tried_again_on_a_fresh_connection(clock: Clock) -> None:
    client = FakeClient(redis.ConnectionError("refused"), MasterNotFoundError("no master"), NOREPLICAS, True)
    store_with(client).save("sid", {"uid": 2})
    assert [c[0] for c in client.calls] == ["SET"] * 4
    # before every new try the idle connections (to the old primary perhaps) are dropped, not those in use
    assert client.connection_pool.disconnects == [False, False, False]
    assert clock.sleeps == [0.05, 0.1, 0.1]


def test_pauses_stop_growing_at_the_longest(clock: Clock) -> None:
    client = FakeClient(*[redis.ConnectionError("refused")] * 6, b'{"uid": 2}')
    assert store_with(client).get("sid") == {"uid": 2}
    assert clock.sleeps == [0.05, 0.1, 0.1, 0.1, 0.1, 0.1]


def test_gives_up_with_the_last_error_after_the_failover_wait(clock: Clock) -> None:
    client = FakeClient(*[redis.ConnectionError("refused")] * 200)
    started = clock.now
    with pytest.raises(redis.ConnectionError):
        store_with(client).delete("sid")
    assert clock.now - started <= sessions.FAILOVER_WAIT
    assert clock.now - started > sessions.FAILOVER_WAIT - sessions.RETRY_PAUSE[1]
    assert len(client.calls) == len(clock.sleeps) + 1


def test_other_errors_fail_the_call_at_once(clock: Clock) -> None:
    client = FakeClient(redis.ResponseError("WRONGTYPE Operation against a key"), True)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        store_with(client).save("sid", {})
    assert len(client.calls) == 1
    assert clock.sleeps == []
    assert client.connection_pool.disconnects == []


def test_a_fixed_redis_host_is_not_tried_again(clock: Clock) -> None:
    cfg = Config(session_redis=True, session_redis_host="127.0.0.1")
    client = FakeClient(redis.ConnectionError("refused"), True)
    with pytest.raises(redis.ConnectionError):
        store_with(client, cfg).save("sid", {})
    assert len(client.calls) == 1


def test_the_sentinel_client_has_short_socket_timeouts_everywhere() -> None:
    client = sentinel_client(sentinel_config(port=26400))
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (sessions.SOCKET_TIMEOUT,) * 2
    assert kwargs["password"] == "pw"
    manager = client.connection_pool.sentinel_manager  # type: ignore[attr-defined]
    sentinel_kwargs = manager.sentinels[0].connection_pool.connection_kwargs
    assert (sentinel_kwargs["port"], sentinel_kwargs["password"]) == (26400, "pw")
    assert sentinel_kwargs["socket_timeout"] == sessions.SOCKET_TIMEOUT


@pytest.fixture
def sentinel_group() -> Iterator[SentinelGroup]:
    root = new_tempdir("double-sessions-")
    group = SentinelGroup(Path(root))
    try:
        try:
            group.start()
        except MissingTool as exc:
            pytest.fail(str(exc), pytrace=False)
        assert group.wait_stable(60), "the loopback Sentinel group did not settle"
        yield group
    finally:
        group.stop()
        shutil.rmtree(root, ignore_errors=True)


FAULTS: dict[str, Callable[[SentinelGroup], None]] = {
    "kill": lambda group: group.kill(group.primary()),
    "planned": lambda group: group.failover(),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_session_saved_during_a_failover_lands_on_the_new_primary(
    sentinel_group: SentinelGroup, fault: str
) -> None:
    store = RedisSessionStore(sentinel_config(sentinel_group.watchers[0].port, sentinel_group.password))
    store.save("before", {"uid": 2})
    old = sentinel_group.primary()
    FAULTS[fault](sentinel_group)
    # saves while Sentinel fails over: on the old primary they fail (refused, or NOREPLICAS once its
    # replicas follow the new one) and are tried again until Sentinel names the new primary
    seq = 0
    while sentinel_group.primary() is old:
        store.save(f"during-{seq}", {"uid": 2, "seq": seq})
        seq += 1
    store.save("after", {"uid": 2})
    new = sentinel_group.primary()
    assert new is not old
    assert new.client(sentinel_group.password).get("session:t:after") is not None
    assert store.get("after") == {"uid": 2}
