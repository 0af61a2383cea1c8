"""Records the contract tests work with, found on the target (real Odoo demo data or the double's seed).

Nothing here assumes ids or a pristine database: tests find a warehouse, its
operation types and products by their properties, bring the stock they need
with a receipt, and measure deltas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.contract.rpc import Client

#: origin of the transfers the contract tests create, so a later run can cancel what an earlier left open
ORIGIN = "contract-test"


@dataclass(frozen=True)
class Warehouse:
    id: int
    stock: int  # lot_stock_id
    incoming: int  # in_type_id
    outgoing: int  # out_type_id
    internal: int  # int_type_id
    pick: int  # pick_type_id
    pos: int  # pos_type_id


def m2o_id(value: Any) -> int:
    return int(value[0]) if isinstance(value, list) else int(value)


def warehouse(client: Client) -> Warehouse:
    row = client.kw_list(
        "stock.warehouse",
        "search_read",
        [],
        fields=["lot_stock_id", "in_type_id", "out_type_id", "int_type_id", "pick_type_id", "pos_type_id"],
        order="id asc",
        limit=1,
        load=False,
    )[0]
    return Warehouse(
        row["id"],
        row["lot_stock_id"],
        row["in_type_id"],
        row["out_type_id"],
        row["int_type_id"],
        row["pick_type_id"],
        row["pos_type_id"],
    )


def products(client: Client, domain: list[Any], count: int = 1) -> list[dict[str, Any]]:
    """Products sold in the POS matching ``domain``, by id."""
    found = client.kw_list(
        "product.product",
        "search_read",
        [],
        domain=[["available_in_pos", "=", True], ["sale_ok", "=", True], *domain],
        fields=["id", "display_name", "lst_price", "type", "is_storable", "barcode"],
        limit=count,
        order="id asc",
    )
    assert len(found) == count, f"the target has fewer than {count} POS products matching {domain}"
    return found


def storable(client: Client, count: int = 1) -> list[dict[str, Any]]:
    return products(client, [["type", "=", "consu"], ["is_storable", "=", True]], count)


def untracked_goods(client: Client) -> dict[str, Any]:
    return products(client, [["type", "=", "consu"], ["is_storable", "=", False]])[0]


def service(client: Client) -> dict[str, Any]:
    return products(client, [["type", "=", "service"]])[0]


def customer(client: Client) -> int:
    return int(client.kw_list("res.partner", "search", [[["customer_rank", ">", 0]]], limit=1)[0])


def qty(client: Client, product_id: int, location: int | None = None, field: str = "qty_available") -> float:
    context = {"location": location} if location else {}
    rows = client.kw_list("product.product", "read", [[product_id]], fields=[field], context=context)
    return float(rows[0][field])


def cancel_leftovers(client: Client) -> None:
    """Cancel the open transfers an earlier run of the suite left (they would hold reservations)."""
    open_ids = client.kw_list(
        "stock.picking",
        "search",
        [[["origin", "=", ORIGIN], ["state", "not in", ["done", "cancel"]]]],
    )
    if open_ids:
        client.kw("stock.picking", "action_cancel", [open_ids])


def transfer(client: Client, type_id: int, moves: list[tuple[int, float]], **values: Any) -> int:
    picking = client.kw(
        "stock.picking",
        "create",
        [
            {
                "picking_type_id": type_id,
                "origin": ORIGIN,
                **values,
                "move_ids": [
                    [0, 0, {"name": ORIGIN, "product_id": product, "product_uom_qty": quantity}]
                    for product, quantity in moves
                ],
            }
        ],
    )
    return int(picking)


def receive(client: Client, wh: Warehouse, product_id: int, quantity: float) -> None:
    """Stock arrives in the warehouse: a receipt, validated."""
    receipt = transfer(client, wh.incoming, [(product_id, quantity)])
    assert client.kw("stock.picking", "button_validate", [[receipt]]) is True


def read_one(client: Client, model: str, record_id: int, fields: list[str]) -> dict[str, Any]:
    rows = client.kw_list(model, "read", [[record_id]], fields=fields)
    assert rows, f"{model}({record_id}) does not exist"
    return dict(rows[0])


def moves_of(client: Client, picking_id: int) -> list[dict[str, Any]]:
    ids = read_one(client, "stock.picking", picking_id, ["move_ids"])["move_ids"]
    return client.kw_list(
        "stock.move", "read", [ids], fields=["state", "product_uom_qty", "quantity", "picked", "product_id"]
    )
