"""Users, passwords (pbkdf2-sha512 like Odoo), the login cooldown and session tokens."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any

from passlib.context import CryptContext

from .db import Cursor
from .errors import AccessDenied

COOLDOWN_MESSAGE = "Too many login failures, please wait a bit before trying again."


def crypt_context(rounds: int = 600_000) -> CryptContext:
    return CryptContext(["pbkdf2_sha512", "plaintext"], deprecated=["auto"], pbkdf2_sha512__rounds=rounds)


_VERIFY = crypt_context()


def hash_password(password: str, rounds: int) -> str:
    return str(crypt_context(rounds).hash(password))


def verify_password(password: str, hashed: str | None) -> bool:
    if not hashed or not password:
        return False
    try:
        return bool(_VERIFY.verify(password, hashed))
    except ValueError:
        return False


def icp(cr: Cursor, key: str, default: str) -> str:
    cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (key,))
    row = cr.fetchone()
    return str(row["value"]) if row else default


class Cooldown:
    """res.users._on_login_cooldown: failures counted per REMOTE_ADDR in this process."""

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def check(self, source: str, after: int, duration: int) -> None:
        with self._lock:
            failures, previous = self._failures.get(source, (0, 0.0))
        if after > 0 and failures >= after and time.monotonic() - previous < duration:
            raise AccessDenied(COOLDOWN_MESSAGE)

    def failed(self, source: str) -> None:
        with self._lock:
            failures, _unused = self._failures.get(source, (0, 0.0))
            self._failures[source] = (failures + 1, time.monotonic())

    def succeeded(self, source: str) -> None:
        with self._lock:
            self._failures.pop(source, None)


class Authenticator:
    def __init__(self) -> None:
        self.cooldown = Cooldown()
        self._uid_cache: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()

    def login(self, cr: Cursor, dbname: str, login: str, password: str, source: str) -> int:
        """Return the uid or raise AccessDenied (plain or cooldown)."""
        after = int(icp(cr, "base.login_cooldown_after", "5"))
        duration = int(icp(cr, "base.login_cooldown_duration", "60"))
        self.cooldown.check(source, after, duration)
        cr.execute("SELECT id, password FROM res_users WHERE login = %s AND active", (login or "",))
        row = cr.fetchone()
        if row is None or not verify_password(password, row["password"]):
            self.cooldown.failed(source)
            raise AccessDenied()
        self.cooldown.succeeded(source)
        with self._lock:
            self._uid_cache[(dbname, row["id"])] = password
        return int(row["id"])

    def check(self, cr: Cursor, dbname: str, uid: Any, password: Any) -> int:
        """res.users.check: password (or cached) for execute_kw; AccessDenied if bad."""
        if not isinstance(uid, int) or isinstance(uid, bool) or not isinstance(password, str) or not password:
            raise AccessDenied()
        with self._lock:
            cached = self._uid_cache.get((dbname, uid))
        if cached is not None and hmac.compare_digest(cached, password):
            cr.execute("SELECT 1 FROM res_users WHERE id = %s AND active", (uid,))
            if cr.fetchone():
                return uid
        cr.execute("SELECT password FROM res_users WHERE id = %s AND active", (uid,))
        row = cr.fetchone()
        if row is None or not verify_password(password, row["password"]):
            raise AccessDenied()
        with self._lock:
            self._uid_cache[(dbname, uid)] = password
        return uid


def session_token(cr: Cursor, uid: int) -> str | None:
    """A token bound to the user's password hash: changing it revokes sessions."""
    cr.execute("SELECT password, active FROM res_users WHERE id = %s", (uid,))
    row = cr.fetchone()
    if row is None or not row["active"]:
        return None
    secret = icp(cr, "database.secret", "")
    key = f"{secret}:{uid}".encode()
    return hmac.new(key, (row["password"] or "").encode(), hashlib.sha256).hexdigest()
