"""The preflight names the cause of what real Odoo 18 refuses (replies captured from a real server).

``data/real_odoo_errors.json`` holds the JSON-RPC error replies of a real
Odoo 18.0-20250702: a database without point_of_sale (its ``pos.config`` is
a 404 before dispatch, its products lack ``available_in_pos``) and a login
with only the Internal User group (AccessError on ``stock.picking``). The
client below answers with those replies, so these tests check the harness's
reading of Odoo's own answers; the same preflight against the double runs in
test_preflight.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from loadtests.discovery import BranchRef, Discovery, explain
from loadtests.odoo_client import OdooClient, OdooRpcError
from loadtests.plan import PlanBranch
from loadtests.preflight import Preflight

REPLIES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "real_odoo_errors.json").read_text(encoding="utf-8")
)["replies"]

STORE = PlanBranch("S001", "Store 1", "eu", "store", "critical", "fiber", "")
WAREHOUSE = PlanBranch("W001", "Warehouse 1", "eu", "warehouse", "standard", "lte", "")
BRANCHES: list[BranchRef] = [STORE, WAREHOUSE]


def error(name: str, path: str = "/web/dataset/call_kw") -> OdooRpcError:
    return OdooRpcError(path, REPLIES[name])


class Replayed(OdooClient):
    """An OdooClient whose calls are answered from a table: (model, method) -> rows or an error."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        super().__init__("http://odoo.invalid", "retail")
        self.answers = answers
        self.session_info = {"uid": 9, "username": "clerk", "user_companies": {"current_company": 1}}
        self.uid = 9

    def authenticate(self, login: str, password: str) -> dict[str, Any]:
        return self.session_info

    def post(self, path: str, params: dict[str, Any]) -> requests.Response:
        """The answer as Odoo sends it: a JSON-RPC result, or the captured error reply."""
        key = (str(params.get("model", "")), str(params.get("method", "")))
        answer = self.answers.get(key, [])
        reply = {"jsonrpc": "2.0", "id": 1}
        reply.update({"error": answer.error} if isinstance(answer, OdooRpcError) else {"result": answer})
        resp = requests.Response()
        resp.status_code = 200
        resp._content = json.dumps(reply).encode()
        return resp


WAREHOUSES = [
    {"id": 1, "name": "YourCompany", "code": "WH", "lot_stock_id": [8, "WH/Stock"], "int_type_id": [7, "x"]}
]


def test_a_database_without_point_of_sale_is_named():
    client = Replayed(
        {
            ("pos.config", "search_read"): error("pos.config.search_read without point_of_sale"),
            ("product.product", "search_read"): error("product.product.search_read without point_of_sale"),
            ("stock.warehouse", "search_read"): WAREHOUSES,
        }
    )
    discovery = Discovery(client, ["pos_cashier", "reporting"], BRANCHES)
    discovery.run()
    causes = [p.cause for p in discovery.problems]
    assert (
        "POS configurations: model pos.config does not exist: the module point_of_sale is not installed"
        in causes
    )
    assert (
        "products: the field available_in_pos of product.product does not exist: "
        "the module point_of_sale is not installed"
    ) in causes
    assert all(p.fix == "Install point_of_sale in the database." for p in discovery.problems)


def test_a_login_without_inventory_rights_is_named():
    client = Replayed(
        {
            ("stock.warehouse", "search_read"): WAREHOUSES,
            ("product.product", "search_read"): [
                {
                    "id": 40,
                    "display_name": "Desk Organizer",
                    "barcode": "2300001000008",
                    "lst_price": 5.1,
                    "is_storable": True,
                }
            ],
            ("stock.picking", "create"): error("stock.picking.create without Inventory rights"),
            ("stock.picking", "search_read"): error("stock.picking.search_read without Inventory rights"),
        }
    )
    discovery = Discovery(client, ["store_manager", "warehouse_scanner"], BRANCHES)
    result = Preflight(discovery, "clerk", "pw").run()
    assert not result.ok
    failed = {c.operation: c.cause for c in result.checks if not c.ok}
    assert failed["replenishment transfer"] == (
        "stock.picking.create: login 'clerk' lacks the access rights for stock.picking: "
        "You are not allowed to create 'Transfer' (stock.picking) records."
    )
    assert failed["open transfers"].startswith(
        "stock.picking.search_read: login 'clerk' lacks the access rights"
    )
    assert {c.operation for c in result.checks if c.ok} == {"stock check", "product levels"}
    assert result.lines()[0] == "preflight FAILED: the target is not ready"


@pytest.mark.parametrize(
    ("reply", "model", "expected"),
    [
        (
            "pos.config.search_read without point_of_sale",
            "pos.config",
            "the module point_of_sale is not installed",
        ),
        (
            "pos.config.search_read without Point of Sale rights",
            "pos.config",
            "lacks the access rights for pos.config",
        ),
        (
            "stock.picking.create without Inventory rights",
            "stock.picking",
            "lacks the access rights for stock.picking",
        ),
    ],
)
def test_explain_reads_real_replies(reply: str, model: str, expected: str):
    problem = explain(error(reply), "x", model, "clerk", ("p",))
    assert expected in problem.cause
    assert problem.fix


def test_a_till_without_an_open_session_is_named_and_opened_on_request():
    configs = [
        {
            "id": 1,
            "name": "Furniture Shop",
            "current_session_id": [3, "POS/00001"],
            "current_session_state": "opened",
            "payment_method_ids": [1],
        },
    ]
    closed = [{**configs[0], "current_session_id": False, "current_session_state": False}]
    methods = [{"id": 1, "type": "cash", "is_cash_count": True}]
    products = [{"id": 40, "display_name": "Desk", "barcode": "", "lst_price": 5.0, "is_storable": True}]
    client = Replayed(
        {
            ("pos.config", "search_read"): closed,
            ("pos.payment.method", "search_read"): methods,
            ("product.product", "search_read"): products,
        }
    )
    discovery = Discovery(client, ["pos_cashier"], BRANCHES)
    cat = discovery.run()
    assert [p.cause for p in discovery.problems] == [
        "POS config 'Furniture Shop' (branch S001) has no open session (state: none)"
    ]
    assert cat.tills["S001"].session_id is None

    opened: list[str] = []

    class Opening(Replayed):
        def call(self, path: str, params: dict[str, Any]) -> Any:
            method = str(params.get("method", ""))
            if method in ("open_ui", "set_opening_control"):
                opened.append(method)
                self.answers[("pos.config", "search_read")] = configs
                return None
            if (params.get("model"), method) == ("pos.session", "search_read"):
                return [{"id": 3}]
            return super().call(path, params)

    client = Opening(dict(client.answers))
    discovery = Discovery(client, ["pos_cashier"], BRANCHES, open_pos_sessions=True, log=lambda _m: None)
    cat = discovery.run()
    assert discovery.problems == []
    assert opened == ["open_ui", "set_opening_control"]
    assert cat.tills["S001"].session_id == 3
    assert cat.tills["S001"].payment_method_id == 1
