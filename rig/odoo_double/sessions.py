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
from pathlib import Path
from typing import Any, Protocol

import redis
from redis.sentinel import Sentinel

from .config import Config

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


class RedisSessionStore:
    def __init__(self, cfg: Config) -> None:
        self.expiration = cfg.session_redis_expiration
        self.expiration_anonymous = cfg.session_redis_expiration_anonymous
        self.prefix = f"session:{cfg.session_redis_prefix}:" if cfg.session_redis_prefix else "session:"
        timeouts: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 5}
        self.client: redis.Redis
        if cfg.session_redis_sentinel_host:
            sentinel = Sentinel(  # type: ignore[no-untyped-call]
                [(cfg.session_redis_sentinel_host, cfg.session_redis_sentinel_port)],
                password=cfg.session_redis_password,
                sentinel_kwargs={"password": cfg.session_redis_password, **timeouts},
                **timeouts,
            )
            self.client = sentinel.master_for(  # type: ignore[no-untyped-call]
                cfg.session_redis_sentinel_master_name or "mymaster"
            )
        elif cfg.session_redis_url:
            self.client = redis.Redis.from_url(cfg.session_redis_url, **timeouts)
        else:
            self.client = redis.Redis(
                host=cfg.session_redis_host,
                port=cfg.session_redis_port,
                password=cfg.session_redis_password,
                **timeouts,
            )

    def get(self, sid: str) -> dict[str, Any] | None:
        raw = self.client.get(self.prefix + sid)
        if raw is None:
            return None
        data = json.loads(raw)
        return data if isinstance(data, dict) else None

    def save(self, sid: str, data: dict[str, Any]) -> None:
        ttl = self.expiration if data.get("uid") else self.expiration_anonymous
        self.client.set(self.prefix + sid, json.dumps(data), ex=ttl)

    def delete(self, sid: str) -> None:
        self.client.delete(self.prefix + sid)


def make_store(cfg: Config) -> SessionStore:
    if cfg.session_redis:
        return RedisSessionStore(cfg)
    return FilesystemSessionStore(cfg.sessions_dir)
