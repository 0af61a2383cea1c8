"""read_group as Odoo 18 shapes it, on the models the reporting persona reads (both targets).

The groups need data: the module's first test syncs a paid order, so the
suite does not depend on what ran before it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.contract.discover import storable
from tests.contract.pos_helpers import make_order, open_session, payment_method, sync
from tests.contract.rpc import Client, RpcError

DAY = re.compile(r"^\d{2} [A-Z][a-z]{2} \d{4}$")
WEEK = re.compile(r"^W\d{1,2} \d{4}$")
MONTH = re.compile(r"^[A-Z][a-z]+ \d{4}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def reporting(odoo: Any) -> Client:
    client: Client = odoo.admin()
    config_id, session_id = open_session(client)
    product = storable(client)[0]
    order = make_order(
        session_id, config_id, [(product["id"], 2, 1.5)], payment_method_id=payment_method(client, session_id)
    )
    sync(client, [order], config_id)
    return client


def _error(client: Client, model: str, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(RpcError) as err:
        client.kw(model, "read_group", [], **kwargs)
    return str(err.value.name), str(err.value.message)


def test_orders_per_till(reporting: Client):
    groups = reporting.kw_list(
        "pos.order", "read_group", [], domain=[], fields=["amount_total:sum"], groupby=["config_id"]
    )
    assert groups
    for group in groups:
        assert set(group) == {"config_id", "config_id_count", "amount_total", "__domain"}
        assert isinstance(group["config_id"], list)
        assert group["config_id_count"] >= 1
        assert isinstance(group["amount_total"], float)
        assert group["__domain"] == [["config_id", "=", group["config_id"][0]]]


def test_lazy_groups_keep_the_rest_for_later(reporting: Client):
    groups = reporting.kw_list(
        "pos.order",
        "read_group",
        [],
        domain=[["state", "!=", "cancel"]],
        fields=["amount_total:sum"],
        groupby=["config_id", "date_order:day"],
    )
    group = groups[0]
    assert group["__context"] == {"group_by": ["date_order:day"]}
    assert group["__domain"] == ["&", ["state", "!=", "cancel"], ["config_id", "=", group["config_id"][0]]]
    assert "__count" not in group


def test_sales_per_till_and_day(reporting: Client):
    """Point of Sale > Reporting > Orders, as the reporting persona asks it."""
    groups = reporting.kw_list(
        "report.pos.order",
        "read_group",
        [],
        domain=[],
        fields=["product_qty:sum", "price_total:sum"],
        groupby=["config_id", "date:day"],
        lazy=False,
    )
    assert groups
    for group in groups:
        assert set(group) == {
            "config_id",
            "date:day",
            "__count",
            "product_qty",
            "price_total",
            "__domain",
            "__range",
        }
        assert DAY.match(group["date:day"]), group["date:day"]
        span = group["__range"]["date:day"]
        assert STAMP.match(span["from"])
        assert STAMP.match(span["to"])
        assert group["__domain"] == [
            "&",
            ["config_id", "=", group["config_id"][0]],
            "&",
            ["date", ">=", span["from"]],
            ["date", "<", span["to"]],
        ]
        assert isinstance(group["product_qty"], float)
        assert group["__count"] >= 1


def test_non_lazy_groups_and_conjunctions(reporting: Client):
    groups = reporting.kw_list(
        "pos.order",
        "read_group",
        [],
        domain=[["state", "!=", "cancel"], ["amount_total", ">", 0]],
        fields=["amount_total:sum", "amount_paid"],
        groupby=["state", "config_id"],
        lazy=False,
    )
    group = groups[0]
    assert set(group) == {"state", "config_id", "__count", "amount_total", "amount_paid", "__domain"}
    assert group["__domain"] == [
        "&",
        "&",
        "&",
        ["state", "!=", "cancel"],
        ["amount_total", ">", 0],
        ["state", "=", group["state"]],
        ["config_id", "=", group["config_id"][0]],
    ]
    total = reporting.kw_list(
        "pos.order", "read_group", [], domain=[], fields=["amount_total:sum"], groupby=[]
    )
    assert len(total) == 1
    assert set(total[0]) == {"__count", "amount_total", "__domain"}
    assert total[0]["__domain"] == []


def test_weeks_and_months_in_the_user_timezone(reporting: Client):
    weeks = reporting.kw_list(
        "pos.order",
        "read_group",
        [],
        domain=[],
        fields=["amount_total:sum"],
        groupby=["date_order:week"],
        context={"tz": "Europe/Brussels"},
    )
    for group in weeks:
        assert WEEK.match(group["date_order:week"]), group["date_order:week"]
        assert group["__range"]["date_order:week"]["from"][-8:] in ("22:00:00", "23:00:00")
        assert group["date_order_count"] >= 1
    months = reporting.kw_list(
        "pos.order", "read_group", [], domain=[], fields=["amount_total:sum"], groupby=["date_order"]
    )
    assert all(MONTH.match(g["date_order"]) for g in months)
    assert all(g["__range"]["date_order"]["from"].endswith("-01 00:00:00") for g in months)


def test_order_lines_have_no_order_date_nor_till(reporting: Client):
    """Odoo 18's pos.order.line has neither date_order nor config_id; report.pos.order has both."""
    query: dict[str, Any] = {"domain": [], "fields": ["qty:sum"], "lazy": False}
    assert _error(reporting, "pos.order.line", groupby=["product_id", "date_order:day"], **query) == (
        "builtins.ValueError",
        "Invalid field 'date_order' on model 'pos.order.line'",
    )
    assert _error(reporting, "pos.order.line", groupby=["config_id"], **query) == (
        "builtins.ValueError",
        "Invalid field 'config_id' on model 'pos.order.line'",
    )
    assert _error(reporting, "pos.order.line", groupby=["order_id.date_order:day"], **query) == (
        "builtins.ValueError",
        "Property name 'date_order' has to be used on a property field.",
    )
    by_day = reporting.kw_list(
        "pos.order.line", "read_group", [], groupby=["product_id", "create_date:day"], **query
    )
    assert by_day
    assert isinstance(by_day[0]["qty"], float)
    assert DAY.match(by_day[0]["create_date:day"])


def test_unknown_aggregate_is_refused(reporting: Client):
    assert _error(reporting, "pos.order", domain=[], fields=["nope:sum"], groupby=["config_id"]) == (
        "builtins.ValueError",
        "Invalid field 'nope' on model 'pos.order' for 'nope:sum'.",
    )
    assert _error(reporting, "pos.order", domain=[], fields=["amount_total:sum"], groupby=["nope"]) == (
        "builtins.ValueError",
        "Invalid field 'nope' on model 'pos.order'",
    )
