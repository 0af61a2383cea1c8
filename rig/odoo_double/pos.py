"""Point of sale: configurations, payment methods, sessions, and the models orders are made of.

A session goes ``opening_control`` (``open_ui``) → ``opened``
(``set_opening_control``, renamed ``POS/00012``) → ``closing_control`` →
``closed`` (``close_session_from_ui``). ``pos.order``, ``pos.order.line`` and
``pos.payment`` have the fields Odoo 18.0-20250702 (point_of_sale, stock,
account, sale_management) returns from ``sync_from_ui``; the ones the double
gives no meaning read as Odoo's empty values. Orders are synced in
pos_sync.py.
"""

from __future__ import annotations

from typing import Any

from .account import journal_id, name_and_post
from .errors import UserError
from .orm import (
    Env,
    Field,
    Model,
    col,
    computed,
    const,
    ensure_exist,
    fields_get,
    m2m,
    m2o,
    o2m,
    read,
    record_ids,
    search_read,
    unlink,
    write,
)
from .pos_sync import session_picking, sync_from_ui

NOT_CLOSED = "s.state != 'closed'"
ORDER_LINES_TOTAL = (
    "(SELECT COALESCE(sum(l.price_subtotal), 0) FROM pos_order_line l WHERE l.order_id = t.id)"
)
ORDER_COST = (
    "(SELECT COALESCE(sum(l.qty * p.standard_price), 0) FROM pos_order_line l "
    "JOIN product_product p ON p.id = l.product_id WHERE l.order_id = t.id)"
)


def _unused(kind: str, names: str, comodel: str | None = None) -> dict[str, Field]:
    """Fields the double keeps no data for, all of one type."""
    return {name: const(kind, comodel=comodel) for name in names.split()}


def _value(kind: str, literal: str) -> Field:
    return const(kind, literal)


def payment_method_model() -> Model:
    return Model(
        "pos.payment.method",
        "pos_payment_method",
        {
            "name": col("char", "name", "Method"),
            "type": col("selection", "type", "Type", searchable=False),
            "is_cash_count": col("boolean", "is_cash_count", "Cash"),
            "journal_id": m2o("journal_id", "account.journal", "Journal"),
            "split_transactions": col("boolean", "split_transactions", "Identify Customer"),
            "company_id": m2o("company_id", "res.company", "Company"),
            "active": col("boolean", "active"),
            "config_ids": m2m(
                "pos.config", "pos_config_pos_payment_method_rel", "pos_payment_method_id", "pos_config_id"
            ),
        },
        description="Point of Sale Payment Methods",
    )


def config_model() -> Model:
    def current(column: str) -> str:
        return (
            f"(SELECT s.{column} FROM pos_session s WHERE s.config_id = t.id AND {NOT_CLOSED} "
            "ORDER BY s.id DESC LIMIT 1)"
        )

    return Model(
        "pos.config",
        "pos_config",
        {
            "name": col("char", "name", "Point of Sale"),
            "company_id": m2o("company_id", "res.company", "Company"),
            "warehouse_id": m2o("warehouse_id", "stock.warehouse", "Warehouse"),
            "picking_type_id": m2o("picking_type_id", "stock.picking.type", "Operation Type"),
            "journal_id": m2o("journal_id", "account.journal", "Point of Sale Journal"),
            "invoice_journal_id": m2o("invoice_journal_id", "account.journal", "Invoice Journal"),
            "cash_control": col("boolean", "cash_control", "Advanced Cash Control"),
            "active": col("boolean", "active"),
            "session_ids": o2m("pos.session", "config_id"),
            "current_session_id": computed("many2one", current("id"), "pos.session", searchable=False),
            "current_session_state": computed("char", current("state"), searchable=False),
            "payment_method_ids": m2m(
                "pos.payment.method",
                "pos_config_pos_payment_method_rel",
                "pos_config_id",
                "pos_payment_method_id",
                "Payment Methods",
            ),
            "module_pos_restaurant": Field("boolean", sql="NULL", string="Is a Bar/Restaurant"),
        },
        description="Point of Sale Configuration",
        methods={"open_ui": open_ui, "write": write_configs},
    )


def session_model() -> Model:
    return Model(
        "pos.session",
        "pos_session",
        {
            "name": col("char", "name", "Session ID"),
            "config_id": m2o("config_id", "pos.config", "Point of Sale"),
            "company_id": m2o("company_id", "res.company", "Company"),
            "user_id": m2o("user_id", "res.users", "Opened By"),
            "state": col("selection", "state", "Status"),
            "update_stock_at_closing": col("boolean", "update_stock_at_closing"),
            "start_at": col("datetime", "start_at", "Opening Date"),
            "stop_at": col("datetime", "stop_at", "Closing Date"),
            "cash_register_balance_start": col("monetary", "cash_register_balance_start", "Starting Balance"),
            "cash_register_balance_end_real": col(
                "monetary", "cash_register_balance_end_real", "Ending Balance"
            ),
            "opening_notes": col("text", "opening_notes", "Opening Notes"),
            "closing_notes": col("text", "closing_notes", "Closing Notes"),
            "move_id": m2o("move_id", "account.move", "Journal Entry"),
            "order_ids": o2m("pos.order", "session_id"),
            "order_count": computed(
                "integer", "(SELECT count(*) FROM pos_order o WHERE o.session_id = t.id)"
            ),
            "payment_method_ids": m2m(
                "pos.payment.method",
                "pos_session_payment_method_rel",
                "pos_session_id",
                "pos_payment_method_id",
            ),
            "cash_control": computed(
                "boolean", "(SELECT c.cash_control FROM pos_config c WHERE c.id = t.config_id)"
            ),
            "write_date": col("datetime", "write_date", "Last Updated on"),
        },
        description="Point of Sale Session",
        order="id desc",
        methods={
            "set_opening_control": set_opening_control,
            "load_data": load_data,
            "find_product_by_barcode": find_product_by_barcode,
            "post_closing_cash_details": post_closing_cash_details,
            "update_closing_control_state_session": update_closing_control_state_session,
            "close_session_from_ui": close_session_from_ui,
        },
    )


def order_model() -> Model:
    fields: dict[str, Field] = {
        "name": col("char", "name", "Order Ref"),
        "pos_reference": col("char", "pos_reference", "Receipt Number"),
        "uuid": col("char", "uuid", "Uuid"),
        "access_token": col("char", "access_token", "Security Token"),
        "state": col("selection", "state", "Status"),
        "session_id": m2o("session_id", "pos.session", "Session"),
        "config_id": m2o("config_id", "pos.config", "Point of Sale"),
        "user_id": m2o("user_id", "res.users", "Employee"),
        "partner_id": m2o("partner_id", "res.partner", "Customer"),
        "company_id": m2o("company_id", "res.company", "Company"),
        "pricelist_id": col("many2one", "pricelist_id", "Pricelist"),
        "fiscal_position_id": col("many2one", "fiscal_position_id", "Fiscal Position"),
        "sequence_number": col("integer", "sequence_number", "Sequence Number"),
        "tracking_number": col("char", "tracking_number", "Order Number"),
        "date_order": col("datetime", "date_order", "Date"),
        "amount_total": col("monetary", "amount_total", "Total"),
        "amount_tax": col("monetary", "amount_tax", "Taxes"),
        "amount_paid": col("monetary", "amount_paid", "Paid"),
        "amount_return": col("monetary", "amount_return", "Returned"),
        "to_invoice": col("boolean", "to_invoice", "To invoice"),
        "account_move": m2o("account_move", "account.move", "Invoice"),
        "last_order_preparation_change": col("char", "last_order_preparation_change"),
        "general_note": col("text", "general_note", "General Note"),
        "nb_print": col("integer", "nb_print", "Number of Print"),
        "create_uid": m2o("create_uid", "res.users", "Created by"),
        "create_date": col("datetime", "create_date", "Created on"),
        "write_uid": m2o("write_uid", "res.users", "Last Updated by"),
        "write_date": col("datetime", "write_date", "Last Updated on"),
        "lines": o2m("pos.order.line", "order_id"),
        "payment_ids": o2m("pos.payment", "pos_order_id"),
        "picking_ids": o2m("stock.picking", "pos_order_id"),
        "picking_count": computed(
            "integer", "(SELECT count(*) FROM stock_picking p WHERE p.pos_order_id = t.id)"
        ),
        "picking_type_id": computed(
            "many2one",
            "(SELECT c.picking_type_id FROM pos_config c WHERE c.id = t.config_id)",
            "stock.picking.type",
        ),
        "sale_journal": computed(
            "many2one", "(SELECT c.journal_id FROM pos_config c WHERE c.id = t.config_id)", "account.journal"
        ),
        "session_move_id": computed(
            "many2one", "(SELECT s.move_id FROM pos_session s WHERE s.id = t.session_id)", "account.move"
        ),
        "available_payment_method_ids": m2m(
            "pos.payment.method", "pos_order_payment_method_rel", "pos_order_id", "pos_payment_method_id"
        ),
        "is_invoiced": computed("boolean", "t.account_move IS NOT NULL", searchable=False),
        "margin": computed("monetary", f"{ORDER_LINES_TOTAL} - {ORDER_COST}", searchable=False),
        "margin_percent": computed(
            "float",
            f"CASE WHEN {ORDER_LINES_TOTAL} = 0 THEN 0 "
            f"ELSE ({ORDER_LINES_TOTAL} - {ORDER_COST}) / {ORDER_LINES_TOTAL} END",
        ),
        "currency_id": _value("many2one", "1"),
        "currency_rate": _value("float", "1.0"),
        "country_code": computed(
            "char", "(SELECT c.country_code FROM res_company c WHERE c.id = t.company_id)"
        ),
        "access_url": _value("char", "'#'"),
        "access_warning": _value("text", "''"),
        "email": _value("char", "''"),
        "has_message": _value("boolean", "TRUE"),
        "message_is_follower": _value("boolean", "TRUE"),
        "has_refundable_lines": computed(
            "boolean", "EXISTS (SELECT 1 FROM pos_order_line l WHERE l.order_id = t.id)"
        ),
        "is_total_cost_computed": _value("boolean", "TRUE"),
        "amount_difference": const("monetary"),
        "next_online_payment_amount": const("monetary"),
        "tip_amount": const("monetary"),
        "message_attachment_count": const("integer"),
        "message_has_error_counter": const("integer"),
        "message_needaction_counter": const("integer"),
        "refund_orders_count": const("integer"),
        "sale_order_count": const("integer"),
        "shipping_date": const("date"),
        **_unused(
            "boolean",
            "failed_pickings has_deleted_line is_edited is_tipped message_has_error message_has_sms_error "
            "message_needaction",
        ),
        **_unused("char", "floating_order_name mobile ticket_code"),
        **_unused("text", "order_edit_tracking"),
        **_unused("many2one", "crm_team_id online_payment_method_id procurement_group_id refunded_order_id"),
        **_unused("one2many", "message_follower_ids message_ids website_message_ids"),
        **_unused("many2many", "message_partner_ids"),
    }
    return Model(
        "pos.order",
        "pos_order",
        fields,
        description="Point of Sale Orders",
        order="date_order desc, name desc, id desc",
        methods={"sync_from_ui": sync_from_ui, "unlink": unlink_orders, "write": write_orders},
    )


def line_model() -> Model:
    fields: dict[str, Field] = {
        "order_id": m2o("order_id", "pos.order", "Order Ref"),
        "uuid": col("char", "uuid", "Uuid"),
        "product_id": m2o("product_id", "product.product", "Product"),
        "full_product_name": col("char", "full_product_name", "Full Product Name"),
        "company_id": m2o("company_id", "res.company", "Company"),
        "qty": col("float", "qty", "Quantity"),
        "price_unit": col("float", "price_unit", "Unit Price"),
        "discount": col("float", "discount", "Discount (%)"),
        "price_subtotal": col("monetary", "price_subtotal", "Tax Excl."),
        "price_subtotal_incl": col("monetary", "price_subtotal_incl", "Tax Incl."),
        "customer_note": col("char", "customer_note", "Customer Note"),
        "note": col("char", "note", "Product Note"),
        "price_type": col("selection", "price_type"),
        "create_uid": m2o("create_uid", "res.users", "Created by"),
        "create_date": col("datetime", "create_date", "Created on"),
        "write_uid": m2o("write_uid", "res.users", "Last Updated by"),
        "write_date": col("datetime", "write_date", "Last Updated on"),
        "refunded_qty": const("float"),
        "price_extra": const("float"),
        "skip_change": const("boolean"),
        "down_payment_details": const("text"),
        **_unused("many2one", "refunded_orderline_id combo_parent_id combo_item_id sale_order_origin_id"),
        **_unused("many2one", "sale_order_line_id"),
        **_unused("one2many", "pack_lot_ids combo_line_ids refund_orderline_ids"),
        **_unused("many2many", "attribute_value_ids custom_attribute_value_ids tax_ids"),
    }
    return Model(
        "pos.order.line",
        "pos_order_line",
        fields,
        description="Point of Sale Order Lines",
        rec_name_sql="COALESCE(t.full_product_name, '')",
    )


def payment_model() -> Model:
    fields: dict[str, Field] = {
        "pos_order_id": m2o("pos_order_id", "pos.order", "Order"),
        "uuid": col("char", "uuid", "Uuid"),
        "name": col("char", "name", "Label"),
        "payment_method_id": m2o("payment_method_id", "pos.payment.method", "Payment Method"),
        "amount": col("monetary", "amount", "Amount"),
        "payment_date": col("datetime", "payment_date", "Date"),
        "is_change": col("boolean", "is_change", "Is this payment change?"),
        "session_id": m2o("session_id", "pos.session", "Session"),
        "user_id": m2o("user_id", "res.users", "Employee"),
        "company_id": m2o("company_id", "res.company", "Company"),
        "partner_id": computed(
            "many2one", "(SELECT o.partner_id FROM pos_order o WHERE o.id = t.pos_order_id)", "res.partner"
        ),
        "create_uid": m2o("create_uid", "res.users", "Created by"),
        "create_date": col("datetime", "create_date", "Created on"),
        "write_uid": m2o("write_uid", "res.users", "Last Updated by"),
        "write_date": col("datetime", "write_date", "Last Updated on"),
        "currency_id": _value("many2one", "1"),
        "currency_rate": _value("float", "1.0"),
        **_unused(
            "char",
            "card_brand card_no card_type cardholder_name payment_method_authcode payment_method_issuer_bank "
            "payment_ref_no payment_status ticket transaction_id",
        ),
        "payment_method_payment_mode": const("selection"),
        **_unused("many2one", "account_move_id online_account_payment_id"),
    }
    return Model(
        "pos.payment",
        "pos_payment",
        fields,
        description="Point of Sale Payments",
        rec_name_sql="COALESCE(t.name, '') || ' $' || chr(160) || to_char(t.amount, 'FM999999990.00')",
        order="id desc",
    )


def models() -> list[Model]:
    return [
        payment_method_model(),
        config_model(),
        session_model(),
        order_model(),
        line_model(),
        payment_model(),
    ]


# ---------------------------------------------------------------- pos.order


SETTLED = ("paid", "done", "invoiced")


def unlink_orders(env: Env, model: Model, ids: Any) -> bool:
    wanted = record_ids(ids)
    if env.one("SELECT 1 FROM pos_order WHERE id = ANY(%s) AND state NOT IN ('draft', 'cancel')", (wanted,)):
        raise UserError("In order to delete a sale, it must be new or cancelled.")
    return bool(unlink(env, model, wanted))


def write_orders(env: Env, model: Model, ids: Any, vals: dict[str, Any]) -> bool:
    wanted = record_ids(ids)
    state = vals.get("state")
    if state and state not in SETTLED:
        settled = env.one(
            "SELECT 1 FROM pos_order WHERE id = ANY(%s) AND state = ANY(%s)", (wanted, list(SETTLED))
        )
        if settled:
            raise UserError("This order has already been paid. You cannot set it back to draft or edit it.")
    return write(env, model, wanted, vals)


# ---------------------------------------------------------------- pos.config / pos.session

#: pos.config fields Odoo refuses to change while a session of the config is not closed
FORBIDDEN_WITH_OPEN_SESSION = ("module_pos_restaurant", "payment_method_ids")


def write_configs(env: Env, model: Model, ids: Any, vals: dict[str, Any]) -> bool:
    wanted = record_ids(ids)
    forbidden = [model.fields[k].label for k in FORBIDDEN_WITH_OPEN_SESSION if k in vals]
    if forbidden and env.one(
        f"SELECT 1 FROM pos_session s WHERE s.config_id = ANY(%s) AND {NOT_CLOSED}", (wanted,)
    ):
        raise UserError(
            "Unable to modify this PoS Configuration because you can't modify "
            f"{', '.join(forbidden)} while a session is open."
        )
    return write(env, model, wanted, vals)


def open_ui(env: Env, model: Model, ids: Any) -> dict[str, Any]:
    """Create a session in opening_control unless the config has one that is not closed."""
    if env.uid == 1:
        raise UserError(
            "You do not have permission to open a POS session. "
            "Please try opening a session with a different user"
        )
    config_ids = record_ids(ids)
    ensure_exist(env, model, config_ids)
    for config_id in config_ids:
        config = env.one(
            "SELECT id, name, company_id FROM pos_config WHERE id = %s FOR NO KEY UPDATE", (config_id,)
        )
        assert config is not None
        if (
            env.one(f"SELECT 1 FROM pos_session s WHERE s.config_id = %s AND {NOT_CLOSED}", (config_id,))
            is None
        ):
            count = env.value("SELECT count(*) FROM pos_session WHERE config_id = %s", (config_id,))
            env.cr.execute(
                b"INSERT INTO pos_session (name, config_id, company_id, user_id, state) "
                b"VALUES (%s, %s, %s, %s, 'opening_control')",
                (f"{config['name']}/{int(count or 0):05d}", config_id, config["company_id"], env.uid),
            )
    return {
        "type": "ir.actions.act_url",
        "url": f"/pos/ui?config_id={config_ids[0]}&from_backend=True",
        "target": "self",
    }


def set_opening_control(env: Env, model: Model, ids: Any, cashbox_value: float = 0, notes: str = "") -> None:
    ensure_exist(env, model, record_ids(ids))
    for session_id in record_ids(ids):
        state = env.value("SELECT state FROM pos_session WHERE id = %s FOR NO KEY UPDATE", (session_id,))
        if state != "opening_control":
            continue
        number = env.value("SELECT nextval('pos_session_name_seq') AS n")
        env.cr.execute(
            b"UPDATE pos_session SET state = 'opened', name = %s, start_at = now() at time zone 'utc', "
            b"cash_register_balance_start = %s, opening_notes = %s WHERE id = %s",
            (f"POS/{int(number):05d}", cashbox_value or 0, notes or "", session_id),
        )


def load_data(env: Env, model: Model, ids: Any, models_to_load: list[str] | None = None) -> dict[str, Any]:
    session_ids = record_ids(ids)
    sessions = read(env, env.model("pos.session"), session_ids, ["config_id"], load=None)
    config_ids = sorted({s["config_id"] for s in sessions})
    parts: dict[str, tuple[list[Any], list[str] | None]] = {
        "pos.session": ([("id", "in", session_ids)], None),
        "pos.config": ([("id", "in", config_ids)], None),
        "pos.payment.method": ([("config_ids", "in", config_ids)], None),
        "res.users": ([("id", "=", env.uid)], ["id", "name", "login", "partner_id"]),
        "product.product": (
            [("available_in_pos", "=", True), ("sale_ok", "=", True)],
            ["id", "display_name", "barcode", "default_code", "lst_price", "uom_id", "type", "is_storable"],
        ),
    }
    result: dict[str, Any] = {}
    for name in models_to_load or list(parts):
        if name not in parts:
            raise KeyError(name)
        domain, fnames = parts[name]
        target = env.model(name)
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
    ensure_exist(env, model, record_ids(ids))
    env.cr.execute(
        b"UPDATE pos_session SET cash_register_balance_end_real = %s WHERE id = ANY(%s)",
        (counted_cash or 0, record_ids(ids)),
    )
    return {"successful": True}


def update_closing_control_state_session(env: Env, model: Model, ids: Any, notes: str = "") -> None:
    ensure_exist(env, model, record_ids(ids))
    env.cr.execute(
        b"UPDATE pos_session SET state = 'closing_control', closing_notes = %s "
        b"WHERE id = ANY(%s) AND state = 'opened'",
        (notes or "", record_ids(ids)),
    )


ALREADY_CLOSED = {
    "successful": False,
    "type": "alert",
    "title": "Session already closed",
    "message": "The session has been already closed by another User. "
    "All sales completed in the meantime have "
    "been saved in a Rescue Session, which can be reviewed anytime and posted to Accounting from Point of "
    "Sale's dashboard.",
    "redirect": True,
    "open_order_ids": [],
}


def close_session_from_ui(
    env: Env, model: Model, ids: Any, bank_payment_method_diff_pairs: Any = None
) -> Any:
    for session_id in record_ids(ids):
        ensure_exist(env, model, [session_id])
        session = env.one(
            "SELECT s.id, s.state, s.name, s.update_stock_at_closing, s.config_id FROM pos_session s "
            "WHERE s.id = %s FOR NO KEY UPDATE",
            (session_id,),
        )
        assert session is not None
        if session["state"] == "closed":
            return dict(ALREADY_CLOSED)
        drafts = env.value(
            "SELECT count(*) FROM pos_order WHERE session_id = %s AND state = 'draft'", (session_id,)
        )
        if drafts:
            return {"successful": False, "message": "You cannot close the POS when orders are still in draft"}
        _close(env, session)
    return {"successful": True}


def _close(env: Env, session: dict[str, Any]) -> None:
    if session["update_stock_at_closing"]:
        session_picking(env, session["id"])
    env.cr.execute(
        b"INSERT INTO account_move (journal_id, move_type, ref, pos_session_id, company_id) "
        b"SELECT %s, 'entry', %s, %s, company_id FROM pos_config WHERE id = %s RETURNING id",
        (_config_journal(env, session["config_id"]), session["name"], session["id"], session["config_id"]),
    )
    move = env.cr.fetchone()
    assert move is not None
    name_and_post(env, [{"id": move["id"], "sequence_id": _journal_sequence(env, move["id"])}])
    env.cr.execute(
        b"UPDATE pos_order SET state = 'done' WHERE session_id = %s AND state = 'paid'", (session["id"],)
    )
    env.cr.execute(
        b"UPDATE pos_session SET state = 'closed', stop_at = now() at time zone 'utc', move_id = %s "
        b"WHERE id = %s",
        (move["id"], session["id"]),
    )


def _config_journal(env: Env, config_id: int) -> int:
    found = env.value("SELECT journal_id FROM pos_config WHERE id = %s", (config_id,))
    return int(found) if found else journal_id(env, "entry")


def _journal_sequence(env: Env, move_id: int) -> int:
    return int(
        env.value(
            "SELECT j.sequence_id FROM account_move m JOIN account_journal j ON j.id = m.journal_id "
            "WHERE m.id = %s",
            (move_id,),
        )
    )
