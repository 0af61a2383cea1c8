"""Building POS orders the way the Odoo 18 POS client sends them (odoo-protocol.md §8)."""

from __future__ import annotations

import uuid
from typing import Any

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


def sellable_products(client: Client, count: int) -> list[dict[str, Any]]:
    return client.kw_list(
        "product.product",
        "search_read",
        [],
        domain=[["available_in_pos", "=", True], ["sale_ok", "=", True]],
        fields=["id", "display_name", "lst_price"],
        limit=count,
        order="id asc",
    )


def make_order(  # noqa: PLR0917
    session_id: int,
    config_id: int,
    lines: list[tuple[int, float, float]],
    state: str = "paid",
    order_uuid: str | None = None,
    payment_method_id: int = 1,
) -> dict[str, Any]:
    order_uuid = order_uuid or str(uuid.uuid4())
    total = round(sum(qty * price for _, qty, price in lines), 2)
    return {
        "uuid": order_uuid,
        "name": f"Order {order_uuid}",
        "session_id": session_id,
        "config_id": config_id,
        "user_id": False,
        "partner_id": False,
        "pricelist_id": False,
        "fiscal_position_id": False,
        "sequence_number": 1,
        "date_order": "2026-11-22 05:55:55",
        "state": state,
        "amount_total": total,
        "amount_tax": 0.0,
        "amount_paid": total,
        "amount_return": 0,
        "to_invoice": False,
        "last_order_preparation_change": "{}",
        "access_token": str(uuid.uuid4()),
        "lines": [
            [
                0,
                0,
                {
                    "uuid": str(uuid.uuid4()),
                    "product_id": pid,
                    "full_product_name": f"P{pid}",
                    "qty": qty,
                    "price_unit": price,
                    "discount": 0,
                    "price_subtotal": round(qty * price, 2),
                    "price_subtotal_incl": round(qty * price, 2),
                    "tax_ids": [],
                    "pack_lot_ids": [],
                    "customer_note": "",
                },
            ]
            for pid, qty, price in lines
        ],
        "payment_ids": [
            [
                0,
                0,
                {
                    "uuid": str(uuid.uuid4()),
                    "name": "2026-11-22 05:55:55",
                    "payment_method_id": payment_method_id,
                    "amount": total,
                },
            ]
        ],
    }


def sync(client: Client, orders: list[dict[str, Any]], config_id: int) -> dict[str, Any]:
    result: dict[str, Any] = client.kw(
        "pos.order",
        "sync_from_ui",
        [orders],
        context={"lang": "en_US", "config_id": config_id, "login_number": 0},
    )
    return result
