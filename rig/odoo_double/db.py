"""One PostgreSQL connection per worker process, transactions and Odoo's retry loop.

Like odoo/service/model.py ``retrying``: 40001, 55P03 and 40P01 are retried
(at most 5 tries, rolling back and sleeping ``uniform(0, 2**try)`` seconds,
scaled by ``double_retry_backoff``); an IntegrityError becomes a
ValidationError worded like Odoo's; any other error is re-raised. Transactions
are REPEATABLE READ, as Odoo's cursors: two requests writing one row
(a POS session, a quant, a draft order) serialise, the later one fails with
40001 and is retried. A broken connection is dropped
so the next request reconnects: the double resumes by itself when PostgreSQL
comes back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pgerrors
from psycopg.rows import dict_row

from .config import Config
from .errors import ValidationError

_logger = logging.getLogger(__name__)

MAX_TRIES_ON_CONCURRENCY_FAILURE = 5
# Odoo 18's ConnectionPool.borrow (odoo/sql_db.py): a pooled connection idle for longer than
# this is closed, and one lent again is reset first (psycopg2's reset: a round trip); a
# connection that fails the reset (its server side is gone: a proxy's idle timeout, a
# terminated backend) is dropped and a new one made, so no request sees it.
MAX_IDLE_TIMEOUT = 60 * 10
RETRIED = (pgerrors.SerializationFailure, pgerrors.LockNotAvailable, pgerrors.DeadlockDetected)

Cursor = psycopg.Cursor[dict[str, Any]]
T = TypeVar("T")


@dataclass(frozen=True)
class Labels:
    """How a table and column read in Odoo's messages: ``Transfer (stock.picking)``."""

    model: str
    description: str
    field: str
    string: str


#: table, column → Labels (the model registry provides it; "Unknown" otherwise, as in Odoo).
Describe = Callable[[str, str | None], Labels]

#: Messages of the SQL constraints the double declares (Odoo's _sql_constraints).
CONSTRAINT_MESSAGES = {"res_partner_check_name": "Contacts require a name"}


def unknown_labels(table: str, column: str | None) -> Labels:
    return Labels("unknown", "Unknown", "unknown", "Unknown")


def as_validation_error(exc: pgerrors.IntegrityError, describe: Describe = unknown_labels) -> ValidationError:
    """Odoo's _as_validation_error: a constraint violation becomes a ValidationError in Odoo's words."""
    diag = exc.diag
    labels = describe(diag.table_name or "", diag.column_name)
    if isinstance(exc, pgerrors.NotNullViolation):
        return ValidationError(
            "The operation cannot be completed:\n"
            "- Create/update: a mandatory field is not set.\n"
            "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
            f"Model: {labels.description} ({labels.model})\n"
            f"Field: {labels.string} ({labels.field})\n"
        )
    if isinstance(exc, pgerrors.ForeignKeyViolation):
        return ValidationError(
            "The operation cannot be completed: another model requires the record being deleted. "
            "If possible, archive it instead.\n\n"
            f"Model: {labels.description} ({labels.model})\n"
            f"Constraint: {diag.constraint_name}\n"
        )
    if diag.constraint_name in CONSTRAINT_MESSAGES:
        return ValidationError(
            f"The operation cannot be completed: {CONSTRAINT_MESSAGES[diag.constraint_name]}"
        )
    return ValidationError(f"The operation cannot be completed: {exc.args[0] if exc.args else exc}")


class Database:
    """A small per-process pool (one connection per thread), like Odoo's ConnectionPool."""

    def __init__(self, cfg: Config, dbname: str, describe: Describe = unknown_labels) -> None:
        self.cfg = cfg
        self.dbname = dbname
        self.describe = describe
        self._local = threading.local()

    @property
    def connect_timeout(self) -> int:
        # Bounded so that a dead database answers well within limit_time_real.
        return max(1, min(10, self.cfg.limit_time_real // 4))

    def connect(self, dbname: str | None = None) -> psycopg.Connection[dict[str, Any]]:
        conn = psycopg.connect(
            **self.cfg.dsn_kwargs(dbname or self.dbname),
            connect_timeout=self.connect_timeout,
            row_factory=dict_row,
            # Keepalives notice a vanished server instead of waiting forever on a read.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
        )
        # Odoo's cursors are REPEATABLE READ: concurrent writers of one row get 40001, then retry.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return conn

    def _connection(self) -> psycopg.Connection[dict[str, Any]]:
        conn: psycopg.Connection[dict[str, Any]] | None = getattr(self._local, "conn", None)
        if conn is not None and not (conn.closed or conn.broken):
            if time.monotonic() - getattr(self._local, "last_used", 0.0) > MAX_IDLE_TIMEOUT:
                self.discard()
                conn = None
            else:
                try:
                    conn.autocommit = True
                    conn.execute("RESET ALL")
                    conn.autocommit = False
                except psycopg.OperationalError:
                    _logger.info("a pooled connection failed its reset: dropped, connecting again")
                    self.discard()
                    conn = None
        if conn is None or conn.closed or conn.broken:
            conn = self.connect()
            self._local.conn = conn
        return conn

    def discard(self) -> None:
        conn: psycopg.Connection[dict[str, Any]] | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with suppress(psycopg.Error):
                conn.close()

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A transaction: commit on success, roll back on error."""
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cr:
                yield cr
        except psycopg.OperationalError:
            if conn.broken or conn.closed:
                self.discard()
            raise
        finally:
            self._local.last_used = time.monotonic()

    def retrying(self, func: Callable[[Cursor], T], attempt_hook: Callable[[int], None] | None = None) -> T:
        """Run func in a transaction, retrying concurrency failures like Odoo."""
        for tryno in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            tryleft = MAX_TRIES_ON_CONCURRENCY_FAILURE - tryno
            if attempt_hook is not None:
                attempt_hook(tryno)
            try:
                with self.cursor() as cr:
                    return func(cr)
            except pgerrors.IntegrityError as exc:
                raise as_validation_error(exc, self.describe) from exc
            except RETRIED as exc:
                if not tryleft:
                    _logger.info("%s, maximum number of tries reached!", exc.sqlstate)
                    raise
                wait_time = random.uniform(0.0, 2**tryno) * self.cfg.double_retry_backoff
                _logger.info("%s, %s tries left, try again in %.04f sec...", exc.sqlstate, tryleft, wait_time)
                time.sleep(wait_time)
        raise RuntimeError("unreachable")


def server_alive(cfg: Config) -> bool:
    """/web/health?db_server_status=1: open a cursor on the ``postgres`` database."""
    try:
        with (
            psycopg.connect(
                **cfg.dsn_kwargs("postgres"), connect_timeout=max(1, min(5, cfg.limit_time_real // 4))
            ) as conn,
            conn.cursor() as cr,
        ):
            cr.execute("SELECT 1")
            return True
    except psycopg.Error:
        return False


def list_databases(cfg: Config) -> list[str]:
    with (
        psycopg.connect(**cfg.dsn_kwargs("postgres"), connect_timeout=5) as conn,
        conn.cursor() as cr,
    ):
        cr.execute(
            "SELECT datname FROM pg_database WHERE datistemplate = false "
            "AND datname NOT IN ('postgres') ORDER BY datname"
        )
        return [row[0] for row in cr.fetchall()]
