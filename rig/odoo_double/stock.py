"""Inventory: warehouses, operation types, transfers, moves and quants, as Odoo 18 runs them.

A transfer (stock.picking) needs an operation type (stock.picking.type): its
locations and its name (``WH/OUT/00012``) come from it. Confirming reserves
what the source location holds for goods that track inventory
(``is_storable``); other goods and services are always available.
``button_validate`` confirms a draft first, refuses an empty transfer or one
with nothing reserved, offers the backorder wizard when less than the demand
is done (unless ``skip_backorder``), and otherwise moves the quants once,
leaving a backorder for the rest. Quants are locked in (product, location)
order; under REPEATABLE READ concurrent validations of one quant serialise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .errors import UserError
from .orm import (
    Env,
    Model,
    apply_x2many,
    col,
    computed,
    create,
    ensure_exist,
    insert_row,
    m2o,
    o2m,
    record_ids,
    unlink,
)
from .sequences import next_number

EMPTY_TRANSFER = (
    "You can\u2019t validate an empty transfer. Please add some products to move before proceeding."
)
NOTHING_RESERVED = (
    "You cannot validate a transfer if no quantities are reserved. To force the transfer, encode quantities."
)
OPEN_STATES = ("draft", "confirmed", "waiting", "partially_available", "assigned")


def models() -> list[Model]:
    return [
        Model(
            "stock.warehouse",
            "stock_warehouse",
            {
                "name": col("char", "name"),
                "code": col("char", "code", "Short Name"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "active": col("boolean", "active"),
                "view_location_id": m2o("view_location_id", "stock.location"),
                "lot_stock_id": m2o("lot_stock_id", "stock.location", "Location Stock"),
                "in_type_id": m2o("in_type_id", "stock.picking.type", "In Type"),
                "out_type_id": m2o("out_type_id", "stock.picking.type", "Out Type"),
                "int_type_id": m2o("int_type_id", "stock.picking.type", "Internal Type"),
                "pick_type_id": m2o("pick_type_id", "stock.picking.type", "Pick Type"),
                "pos_type_id": m2o("pos_type_id", "stock.picking.type", "Point of Sale Operation Type"),
            },
            description="Warehouse",
            order="id",
        ),
        Model(
            "stock.location",
            "stock_location",
            {
                "name": col("char", "name", "Location Name"),
                "complete_name": col("char", "complete_name", "Full Location Name"),
                "usage": col("selection", "usage", "Location Type"),
                "location_id": m2o("location_id", "stock.location", "Parent Location"),
                "warehouse_id": m2o("warehouse_id", "stock.warehouse", "Warehouse"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "active": col("boolean", "active"),
            },
            description="Inventory Locations",
            rec_name_sql="t.complete_name",
            order="complete_name, id",
            methods={"create": create_location},
        ),
        Model(
            "stock.picking.type",
            "stock_picking_type",
            {
                "name": col("char", "name", "Operation Type"),
                "code": col("selection", "code", "Type of Operation"),
                "sequence_code": col("char", "sequence_code", "Sequence Prefix"),
                "warehouse_id": m2o("warehouse_id", "stock.warehouse", "Warehouse"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "default_location_src_id": m2o("default_location_src_id", "stock.location"),
                "default_location_dest_id": m2o("default_location_dest_id", "stock.location"),
                "sequence_id": m2o("sequence_id", "ir.sequence", "Reference Sequence"),
                "create_backorder": col("selection", "create_backorder", "Create Backorder"),
                "active": col("boolean", "active"),
            },
            description="Picking Type",
            rec_name_sql="COALESCE((SELECT w.name || ': ' FROM stock_warehouse w "
            "WHERE w.id = t.warehouse_id), '')"
            " || t.name",
        ),
        Model(
            "stock.quant",
            "stock_quant",
            {
                "product_id": m2o("product_id", "product.product", "Product"),
                "location_id": m2o("location_id", "stock.location", "Location"),
                "lot_id": col("many2one", "lot_id", "Lot/Serial Number"),
                "package_id": col("many2one", "package_id", "Package"),
                "owner_id": m2o("owner_id", "res.partner", "Owner"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "quantity": col("float", "quantity", "Quantity"),
                "reserved_quantity": col("float", "reserved_quantity", "Reserved Quantity"),
                "available_quantity": computed("float", "t.quantity - t.reserved_quantity", searchable=False),
                "in_date": col("datetime", "in_date", "Incoming Date"),
                "warehouse_id": computed(
                    "many2one",
                    "(SELECT l.warehouse_id FROM stock_location l WHERE l.id = t.location_id)",
                    "stock.warehouse",
                ),
            },
            description="Quants",
            rec_name_sql="(SELECT p.name FROM product_product p WHERE p.id = t.product_id)",
        ),
        Model(
            "stock.picking",
            "stock_picking",
            {
                "name": col("char", "name", "Reference"),
                "origin": col("char", "origin", "Source Document"),
                "state": col("selection", "state", "Status"),
                "move_type": col("selection", "move_type", "Shipping Policy"),
                "picking_type_id": m2o("picking_type_id", "stock.picking.type", "Operation Type"),
                "picking_type_code": computed(
                    "selection", "(SELECT pt.code FROM stock_picking_type pt WHERE pt.id = t.picking_type_id)"
                ),
                "location_id": m2o("location_id", "stock.location", "Source Location"),
                "location_dest_id": m2o("location_dest_id", "stock.location", "Destination Location"),
                "partner_id": m2o("partner_id", "res.partner", "Contact"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "backorder_id": m2o("backorder_id", "stock.picking", "Back Order of"),
                "backorder_ids": o2m("stock.picking", "backorder_id"),
                "pos_order_id": m2o("pos_order_id", "pos.order", "Pos Order"),
                "pos_session_id": m2o("pos_session_id", "pos.session", "Pos Session"),
                "scheduled_date": col("datetime", "scheduled_date", "Scheduled Date"),
                "date_done": col("datetime", "date_done", "Date of Transfer"),
                "move_ids": o2m("stock.move", "picking_id"),
            },
            description="Transfer",
            order="scheduled_date asc, id desc",
            methods={
                "create": create_picking,
                "action_confirm": action_confirm,
                "action_assign": action_assign,
                "action_cancel": action_cancel,
                "button_validate": button_validate,
                "unlink": unlink_pickings,
            },
        ),
        Model(
            "stock.move",
            "stock_move",
            {
                "name": col("char", "name", "Description"),
                "origin": col("char", "origin", "Source Document"),
                "picking_id": m2o("picking_id", "stock.picking", "Transfer"),
                "picking_type_id": computed(
                    "many2one",
                    "(SELECT p.picking_type_id FROM stock_picking p WHERE p.id = t.picking_id)",
                    "stock.picking.type",
                ),
                "product_id": m2o("product_id", "product.product", "Product"),
                "product_uom_qty": col("float", "product_uom_qty", "Demand"),
                "quantity": col("float", "quantity", "Quantity"),
                "picked": col("boolean", "picked", "Picked"),
                "state": col("selection", "state", "Status"),
                "location_id": m2o("location_id", "stock.location", "Source Location"),
                "location_dest_id": m2o("location_dest_id", "stock.location", "Destination Location"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "date": col("datetime", "date", "Date Scheduled"),
            },
            description="Stock Move",
            rec_name_sql="t.name",
        ),
    ]


# ---------------------------------------------------------------- creation


def create_location(env: Env, model: Model, vals_list: Any) -> Any:
    """complete_name, warehouse and company follow the parent location, as Odoo computes them."""
    single = isinstance(vals_list, Mapping)
    ids = []
    for given in [vals_list] if single else list(vals_list):
        vals = dict(given)
        parent = env.one(
            "SELECT complete_name, warehouse_id, company_id FROM stock_location WHERE id = %s",
            (vals.get("location_id") or None,),
        )
        name = vals.get("name")
        vals["complete_name"] = f"{parent['complete_name']}/{name}" if parent and name else name
        if parent is not None:
            vals.setdefault("warehouse_id", parent["warehouse_id"])
            vals.setdefault("company_id", parent["company_id"])
        ids.append(create(env, model, vals))
    return ids[0] if single else ids


def picking_type(env: Env, type_id: int) -> dict[str, Any] | None:
    return env.one(
        "SELECT id, code, company_id, sequence_id, default_location_src_id, default_location_dest_id "
        "FROM stock_picking_type WHERE id = %s",
        (type_id,),
    )


def _picking_values(env: Env, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults Odoo computes from the operation type: locations, name, company."""
    vals = {k: v for k, v in given.items() if k != "move_ids"}
    kind = picking_type(env, vals["picking_type_id"]) if vals.get("picking_type_id") else None
    if kind is not None:
        vals.setdefault("location_id", kind["default_location_src_id"])
        vals.setdefault("location_dest_id", kind["default_location_dest_id"])
        vals.setdefault("company_id", kind["company_id"])
        if not vals.get("name") or vals["name"] == "/":
            vals["name"] = next_number(env, kind["sequence_id"])
    return vals


def _move_values(picking: Mapping[str, Any], picking_id: int, move: Mapping[str, Any]) -> dict[str, Any]:
    vals = dict(move)
    vals["picking_id"] = picking_id
    vals.setdefault("location_id", picking.get("location_id"))
    vals.setdefault("location_dest_id", picking.get("location_dest_id"))
    vals.setdefault("company_id", picking.get("company_id"))
    vals.setdefault("origin", picking.get("origin"))
    vals.setdefault("state", "draft")
    return vals


def create_picking(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, Mapping)
    ids = []
    for given in [vals_list] if single else list(vals_list):
        vals = _picking_values(env, given)
        picking_id = int(create(env, model, vals))
        commands = [
            [0, 0, _move_values(vals, picking_id, c[2])] if c[0] == 0 else c
            for c in given.get("move_ids") or []
        ]
        apply_x2many(env, model, picking_id, {"move_ids": commands})
        ids.append(picking_id)
    return ids[0] if single else ids


# ---------------------------------------------------------------- quants


def _storable(env: Env, product_ids: Sequence[int]) -> set[int]:
    rows = env.all(
        "SELECT id FROM product_product WHERE is_storable AND id = ANY(%s)", (sorted(set(product_ids)),)
    )
    return {row["id"] for row in rows}


def _internal(env: Env, location_ids: Sequence[int]) -> set[int]:
    rows = env.all(
        "SELECT id FROM stock_location WHERE usage IN ('internal', 'transit') AND id = ANY(%s)",
        (sorted(set(location_ids)),),
    )
    return {row["id"] for row in rows}


def lock_quants(env: Env, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Any]]:
    """The quants of (product, location) pairs, locked in that order, created when missing."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    for product, location in wanted:
        env.cr.execute(
            b"INSERT INTO stock_quant (product_id, location_id, company_id) "
            b"SELECT %s, %s, l.company_id FROM stock_location l WHERE l.id = %s "
            b"ON CONFLICT (product_id, location_id) DO NOTHING",
            (product, location, location),
        )
    rows = env.all(
        "SELECT id, product_id, location_id, quantity, reserved_quantity FROM stock_quant "
        "WHERE (product_id, location_id) IN (SELECT * FROM unnest(%s::int[], %s::int[])) "
        "ORDER BY product_id, location_id FOR NO KEY UPDATE",
        ([k[0] for k in wanted], [k[1] for k in wanted]),
    )
    return {(row["product_id"], row["location_id"]): row for row in rows}


def _add_to_quant(env: Env, quant_id: int, quantity: Decimal, reserved: Decimal) -> None:
    env.cr.execute(
        b"UPDATE stock_quant SET quantity = quantity + %s, reserved_quantity = reserved_quantity + %s "
        b"WHERE id = %s",
        (quantity, reserved, quant_id),
    )


# ---------------------------------------------------------------- moves and pickings


def _moves(env: Env, picking_ids: Sequence[int], states: Sequence[str] = OPEN_STATES) -> list[dict[str, Any]]:
    return env.all(
        "SELECT m.id, m.picking_id, m.product_id, m.product_uom_qty, m.quantity, m.reserved, m.picked, "
        "m.state, m.location_id, m.location_dest_id FROM stock_move m "
        "WHERE m.picking_id = ANY(%s) AND m.state = ANY(%s) ORDER BY m.id",
        (list(picking_ids), list(states)),
    )


def _lock_pickings(env: Env, ids: Any) -> list[dict[str, Any]]:
    wanted = record_ids(ids)
    ensure_exist(env, env.model("stock.picking"), wanted)
    return env.all(
        "SELECT id, name, state, picking_type_id, location_id, location_dest_id, origin, company_id, "
        "move_type FROM stock_picking WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
        (sorted(set(wanted)),),
    )


def _move_state(move: Mapping[str, Any], quantity: Decimal) -> str:
    if quantity >= Decimal(move["product_uom_qty"]):
        return "assigned"
    return "partially_available" if quantity > 0 else "confirmed"


def _tracked(env: Env, moves: Sequence[Mapping[str, Any]], location: str = "location_id") -> set[int]:
    """Moves of storable goods out of (or into) an internal location: the ones with quants."""
    storable = _storable(env, [m["product_id"] for m in moves])
    internal = _internal(env, [m[location] for m in moves])
    return {m["id"] for m in moves if m["product_id"] in storable and m[location] in internal}


def reserve(env: Env, moves: Sequence[Mapping[str, Any]]) -> None:
    """Reserve what the source locations hold for storable goods; anything else is always available."""
    todo = [m for m in moves if m["state"] in ("confirmed", "partially_available", "waiting")]
    tracked = _tracked(env, todo)
    quants = lock_quants(env, [(m["product_id"], m["location_id"]) for m in todo if m["id"] in tracked])
    for move in todo:
        demand, done = Decimal(move["product_uom_qty"]), Decimal(move["quantity"])
        extra = max(demand - done, Decimal(0))
        reserved = Decimal(0)
        if move["id"] in tracked:
            quant = quants[(move["product_id"], move["location_id"])]
            free = Decimal(quant["quantity"]) - Decimal(quant["reserved_quantity"])
            extra = reserved = max(min(extra, free), Decimal(0))
            _add_to_quant(env, quant["id"], Decimal(0), reserved)
            quant["reserved_quantity"] = Decimal(quant["reserved_quantity"]) + reserved
        env.cr.execute(
            b"UPDATE stock_move SET quantity = %s, reserved = reserved + %s, state = %s WHERE id = %s",
            (done + extra, reserved, _move_state(move, done + extra), move["id"]),
        )


def unreserve(env: Env, moves: Sequence[Mapping[str, Any]]) -> None:
    held = [m for m in moves if m["reserved"]]
    quants = lock_quants(env, [(m["product_id"], m["location_id"]) for m in held])
    for move in held:
        _add_to_quant(
            env, quants[(move["product_id"], move["location_id"])]["id"], Decimal(0), -move["reserved"]
        )
    env.cr.execute(b"UPDATE stock_move SET reserved = 0 WHERE id = ANY(%s)", ([m["id"] for m in held],))


def recompute_picking_states(env: Env, picking_ids: Sequence[int]) -> None:
    """Odoo's picking state: draft while a move is draft, ready when something is reserved (direct)."""
    for picking_id in sorted(set(picking_ids)):
        states = [
            m["state"] for m in _moves(env, [picking_id], ("draft", *OPEN_STATES[1:], "done", "cancel"))
        ]
        if not states or "draft" in states:
            state = "draft"
        elif all(s == "cancel" for s in states):
            state = "cancel"
        elif all(s in ("done", "cancel") for s in states):
            state = "done"
        elif any(s in ("assigned", "partially_available") for s in states):
            state = "assigned"
        else:
            state = "confirmed"
        env.cr.execute(b"UPDATE stock_picking SET state = %s WHERE id = %s", (state, picking_id))


def confirm(env: Env, picking_ids: Sequence[int]) -> None:
    env.cr.execute(
        b"UPDATE stock_move SET state = 'confirmed' WHERE picking_id = ANY(%s) AND state = 'draft'",
        (list(picking_ids),),
    )
    reserve(env, _moves(env, picking_ids))
    recompute_picking_states(env, picking_ids)


def action_confirm(env: Env, model: Model, ids: Any) -> bool:
    pickings = _lock_pickings(env, ids)
    confirm(env, [p["id"] for p in pickings if p["state"] not in ("done", "cancel")])
    return True


def action_assign(env: Env, model: Model, ids: Any) -> bool:
    pickings = [p["id"] for p in _lock_pickings(env, ids) if p["state"] not in ("done", "cancel")]
    confirm(env, pickings)
    return True


def action_cancel(env: Env, model: Model, ids: Any) -> bool:
    pickings = [p["id"] for p in _lock_pickings(env, ids) if p["state"] != "done"]
    unreserve(env, _moves(env, pickings))
    env.cr.execute(
        b"UPDATE stock_move SET state = 'cancel', quantity = 0 WHERE picking_id = ANY(%s) "
        b"AND state NOT IN ('done', 'cancel')",
        (pickings,),
    )
    env.cr.execute(b"UPDATE stock_picking SET state = 'cancel' WHERE id = ANY(%s)", (pickings,))
    return True


DONE_MOVE = (
    "You cannot cancel a stock move that has been set to 'Done'. "
    "Create a return in order to reverse the moves which took place."
)


def unlink_pickings(env: Env, model: Model, ids: Any) -> bool:
    """Moves are cancelled (their reservations released), then deleted; done ones cannot be."""
    wanted = record_ids(ids)
    if env.one("SELECT 1 FROM stock_move WHERE picking_id = ANY(%s) AND state = 'done'", (wanted,)):
        raise UserError(DONE_MOVE)
    unreserve(env, _moves(env, wanted))
    return bool(unlink(env, model, wanted))


def _fill_draft_quantities(env: Env, picking_ids: Sequence[int]) -> None:
    """A draft validated at once: moves with nothing reserved are done for their whole demand."""
    env.cr.execute(
        b"UPDATE stock_move SET quantity = product_uom_qty WHERE picking_id = ANY(%s) "
        b"AND quantity = 0 AND product_uom_qty != 0 AND state NOT IN ('done', 'cancel')",
        (list(picking_ids),),
    )


def _sanity_check(env: Env, picking_ids: Sequence[int]) -> None:
    for picking_id in picking_ids:
        all_moves = _moves(env, [picking_id], ("draft", *OPEN_STATES[1:], "done", "cancel"))
        if not all_moves:
            raise UserError(EMPTY_TRANSFER)
        if all(not m["quantity"] for m in all_moves if m["state"] not in ("done", "cancel")):
            raise UserError(NOTHING_RESERVED)


def _needs_backorder(moves: Sequence[Mapping[str, Any]]) -> bool:
    return any(
        (m["product_uom_qty"] and not m["picked"]) or m["quantity"] < m["product_uom_qty"] for m in moves
    )


def backorder_wizard(env: Env, picking_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "name": "Create Backorder?",
        "type": "ir.actions.act_window",
        "view_mode": "form",
        "res_model": "stock.backorder.confirmation",
        "views": [[False, "form"]],
        "view_id": False,
        "target": "new",
        "context": {
            **env.context,
            "button_validate_picking_ids": list(picking_ids),
            "default_show_transfers": False,
            "default_pick_ids": [[4, i] for i in picking_ids],
        },
    }


def _backorder(env: Env, picking: Mapping[str, Any], moves: Sequence[Mapping[str, Any]]) -> None:
    """The undone part of each move goes to a new confirmed transfer (backorder_id → the original)."""
    rest = [(m, Decimal(m["product_uom_qty"]) - Decimal(m["quantity"])) for m in moves]
    rest = [(m, q) for m, q in rest if q > 0]
    if not rest:
        return
    kind = picking_type(env, picking["picking_type_id"])
    values = {
        k: picking[k] for k in ("picking_type_id", "location_id", "location_dest_id", "origin", "company_id")
    }
    values.update(
        {"name": next_number(env, kind["sequence_id"]) if kind else "/", "backorder_id": picking["id"]}
    )
    backorder_id = insert_row(env, env.model("stock.picking"), values)
    for move, quantity in rest:
        if move["quantity"]:
            env.cr.execute(
                b"INSERT INTO stock_move (picking_id, name, origin, product_id, product_uom_qty, state, "
                b"location_id, location_dest_id, company_id) SELECT %s, name, origin, product_id, %s, "
                b"'confirmed', location_id, location_dest_id, company_id FROM stock_move WHERE id = %s",
                (backorder_id, quantity, move["id"]),
            )
            env.cr.execute(b"UPDATE stock_move SET product_uom_qty = quantity WHERE id = %s", (move["id"],))
        else:
            env.cr.execute(
                b"UPDATE stock_move SET picking_id = %s, state = 'confirmed' WHERE id = %s",
                (backorder_id, move["id"]),
            )
    recompute_picking_states(env, [backorder_id])


def move_stock(env: Env, moves: Sequence[Mapping[str, Any]]) -> None:
    """Done quantities leave the source quants (with the move's reservation) and reach the destination."""
    out = _tracked(env, moves)
    into = _tracked(env, moves, "location_dest_id")
    keys = [(m["product_id"], m["location_id"]) for m in moves if m["id"] in out]
    keys += [(m["product_id"], m["location_dest_id"]) for m in moves if m["id"] in into]
    quants = lock_quants(env, keys)
    for move in moves:
        qty = Decimal(move["quantity"])
        if move["id"] in out:
            source = quants[(move["product_id"], move["location_id"])]
            _add_to_quant(env, source["id"], -qty, -Decimal(move["reserved"]))
        if move["id"] in into:
            _add_to_quant(env, quants[(move["product_id"], move["location_dest_id"])]["id"], qty, Decimal(0))
    env.cr.execute(b"UPDATE stock_move SET reserved = 0 WHERE id = ANY(%s)", ([m["id"] for m in moves],))


def action_done(env: Env, pickings: Sequence[Mapping[str, Any]], backorders: bool = True) -> None:
    """Odoo's _action_done: move the stock once, split the rest off, mark everything done."""
    ids = [p["id"] for p in pickings]
    moves = _moves(env, ids)
    move_stock(env, [m for m in moves if m["quantity"]])
    for picking in pickings:
        own = [m for m in moves if m["picking_id"] == picking["id"]]
        if backorders:
            _backorder(env, picking, own)
        else:
            env.cr.execute(
                b"UPDATE stock_move SET product_uom_qty = quantity WHERE picking_id = %s AND quantity > 0",
                (picking["id"],),
            )
            env.cr.execute(
                b"UPDATE stock_move SET state = 'cancel' WHERE picking_id = %s AND quantity = 0 "
                b"AND state NOT IN ('done', 'cancel')",
                (picking["id"],),
            )
    env.cr.execute(
        b"UPDATE stock_move SET state = 'done', picked = true, date = now() at time zone 'utc' "
        b"WHERE picking_id = ANY(%s) AND state NOT IN ('done', 'cancel')",
        (ids,),
    )
    env.cr.execute(
        b"UPDATE stock_picking SET state = 'done', date_done = now() at time zone 'utc' WHERE id = ANY(%s)",
        (ids,),
    )


def button_validate(env: Env, model: Model, ids: Any) -> dict[str, Any] | bool:
    pickings = [p for p in _lock_pickings(env, ids) if p["state"] != "done"]
    if not pickings:
        return True
    drafts = [p["id"] for p in pickings if p["state"] == "draft"]
    if drafts:
        confirm(env, drafts)
        _fill_draft_quantities(env, drafts)
    ids_todo = [p["id"] for p in pickings]
    _sanity_check(env, ids_todo)
    env.cr.execute(
        b"UPDATE stock_move SET picked = true WHERE picking_id = ANY(%s) AND quantity > 0 "
        b"AND state NOT IN ('done', 'cancel')",
        (ids_todo,),
    )
    if not env.context.get("skip_backorder") and _needs_backorder(_moves(env, ids_todo)):
        return backorder_wizard(env, ids_todo)
    no_backorder = set(env.context.get("picking_ids_not_to_backorder") or [])
    action_done(env, [p for p in pickings if p["id"] not in no_backorder])
    action_done(env, [p for p in pickings if p["id"] in no_backorder], backorders=False)
    return True


def done_picking(  # noqa: PLR0917
    env: Env,
    type_id: int,
    location_id: int,
    location_dest_id: int,
    lines: Sequence[tuple[int, str, Decimal]],
    extra: Mapping[str, Any],
) -> int:
    """A transfer created and done at once (a POS order's picking); errors are not raised, like Odoo's."""
    picking_id = int(
        create_picking(
            env,
            env.model("stock.picking"),
            {
                "picking_type_id": type_id,
                "location_id": location_id,
                "location_dest_id": location_dest_id,
                **extra,
                "move_ids": [[0, 0, {"product_id": p, "name": n, "product_uom_qty": q}] for p, n, q in lines],
            },
        )
    )
    env.cr.execute(
        b"UPDATE stock_move SET quantity = product_uom_qty, state = 'assigned' WHERE picking_id = %s",
        (picking_id,),
    )
    picking = env.one(
        "SELECT id, name, state, picking_type_id, location_id, location_dest_id, origin, company_id, "
        "move_type "
        "FROM stock_picking WHERE id = %s",
        (picking_id,),
    )
    assert picking is not None
    action_done(env, [picking], backorders=False)
    return picking_id
