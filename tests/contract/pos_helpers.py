"""Building POS orders the way the Odoo 18 POS client sends them (odoo-protocol.md §8)."""

from __future__ import annotations

import uuid
from typing import Any

from loadtests.pos_order import OrderLine, pos_order
from tests.contract.rpc import Client


def open_session(client: Client) -> tuple[int, int]:
    """(config_id, session_id) of an opened POS session, opening one if needed."""
    config = client.kw("pos.config", "search_read", [], fields=["id"], limit=1, order="id asc")[0]["id"]
    sessions = client.kw(
        "pos.session",
        "search_read",
        [],
        domain=[["config_id", "=", config], ["state", "=", "opened"]],
        fields=["id"],
    )
    if not sessions:
        client.kw("pos.config", "open_ui", [[config]])
        pending = client.kw(
            "pos.session",
            "search_read",
            [],
            domain=[["config_id", "=", config], ["state", "!=", "closed"]],
            fields=["id"],
        )
        client.kw("pos.session", "set_opening_control", [[pending[0]["id"]], 0, ""])
        sessions = pending
    return config, sessions[0]["id"]


def payment_method(client: Client, session_id: int, kind: str = "bank") -> int:
    """A payment method of the session's till, of ``kind`` (cash, bank)."""
    session = client.kw_list("pos.session", "read", [[session_id]], fields=["payment_method_ids"])[0]
    # type is computed without a search method in Odoo 18: a domain on it is ignored, so filter here
    rows = client.kw_list("pos.payment.method", "read", [session["payment_method_ids"]], fields=["type"])
    found = sorted(r["id"] for r in rows if r["type"] == kind)
    assert found, f"the till of session {session_id} has no {kind} payment method"
    return int(found[0])


def make_order(  # noqa: PLR0917
    session_id: int,
    config_id: int,
    lines: list[tuple[int, float, float]],
    state: str = "paid",
    order_uuid: str | None = None,
    payment_method_id: int = 1,
) -> dict[str, Any]:
    """The harness's order builder (loadtests/pos_order.py) with plain uuid4 keys and a fixed date."""
    return pos_order(
        order_uuid or str(uuid.uuid4()),
        session_id,
        config_id,
        [OrderLine(pid, qty, price) for pid, qty, price in lines],
        payment_method_id,
        state=state,
        date_order="2026-11-22 05:55:55",
    )


def sync(client: Client, orders: list[dict[str, Any]], config_id: int) -> dict[str, Any]:
    result: dict[str, Any] = client.kw(
        "pos.order",
        "sync_from_ui",
        [orders],
        context={"lang": "en_US", "config_id": config_id, "login_number": 0},
    )
    return result
