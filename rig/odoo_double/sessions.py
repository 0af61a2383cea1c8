"""Session stores: Odoo's FilesystemSessionStore layout, or Redis (optionally via Sentinel).

Filesystem: ``<data_dir>/sessions/<sid[:2]>/<sid>`` holding JSON, per node as in
Odoo. Redis: camptocamp session_redis keys ``session[:<prefix>]:<sid>`` with
SET + EXPIRE, so several app nodes share their sessions.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from time import monotonic, sleep
from typing import Any, Protocol, TypeVar

import redis
from redis.sentinel import Sentinel

from .config import Config

T = TypeVar("T")

SID_RE = re.compile(r"^[a-zA-Z0-9_-]{84}$")


def generate_sid() -> str:
    """84 URL-safe base64 characters, like odoo.http.generate_key."""
    return base64.urlsafe_b64encode(os.urandom(63)).decode()


class SessionStore(Protocol):
    def get(self, sid: str) -> dict[str, Any] | None: ...

    def save(self, sid: str, data: dict[str, Any]) -> None: ...

    def delete(self, sid: str) -> None: ...


class FilesystemSessionStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.mkdir(parents=True, exist_ok=True)

    def _file(self, sid: str) -> Path:
        return self.path / sid[:2] / sid

    def get(self, sid: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._file(sid).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, sid: str, data: dict[str, Any]) -> None:
        target = self._file(sid)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, target)

    def delete(self, sid: str) -> None:
        self._file(sid).unlink(missing_ok=True)


# Through a Redis failover (the primary killed, hung, or handed over by SENTINEL FAILOVER) a session
# call waits for the new primary instead of failing the request. redis-py's master_for connections have
# no retry of their own (4.3, the double's image, as 8.1) and ask Sentinel for the primary only when one
# is opened; so on an error that a failover explains, the pool's idle connections are closed and the
# call is tried again on a fresh connection after a short pause, until FAILOVER_WAIT seconds have passed.
# Those errors: a dead or hung primary (ConnectionError, TimeoutError; redis-py turns a demoted
# primary's READONLY into a ConnectionError), and NOREPLICAS (min-replicas-to-write): from the old
# primary once its replicas follow the new one, which without a new connection would go on until
# Sentinel demotes it, and from the new primary until its replica has reported in. Anything else fails
# at once. SOCKET_TIMEOUT bounds what a hung primary holds a call (a session read or write takes
# milliseconds on the platform network). A fixed Redis host is not retried: it cannot fail over.
# Measured with tools/bench_redis_failover.py (rig/odoo_double/README.md).
FAILOVER_WAIT = 10.0
SOCKET_TIMEOUT = 0.5
RETRY_PAUSE = (0.05, 0.1)  # the first pause and the longest, doubling in between


def transient(exc: redis.RedisError) -> bool:
    """Whether a session call that failed with ``exc`` may succeed once Sentinel has failed over."""
    if isinstance(exc, redis.AuthenticationError):  # a ConnectionError too, but a wrong password stays wrong
        return False
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | redis.ReadOnlyError):
        return True
    return isinstance(exc, redis.ResponseError) and str(exc).startswith("NOREPLICAS")


def sentinel_client(cfg: Config, socket_timeout: float = SOCKET_TIMEOUT) -> redis.Redis:
    """The primary's client through Sentinel, as camptocamp session_redis builds it (one Sentinel
    address, its password also Sentinel's), with socket timeouts of ``socket_timeout`` seconds."""
    timeouts = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout}
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        [(cfg.session_redis_sentinel_host, cfg.session_redis_sentinel_port)],
        password=cfg.session_redis_password,
        sentinel_kwargs={"password": cfg.session_redis_password, **timeouts},
        **timeouts,
    )
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        cfg.session_redis_sentinel_master_name or "mymaster"
    )
    return client


class RedisSessionStore:
    def __init__(self, cfg: Config, client: redis.Redis | None = None) -> None:
        self.expiration = cfg.session_redis_expiration
        self.expiration_anonymous = cfg.session_redis_expiration_anonymous
        self.prefix = f"session:{cfg.session_redis_prefix}:" if cfg.session_redis_prefix else "session:"
        sentinel = bool(cfg.session_redis_sentinel_host)
        self.failover_wait = FAILOVER_WAIT if sentinel else 0.0
        timeouts: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 5}
        self.client: redis.Redis
        if client is not None:
            self.client = client
        elif sentinel:
            self.client = sentinel_client(cfg)
        elif cfg.session_redis_url:
            self.client = redis.Redis.from_url(cfg.session_redis_url, **timeouts)
        else:
            self.client = redis.Redis(
                host=cfg.session_redis_host,
                port=cfg.session_redis_port,
                password=cfg.session_redis_password,
                **timeouts,
            )

    def _call(self, operation: Callable[[], T]) -> T:
        """``operation``, tried again through a failover (see FAILOVER_WAIT)."""
        deadline = monotonic() + self.failover_wait
        pause = RETRY_PAUSE[0]
        while True:
            try:
                return operation()
            except redis.RedisError as exc:
                if not transient(exc) or monotonic() + pause > deadline:
                    raise
            # the idle connections may lead to the old primary too: the next one asks Sentinel
            self.client.connection_pool.disconnect(inuse_connections=False)
            sleep(pause)
            pause = min(pause * 2, RETRY_PAUSE[1])

    def get(self, sid: str) -> dict[str, Any] | None:
        raw = self._call(lambda: self.client.get(self.prefix + sid))
        if raw is None:
            return None
        data = json.loads(raw)
        return data if isinstance(data, dict) else None

    def save(self, sid: str, data: dict[str, Any]) -> None:
        ttl = self.expiration if data.get("uid") else self.expiration_anonymous
        payload = json.dumps(data)
        self._call(lambda: self.client.set(self.prefix + sid, payload, ex=ttl))

    def delete(self, sid: str) -> None:
        self._call(lambda: self.client.delete(self.prefix + sid))


def make_store(cfg: Config) -> SessionStore:
    if cfg.session_redis:
        return RedisSessionStore(cfg)
    return FilesystemSessionStore(cfg.sessions_dir)
