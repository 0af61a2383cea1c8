"""Customer invoices: creation priced from the products, posting with a gapless name.

``create`` takes product lines in ``invoice_line_ids`` or ``line_ids``
(``[0, 0, {product_id, quantity[, name, price_unit]}]``); the price is the
product's list price unless given, and a receivable (payment term) line
balances the products, as in Odoo. A draft has no name (``False``).
``action_post`` returns ``False`` and refuses, in one UserError with one
message per line, what Odoo 18 refuses: a customer invoice without customer,
an entry without lines, an entry that is not a draft. Posting names the entry
from its journal's ``no_gap`` sequence (``INV/2026/00012``): the sequence row
is taken ``FOR UPDATE NOWAIT``, so concurrent posts retry (55P03/40001) and
names never skip a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .errors import UserError
from .orm import Env, Model, col, computed, create, ensure_exist, insert_row, m2o, o2m, record_ids, unlink
from .sequences import next_number

SALE_TYPES = ("out_invoice", "out_refund", "out_receipt")
PURCHASE_TYPES = ("in_invoice", "in_refund", "in_receipt")
INVOICE_TYPES = SALE_TYPES + PURCHASE_TYPES
DOCUMENT = {"out_invoice": "Customer Invoice", "out_refund": "Customer Credit Note"}
PRODUCT_TOTAL = (
    "(SELECT COALESCE(sum(l.quantity * l.price_unit), 0) FROM account_move_line l "
    "WHERE l.move_id = t.id AND l.display_type = 'product')"
)


def models() -> list[Model]:
    return [
        Model(
            "account.journal",
            "account_journal",
            {
                "name": col("char", "name", "Journal Name"),
                "code": col("char", "code", "Short Code"),
                "type": col("selection", "type", "Type"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "active": col("boolean", "active"),
            },
            description="Journal",
            order="id",
        ),
        Model(
            "account.move",
            "account_move",
            {
                "name": col("char", "name", "Number"),
                "ref": col("char", "ref", "Reference"),
                "state": col("selection", "state", "Status"),
                "move_type": col("selection", "move_type", "Type"),
                "journal_id": m2o("journal_id", "account.journal", "Journal"),
                "partner_id": m2o("partner_id", "res.partner", "Partner"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "date": col("date", "date", "Date"),
                "invoice_date": col("date", "invoice_date", "Invoice/Bill Date"),
                "amount_untaxed": computed("monetary", PRODUCT_TOTAL),
                "amount_tax": computed("monetary", "0"),
                "amount_total": computed("monetary", PRODUCT_TOTAL),
                "amount_residual": computed("monetary", PRODUCT_TOTAL),
                "payment_state": computed("selection", "'not_paid'"),
                "pos_order_id": m2o("pos_order_id", "pos.order", "Pos Order"),
                "line_ids": o2m("account.move.line", "move_id"),
                "invoice_line_ids": o2m("account.move.line", "move_id", "c.display_type = 'product'"),
            },
            description="Journal Entry",
            rec_name_sql="COALESCE(t.name, 'Draft')",
            order="date desc, name desc, id desc",
            methods={"create": create_move, "action_post": action_post, "unlink": unlink_moves},
        ),
        Model(
            "account.move.line",
            "account_move_line",
            {
                "move_id": m2o("move_id", "account.move", "Journal Entry"),
                "name": col("char", "name", "Label"),
                "display_type": col("selection", "display_type", "Display Type"),
                "product_id": m2o("product_id", "product.product", "Product"),
                "quantity": col("float", "quantity", "Quantity"),
                "price_unit": col("float", "price_unit", "Unit Price"),
                "debit": col("monetary", "debit", "Debit"),
                "credit": col("monetary", "credit", "Credit"),
                "balance": computed("monetary", "t.debit - t.credit"),
                "price_subtotal": computed(
                    "monetary",
                    "CASE WHEN t.display_type = 'product' THEN t.quantity * t.price_unit ELSE 0 END",
                ),
                "price_total": computed(
                    "monetary",
                    "CASE WHEN t.display_type = 'product' THEN t.quantity * t.price_unit ELSE 0 END",
                ),
            },
            description="Journal Item",
            rec_name_sql="COALESCE(t.name, '')",
        ),
    ]


def journal_id(env: Env, move_type: str) -> int:
    """The first journal of the kind a move type needs (sale, purchase, general)."""
    kind = "sale" if move_type in SALE_TYPES else "purchase" if move_type in PURCHASE_TYPES else "general"
    found = env.value(
        "SELECT id FROM account_journal WHERE type = %s AND active ORDER BY id LIMIT 1", (kind,)
    )
    if found is None:
        raise UserError(f"No journal of type {kind!r}: seed the database first.")
    return int(found)


def _product(env: Env, product_id: int) -> dict[str, Any]:
    ensure_exist(env, env.model("product.product"), [product_id])
    row = env.one(
        "SELECT p.lst_price, CASE WHEN p.default_code IS NOT NULL "
        "THEN '[' || p.default_code || '] ' || p.name "
        "ELSE p.name END AS display_name FROM product_product p WHERE p.id = %s",
        (product_id,),
    )
    assert row is not None
    return row


def _line_values(env: Env, move_id: int, move_type: str, given: Mapping[str, Any]) -> dict[str, Any]:
    vals = {k: v for k, v in given.items() if k not in ("debit", "credit", "move_id")}
    if vals.get("product_id"):
        product = _product(env, int(vals["product_id"]))
        vals.setdefault("price_unit", product["lst_price"])
        vals.setdefault("name", product["display_name"])
    vals.setdefault("quantity", 1)
    vals.setdefault("display_type", "product")
    amount = Decimal(str(vals.get("quantity") or 0)) * Decimal(str(vals.get("price_unit") or 0))
    side = "credit" if move_type in SALE_TYPES else "debit"
    return {**vals, "move_id": move_id, side: amount}


def _balance(env: Env, move_id: int, move_type: str) -> None:
    """The receivable/payable line that balances the product lines (Odoo's payment term line)."""
    env.cr.execute(
        b"DELETE FROM account_move_line WHERE move_id = %s AND display_type = 'payment_term'", (move_id,)
    )
    total = env.value(
        "SELECT COALESCE(sum(quantity * price_unit), 0) AS total FROM account_move_line "
        "WHERE move_id = %s AND display_type = 'product'",
        (move_id,),
    )
    if not total or move_type not in INVOICE_TYPES:
        return
    side = "debit" if move_type in SALE_TYPES else "credit"
    env.cr.execute(
        f"INSERT INTO account_move_line (move_id, name, display_type, quantity, {side}) "
        "VALUES (%s, '', 'payment_term', 0, %s)".encode(),
        (move_id, total),
    )


def create_move(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, Mapping)
    line_model = env.model("account.move.line")
    ids = []
    for given in [vals_list] if single else list(vals_list):
        vals = {k: v for k, v in given.items() if k not in ("line_ids", "invoice_line_ids")}
        move_type = str(vals.setdefault("move_type", "entry"))
        vals.setdefault("journal_id", journal_id(env, move_type))
        vals.setdefault(
            "company_id",
            env.value("SELECT company_id FROM account_journal WHERE id = %s", (vals["journal_id"],)),
        )
        if vals.get("partner_id"):
            ensure_exist(env, env.model("res.partner"), [int(vals["partner_id"])])
        vals["state"] = "draft"
        vals.pop("name", None)
        move_id = int(create(env, model, vals))
        for command in [*given.get("line_ids", []), *given.get("invoice_line_ids", [])]:
            if command[0] != 0:
                raise UserError(f"Unsupported command {command!r} on account.move lines in the double")
            insert_row(env, line_model, _line_values(env, move_id, move_type, command[2]))
        _balance(env, move_id, move_type)
        ids.append(move_id)
    return ids[0] if single else ids


def _refusals(env: Env, moves: Sequence[Mapping[str, Any]]) -> list[str]:
    """What Odoo 18's _post refuses, one message per kind (it keeps them in a set)."""
    messages: list[str] = []
    for move in moves:
        if move["move_type"] in SALE_TYPES and not move["partner_id"]:
            document = DOCUMENT.get(move["move_type"], "Customer Invoice")
            messages.append(
                f"The field 'Customer' is required, please complete it to validate the {document}."
            )
        elif move["move_type"] in PURCHASE_TYPES and not move["partner_id"]:
            messages.append("The field 'Vendor' is required, please complete it to validate the Vendor Bill.")
    for move in moves:
        if move["state"] in ("posted", "cancel"):
            messages.append(f"The entry {move['name'] or False} (id {move['id']}) must be in draft.")
        if not move["lines"]:
            messages.append("You need to add a line before posting.")
    return list(dict.fromkeys(messages))


def lock_moves(env: Env, ids: Sequence[int]) -> list[dict[str, Any]]:
    ensure_exist(env, env.model("account.move"), ids)
    return env.all(
        "SELECT m.id, m.name, m.state, m.move_type, m.partner_id, j.sequence_id, "
        "(SELECT count(*) FROM account_move_line l WHERE l.move_id = m.id) AS lines "
        "FROM account_move m JOIN account_journal j ON j.id = m.journal_id "
        "WHERE m.id = ANY(%s) ORDER BY m.id FOR UPDATE OF m",
        (sorted(set(ids)),),
    )


def name_and_post(env: Env, moves: Sequence[Mapping[str, Any]]) -> None:
    for move in moves:
        name = next_number(env, move["sequence_id"])
        env.cr.execute(
            b"UPDATE account_move SET name = %s, state = 'posted', "
            b"invoice_date = CASE WHEN move_type = ANY(%s) THEN COALESCE(invoice_date, current_date) "
            b"ELSE invoice_date END "
            b"WHERE id = %s",
            (name, list(SALE_TYPES), move["id"]),
        )
        env.cr.execute(
            b"UPDATE account_move_line SET name = %s WHERE move_id = %s AND display_type = 'payment_term'",
            (name, move["id"]),
        )


def action_post(env: Env, model: Model, ids: Any) -> bool:
    moves = lock_moves(env, record_ids(ids))
    refusals = _refusals(env, moves)
    if refusals:
        raise UserError("\n".join(refusals))
    name_and_post(env, moves)
    return False


POSTED_LINE = (
    "You can't delete a posted journal item. Don\u2019t play games with your accounting records; "
    "reset the journal entry to draft before deleting it."
)


def unlink_moves(env: Env, model: Model, ids: Any) -> bool:
    wanted = record_ids(ids)
    if env.one("SELECT 1 FROM account_move WHERE id = ANY(%s) AND state = 'posted'", (wanted,)):
        raise UserError(POSTED_LINE)
    return bool(unlink(env, model, wanted))
