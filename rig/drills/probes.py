"""Independent observers of a drill: writers through the application's path, and watchers of the
cluster (Patroni's DCS view, each member's recovery state, HAProxy's journal, replication).

Every observer records wall-clock times (``time.time()``) so that they line up with each other
and with the journals of the containers. None of them goes through the code under test's own
bookkeeping: a write counts as acknowledged when PostgreSQL's COMMIT (or Redis's SET) returned.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
import requests

from loadtests.collection import library
from rig.drills.region import Node, Region
from rig.drills.timeline import Attempt

PROBE_TABLE = "failover_probe"


def ensure_probe_table(dsn: str) -> None:
    # No unique constraint: a write that landed twice must show, not be refused.
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (key text NOT NULL, writer text NOT NULL, "
            "at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS {PROBE_TABLE}_key ON {PROBE_TABLE} (key text_pattern_ops)")


def scanned_keys(dsn: str, prefix: str) -> dict[str, int]:
    """Every probe key with ``prefix`` the database holds, and how many times."""
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        rows = conn.execute(
            f"SELECT key, count(*) FROM {PROBE_TABLE} WHERE key LIKE %s GROUP BY key", (prefix + "%",)
        ).fetchall()
    return {str(k): int(n) for k, n in rows}


class NotSent(Exception):
    """A write that certainly did not happen: no connection, or refused before it could commit."""


@dataclass(eq=False)
class CallWriter(threading.Thread):
    """Calls ``write(key)`` every ``interval`` seconds with a new key until stopped, recording each
    attempt: acknowledged when the call returned (what it returns: the server that took it),
    failed when it raised one of ``errors``. A call still running when the writer is stopped is
    not acknowledged."""

    label: str
    write: Callable[[str], str]
    prefix: str
    errors: tuple[type[Exception], ...]
    interval: float = 0.1
    attempts: list[Attempt] = field(default_factory=list)
    pending: float | None = None  # when the call in progress was sent (None: no call in progress)
    _halt: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        super().__init__(daemon=True, name=f"writer-{self.label}")

    def acked_until(self, stopped: float) -> list[float]:
        """The acknowledgement times, and ``stopped`` when a call still hung then: a write that never
        returned is a gap running to the end of the measurement, not the end of the gap."""
        acked = sorted(a.answered for a in self.attempts if a.ok)
        return [*acked, stopped] if self.pending is not None and self.pending < stopped else acked

    def run(self) -> None:
        seq = 0
        while not self._halt.is_set():
            key = f"{self.prefix}{self.label}-{seq}"
            seq += 1
            sent = time.time()
            self.pending = sent
            try:
                server = self.write(key)
            except Exception as exc:  # the writer's own errors are recorded, any other stops it
                if not isinstance(exc, (NotSent, *self.errors)):
                    raise
                failed = Attempt(self.label, key, sent, time.time(), False, error=_first_line(exc))
                self.attempts.append(replace(failed, definite=isinstance(exc, NotSent)))
            else:
                self.attempts.append(Attempt(self.label, key, sent, time.time(), True, server))
            finally:
                self.pending = None
            self._halt.wait(max(0.0, self.interval - (time.time() - sent)))

    def stop(self) -> None:
        self._halt.set()


class SqlInsert:
    """One row per call through ``dsn``, as an application writes: one connection kept open, a new
    one after an error. No statement timeout: cancelling a COMMIT that waits for the synchronous
    standby would turn an unreplicated write into an acknowledged one."""

    def __init__(self, dsn: str, writer: str) -> None:
        self.dsn, self.writer = dsn, writer
        self.conn: psycopg.Connection[Any] | None = None

    def __call__(self, key: str) -> str:
        if self.conn is None:
            try:
                self.conn = psycopg.connect(self.dsn, autocommit=True, prepare_threshold=None)
            except psycopg.Error as exc:
                raise NotSent(f"connect: {_first_line(exc)}") from exc
        try:
            row = self.conn.execute(
                f"INSERT INTO {PROBE_TABLE} (key, writer) VALUES (%s, %s) RETURNING host(inet_server_addr())",
                (key, self.writer),
            ).fetchone()
        except psycopg.Error as exc:
            self.conn.close()
            self.conn = None
            # refused by the server (read-only, a wrong statement): certainly not committed; a
            # connection lost on the way (no SQLSTATE) may have committed
            if exc.sqlstate and not exc.sqlstate.startswith(("08", "57", "40")):
                raise NotSent(_first_line(exc)) from exc
            raise
        return str(row[0]) if row else ""


def sql_writer(label: str, dsn: str, prefix: str, interval: float = 0.1) -> CallWriter:
    return CallWriter(label, SqlInsert(dsn, label), prefix, (psycopg.Error,), interval)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


@dataclass(frozen=True)
class Observation:
    at: float
    member: str
    leader: str  # the leader in Patroni's /cluster as this member answers it ('' none, '?' unreachable)
    in_recovery: bool | None  # pg_is_in_recovery() on this member; None unreachable


@dataclass(eq=False)
class ClusterWatch(threading.Thread):
    """Every ``interval`` s, each member's view of the leader lock (GET /cluster) and whether its
    PostgreSQL is in recovery (SQL, directly): when the lock moved and when the new leader left
    recovery, as seen from outside."""

    region: Region
    interval: float = 0.2
    observations: list[Observation] = field(default_factory=list)
    _halt: threading.Event = field(default_factory=threading.Event)
    _conns: dict[str, psycopg.Connection[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(daemon=True, name="cluster-watch")

    def run(self) -> None:
        # one poller per member: a dead member's timeouts must not slow the others' observations
        pollers = [threading.Thread(target=self._poll, args=(n,), daemon=True) for n in self.region.db]
        for t in pollers:
            t.start()
        for t in pollers:
            t.join()

    def _poll(self, node: Node) -> None:
        while not self._halt.is_set():
            started = time.time()
            leader, recovery = self._leader(node), self._recovery(node)
            self.observations.append(Observation(started, node.name, leader, recovery))
            self._halt.wait(max(0.0, self.interval - (time.time() - started)))
        conn = self._conns.pop(node.name, None)
        if conn is not None:
            conn.close()

    def _leader(self, node: Node) -> str:
        return cluster_leader(self.region, node, 0.4)

    def _recovery(self, node: Node) -> bool | None:
        conn = self._conns.get(node.name)
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(
                    self.region.direct_dsn(node, monitor=True) + " connect_timeout=1",
                    autocommit=True,
                    prepare_threshold=None,
                )
                self._conns[node.name] = conn
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            return bool(row[0]) if row else None
        except psycopg.Error:
            if conn is not None:
                conn.close()
            self._conns.pop(node.name, None)
            return None

    def stop(self) -> None:
        self._halt.set()

    def transitions(self) -> list[Observation]:
        """Each member's observations where its view changed (the first one of each member too)."""
        last: dict[str, tuple[str, bool | None]] = {}
        out = []
        for o in sorted(self.observations, key=lambda x: x.at):
            view = (o.leader, o.in_recovery)
            if last.get(o.member) != view:
                out.append(o)
                last[o.member] = view
        return out

    def lock_moved(self, old: str, since: float) -> tuple[str, float] | None:
        """The first moment after ``since`` a member named another leader than ``old``."""
        for o in sorted(self.observations, key=lambda x: x.at):
            if o.at >= since and o.leader not in {"", "?", old}:
                return o.leader, o.at
        return None

    def left_recovery(self, member: str, since: float) -> float | None:
        for o in sorted(self.observations, key=lambda x: x.at):
            if o.at >= since and o.member == member and o.in_recovery is False:
                return o.at
        return None


def cluster_leader(region: Region, node: Node, timeout: float) -> str:
    """The leader as ``node``'s Patroni names it (the collection's own reading of /cluster:
    module_utils/patroni), '' for none or several, '?' when it does not answer."""
    patroni = library("patroni")
    try:
        return str(patroni.summarize(patroni.read_cluster(region.patroni(node), timeout))["leader"])
    except patroni.PatroniError:
        return "?"


def leader(region: Region, exclude: Sequence[str] = ()) -> str:
    """The leader in Patroni's /cluster, asked of each member until one answers."""
    for node in region.db:
        if node.name not in exclude:
            name = cluster_leader(region, node, 2.0)
            if name not in {"", "?"}:
                return name
    return ""


def cluster_view(region: Region) -> list[dict[str, Any]]:
    """Each member as /cluster lists it (name, role, state, timeline, lag), from the first that answers."""
    patroni = library("patroni")
    for node in region.db:
        try:
            cluster = patroni.read_cluster(region.patroni(node), 2.0)
        except patroni.PatroniError:
            continue
        keys = ("name", "role", "state", "timeline", "lag")
        return [{k: m.get(k) for k in keys} for m in cluster.get("members", [])]
    return []


def streaming(region: Region, leader_name: str) -> dict[str, str]:
    """application_name -> state of the leader's WAL senders ({} when the leader does not answer)."""
    try:
        with psycopg.connect(
            region.direct_dsn(region.db_node(leader_name), monitor=True),
            autocommit=True,
            prepare_threshold=None,
        ) as conn:
            rows = conn.execute(
                "SELECT application_name, state, sync_state FROM pg_stat_replication"
            ).fetchall()
    except psycopg.Error:
        return {}
    return {str(r[0]): f"{r[1]}/{r[2]}" for r in rows}


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> float | None:
    """The time ``check`` first held (wall clock), None when it did not within ``timeout``."""
    deadline = time.time() + timeout
    while True:
        if check():
            return time.time()
        if time.time() >= deadline:
            return None
        time.sleep(interval)


def synchronous_mode(region: Region) -> bool:
    """Patroni's synchronous_mode in the cluster's dynamic configuration (GET /config); on when unread."""
    for node in region.db:
        try:
            return bool(
                requests.get(f"{region.patroni(node)}/config", timeout=2).json().get("synchronous_mode")
            )
        except (requests.RequestException, ValueError):
            continue
    return True


def healthy(region: Region) -> tuple[bool, str]:
    """One leader, every other member streaming from it, a synchronous standby in synchronous mode."""
    name = leader(region)
    if not name:
        return False, "no leader"
    senders = streaming(region, name)
    others = [n.name for n in region.db if n.name != name]
    missing = [o for o in others if not senders.get(o, "").startswith("streaming/")]
    if missing:
        return False, f"leader {name}; not streaming: {', '.join(missing)} ({json.dumps(senders)})"
    if synchronous_mode(region) and not any(s.endswith("/sync") for s in senders.values()):
        return False, f"leader {name}; no synchronous standby ({json.dumps(senders)})"
    return True, f"leader {name}; {json.dumps(senders, sort_keys=True)}"


def docker_client() -> Any:
    import docker  # noqa: PLC0415 - the rig's engine, through the Docker SDK

    return docker.from_env(timeout=60)


def journal(client: Any, container: str, unit: str, since: float) -> list[tuple[float, str]]:
    """A unit's journal lines in a container since ``since``: (time, message)."""
    found = client.containers.get(container)
    code, out = found.exec_run(
        ["journalctl", "-u", unit, "--since", f"@{since - 1:.3f}", "-o", "json", "--no-pager"], demux=False
    )
    if code != 0:
        return []
    lines: list[tuple[float, str]] = []
    for raw in (out or b"").decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(raw)
            at = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
        except (ValueError, KeyError, TypeError):
            continue
        message = entry.get("MESSAGE")
        if isinstance(message, str):
            lines.append((at, message))
    return lines


def routed(client: Any, region: Region, member: str, since: float) -> dict[str, float]:
    """App node -> when its HAProxy marked ``member`` UP in the primary's backend after ``since``."""
    marker = f"postgres_primary/{member} is UP"
    out: dict[str, float] = {}
    for node in region.app:
        for at, message in journal(client, node.name, "haproxy", since):
            if at >= since and marker in message:
                out[node.name] = at
                break
    return out
