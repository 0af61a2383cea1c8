"""ir.sequence: ``standard`` sequences draw from a PostgreSQL sequence, ``no_gap`` ones lock their row.

Like Odoo: a standard sequence (``ir_sequence_<id>``) never blocks and may
leave holes; a no_gap one takes ``SELECT ... FOR UPDATE NOWAIT`` on its row,
so two concurrent users get 55P03 (LockNotAvailable), which the retry loop
absorbs, and numbers never skip because the increment commits or rolls back
with the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from .errors import UserError
from .orm import Env


def pg_sequence(sequence_id: int) -> str:
    return f"ir_sequence_{sequence_id:03d}"


def create_sequence(  # noqa: PLR0917
    cr: psycopg.Cursor[Any], name: str, code: str | None, prefix: str, padding: int, implementation: str
) -> int:
    """A new ir.sequence (from a plain seed cursor); its PostgreSQL sequence when standard."""
    cr.execute(
        "INSERT INTO ir_sequence (name, code, prefix, padding, implementation) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (name, code, prefix, padding, implementation),
    )
    row = cr.fetchone()
    assert row is not None
    sequence_id = int(row[0])
    if implementation == "standard":
        cr.execute(f"CREATE SEQUENCE IF NOT EXISTS {pg_sequence(sequence_id)}".encode())
    return sequence_id


def _interpolate(prefix: str) -> str:
    now = dt.datetime.now(dt.UTC)
    return prefix.replace("%(year)s", f"{now.year}").replace("%(month)s", f"{now.month:02d}")


def next_number(env: Env, sequence_id: int) -> str:
    row = env.one(
        "SELECT prefix, padding, number_next, implementation FROM ir_sequence WHERE id = %s", (sequence_id,)
    )
    if row is None:
        raise UserError(f"Sequence {sequence_id} does not exist.")
    if row["implementation"] == "no_gap":
        env.cr.execute(b"SELECT number_next FROM ir_sequence WHERE id = %s FOR UPDATE NOWAIT", (sequence_id,))
        locked = env.cr.fetchone()
        number = int(locked["number_next"]) if locked else 1
        env.cr.execute(b"UPDATE ir_sequence SET number_next = number_next + 1 WHERE id = %s", (sequence_id,))
    else:
        number = int(env.value(f"SELECT nextval('{pg_sequence(sequence_id)}') AS n"))
    return f"{_interpolate(str(row['prefix']))}{number:0{row['padding']}d}"
