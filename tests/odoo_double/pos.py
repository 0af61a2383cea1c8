"""Point of sale: sessions and pos.order.sync_from_ui with uuid idempotency.

sync_from_ui follows addons/point_of_sale/models/pos_order.py (18.0): an order
is found by uuid; absent → created; ``draft`` → updated in place; any other
state → ignored and its id returned. Paid orders get a picking validated at
once (unless update_stock_at_closing), so stock moves exactly once per line.

Fault hook: with ``double_drop_acked_orders`` > 0, a deterministic share of
new orders (chosen by a hash of their uuid) is rolled back to a savepoint
after the reply was built, so the client gets an acknowledgement for an order
that is never committed. Off by default; for testing lost-write ledgers only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid as uuidlib
from decimal import Decimal
from typing import Any

import psycopg

from .account import journal_id, post_moves
from .errors import UserError
from .orm import Env, Model, _ids, fields_get, read, search_read
from .stock import picking_name, validate_pickings

_logger = logging.getLogger(__name__)

FINAL_STATES = ("paid", "done", "invoiced")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def dropped_by_fault(cfg_rate: float, order_uuid: str) -> bool:
    if cfg_rate <= 0:
        return False
    bucket = int(hashlib.sha256(order_uuid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < cfg_rate


# ---------------------------------------------------------------- pos.config / pos.session


def open_ui(env: Env, model: Model, ids: Any) -> dict[str, Any]:
    if env.uid == 1:
        raise UserError("You cannot open the Point of Sale as the superuser; log in as a POS user.")
    config_ids = _ids(ids)
    for config_id in config_ids:
        env.cr.execute("SELECT id FROM pos_config WHERE id = %s FOR UPDATE", (config_id,))
        if env.cr.fetchone() is None:
            raise UserError("Record does not exist or has been deleted.")
        env.cr.execute(
            "SELECT id FROM pos_session WHERE config_id = %s AND state != 'closed' LIMIT 1", (config_id,)
        )
        if env.cr.fetchone() is None:
            env.cr.execute(
                "INSERT INTO pos_session (name, config_id, user_id, state) "
                "VALUES ('/', %s, %s, 'opening_control') RETURNING id",
                (config_id, env.uid),
            )
            row = env.cr.fetchone()
            assert row is not None
            env.cr.execute(
                "UPDATE pos_session SET name = %s WHERE id = %s", (f"POS/{row['id']:05d}", row["id"])
            )
    return {
        "type": "ir.actions.act_url",
        "url": f"/pos/ui?config_id={config_ids[0]}&from_backend=True",
        "target": "self",
    }


def set_opening_control(env: Env, model: Model, ids: Any, cashbox_value: float = 0, notes: str = "") -> None:
    env.cr.execute(
        "UPDATE pos_session SET state = 'opened', start_at = now() at time zone 'utc', "
        "cash_register_balance_start = %s, opening_notes = %s "
        "WHERE id = ANY(%s) AND state = 'opening_control'",
        (cashbox_value or 0, notes or "", _ids(ids)),
    )


def load_data(env: Env, model: Model, ids: Any, models_to_load: list[str] | None = None) -> dict[str, Any]:
    session_ids = _ids(ids)
    sessions = read(env, env.model("pos.session"), session_ids, None, load=None)
    config_ids = sorted({s["config_id"] for s in sessions})
    parts: dict[str, tuple[str, list[Any], list[str] | None]] = {
        "pos.session": ("pos.session", [("id", "in", session_ids)], None),
        "pos.config": ("pos.config", [("id", "in", config_ids)], None),
        "pos.payment.method": ("pos.payment.method", [], None),
        "res.users": ("res.users", [("id", "=", env.uid)], ["id", "name", "login", "partner_id"]),
        "product.product": (
            "product.product",
            [("available_in_pos", "=", True), ("sale_ok", "=", True)],
            ["id", "display_name", "barcode", "default_code", "lst_price", "uom_id"],
        ),
    }
    wanted = models_to_load or list(parts)
    result: dict[str, Any] = {}
    for name in wanted:
        if name not in parts:
            raise KeyError(name)
        model_name, domain, fnames = parts[name]
        target = env.model(model_name)
        result[name] = {
            "data": search_read(env, target, domain, fnames, load=None),
            "fields": fields_get(env, target, fnames),
        }
    return result


def find_product_by_barcode(env: Env, model: Model, ids: Any, barcode: str, config_id: int) -> dict[str, Any]:
    products = search_read(
        env,
        env.model("product.product"),
        [("barcode", "=", barcode), ("sale_ok", "=", True), ("available_in_pos", "=", True)],
        ["id", "display_name", "barcode", "default_code", "lst_price", "uom_id"],
        limit=1,
        load=None,
    )
    return {"product.product": products}


def post_closing_cash_details(env: Env, model: Model, ids: Any, counted_cash: float = 0) -> dict[str, Any]:
    env.cr.execute(
        "UPDATE pos_session SET cash_register_balance_end_real = %s WHERE id = ANY(%s)",
        (counted_cash or 0, _ids(ids)),
    )
    return {"successful": True}


def update_closing_control_state_session(env: Env, model: Model, ids: Any, notes: str = "") -> None:
    env.cr.execute(
        "UPDATE pos_session SET state = 'closing_control', closing_notes = %s "
        "WHERE id = ANY(%s) AND state = 'opened'",
        (notes or "", _ids(ids)),
    )


def close_session_from_ui(
    env: Env, model: Model, ids: Any, bank_payment_method_diff_pairs: Any = None
) -> Any:
    for session_id in _ids(ids):
        env.cr.execute(
            "SELECT s.id, s.state, s.name, c.update_stock_at_closing, w.lot_stock_id FROM pos_session s "
            "JOIN pos_config c ON c.id = s.config_id JOIN stock_warehouse w ON w.id = c.warehouse_id "
            "WHERE s.id = %s FOR UPDATE OF s",
            (session_id,),
        )
        session = env.cr.fetchone()
        if session is None:
            raise UserError("Record does not exist or has been deleted.")
        if session["state"] == "closed":
            raise UserError("This session is already closed.")
        env.cr.execute(
            "SELECT count(*) AS n FROM pos_order WHERE session_id = %s AND state = 'draft'", (session_id,)
        )
        drafts = env.cr.fetchone()
        if drafts and drafts["n"]:
            return {"successful": False, "message": "You cannot close the POS when orders are still in draft"}
        if session["update_stock_at_closing"]:
            _session_picking(env, session_id, session["lot_stock_id"])
        env.cr.execute(
            "SELECT COALESCE(sum(amount_total), 0) AS total FROM pos_order WHERE session_id = %s "
            "AND state IN ('paid', 'done', 'invoiced')",
            (session_id,),
        )
        total = env.cr.fetchone()
        env.cr.execute(
            "INSERT INTO account_move (journal_id, move_type, amount_total, ref, pos_session_id) "
            "VALUES (%s, 'entry', %s, %s, %s) RETURNING id",
            (journal_id(env, "POSS"), total["total"] if total else 0, session["name"], session_id),
        )
        move = env.cr.fetchone()
        assert move is not None
        post_moves(env, [move["id"]])
        env.cr.execute(
            "UPDATE pos_order SET state = 'done' WHERE session_id = %s AND state = 'paid'", (session_id,)
        )
        env.cr.execute(
            "UPDATE pos_session SET state = 'closed', stop_at = now() at time zone 'utc', move_id = %s "
            "WHERE id = %s",
            (move["id"], session_id),
        )
    return {"successful": True}


def _session_picking(env: Env, session_id: int, stock_location: int) -> None:
    env.cr.execute(
        "SELECT l.product_id, sum(l.qty) AS qty FROM pos_order_line l JOIN pos_order o ON o.id = l.order_id "
        "WHERE o.session_id = %s AND o.state IN ('paid', 'invoiced') "
        "GROUP BY l.product_id ORDER BY l.product_id",
        (session_id,),
    )
    lines = env.cr.fetchall()
    if lines:
        _create_done_picking(env, f"POS/{session_id}", stock_location, lines, None, session_id)


# ---------------------------------------------------------------- pos.order


def _customer_location(env: Env) -> int:
    env.cr.execute("SELECT id FROM stock_location WHERE usage = 'customer' ORDER BY id LIMIT 1")
    row = env.cr.fetchone()
    if row is None:
        raise UserError("No customer location: seed the database first.")
    return int(row["id"])


def _create_done_picking(  # noqa: PLR0917
    env: Env,
    origin: str,
    stock_location: int,
    lines: list[dict[str, Any]],
    order_id: int | None,
    session_id: int | None,
) -> int:
    customers = _customer_location(env)
    name = picking_name(env, stock_location)
    env.cr.execute(
        "INSERT INTO stock_picking (name, origin, state, picking_type_code, location_id, location_dest_id, "
        "pos_order_id, pos_session_id) VALUES (%s, %s, 'assigned', 'outgoing', %s, %s, %s, %s) RETURNING id",
        (name, origin, stock_location, customers, order_id, session_id),
    )
    picking = env.cr.fetchone()
    assert picking is not None
    for line in lines:
        qty = Decimal(line["qty"])
        if not qty:
            continue
        src, dst = (stock_location, customers) if qty > 0 else (customers, stock_location)
        env.cr.execute(
            "INSERT INTO stock_move (picking_id, name, product_id, product_uom_qty, quantity, state, "
            "location_id, location_dest_id) VALUES (%s, %s, %s, %s, %s, 'assigned', %s, %s)",
            (picking["id"], origin, line["product_id"], abs(qty), abs(qty), src, dst),
        )
    env.cr.execute("SELECT count(*) AS n FROM stock_move WHERE picking_id = %s", (picking["id"],))
    count = env.cr.fetchone()
    if count and count["n"]:
        validate_pickings(env, [picking["id"]])
    return int(picking["id"])


def _session_for(env: Env, order: dict[str, Any]) -> dict[str, Any]:
    env.cr.execute(
        "SELECT s.id, s.state, s.config_id, c.name AS config_name, c.update_stock_at_closing, w.lot_stock_id "
        "FROM pos_session s JOIN pos_config c ON c.id = s.config_id "
        "JOIN stock_warehouse w ON w.id = c.warehouse_id WHERE s.id = %s",
        (order.get("session_id"),),
    )
    session = env.cr.fetchone()
    if session is None or session["state"] != "opened":
        config_id = session["config_id"] if session else order.get("config_id")
        env.cr.execute(
            "SELECT s.id, s.state, s.config_id, c.name AS config_name, c.update_stock_at_closing, "
            "w.lot_stock_id FROM pos_session s JOIN pos_config c ON c.id = s.config_id "
            "JOIN stock_warehouse w ON w.id = c.warehouse_id "
            "WHERE s.config_id = %s AND s.state = 'opened' ORDER BY s.id DESC LIMIT 1",
            (config_id,),
        )
        session = env.cr.fetchone()
        if session is None:
            raise UserError(
                "No open session available. "
                "You need to open a session in the Point of Sale before syncing orders."
            )
    return session


def _commands(value: Any) -> list[dict[str, Any]]:
    result = []
    for command in value or []:
        if isinstance(command, list | tuple) and len(command) == 3 and command[0] in (0, 1):
            result.append(dict(command[2]))
    return result


def _write_lines(env: Env, order_id: int, order: dict[str, Any]) -> tuple[Decimal, list[dict[str, Any]]]:
    env.cr.execute("DELETE FROM pos_order_line WHERE order_id = %s", (order_id,))
    env.cr.execute("DELETE FROM pos_payment WHERE pos_order_id = %s", (order_id,))
    lines = _commands(order.get("lines"))
    for line in lines:
        env.cr.execute(
            "INSERT INTO pos_order_line (order_id, uuid, product_id, full_product_name, qty, price_unit, "
            "discount, price_subtotal, price_subtotal_incl, customer_note) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                order_id,
                line.get("uuid"),
                line["product_id"],
                line.get("full_product_name"),
                line.get("qty", 1),
                line.get("price_unit", 0),
                line.get("discount", 0),
                line.get("price_subtotal", 0),
                line.get("price_subtotal_incl", 0),
                line.get("customer_note") or None,
            ),
        )
    paid = Decimal(0)
    for payment in _commands(order.get("payment_ids")):
        amount = Decimal(str(payment.get("amount", 0)))
        paid += amount
        env.cr.execute(
            "INSERT INTO pos_payment (pos_order_id, uuid, name, payment_method_id, amount, payment_date) "
            "VALUES (%s, %s, %s, %s, %s, now() at time zone 'utc')",
            (order_id, payment.get("uuid"), payment.get("name"), payment.get("payment_method_id"), amount),
        )
    return paid, lines


def _finalize(env: Env, order_id: int, order: dict[str, Any], session: dict[str, Any], paid: Decimal) -> None:
    """action_pos_order_paid, then picking (and invoice) creation."""
    total = Decimal(str(order.get("amount_total", 0)))
    change = Decimal(str(order.get("amount_return", 0) or 0))
    if abs(total - (paid - change)) > Decimal("0.01"):
        raise UserError(f"Order {order.get('name')} is not fully paid.")
    state = "invoiced" if order.get("to_invoice") else "paid"
    env.cr.execute("UPDATE pos_order SET state = %s WHERE id = %s", (state, order_id))
    if not session["update_stock_at_closing"]:
        env.cr.execute(
            "SELECT product_id, qty FROM pos_order_line WHERE order_id = %s ORDER BY product_id", (order_id,)
        )
        lines = env.cr.fetchall()
        if lines:
            _create_done_picking(
                env, str(order.get("name") or ""), session["lot_stock_id"], lines, order_id, None
            )
    if order.get("to_invoice"):
        env.cr.execute(
            "INSERT INTO account_move (journal_id, move_type, amount_total, ref, partner_id, pos_order_id) "
            "VALUES (%s, 'out_invoice', %s, %s, %s, %s) RETURNING id",
            (journal_id(env, "INV"), total, order.get("name"), order.get("partner_id") or None, order_id),
        )
        move = env.cr.fetchone()
        assert move is not None
        post_moves(env, [move["id"]])
        env.cr.execute("UPDATE pos_order SET account_move = %s WHERE id = %s", (move["id"], order_id))


def _order_columns(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "pos_reference": order.get("name"),
        "user_id": order.get("user_id") or None,
        "partner_id": order.get("partner_id") or None,
        "pricelist_id": order.get("pricelist_id") or None,
        "fiscal_position_id": order.get("fiscal_position_id") or None,
        "date_order": order.get("date_order") or _now(),
        "amount_total": order.get("amount_total", 0),
        "amount_tax": order.get("amount_tax", 0),
        "amount_return": order.get("amount_return", 0) or 0,
        "to_invoice": bool(order.get("to_invoice")),
        "last_order_preparation_change": order.get("last_order_preparation_change"),
        "general_note": order.get("general_note") or None,
    }


def _create_order(env: Env, order: dict[str, Any]) -> int:
    session = _session_for(env, order)
    env.cr.execute("SELECT nextval('pos_order_number_seq') AS n")
    seq_row = env.cr.fetchone()
    seq = int(seq_row["n"]) if seq_row else 0
    columns = _order_columns(order)
    columns.update(
        {
            "name": f"{session['config_name']}/{seq:04d}",
            "uuid": order["uuid"],
            "session_id": session["id"],
            "config_id": session["config_id"],
            "sequence_number": order.get("sequence_number") or seq,
            "tracking_number": f"{session['id'] % 10}{seq % 100:02d}",
            "access_token": str(uuidlib.uuid4()),
            "state": "draft",
            "company_id": 1,
        }
    )
    names = ", ".join(columns)
    placeholders = ", ".join(["%s"] * len(columns))
    env.cr.execute(
        f"INSERT INTO pos_order ({names}) VALUES ({placeholders}) RETURNING id".encode(),
        list(columns.values()),
    )
    row = env.cr.fetchone()
    assert row is not None
    order_id = int(row["id"])
    paid, _unused = _write_lines(env, order_id, order)
    env.cr.execute("UPDATE pos_order SET amount_paid = %s WHERE id = %s", (paid, order_id))
    if order.get("state") in FINAL_STATES:
        _finalize(env, order_id, order, session, paid)
    return order_id


def _update_draft(env: Env, order_id: int, order: dict[str, Any]) -> None:
    # Odoo deletes both keys on this path, so both are required.
    del order["uuid"]
    del order["access_token"]
    session = _session_for(env, order)
    columns = _order_columns(order)
    assignments = ", ".join(f"{c} = %s" for c in columns)
    env.cr.execute(
        f"UPDATE pos_order SET {assignments}, write_date = now() at time zone 'utc' WHERE id = %s".encode(),
        [*columns.values(), order_id],
    )
    paid, _unused = _write_lines(env, order_id, order)
    env.cr.execute("UPDATE pos_order SET amount_paid = %s WHERE id = %s", (paid, order_id))
    if order.get("state") in FINAL_STATES:
        _finalize(env, order_id, order, session, paid)


def sync_from_ui(env: Env, model: Model, orders: list[dict[str, Any]]) -> dict[str, Any]:
    order_ids: list[int] = []
    dropped_replies: list[dict[str, Any]] = []
    conn = env.cr.connection
    for raw in orders:
        order = dict(raw)
        order_uuid = order["uuid"]
        env.cr.execute("SELECT id, state FROM pos_order WHERE uuid = %s ORDER BY id LIMIT 1", (order_uuid,))
        existing = env.cr.fetchone()
        if existing is None and dropped_by_fault(env.cfg.double_drop_acked_orders, order_uuid):
            with conn.transaction() as savepoint:
                dropped_replies.append(_sync_result(env, [_create_order(env, order)]))
                _logger.warning("fault drop_acked_orders: order %s acknowledged, not committed", order_uuid)
                raise psycopg.Rollback(savepoint)
        elif existing is None:
            order_ids.append(_create_order(env, order))
        elif existing["state"] == "draft":
            _update_draft(env, existing["id"], order)
            order_ids.append(existing["id"])
        else:
            _logger.info("order %s already in state %s: sync ignored", order_uuid, existing["state"])
            order_ids.append(existing["id"])
    result = _sync_result(env, order_ids)
    for reply in dropped_replies:
        for key, records in reply.items():
            result[key].extend(records)
    return result


def _sync_result(env: Env, order_ids: list[int]) -> dict[str, Any]:
    orders = read(env, env.model("pos.order"), order_ids, None, load=None) if order_ids else []
    line_ids = [i for o in orders for i in o["lines"]]
    payment_ids = [i for o in orders for i in o["payment_ids"]]
    return {
        "pos.order": orders,
        "pos.session": [],
        "pos.payment": read(env, env.model("pos.payment"), payment_ids, None, load=None),
        "pos.order.line": read(env, env.model("pos.order.line"), line_ids, None, load=None),
        "pos.pack.operation.lot": [],
        "product.attribute.custom.value": [],
    }
