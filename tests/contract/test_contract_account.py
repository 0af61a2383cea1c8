"""Customer invoices: what action_post refuses, and gapless names for what it accepts (both targets).

Odoo 18 gathers the refusals of one ``action_post`` in a set and joins them
with newlines, so their order varies between server processes: the tests
compare the lines as a set.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.contract.discover import customer, products, read_one
from tests.contract.rpc import Client, RpcError

NO_CUSTOMER = "The field 'Customer' is required, please complete it to validate the Customer Invoice."
NO_LINE = "You need to add a line before posting."
NAME = re.compile(r"^INV/(\d{4})/(\d{5})$")


def _invoice(client: Client, **values: object) -> int:
    return int(client.kw("account.move", "create", [{"move_type": "out_invoice", **values}]))


def _refusal(client: Client, move_ids: list[int]) -> tuple[str, set[str]]:
    with pytest.raises(RpcError) as err:
        client.kw("account.move", "action_post", [move_ids])
    return str(err.value.name), set(str(err.value.message).split("\n"))


def _product(client: Client) -> dict[str, object]:
    return products(client, [["type", "=", "consu"]])[0]


def test_posting_refuses_an_incomplete_invoice(admin: Client):
    partner = customer(admin)
    line = [0, 0, {"product_id": _product(admin)["id"], "quantity": 1}]
    empty = _invoice(admin)
    assert read_one(admin, "account.move", empty, ["name", "state"]) == {
        "id": empty,
        "name": False,
        "state": "draft",
    }
    assert _refusal(admin, [empty]) == ("odoo.exceptions.UserError", {NO_CUSTOMER, NO_LINE})
    assert _refusal(admin, [_invoice(admin, partner_id=partner)]) == ("odoo.exceptions.UserError", {NO_LINE})
    assert _refusal(admin, [_invoice(admin, invoice_line_ids=[line])]) == (
        "odoo.exceptions.UserError",
        {NO_CUSTOMER},
    )


def test_posting_twice_is_refused(admin: Client):
    product = _product(admin)
    move = _invoice(
        admin,
        partner_id=customer(admin),
        invoice_line_ids=[[0, 0, {"product_id": product["id"], "quantity": 1}]],
    )
    assert admin.kw("account.move", "action_post", [[move]]) is False
    name = read_one(admin, "account.move", move, ["name"])["name"]
    twice = f"The entry {name} (id {move}) must be in draft."
    assert _refusal(admin, [move]) == ("odoo.exceptions.UserError", {twice})
    assert _refusal(admin, [move, _invoice(admin, partner_id=customer(admin))]) == (
        "odoo.exceptions.UserError",
        {twice, NO_LINE},
    )


def test_unknown_records_are_missing(admin: Client):
    for values, record in (
        ({"partner_id": 999999999}, "res.partner(999999999,)"),
        (
            {"invoice_line_ids": [[0, 0, {"product_id": 999999999, "quantity": 1}]]},
            "product.product(999999999,)",
        ),
    ):
        with pytest.raises(RpcError) as err:
            _invoice(admin, **values)
        assert err.value.name == "odoo.exceptions.MissingError"
        assert err.value.message == f"Record does not exist or has been deleted.\n(Record: {record}, User: 2)"
    with pytest.raises(RpcError) as err:
        admin.kw("account.move", "action_post", [[999999999]])
    assert err.value.name == "odoo.exceptions.MissingError"


def test_action_post_allocates_gapless_names(admin: Client):
    partner = customer(admin)
    product = _product(admin)
    moves = [
        _invoice(
            admin, partner_id=partner, invoice_line_ids=[[0, 0, {"product_id": product["id"], "quantity": 2}]]
        ),
        _invoice(admin, partner_id=partner, line_ids=[[0, 0, {"product_id": product["id"], "quantity": 3}]]),
        _invoice(
            admin,
            partner_id=partner,
            invoice_line_ids=[[0, 0, {"product_id": product["id"], "quantity": 1, "name": "x"}]],
        ),
    ]
    for move in moves:
        resp = admin.post(
            "/web/dataset/call_kw/account.move/action_post",
            {"model": "account.move", "method": "action_post", "args": [[move]], "kwargs": {}},
        )
        assert resp.json()["result"] is False
    rows = admin.kw_list(
        "account.move",
        "read",
        [moves],
        fields=[
            "name",
            "state",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "invoice_date",
            "journal_id",
        ],
    )
    matches = [NAME.match(r["name"]) for r in rows]
    assert all(matches), [r["name"] for r in rows]
    numbers = [int(m.group(2)) for m in matches if m]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    assert {int(m.group(1)) for m in matches if m} == {dt.date.today().year}
    price = float(product["lst_price"])  # type: ignore[arg-type]
    for row, quantity in zip(rows, (2, 3, 1), strict=True):
        assert row["state"] == "posted"
        assert row["amount_untaxed"] == pytest.approx(price * quantity)
        assert row["amount_total"] == pytest.approx(row["amount_untaxed"] + row["amount_tax"])
        assert row["invoice_date"] == dt.date.today().isoformat()
    journal = read_one(admin, "account.journal", rows[0]["journal_id"][0], ["type", "code"])
    assert (journal["type"], journal["code"]) == ("sale", "INV")


def test_invoice_lines(admin: Client):
    product = _product(admin)
    move = _invoice(
        admin,
        partner_id=customer(admin),
        invoice_line_ids=[[0, 0, {"product_id": product["id"], "quantity": 2}]],
    )
    row = read_one(admin, "account.move", move, ["line_ids", "invoice_line_ids", "amount_untaxed"])
    assert len(row["invoice_line_ids"]) == 1
    assert set(row["invoice_line_ids"]) < set(row["line_ids"])
    lines = admin.kw_list(
        "account.move.line",
        "read",
        [row["line_ids"]],
        fields=["display_type", "product_id", "quantity", "price_unit", "name"],
    )
    by_type = {line["display_type"]: line for line in lines}
    assert {"product", "payment_term"} <= set(by_type)
    assert by_type["product"]["product_id"][0] == product["id"]
    assert by_type["product"]["price_unit"] == pytest.approx(product["lst_price"])
    assert by_type["product"]["name"] == product["display_name"]


def test_customers_and_the_sale_journal(admin: Client):
    customers = admin.kw_list(
        "res.partner", "search_read", [], domain=[["customer_rank", ">", 0]], fields=["customer_rank"]
    )
    assert customers
    assert all(c["customer_rank"] > 0 for c in customers)
    journals = admin.kw_list(
        "account.journal", "search_read", [], domain=[["type", "=", "sale"]], fields=["code"]
    )
    assert "INV" in {j["code"] for j in journals}


def test_a_posted_entry_cannot_be_deleted(admin: Client):
    move = _invoice(
        admin, partner_id=customer(admin), invoice_line_ids=[[0, 0, {"product_id": _product(admin)["id"]}]]
    )
    admin.kw("account.move", "action_post", [[move]])
    with pytest.raises(RpcError) as err:
        admin.kw("account.move", "unlink", [[move]])
    assert (err.value.name, err.value.message) == (
        "odoo.exceptions.UserError",
        "You can't delete a posted journal item. Don\u2019t play games with your accounting records; "
        "reset the journal entry to draft before deleting it.",
    )
