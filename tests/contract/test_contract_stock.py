"""Inventory as Odoo 18 runs it: operation types, transfers, reservation, validation, backorders.

Every test runs against both targets; the refusals are proven with the same
error type and message on a real Odoo and on the double.
"""

from __future__ import annotations

import uuid

import pytest

from tests.contract.discover import (
    cancel_leftovers,
    moves_of,
    qty,
    read_one,
    receive,
    storable,
    transfer,
    untracked_goods,
    warehouse,
)
from tests.contract.rpc import Client, RpcError

MANDATORY = (
    "The operation cannot be completed:\n"
    "- Create/update: a mandatory field is not set.\n"
    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
)
NO_OPERATION_TYPE = MANDATORY + "Model: Transfer (stock.picking)\nField: Operation Type (picking_type_id)\n"
NO_DESCRIPTION = MANDATORY + "Model: Stock Move (stock.move)\nField: Description (name)\n"
EMPTY_TRANSFER = (
    "You can\u2019t validate an empty transfer. Please add some products to move before proceeding."
)
NOTHING_RESERVED = (
    "You cannot validate a transfer if no quantities are reserved. To force the transfer, encode quantities."
)


@pytest.fixture
def stock_admin(admin: Client) -> Client:
    cancel_leftovers(admin)
    return admin


def _refused(client: Client, model: str, method: str, args: list[object], **kwargs: object) -> RpcError:
    with pytest.raises(RpcError) as err:
        client.kw(model, method, args, **kwargs)
    return err.value


def test_a_transfer_needs_an_operation_type(stock_admin: Client):
    wh = warehouse(stock_admin)
    where = {"location_id": wh.stock, "location_dest_id": wh.stock}
    for values in (where, {**where, "picking_type_code": "internal"}):
        err = _refused(stock_admin, "stock.picking", "create", [values])
        assert (err.name, err.message) == ("odoo.exceptions.ValidationError", NO_OPERATION_TYPE)


def test_a_move_needs_a_description(stock_admin: Client):
    wh = warehouse(stock_admin)
    product = storable(stock_admin)[0]["id"]
    move = {"product_id": product, "product_uom_qty": 1}
    err = _refused(
        stock_admin, "stock.picking", "create", [{"picking_type_id": wh.outgoing, "move_ids": [[0, 0, move]]}]
    )
    assert (err.name, err.message) == ("odoo.exceptions.ValidationError", NO_DESCRIPTION)
    err = _refused(
        stock_admin, "stock.move", "create", [{**move, "location_id": wh.stock, "location_dest_id": wh.stock}]
    )
    assert (err.name, err.message) == ("odoo.exceptions.ValidationError", NO_DESCRIPTION)


def test_warehouse_operation_types(stock_admin: Client):
    wh = warehouse(stock_admin)
    kinds = {
        wh.incoming: "incoming",
        wh.outgoing: "outgoing",
        wh.internal: "internal",
        wh.pick: "internal",
        wh.pos: "outgoing",
    }
    rows = stock_admin.kw_list(
        "stock.picking.type",
        "read",
        [list(kinds)],
        fields=[
            "code",
            "warehouse_id",
            "default_location_src_id",
            "default_location_dest_id",
            "sequence_code",
            "active",
        ],
        load=False,
    )
    assert {r["id"]: r["code"] for r in rows} == kinds
    by_id = {r["id"]: r for r in rows}
    assert all(r["warehouse_id"] == wh.id for r in rows)
    assert by_id[wh.outgoing]["default_location_src_id"] == wh.stock
    assert by_id[wh.incoming]["default_location_dest_id"] == wh.stock
    assert by_id[wh.pos]["sequence_code"] == "POS"
    # Without multi-step routes the internal type is archived, yet a transfer of that type can be made.
    active = stock_admin.kw_list("stock.picking.type", "search", [[["id", "=", wh.internal]]])
    assert by_id[wh.internal]["active"] is False
    assert active == []
    product = storable(stock_admin)[0]["id"]
    picking = transfer(
        stock_admin, wh.internal, [(product, 1)], location_id=wh.stock, location_dest_id=wh.stock
    )
    row = read_one(
        stock_admin, "stock.picking", picking, ["state", "picking_type_code", "picking_type_id", "name"]
    )
    assert (row["state"], row["picking_type_code"], row["picking_type_id"][0]) == (
        "draft",
        "internal",
        wh.internal,
    )
    assert "/INT/" in row["name"]
    stock_admin.kw("stock.picking", "action_cancel", [[picking]])


def test_picking_validation_moves_stock_once(stock_admin: Client):
    wh = warehouse(stock_admin)
    product = storable(stock_admin)[0]["id"]
    receive(stock_admin, wh, product, 10)
    before = qty(stock_admin, product)
    picking = transfer(stock_admin, wh.outgoing, [(product, 4)])
    row = read_one(
        stock_admin,
        "stock.picking",
        picking,
        ["state", "location_id", "location_dest_id", "picking_type_code"],
    )
    assert row["state"] == "draft"
    assert row["location_id"][0] == wh.stock
    assert row["picking_type_code"] == "outgoing"
    # A draft is confirmed by the validation itself.
    assert stock_admin.kw("stock.picking", "button_validate", [[picking]]) is True
    assert read_one(stock_admin, "stock.picking", picking, ["state"])["state"] == "done"
    assert before - qty(stock_admin, product) == pytest.approx(4)
    assert stock_admin.kw("stock.picking", "button_validate", [[picking]]) is True
    assert before - qty(stock_admin, product) == pytest.approx(4), "validating a done transfer moves nothing"


def test_confirm_reserves_and_validation_offers_a_backorder(stock_admin: Client):
    wh = warehouse(stock_admin)
    product = storable(stock_admin)[0]["id"]
    short = qty(stock_admin, product, wh.stock, "free_qty")  # negative after POS sales of the suite
    receive(stock_admin, wh, product, 6 + max(0.0, -short))
    free = qty(stock_admin, product, wh.stock, "free_qty")
    assert free >= 6
    on_hand = qty(stock_admin, product)
    picking = transfer(stock_admin, wh.outgoing, [(product, free + 5)])
    assert stock_admin.kw("stock.picking", "action_confirm", [[picking]]) is True
    assert read_one(stock_admin, "stock.picking", picking, ["state"])["state"] == "assigned"
    (move,) = moves_of(stock_admin, picking)
    assert (move["state"], move["quantity"]) == ("partially_available", pytest.approx(free))
    wizard = stock_admin.kw("stock.picking", "button_validate", [[picking]])
    assert isinstance(wizard, dict)
    assert {k: wizard[k] for k in ("name", "type", "res_model", "target")} == {
        "name": "Create Backorder?",
        "type": "ir.actions.act_window",
        "res_model": "stock.backorder.confirmation",
        "target": "new",
    }
    assert wizard["context"]["button_validate_picking_ids"] == [picking]
    assert qty(stock_admin, product) == pytest.approx(on_hand), "the wizard moves nothing"
    done = stock_admin.kw("stock.picking", "button_validate", [[picking]], context={"skip_backorder": True})
    assert done is True
    assert read_one(stock_admin, "stock.picking", picking, ["state"])["state"] == "done"
    assert on_hand - qty(stock_admin, product) == pytest.approx(free)
    backorders = stock_admin.kw_list(
        "stock.picking",
        "search_read",
        [],
        domain=[["backorder_id", "=", picking]],
        fields=["state", "move_ids"],
    )
    assert [b["state"] for b in backorders] == ["confirmed"]
    assert moves_of(stock_admin, backorders[0]["id"])[0]["product_uom_qty"] == pytest.approx(5)
    stock_admin.kw("stock.picking", "action_cancel", [[backorders[0]["id"]]])


def test_nothing_reserved_is_refused(stock_admin: Client):
    wh = warehouse(stock_admin)
    product = storable(stock_admin)[0]["id"]
    empty_bin = stock_admin.kw(
        "stock.location",
        "create",
        [{"name": f"Contract {uuid.uuid4().hex[:8]}", "usage": "internal", "location_id": wh.stock}],
    )
    bin_row = read_one(stock_admin, "stock.location", empty_bin, ["complete_name", "warehouse_id", "name"])
    stock_name = read_one(stock_admin, "stock.location", wh.stock, ["complete_name"])["complete_name"]
    assert bin_row["warehouse_id"][0] == wh.id
    assert bin_row["complete_name"] == f"{stock_name}/{bin_row['name']}"
    picking = transfer(stock_admin, wh.outgoing, [(product, 3)], location_id=empty_bin)
    stock_admin.kw("stock.picking", "action_confirm", [[picking]])
    assert read_one(stock_admin, "stock.picking", picking, ["state"])["state"] == "confirmed"
    assert moves_of(stock_admin, picking)[0]["quantity"] == 0
    err = _refused(stock_admin, "stock.picking", "button_validate", [[picking]])
    assert (err.name, err.message) == ("odoo.exceptions.UserError", NOTHING_RESERVED)
    assert stock_admin.kw("stock.picking", "action_cancel", [[picking]]) is True
    assert read_one(stock_admin, "stock.picking", picking, ["state"])["state"] == "cancel"


def test_an_empty_transfer_is_refused(stock_admin: Client):
    wh = warehouse(stock_admin)
    empty = transfer(stock_admin, wh.outgoing, [])
    err = _refused(stock_admin, "stock.picking", "button_validate", [[empty]])
    assert (err.name, err.message) == ("odoo.exceptions.UserError", EMPTY_TRANSFER)
    err = _refused(stock_admin, "stock.picking", "button_validate", [[999999999]])
    assert err.name == "odoo.exceptions.MissingError"
    assert (
        err.message
        == "Record does not exist or has been deleted.\n(Record: stock.picking(999999999,), User: 2)"
    )


def test_goods_without_inventory_are_always_available(stock_admin: Client):
    wh = warehouse(stock_admin)
    goods = untracked_goods(stock_admin)["id"]
    picking = transfer(stock_admin, wh.outgoing, [(goods, 3)])
    stock_admin.kw("stock.picking", "action_confirm", [[picking]])
    (move,) = moves_of(stock_admin, picking)
    assert (move["state"], move["quantity"]) == ("assigned", pytest.approx(3))
    assert stock_admin.kw("stock.picking", "button_validate", [[picking]]) is True
    assert read_one(stock_admin, "stock.picking", picking, ["state"])["state"] == "done"
    assert qty(stock_admin, goods) == 0
    assert stock_admin.kw("stock.quant", "search_count", [[["product_id", "=", goods]]]) == 0


def test_quant_fields(stock_admin: Client):
    quants = stock_admin.kw_list(
        "stock.quant",
        "search_read",
        [],
        domain=[["location_id.usage", "=", "internal"], ["quantity", ">", 0]],
        fields=[
            "product_id",
            "location_id",
            "warehouse_id",
            "quantity",
            "reserved_quantity",
            "available_quantity",
            "lot_id",
            "package_id",
            "owner_id",
            "in_date",
            "company_id",
        ],
        limit=3,
    )
    assert quants
    row = quants[0]
    assert isinstance(row["product_id"], list)
    assert isinstance(row["location_id"], list)
    assert isinstance(row["warehouse_id"], list)
    assert isinstance(row["quantity"], float)
    assert row["available_quantity"] == pytest.approx(row["quantity"] - row["reserved_quantity"])
    assert (row["lot_id"], row["package_id"], row["owner_id"]) == (False, False, False)
    assert isinstance(row["in_date"], str)


def test_a_done_transfer_cannot_be_deleted(stock_admin: Client):
    wh = warehouse(stock_admin)
    goods = untracked_goods(stock_admin)["id"]
    done = transfer(stock_admin, wh.outgoing, [(goods, 1)])
    stock_admin.kw("stock.picking", "button_validate", [[done]])
    err = _refused(stock_admin, "stock.picking", "unlink", [[done]])
    assert (err.name, err.message) == (
        "odoo.exceptions.UserError",
        "You cannot cancel a stock move that has been set to 'Done'. "
        "Create a return in order to reverse the moves which took place.",
    )
    draft = transfer(stock_admin, wh.outgoing, [(goods, 1)])
    assert stock_admin.kw("stock.picking", "unlink", [[draft]]) is True
    assert stock_admin.kw("stock.picking", "read", [[draft]], fields=["state"]) == []
    meta = stock_admin.kw(
        "stock.picking", "fields_get", [["picking_type_id", "state"]], attributes=["required"]
    )
    assert meta == {"picking_type_id": {"required": True}, "state": {"required": False}}
