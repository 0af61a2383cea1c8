"""POS, stock and accounting contention points (odoo-protocol.md §8-9)."""

from __future__ import annotations

import re

import pytest

from tests.contract.pos_helpers import make_order, open_session, sellable_products, sync
from tests.contract.rpc import Client, RpcError

SYNC_KEYS = {
    "pos.order",
    "pos.session",
    "pos.payment",
    "pos.order.line",
    "pos.pack.operation.lot",
    "product.attribute.custom.value",
}


def _qty(client: Client, product_id: int) -> float:
    return float(
        client.kw_list("product.product", "read", [[product_id]], fields=["qty_available"])[0][
            "qty_available"
        ]
    )


def _payment_method(client: Client) -> int:
    return int(client.kw_list("pos.payment.method", "search", [[]], limit=1)[0])


def test_sync_from_ui_is_idempotent_by_uuid(admin: Client):
    config_id, session_id = open_session(admin)
    products = sellable_products(admin, 2)
    before = {p["id"]: _qty(admin, p["id"]) for p in products}
    order = make_order(
        session_id,
        config_id,
        [(products[0]["id"], 2, 1.2), (products[1]["id"], 1, 3.0)],
        payment_method_id=_payment_method(admin),
    )
    first = sync(admin, [order], config_id)
    assert set(first) == SYNC_KEYS
    assert first["pos.session"] == []
    assert first["pos.pack.operation.lot"] == []
    (record,) = first["pos.order"]
    assert record["uuid"] == order["uuid"]
    assert record["state"] == "paid"
    assert record["pos_reference"] == order["name"]
    assert record["session_id"] == session_id
    assert isinstance(record["session_id"], int)
    assert len(record["lines"]) == 2
    assert len(record["payment_ids"]) == 1
    assert len(record["picking_ids"]) == 1
    assert {line["uuid"] for line in first["pos.order.line"]} == {c[2]["uuid"] for c in order["lines"]}
    assert first["pos.payment"][0]["pos_order_id"] == record["id"]
    again = sync(admin, [order], config_id)
    assert again["pos.order"][0]["id"] == record["id"]
    assert admin.kw("pos.order", "search_count", [[["uuid", "=", order["uuid"]]]]) == 1
    after = {p["id"]: _qty(admin, p["id"]) for p in products}
    assert before[products[0]["id"]] - after[products[0]["id"]] == pytest.approx(2)
    assert before[products[1]["id"]] - after[products[1]["id"]] == pytest.approx(1)
    picking = admin.kw("stock.picking", "read", [record["picking_ids"]], fields=["state"])
    assert picking[0]["state"] == "done"


def test_draft_order_is_updated_in_place(admin: Client):
    config_id, session_id = open_session(admin)
    product = sellable_products(admin, 1)[0]
    method = _payment_method(admin)
    draft = make_order(
        session_id, config_id, [(product["id"], 1, 2.0)], state="draft", payment_method_id=method
    )
    first = sync(admin, [draft], config_id)["pos.order"][0]
    assert first["state"] == "draft"
    assert first["picking_ids"] == []
    paid = make_order(
        session_id, config_id, [(product["id"], 3, 2.0)], order_uuid=draft["uuid"], payment_method_id=method
    )
    second = sync(admin, [paid], config_id)["pos.order"][0]
    assert second["id"] == first["id"]
    assert second["state"] == "paid"
    assert second["amount_total"] == pytest.approx(6.0)
    assert admin.kw("pos.order", "search_count", [[["uuid", "=", draft["uuid"]]]]) == 1


def test_barcode_lookup(admin: Client):
    product = admin.kw(
        "product.product",
        "search_read",
        [],
        domain=[["barcode", "!=", False], ["available_in_pos", "=", True]],
        fields=["id", "barcode"],
        limit=1,
    )[0]
    _unused, session_id = open_session(admin)
    config_id = admin.kw("pos.session", "read", [[session_id]], fields=["config_id"], load=False)[0][
        "config_id"
    ]
    found = admin.kw("pos.session", "find_product_by_barcode", [session_id, product["barcode"], config_id])
    assert [p["id"] for p in found["product.product"]] == [product["id"]]
    by_domain = admin.kw(
        "product.product",
        "search_read",
        [],
        domain=[["barcode", "=", product["barcode"]]],
        fields=["id"],
        limit=1,
    )
    assert by_domain == [{"id": product["id"]}]


def test_picking_validation_moves_stock_once(admin: Client):
    product = sellable_products(admin, 1)[0]
    warehouse = admin.kw("stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1, load=False)[
        0
    ]
    customer = admin.kw("stock.location", "search", [[["usage", "=", "customer"]]], limit=1)[0]
    before = _qty(admin, product["id"])
    picking = admin.kw(
        "stock.picking",
        "create",
        [
            {
                "location_id": warehouse["lot_stock_id"],
                "location_dest_id": customer,
                "move_ids": [[0, 0, {"name": "contract", "product_id": product["id"], "product_uom_qty": 4}]],
            }
        ],
    )
    assert admin.kw("stock.picking", "button_validate", [[picking]], context={"skip_backorder": True}) is True
    assert admin.kw("stock.picking", "read", [[picking]], fields=["state"])[0]["state"] == "done"
    assert before - _qty(admin, product["id"]) == pytest.approx(4)
    empty = admin.kw(
        "stock.picking",
        "create",
        [{"location_id": warehouse["lot_stock_id"], "location_dest_id": customer, "move_ids": []}],
    )
    with pytest.raises(RpcError) as err:
        admin.kw("stock.picking", "button_validate", [[empty]])
    assert err.value.name == "odoo.exceptions.UserError"


def test_action_post_allocates_gapless_names(admin: Client):
    moves = admin.kw("account.move", "create", [[{"move_type": "out_invoice"} for _i in range(3)]])
    for move in moves:
        resp = admin.post(
            "/web/dataset/call_kw/account.move/action_post",
            {"model": "account.move", "method": "action_post", "args": [[move]], "kwargs": {}},
        )
        assert resp.json()["result"] is False
    names = [m["name"] for m in admin.kw("account.move", "read", [moves], fields=["name"])]
    numbers = [int(re.search(r"(\d+)$", n).group(1)) for n in names]  # type: ignore[union-attr]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    with pytest.raises(RpcError) as err:
        admin.kw("account.move", "action_post", [[moves[0]]])
    assert err.value.name == "odoo.exceptions.UserError"


def test_reporting_read_group(admin: Client):
    groups = admin.kw(
        "pos.order", "read_group", [], domain=[], fields=["amount_total:sum"], groupby=["config_id"]
    )
    assert groups, "needs at least one synced order"
    group = groups[0]
    assert isinstance(group["config_id"], list)
    assert group["config_id_count"] >= 1
    assert isinstance(group["amount_total"], float)
    assert "__domain" in group
    by_day = admin.kw(
        "pos.order.line",
        "read_group",
        [],
        domain=[],
        fields=["qty:sum"],
        groupby=["product_id", "date_order:day"],
        lazy=False,
    )
    assert by_day
    assert "__count" in by_day[0]
    assert isinstance(by_day[0]["qty"], float)
