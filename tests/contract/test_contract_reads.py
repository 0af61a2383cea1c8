"""The reads a load harness makes, and how Odoo 18 refuses bad ones (both targets).

Includes the fields the harness discovers ids from (warehouses, operation
types, tills, payment methods, products) and the fields the double used to
invent (``branch_code``, ``update_stock_at_closing`` on pos.config), which a
real Odoo 18 does not have.
"""

from __future__ import annotations

import pytest

from tests.contract.rpc import Client, RpcError


def _error(client: Client, model: str, method: str, args: list[object], **kwargs: object) -> tuple[str, str]:
    with pytest.raises(RpcError) as err:
        client.kw(model, method, args, **kwargs)
    return str(err.value.name), str(err.value.message)


def test_unknown_fields_and_operators_are_refused(admin: Client):
    invalid = ("builtins.ValueError", "Invalid field 'nope' on model 'product.product'")
    assert _error(admin, "product.product", "search_read", [], domain=[], fields=["nope"], limit=1) == invalid
    assert _error(admin, "product.product", "read", [[1]], fields=["nope"]) == invalid
    assert (
        _error(admin, "product.product", "search_read", [], fields=["id"], order="nope asc", limit=1)
        == invalid
    )
    assert _error(admin, "product.product", "search_read", [], domain=[["nope", "=", 1]], fields=["id"]) == (
        "builtins.ValueError",
        "Invalid field product.product.nope in leaf ('nope', '=', 1)",
    )
    assert _error(admin, "product.product", "search_count", [[["uom_id.nope", "=", "x"]]]) == (
        "builtins.ValueError",
        "Invalid field uom.uom.nope in leaf ('nope', '=', 'x')",
    )
    assert _error(
        admin, "product.product", "search_read", [], domain=[["id", "bogus", 1]], fields=["id"]
    ) == (
        "builtins.ValueError",
        "Invalid leaf ('id', 'bogus', 1)",
    )
    assert _error(admin, "res.partner", "create", [{"name": "x", "nope": 1}]) == (
        "builtins.ValueError",
        "Invalid field 'nope' on model 'res.partner'",
    )


def test_fields_the_double_used_to_invent(admin: Client):
    for field in ("update_stock_at_closing", "branch_code"):
        assert _error(admin, "pos.config", "search_read", [], fields=[field], limit=1) == (
            "builtins.ValueError",
            f"Invalid field {field!r} on model 'pos.config'",
        )
    sessions = admin.kw_list("pos.session", "search_read", [], fields=["update_stock_at_closing"], limit=1)
    assert all(isinstance(s["update_stock_at_closing"], bool) for s in sessions)


def test_missing_records(admin: Client):
    """read leaves out what no longer exists; write names it."""
    assert admin.kw("product.product", "read", [[999999999]], fields=["name"]) == []
    assert _error(admin, "product.product", "write", [[999999999], {"name": "x"}]) == (
        "odoo.exceptions.MissingError",
        "Record does not exist or has been deleted.\n(Record: product.product(999999999,), User: 2)",
    )


def test_a_contact_needs_a_name(admin: Client):
    assert _error(admin, "res.partner", "create", [{}]) == (
        "odoo.exceptions.ValidationError",
        "The operation cannot be completed: Contacts require a name",
    )


def test_discovery_reads(admin: Client):
    """What a harness reads at start to find its warehouses, tills, methods and products."""
    warehouses = admin.kw_list(
        "stock.warehouse",
        "search_read",
        [],
        fields=[
            "name",
            "code",
            "company_id",
            "lot_stock_id",
            "int_type_id",
            "in_type_id",
            "out_type_id",
            "pos_type_id",
        ],
        load=False,
    )
    assert warehouses
    assert all(
        isinstance(w[f], int) for w in warehouses for f in ("company_id", "lot_stock_id", "int_type_id")
    )
    configs = admin.kw_list(
        "pos.config",
        "search_read",
        [],
        fields=[
            "name",
            "company_id",
            "current_session_id",
            "current_session_state",
            "payment_method_ids",
            "warehouse_id",
            "picking_type_id",
        ],
    )
    assert configs
    for config in configs:
        assert config["payment_method_ids"]
        assert isinstance(config["warehouse_id"], list)
        assert config["current_session_state"] in (False, "opening_control", "opened", "closing_control")
        assert bool(config["current_session_id"]) == bool(config["current_session_state"])
    methods = admin.kw_list(
        "pos.payment.method",
        "search_read",
        [],
        domain=[["id", "in", configs[0]["payment_method_ids"]]],
        fields=["type", "is_cash_count", "journal_id", "split_transactions"],
    )
    kinds = {m["type"] for m in methods}
    assert kinds <= {"cash", "bank", "pay_later"}
    assert {"cash", "bank"} <= kinds
    assert all(m["is_cash_count"] == (m["type"] == "cash") for m in methods)
    rows = admin.kw_list(
        "product.product",
        "search_read",
        [],
        domain=[["sale_ok", "=", True], ["available_in_pos", "=", True], ["type", "!=", "combo"]],
        fields=["type", "is_storable", "barcode", "lst_price"],
    )
    assert {r["type"] for r in rows} <= {"consu", "service"}
    assert any(r["is_storable"] and r["barcode"] for r in rows), "storable goods with barcodes"
    assert any(r["type"] == "consu" and not r["is_storable"] for r in rows), (
        "goods that do not track inventory"
    )
    assert all(not r["is_storable"] for r in rows if r["type"] == "service")
    shelves = admin.kw_list(
        "stock.location",
        "search_read",
        [],
        domain=[["location_id", "=", warehouses[0]["lot_stock_id"]], ["usage", "=", "internal"]],
        fields=["complete_name"],
    )
    assert shelves, "an internal location under the warehouse stock"


def test_domains_ignore_fields_odoo_computes_without_search(admin: Client):
    """Odoo 18 drops a leaf on a non-stored field it cannot search (with a warning): every record matches."""
    for model, leaf in (
        ("pos.payment.method", ["type", "=", "cash"]),
        ("pos.config", ["current_session_state", "=", "opened"]),
        ("stock.quant", ["available_quantity", ">", 10**12]),
    ):
        assert admin.kw(model, "search_count", [[leaf]]) == admin.kw(model, "search_count", [[]])
    assert admin.kw("stock.picking", "search_count", [[["picking_type_code", "=", "nope"]]]) == 0
    assert admin.kw("product.product", "search_count", [[["qty_available", ">", 10**12]]]) == 0
