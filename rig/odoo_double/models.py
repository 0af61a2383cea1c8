"""The models the double serves: the registry, the base models, and how tables read in messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import account, attachment, pos, stock
from .db import Labels
from .errors import AccessError, MethodMissing
from .grouping import read_group
from .orm import (
    Env,
    Model,
    col,
    computed,
    create,
    fields_get,
    m2o,
    name_search,
    read,
    search,
    search_count,
    search_read,
    unlink,
    web_search_read,
    write,
)

GENERIC: dict[str, Callable[..., Any]] = {
    "search": search,
    "search_count": search_count,
    "search_read": search_read,
    "read": read,
    "web_search_read": web_search_read,
    "name_search": name_search,
    "read_group": read_group,
    "create": create,
    "write": write,
    "unlink": unlink,
    "fields_get": fields_get,
}

#: Methods Odoo routes to a read-only cursor (replica-routable).
READONLY_METHODS = frozenset(
    {
        "search",
        "search_count",
        "search_fetch",
        "search_read",
        "read",
        "read_group",
        "name_search",
        "web_search_read",
        "web_read",
        "web_read_group",
        "read_progress_bar",
        "fields_get",
    }
)


def _qty_available(ctx: Mapping[str, Any], column: str = "q.quantity") -> str:
    """product qty_available, restricted by context location / warehouse_id like Odoo."""
    extra = ""
    if isinstance(ctx.get("location"), int):
        extra = f" AND l.id = {int(ctx['location'])}"
    elif isinstance(ctx.get("warehouse_id"), int):
        extra = f" AND l.warehouse_id = {int(ctx['warehouse_id'])}"
    return (
        f"SELECT COALESCE(sum({column}), 0) FROM stock_quant q "
        "JOIN stock_location l ON l.id = q.location_id "
        f"WHERE q.product_id = t.id AND l.usage = 'internal'{extra}"
    )


def _free_qty(ctx: Mapping[str, Any]) -> str:
    return _qty_available(ctx, "q.quantity - q.reserved_quantity")


def context_get(env: Env, model: Model) -> dict[str, Any]:
    row = env.one("SELECT lang, tz FROM res_users WHERE id = %s", (env.uid,))
    return {"lang": row["lang"] if row else "en_US", "tz": row["tz"] if row else False, "uid": env.uid}


def base_models() -> list[Model]:
    return [
        Model(
            "res.company",
            "res_company",
            {"name": col("char", "name", "Company Name"), "country_code": col("char", "country_code")},
            description="Companies",
        ),
        Model("res.currency", "res_currency", {"name": col("char", "name"), "symbol": col("char", "symbol")}),
        Model(
            "res.partner",
            "res_partner",
            {
                "name": col("char", "name", "Name"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "email": col("char", "email", "Email"),
                "customer_rank": col("integer", "customer_rank", "Customer Rank"),
                "supplier_rank": col("integer", "supplier_rank", "Supplier Rank"),
                "active": col("boolean", "active"),
            },
            description="Contact",
            order="name, id",
        ),
        Model(
            "res.users",
            "res_users",
            {
                "login": col("char", "login", "Login"),
                "name": computed("char", "(SELECT p.name FROM res_partner p WHERE p.id = t.partner_id)"),
                "partner_id": m2o("partner_id", "res.partner", "Related Partner"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "active": col("boolean", "active"),
                "tz": col("char", "tz", "Timezone"),
                "lang": col("char", "lang", "Language"),
            },
            description="User",
            rec_name_sql="(SELECT p.name FROM res_partner p WHERE p.id = t.partner_id)",
            methods={"context_get": context_get},
            name_search_columns=("login",),
        ),
        Model(
            "ir.sequence",
            "ir_sequence",
            {
                "name": col("char", "name"),
                "code": col("char", "code", "Sequence Code"),
                "prefix": col("char", "prefix"),
                "padding": col("integer", "padding", "Sequence Size"),
                "implementation": col("selection", "implementation"),
            },
            description="Sequence",
        ),
        Model(
            "uom.uom", "uom_uom", {"name": col("char", "name", "Unit")}, description="Product Unit of Measure"
        ),
        Model(
            "product.product",
            "product_product",
            {
                "name": col("char", "name", "Name"),
                "default_code": col("char", "default_code", "Internal Reference"),
                "barcode": col("char", "barcode", "Barcode"),
                "lst_price": col("float", "lst_price", "Sales Price"),
                "standard_price": col("float", "standard_price", "Cost"),
                "sale_ok": col("boolean", "sale_ok", "Sales"),
                "available_in_pos": col("boolean", "available_in_pos", "Available in POS"),
                "active": col("boolean", "active"),
                "type": col("selection", "type", "Product Type"),
                "is_storable": col("boolean", "is_storable", "Track Inventory"),
                # Odoo's lot/serial tracking (stock): the double tracks none, but the field exists
                "tracking": col("selection", "tracking", "Tracking"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "uom_id": m2o("uom_id", "uom.uom", "Unit"),
                "qty_available": computed("float", _qty_available),
                "free_qty": computed("float", _free_qty),
                "virtual_available": computed("float", _qty_available),
                "create_date": col("datetime", "create_date", "Created on"),
            },
            description="Product Variant",
            rec_name_sql="CASE WHEN t.default_code IS NOT NULL THEN '[' || t.default_code || '] ' || t.name "
            "ELSE t.name END",
            order="default_code, name, id",
            name_search_columns=("default_code", "name", "barcode"),
        ),
    ]


def report_model() -> Model:
    """report.pos.order: a view over the order lines (Point of Sale > Reporting > Orders)."""
    return Model(
        "report.pos.order",
        "report_pos_order",
        {
            "date": col("datetime", "date", "Order Date"),
            "order_id": m2o("order_id", "pos.order", "Order"),
            "partner_id": m2o("partner_id", "res.partner", "Customer"),
            "product_id": m2o("product_id", "product.product", "Product"),
            "state": col("selection", "state", "Status"),
            "user_id": m2o("user_id", "res.users", "Salesperson"),
            "company_id": m2o("company_id", "res.company", "Company"),
            "config_id": m2o("config_id", "pos.config", "Point of Sale"),
            "session_id": m2o("session_id", "pos.session", "Session"),
            "pricelist_id": col("many2one", "pricelist_id", "Pricelist"),
            "product_qty": col("integer", "product_qty", "Product Quantity"),
            "price_total": col("float", "price_total", "Total Price"),
            "price_sub_total": col("float", "price_sub_total", "Subtotal w/o discount"),
            "price_subtotal_excl": col("float", "price_subtotal_excl", "Subtotal w/o Tax"),
            "total_discount": col("float", "total_discount", "Total Discount"),
            "average_price": col("float", "average_price", "Average Price", aggregator="avg"),
            "nbr_lines": col("integer", "nbr_lines", "Sale Line Count"),
            "invoiced": col("boolean", "invoiced"),
        },
        description="Point of Sale Orders Report",
        rec_name_sql="''",
        order="date desc",
    )


def build_registry() -> dict[str, Model]:
    models = [
        *base_models(),
        *stock.models(),
        *account.models(),
        *pos.models(),
        report_model(),
        *attachment.models(),
    ]
    return {m.name: m for m in models}


REGISTRY = build_registry()
_BY_TABLE = {m.table: m for m in REGISTRY.values()}


def describe(table: str, column: str | None) -> Labels:
    """A table and column as Odoo's constraint messages name them: ``Transfer (stock.picking)``."""
    model = _BY_TABLE.get(table)
    if model is None:
        return Labels("unknown", "Unknown", "unknown", "Unknown")
    fname = next((n for n, f in model.fields.items() if f.column == column), column or "unknown")
    field = model.fields.get(fname)
    return Labels(model.name, model.description, fname, field.label if field else "Unknown")


def resolve_method(model: Model, method: str) -> Callable[..., Any]:
    """odoo/service/model.py get_public_method: private → AccessError, missing → AttributeError."""
    if method.startswith("_"):
        raise AccessError(f"Private methods (such as '{model.name}.{method}') cannot be called remotely.")
    func = model.methods.get(method) or GENERIC.get(method)
    if func is None:
        raise MethodMissing(f"The method '{model.name}.{method}' does not exist")
    return func
