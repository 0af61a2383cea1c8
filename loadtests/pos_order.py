"""A POS order the way the Odoo 18 POS client sends it to ``pos.order.sync_from_ui``.

One builder for the load harness's cashier and the contract tests
(odoo-protocol.md §8): the order, line and payment uuids are the client
keys, ``tax_ids`` uses the ``[6, 0, ids]`` command, and the paid amount is the
sum of the rounded line subtotals. ``receipt`` prints an order's receipt, the
file a cashier attaches to it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    qty: float
    price_unit: float
    name: str = ""


def now_str() -> str:
    """Odoo's datetime format, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _uuid4() -> str:
    return str(uuid.uuid4())


def pos_order(
    order_uuid: str,
    session_id: int | None,
    config_id: int | None,
    lines: Sequence[OrderLine],
    payment_method_id: int | None,
    *,
    user_id: int | bool | None = False,
    sequence_number: int = 1,
    state: str = "paid",
    date_order: str = "",
    new_uuid: Callable[[], str] = _uuid4,
) -> dict[str, Any]:
    """The order dict; ``new_uuid`` makes the line and payment uuids (the harness puts its run id in them)."""
    stamp = date_order or now_str()
    body = []
    total = 0.0
    for line in lines:
        subtotal = round(line.qty * line.price_unit, 2)
        total += subtotal
        body.append(
            [
                0,
                0,
                {
                    "uuid": new_uuid(),
                    "product_id": line.product_id,
                    "full_product_name": line.name or f"P{line.product_id}",
                    "qty": line.qty,
                    "price_unit": line.price_unit,
                    "discount": 0,
                    "price_subtotal": subtotal,
                    "price_subtotal_incl": subtotal,
                    "tax_ids": [[6, 0, []]],
                    "pack_lot_ids": [],
                    "customer_note": "",
                },
            ]
        )
    total = round(total, 2)
    payment = {"uuid": new_uuid(), "name": stamp, "payment_method_id": payment_method_id, "amount": total}
    return {
        "uuid": order_uuid,
        "name": f"Order {order_uuid}",
        "access_token": secrets.token_hex(16),
        "session_id": session_id,
        "config_id": config_id,
        "user_id": user_id,
        "partner_id": False,
        "pricelist_id": False,
        "fiscal_position_id": False,
        "sequence_number": sequence_number,
        "date_order": stamp,
        "state": state,
        "amount_total": total,
        "amount_tax": 0.0,
        "amount_paid": total,
        "amount_return": 0,
        "to_invoice": False,
        "last_order_preparation_change": "{}",
        "lines": body,
        "payment_ids": [[0, 0, payment]],
    }


RECEIPT_FILL = b"-" * 63 + b"\n"


def receipt(order: dict[str, Any], key: str, size: int) -> bytes:
    """The order's receipt as text, ``size`` bytes (more when its lines need more), headed by ``key``.

    The key makes every receipt's content unique: Odoo stores files by their
    SHA-1, so two receipts never share a file."""
    lines = [key, f"{order['name']}  {order['uuid']}", f"Date {order['date_order']} UTC"]
    for _zero, _id, line in order["lines"]:
        qty, name, price = line["qty"], line["full_product_name"], line["price_unit"]
        lines.append(f"{qty:g} x {name} @ {price:.2f} = {line['price_subtotal']:.2f}")
    lines += [f"Total {order['amount_total']:.2f}", f"Paid {order['amount_paid']:.2f}", ""]
    text = "\n".join(lines).encode()
    if len(text) >= size:
        return text
    fill = RECEIPT_FILL * ((size - len(text)) // len(RECEIPT_FILL) + 1)
    return text + fill[: size - len(text)]
