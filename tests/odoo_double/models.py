"""The models the double serves, their fields and their model-specific methods."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import account, pos, stock
from .errors import AccessError, MethodMissing
from .orm import GENERIC, Env, Field, Model, col


def m2o(column: str, comodel: str, **kw: Any) -> Field:
    return Field("many2one", column=column, comodel=comodel, **kw)


def o2m(comodel: str, inverse: str) -> Field:
    return Field("one2many", comodel=comodel, inverse=inverse)


def _qty_available(ctx: Mapping[str, Any]) -> str:
    """product qty_available, restricted by context location / warehouse_id like Odoo."""
    extra = ""
    if isinstance(ctx.get("location"), int):
        extra = f" AND l.id = {int(ctx['location'])}"
    elif isinstance(ctx.get("warehouse_id"), int):
        extra = f" AND l.warehouse_id = {int(ctx['warehouse_id'])}"
    return (
        "SELECT COALESCE(sum(q.quantity), 0) FROM stock_quant q "
        "JOIN stock_location l ON l.id = q.location_id "
        f"WHERE q.product_id = t.id AND l.usage = 'internal'{extra}"
    )


def _free_qty(ctx: Mapping[str, Any]) -> str:
    return _qty_available(ctx).replace("sum(q.quantity)", "sum(q.quantity - q.reserved_quantity)")


def context_get(env: Env, model: Model) -> dict[str, Any]:
    env.cr.execute("SELECT lang, tz FROM res_users WHERE id = %s", (env.uid,))
    row = env.cr.fetchone()
    return {"lang": row["lang"] if row else "en_US", "tz": row["tz"] if row else False, "uid": env.uid}


def build_registry() -> dict[str, Model]:
    models = [
        Model("res.company", "res_company", {"name": col("char", "name")}),
        Model(
            "res.partner",
            "res_partner",
            {"name": col("char", "name"), "company_id": m2o("company_id", "res.company")},
        ),
        Model(
            "res.users",
            "res_users",
            {
                "login": col("char", "login"),
                "name": Field("char", sql="(SELECT p.name FROM res_partner p WHERE p.id = t.partner_id)"),
                "partner_id": m2o("partner_id", "res.partner"),
                "company_id": m2o("company_id", "res.company"),
                "active": col("boolean", "active"),
                "tz": col("char", "tz"),
                "lang": col("char", "lang"),
            },
            rec_name_sql="(SELECT p.name FROM res_partner p WHERE p.id = t.partner_id)",
            methods={"context_get": context_get},
            name_search_columns=("login",),
        ),
        Model("uom.uom", "uom_uom", {"name": col("char", "name")}),
        Model(
            "product.product",
            "product_product",
            {
                "name": col("char", "name"),
                "default_code": col("char", "default_code"),
                "barcode": col("char", "barcode"),
                "lst_price": col("float", "lst_price"),
                "standard_price": col("float", "standard_price"),
                "sale_ok": col("boolean", "sale_ok"),
                "available_in_pos": col("boolean", "available_in_pos"),
                "active": col("boolean", "active"),
                "type": col("selection", "type"),
                "is_storable": col("boolean", "is_storable"),
                "uom_id": m2o("uom_id", "uom.uom"),
                "qty_available": Field("float", sql=_qty_available, readonly=True),
                "free_qty": Field("float", sql=_free_qty, readonly=True),
                "virtual_available": Field("float", sql=_qty_available, readonly=True),
            },
            rec_name_sql="CASE WHEN t.default_code IS NOT NULL THEN '[' || t.default_code || '] ' || t.name "
            "ELSE t.name END",
            order="default_code, name, id",
            name_search_columns=("default_code", "name", "barcode"),
        ),
        Model(
            "stock.warehouse",
            "stock_warehouse",
            {
                "name": col("char", "name"),
                "code": col("char", "code"),
                "lot_stock_id": m2o("lot_stock_id", "stock.location"),
            },
        ),
        Model(
            "stock.location",
            "stock_location",
            {
                "name": col("char", "name"),
                "complete_name": col("char", "complete_name"),
                "usage": col("selection", "usage"),
                "warehouse_id": m2o("warehouse_id", "stock.warehouse"),
            },
            rec_name_sql="t.complete_name",
            order="complete_name, id",
        ),
        Model(
            "stock.quant",
            "stock_quant",
            {
                "product_id": m2o("product_id", "product.product"),
                "location_id": m2o("location_id", "stock.location"),
                "lot_id": Field("many2one", column="lot_id", readonly=True),
                "package_id": Field("many2one", column="package_id", readonly=True),
                "owner_id": m2o("owner_id", "res.partner"),
                "quantity": col("float", "quantity"),
                "reserved_quantity": col("float", "reserved_quantity"),
                "available_quantity": Field("float", sql="t.quantity - t.reserved_quantity", readonly=True),
                "in_date": col("datetime", "in_date"),
                "warehouse_id": Field(
                    "many2one",
                    comodel="stock.warehouse",
                    sql="(SELECT l.warehouse_id FROM stock_location l WHERE l.id = t.location_id)",
                    readonly=True,
                ),
            },
            rec_name_sql="(SELECT p.name FROM product_product p WHERE p.id = t.product_id)",
        ),
        Model(
            "stock.picking",
            "stock_picking",
            {
                "name": col("char", "name"),
                "origin": col("char", "origin"),
                "state": col("selection", "state"),
                "picking_type_code": col("selection", "picking_type_code"),
                "location_id": m2o("location_id", "stock.location"),
                "location_dest_id": m2o("location_dest_id", "stock.location"),
                "pos_order_id": m2o("pos_order_id", "pos.order"),
                "pos_session_id": m2o("pos_session_id", "pos.session"),
                "scheduled_date": col("datetime", "scheduled_date"),
                "date_done": col("datetime", "date_done", readonly=True),
                "move_ids": o2m("stock.move", "picking_id"),
            },
            order="id desc",
            methods={"button_validate": stock.button_validate, "create": stock.create_picking},
        ),
        Model(
            "stock.move",
            "stock_move",
            {
                "name": col("char", "name"),
                "picking_id": m2o("picking_id", "stock.picking"),
                "product_id": m2o("product_id", "product.product"),
                "product_uom_qty": col("float", "product_uom_qty"),
                "quantity": col("float", "quantity"),
                "state": col("selection", "state"),
                "location_id": m2o("location_id", "stock.location"),
                "location_dest_id": m2o("location_dest_id", "stock.location"),
                "date": col("datetime", "date", readonly=True),
            },
        ),
        Model(
            "pos.payment.method",
            "pos_payment_method",
            {"name": col("char", "name"), "is_cash_count": col("boolean", "is_cash_count")},
        ),
        Model(
            "pos.config",
            "pos_config",
            {
                "name": col("char", "name"),
                "branch_code": col("char", "branch_code"),
                "warehouse_id": m2o("warehouse_id", "stock.warehouse"),
                "cash_control": col("boolean", "cash_control"),
                "update_stock_at_closing": col("boolean", "update_stock_at_closing"),
                "active": col("boolean", "active"),
                "session_ids": o2m("pos.session", "config_id"),
                "current_session_id": Field(
                    "many2one",
                    comodel="pos.session",
                    sql="(SELECT s.id FROM pos_session s WHERE s.config_id = t.id AND s.state != 'closed' "
                    "ORDER BY s.id DESC LIMIT 1)",
                    readonly=True,
                ),
            },
            methods={"open_ui": pos.open_ui},
        ),
        Model(
            "pos.session",
            "pos_session",
            {
                "name": col("char", "name"),
                "config_id": m2o("config_id", "pos.config"),
                "user_id": m2o("user_id", "res.users"),
                "state": col("selection", "state", readonly=True),
                "start_at": col("datetime", "start_at", readonly=True),
                "stop_at": col("datetime", "stop_at", readonly=True),
                "cash_register_balance_start": col("float", "cash_register_balance_start"),
                "cash_register_balance_end_real": col("float", "cash_register_balance_end_real"),
                "move_id": m2o("move_id", "account.move", readonly=True),
                "order_ids": o2m("pos.order", "session_id"),
            },
            order="id desc",
            methods={
                "set_opening_control": pos.set_opening_control,
                "load_data": pos.load_data,
                "find_product_by_barcode": pos.find_product_by_barcode,
                "post_closing_cash_details": pos.post_closing_cash_details,
                "update_closing_control_state_session": pos.update_closing_control_state_session,
                "close_session_from_ui": pos.close_session_from_ui,
            },
        ),
        Model(
            "pos.order",
            "pos_order",
            {
                "name": col("char", "name", readonly=True),
                "pos_reference": col("char", "pos_reference"),
                "uuid": col("char", "uuid", readonly=True),
                "access_token": col("char", "access_token", readonly=True),
                "state": col("selection", "state", readonly=True),
                "session_id": m2o("session_id", "pos.session", readonly=True),
                "config_id": m2o("config_id", "pos.config", readonly=True),
                "company_id": m2o("company_id", "res.company", readonly=True),
                "user_id": m2o("user_id", "res.users"),
                "partner_id": m2o("partner_id", "res.partner"),
                "pricelist_id": Field("many2one", column="pricelist_id"),
                "fiscal_position_id": Field("many2one", column="fiscal_position_id"),
                "sequence_number": col("integer", "sequence_number"),
                "tracking_number": col("char", "tracking_number", readonly=True),
                "date_order": col("datetime", "date_order"),
                "amount_total": col("float", "amount_total", readonly=True),
                "amount_tax": col("float", "amount_tax", readonly=True),
                "amount_paid": col("float", "amount_paid", readonly=True),
                "amount_return": col("float", "amount_return", readonly=True),
                "to_invoice": col("boolean", "to_invoice"),
                "account_move": m2o("account_move", "account.move", readonly=True),
                "last_order_preparation_change": col("text", "last_order_preparation_change"),
                "general_note": col("text", "general_note"),
                "nb_print": col("integer", "nb_print"),
                "create_date": col("datetime", "create_date", readonly=True),
                "write_date": col("datetime", "write_date", readonly=True),
                "lines": o2m("pos.order.line", "order_id"),
                "payment_ids": o2m("pos.payment", "pos_order_id"),
                "picking_ids": o2m("stock.picking", "pos_order_id"),
            },
            order="date_order desc, name desc, id desc",
            methods={"sync_from_ui": pos.sync_from_ui},
        ),
        Model(
            "pos.order.line",
            "pos_order_line",
            {
                "order_id": m2o("order_id", "pos.order", readonly=True),
                "uuid": col("char", "uuid", readonly=True),
                "product_id": m2o("product_id", "product.product", readonly=True),
                "full_product_name": col("char", "full_product_name"),
                "qty": col("float", "qty", readonly=True),
                "price_unit": col("float", "price_unit", readonly=True),
                "discount": col("float", "discount", readonly=True),
                "price_subtotal": col("float", "price_subtotal", readonly=True),
                "price_subtotal_incl": col("float", "price_subtotal_incl", readonly=True),
                "customer_note": col("text", "customer_note"),
                "date_order": Field(
                    "datetime",
                    sql="(SELECT o.date_order FROM pos_order o WHERE o.id = t.order_id)",
                    readonly=True,
                ),
                "config_id": Field(
                    "many2one",
                    comodel="pos.config",
                    sql="(SELECT o.config_id FROM pos_order o WHERE o.id = t.order_id)",
                    readonly=True,
                ),
            },
            rec_name_sql="COALESCE(t.full_product_name, '')",
        ),
        Model(
            "pos.payment",
            "pos_payment",
            {
                "pos_order_id": m2o("pos_order_id", "pos.order", readonly=True),
                "uuid": col("char", "uuid", readonly=True),
                "name": col("char", "name"),
                "payment_method_id": m2o("payment_method_id", "pos.payment.method", readonly=True),
                "amount": col("float", "amount", readonly=True),
                "payment_date": col("datetime", "payment_date", readonly=True),
            },
            rec_name_sql="COALESCE(t.name, '')",
        ),
        Model(
            "account.journal",
            "account_journal",
            {"name": col("char", "name"), "code": col("char", "code"), "type": col("selection", "type")},
        ),
        Model(
            "account.move",
            "account_move",
            {
                "name": col("char", "name"),
                "ref": col("char", "ref"),
                "state": col("selection", "state"),
                "move_type": col("selection", "move_type"),
                "journal_id": m2o("journal_id", "account.journal"),
                "partner_id": m2o("partner_id", "res.partner"),
                "date": col("date", "date"),
                "amount_total": col("float", "amount_total"),
                "pos_order_id": m2o("pos_order_id", "pos.order", readonly=True),
                "line_ids": o2m("account.move.line", "move_id"),
            },
            order="date desc, name desc, id desc",
            methods={"action_post": account.action_post, "create": account.create_move},
        ),
        Model(
            "account.move.line",
            "account_move_line",
            {
                "move_id": m2o("move_id", "account.move"),
                "name": col("char", "name"),
                "debit": col("float", "debit"),
                "credit": col("float", "credit"),
                "product_id": m2o("product_id", "product.product"),
                "quantity": col("float", "quantity"),
            },
        ),
    ]
    return {m.name: m for m in models}


REGISTRY = build_registry()


def resolve_method(model: Model, method: str) -> Callable[..., Any]:
    """odoo/service/model.py get_public_method: private → AccessError, missing → AttributeError."""
    if method.startswith("_"):
        raise AccessError(f"Private methods (such as '{model.name}.{method}') cannot be called remotely.")
    func = model.methods.get(method) or GENERIC.get(method)
    if func is None:
        raise MethodMissing(f"The method '{model.name}.{method}' does not exist")
    return func
