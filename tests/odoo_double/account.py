"""account.move posting with a gapless sequence allocated under a row lock.

Odoo's ``no_gap`` ir.sequence takes ``SELECT ... FOR UPDATE NOWAIT`` on the
sequence row: two concurrent posts get 55P03 (LockNotAvailable), which the
retry loop absorbs. Names never skip a number because the increment commits
or rolls back with the move.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import UserError
from .orm import Env, Model, _ids, create


def next_gapless(env: Env, sequence_id: int) -> str:
    env.cr.execute(
        "SELECT prefix, padding, number_next FROM ir_sequence WHERE id = %s FOR UPDATE NOWAIT", (sequence_id,)
    )
    row = env.cr.fetchone()
    if row is None:
        raise UserError(f"Sequence {sequence_id} does not exist.")
    env.cr.execute("UPDATE ir_sequence SET number_next = number_next + 1 WHERE id = %s", (sequence_id,))
    prefix = str(row["prefix"]).replace("%(year)s", str(dt.datetime.now(dt.UTC).year))
    return f"{prefix}{row['number_next']:0{row['padding']}d}"


def post_moves(env: Env, move_ids: list[int]) -> None:
    env.cr.execute(
        "SELECT m.id, m.name, m.state, j.sequence_id FROM account_move m "
        "JOIN account_journal j ON j.id = m.journal_id WHERE m.id = ANY(%s) ORDER BY m.id FOR UPDATE OF m",
        (sorted(set(move_ids)),),
    )
    moves = env.cr.fetchall()
    if len(moves) != len(set(move_ids)):
        raise UserError("Record does not exist or has been deleted.")
    for move in moves:
        if move["state"] == "posted":
            raise UserError(f"The entry {move['name']} (id {move['id']}) is already posted.")
        if move["state"] == "cancel":
            raise UserError("You cannot post a cancelled entry.")
    for move in moves:
        name = next_gapless(env, move["sequence_id"])
        env.cr.execute(
            "UPDATE account_move SET name = %s, state = 'posted' WHERE id = %s", (name, move["id"])
        )


def action_post(env: Env, model: Model, ids: Any) -> bool:
    post_moves(env, _ids(ids))
    return False


def journal_id(env: Env, code: str) -> int:
    env.cr.execute("SELECT id FROM account_journal WHERE code = %s", (code,))
    row = env.cr.fetchone()
    if row is None:
        raise UserError(f"No journal {code!r}: seed the database first.")
    return int(row["id"])


def create_move(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, dict)
    values = [vals_list] if single else list(vals_list)
    ids = []
    for given in values:
        vals = dict(given)
        if not vals.get("journal_id"):
            code = "INV" if str(vals.get("move_type", "entry")).startswith("out_") else "MISC"
            vals["journal_id"] = journal_id(env, code)
        vals.setdefault("state", "draft")
        vals.setdefault("name", "/")
        ids.append(create(env, model, vals))
    return ids[0] if single else ids
