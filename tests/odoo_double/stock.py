"""stock.picking validation and stock.quant moves under row locks."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from .errors import UserError
from .orm import Env, Model, _ids, create


def move_quants(env: Env, moves: list[tuple[int, int, int, Decimal]]) -> None:
    """Apply (product, source, destination, qty) moves to internal-location quants.

    Quant rows are locked in (product, location) order before the update so
    concurrent validations queue on the same rows instead of deadlocking; a
    missing quant is created (negative stock is allowed, as in Odoo).
    """
    deltas: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    locations = {loc for _product, src, dst, _qty in moves for loc in (src, dst)}
    env.cr.execute("SELECT id, usage FROM stock_location WHERE id = ANY(%s)", (sorted(locations),))
    internal = {row["id"] for row in env.cr.fetchall() if row["usage"] in ("internal", "transit")}
    for product, src, dst, qty in moves:
        if src in internal:
            deltas[(product, src)] -= qty
        if dst in internal:
            deltas[(product, dst)] += qty
    keys = sorted(k for k, v in deltas.items() if v)
    if not keys:
        return
    env.cr.execute(
        "SELECT id, product_id, location_id, quantity FROM stock_quant "
        "WHERE (product_id, location_id) IN (SELECT * FROM unnest(%s::int[], %s::int[])) "
        "ORDER BY product_id, location_id FOR NO KEY UPDATE",
        ([k[0] for k in keys], [k[1] for k in keys]),
    )
    existing = {(row["product_id"], row["location_id"]) for row in env.cr.fetchall()}
    for key in keys:
        if key in existing:
            env.cr.execute(
                "UPDATE stock_quant SET quantity = quantity + %s WHERE product_id = %s AND location_id = %s",
                (deltas[key], key[0], key[1]),
            )
        else:
            env.cr.execute(
                "INSERT INTO stock_quant (product_id, location_id, quantity) VALUES (%s, %s, %s) "
                "ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = stock_quant.quantity + "
                "EXCLUDED.quantity",
                (key[0], key[1], deltas[key]),
            )


def validate_pickings(env: Env, picking_ids: list[int], skip_backorder: bool = True) -> dict[str, Any] | bool:
    env.cr.execute(
        "SELECT id, name, state FROM stock_picking WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
        (sorted(set(picking_ids)),),
    )
    pickings = env.cr.fetchall()
    if len(pickings) != len(set(picking_ids)):
        raise UserError("Record does not exist or has been deleted.")
    todo = [p for p in pickings if p["state"] != "done"]
    for picking in todo:
        if picking["state"] == "cancel":
            raise UserError(f"You cannot validate the cancelled transfer {picking['name']}.")
    if not todo:
        return True
    env.cr.execute(
        "SELECT id, picking_id, product_id, product_uom_qty, quantity, location_id, location_dest_id "
        "FROM stock_move WHERE picking_id = ANY(%s) AND state != 'cancel' ORDER BY id",
        ([p["id"] for p in todo],),
    )
    moves = env.cr.fetchall()
    by_picking: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for move in moves:
        by_picking[move["picking_id"]].append(move)
    for picking in todo:
        if not by_picking.get(picking["id"]):
            raise UserError(
                "You can't validate an empty transfer. Please add some products to move before proceeding."
            )
    short = [m for m in moves if m["quantity"] and m["quantity"] < m["product_uom_qty"]]
    if short and not skip_backorder:
        return {
            "name": "Create Backorder?",
            "type": "ir.actions.act_window",
            "res_model": "stock.backorder.confirmation",
            "view_mode": "form",
            "views": [[False, "form"]],
            "target": "new",
            "context": {"button_validate_picking_ids": [p["id"] for p in todo]},
        }
    quant_moves = []
    for move in moves:
        qty = move["quantity"] or move["product_uom_qty"]
        quant_moves.append((move["product_id"], move["location_id"], move["location_dest_id"], Decimal(qty)))
    move_quants(env, quant_moves)
    env.cr.execute(
        "UPDATE stock_move SET quantity = CASE WHEN quantity = 0 THEN product_uom_qty ELSE quantity END, "
        "state = 'done', date = now() at time zone 'utc' WHERE id = ANY(%s)",
        ([m["id"] for m in moves],),
    )
    env.cr.execute(
        "UPDATE stock_picking SET state = 'done', date_done = now() at time zone 'utc' WHERE id = ANY(%s)",
        ([p["id"] for p in todo],),
    )
    return True


def button_validate(env: Env, model: Model, ids: Any) -> dict[str, Any] | bool:
    ctx = env.context
    skip = bool(ctx.get("skip_backorder") or ctx.get("picking_ids_not_to_backorder"))
    return validate_pickings(env, _ids(ids), skip_backorder=skip)


def picking_name(env: Env, location_id: int, code: str = "outgoing") -> str:
    env.cr.execute(
        "SELECT w.code FROM stock_location l LEFT JOIN stock_warehouse w ON w.id = l.warehouse_id "
        "WHERE l.id = %s",
        (location_id,),
    )
    row = env.cr.fetchone()
    env.cr.execute("SELECT nextval('stock_picking_number_seq') AS n")
    seq = env.cr.fetchone()
    kind = {"outgoing": "OUT", "incoming": "IN", "internal": "INT"}.get(code, "OUT")
    prefix = (row["code"] if row and row["code"] else "WH") + f"/{kind}/"
    return f"{prefix}{seq['n'] if seq else 0:05d}"


def create_picking(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, dict)
    values = [vals_list] if single else list(vals_list)
    ids = []
    for given in values:
        vals = dict(given)
        if vals.get("location_id") and not vals.get("name"):
            vals["name"] = picking_name(
                env, int(vals["location_id"]), vals.get("picking_type_code", "outgoing")
            )
        moves = []
        for command in vals.get("move_ids") or []:
            if command[0] == 0:
                move = dict(command[2])
                move.setdefault("location_id", vals.get("location_id"))
                move.setdefault("location_dest_id", vals.get("location_dest_id"))
                move.setdefault("state", "assigned")
                moves.append([0, 0, move])
            else:
                moves.append(command)
        if "move_ids" in vals:
            vals["move_ids"] = moves
            vals.setdefault("state", "assigned" if moves else "draft")
        ids.append(create(env, model, vals))
    return ids[0] if single else ids
