"""pos.order.sync_from_ui as Odoo 18.0-20250702 runs it (odoo-protocol.md §8), on both targets.

Proven on a real server: an order arrives paid even when its payments do not
cover it; a draft re-sent adds its lines and payments to the saved ones; an
unknown session or product, and a session being closed with no other open,
are refused in Odoo's words.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.contract.discover import qty, read_one, service, storable, untracked_goods
from tests.contract.pos_helpers import make_order, open_session, payment_method, sync
from tests.contract.rpc import Client, RpcError

SYNC_KEYS = {
    "pos.order",
    "pos.session",
    "pos.payment",
    "pos.order.line",
    "pos.pack.operation.lot",
    "product.attribute.custom.value",
}
#: the fields of each record in a sync_from_ui reply on the real build (see the file's _comment)
REPLY_FIELDS = json.loads((Path(__file__).parent / "data" / "sync_reply_fields.json").read_text())
NO_OPEN_SESSION = "No open session available. Please open a new session to capture the order."


class Till:
    """An opened session of the first till, with its bank and cash methods."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.config_id, self.session_id = open_session(client)
        self.bank = payment_method(client, self.session_id, "bank")
        self.cash = payment_method(client, self.session_id, "cash")

    def order(self, lines: list[tuple[int, float, float]], **kw: Any) -> dict[str, Any]:
        kw.setdefault("payment_method_id", self.bank)
        return make_order(self.session_id, self.config_id, lines, **kw)

    def sync(self, *orders: dict[str, Any]) -> dict[str, Any]:
        return sync(self.client, list(orders), self.config_id)

    def refused(self, order: dict[str, Any]) -> RpcError:
        with pytest.raises(RpcError) as err:
            self.sync(order)
        return err.value


@pytest.fixture
def till(admin: Client) -> Till:
    return Till(admin)


def test_sync_from_ui_is_idempotent_by_uuid(till: Till):
    client = till.client
    products = storable(client, 2)
    before = {p["id"]: qty(client, p["id"]) for p in products}
    order = till.order([(products[0]["id"], 2, 1.2), (products[1]["id"], 1, 3.0)])
    first = till.sync(order)
    assert set(first) == SYNC_KEYS
    assert first["pos.session"] == []
    assert first["pos.pack.operation.lot"] == []
    (record,) = first["pos.order"]
    assert record["uuid"] == order["uuid"]
    assert record["state"] == "paid"
    assert record["pos_reference"] == order["name"]
    assert record["name"] != "/"
    assert record["session_id"] == till.session_id
    assert isinstance(record["session_id"], int)
    assert record["access_token"] == order["access_token"]
    assert record["tracking_number"] == str((till.session_id % 10) * 100 + 1).zfill(3)
    assert len(record["lines"]) == 2
    assert len(record["payment_ids"]) == 1
    assert len(record["picking_ids"]) == 1
    assert {line["uuid"] for line in first["pos.order.line"]} == {c[2]["uuid"] for c in order["lines"]}
    assert first["pos.payment"][0]["pos_order_id"] == record["id"]
    again = till.sync(order)
    assert again["pos.order"][0]["id"] == record["id"]
    assert client.kw("pos.order", "search_count", [[["uuid", "=", order["uuid"]]]]) == 1
    after = {p["id"]: qty(client, p["id"]) for p in products}
    assert before[products[0]["id"]] - after[products[0]["id"]] == pytest.approx(2)
    assert before[products[1]["id"]] - after[products[1]["id"]] == pytest.approx(1)
    picking = read_one(
        client, "stock.picking", record["picking_ids"][0], ["state", "origin", "picking_type_id"]
    )
    assert picking["state"] == "done"
    assert picking["origin"] == record["name"]
    config = read_one(client, "pos.config", till.config_id, ["picking_type_id"])
    assert picking["picking_type_id"][0] == config["picking_type_id"][0]


def test_reply_fields(till: Till):
    reply = till.sync(till.order([(storable(till.client)[0]["id"], 1, 2.0)]))
    assert set(reply["pos.order"][0]) == set(REPLY_FIELDS["pos.order"])
    assert set(reply["pos.payment"][0]) == set(REPLY_FIELDS["pos.payment"])
    assert set(reply["pos.order.line"][0]) == set(REPLY_FIELDS["pos.order.line"])
    order, payment, line = reply["pos.order"][0], reply["pos.payment"][0], reply["pos.order.line"][0]
    assert isinstance(order["message_ids"], list)
    assert (order["tip_amount"], order["mobile"], order["amount_difference"]) == (0.0, False, 0.0)
    assert (order["currency_rate"], order["is_invoiced"], order["picking_count"]) == (1.0, False, 1)
    assert order["available_payment_method_ids"]
    assert (payment["is_change"], payment["card_no"], payment["session_id"]) == (
        False,
        False,
        till.session_id,
    )
    assert (line["tax_ids"], line["refunded_qty"], line["combo_parent_id"]) == ([], 0.0, False)


def test_an_underpaid_order_is_accepted_as_paid(till: Till):
    product = storable(till.client)[0]["id"]
    before = qty(till.client, product)
    order = till.order([(product, 2, 10.0)])
    order["payment_ids"][0][2]["amount"] = 5.0
    record = till.sync(order)["pos.order"][0]
    assert (record["state"], record["amount_total"], record["amount_paid"]) == ("paid", 20.0, 5.0)
    assert len(record["picking_ids"]) == 1
    assert before - qty(till.client, product) == pytest.approx(2)
    paid_in_full = till.order([(product, 2, 10.0)], order_uuid=order["uuid"])
    again = till.sync(paid_in_full)["pos.order"][0]
    assert (again["id"], again["amount_paid"], again["payment_ids"]) == (
        record["id"],
        5.0,
        record["payment_ids"],
    )


def test_change_is_a_negative_cash_payment(till: Till):
    order = till.order([(storable(till.client)[0]["id"], 1, 10.0)], payment_method_id=till.cash)
    order["payment_ids"][0][2]["amount"] = 20.0
    order.update(amount_paid=20.0, amount_return=10.0)
    reply = till.sync(order)
    record = reply["pos.order"][0]
    assert (record["amount_paid"], record["amount_return"], len(record["payment_ids"])) == (10.0, 10.0, 2)
    payments = sorted(
        (p["amount"], p["payment_method_id"], p["is_change"], p["name"]) for p in reply["pos.payment"]
    )
    assert payments == [
        (-10.0, till.cash, True, "return"),
        (20.0, till.cash, False, order["payment_ids"][0][2]["name"]),
    ]


def test_a_draft_resent_paid_adds_its_lines_and_payments(till: Till):
    product = storable(till.client)[0]["id"]
    before = qty(till.client, product)
    draft = till.order([(product, 1, 2.0)], state="draft")
    first = till.sync(draft)["pos.order"][0]
    assert (first["state"], first["name"], first["picking_ids"]) == ("draft", "/", [])
    assert qty(till.client, product) == pytest.approx(before), "a draft moves no stock"
    paid = till.order([(product, 3, 2.0)], order_uuid=draft["uuid"])
    reply = till.sync(paid)
    second = reply["pos.order"][0]
    assert second["id"] == first["id"]
    assert second["state"] == "paid"
    assert second["name"] != "/"
    assert second["access_token"] == draft["access_token"], "the draft keeps its token"
    assert (len(second["lines"]), len(second["payment_ids"])) == (2, 2)
    assert second["amount_total"] == pytest.approx(6.0), "the total is the one sent"
    assert second["amount_paid"] == pytest.approx(8.0), "the payments add up"
    assert sorted(line["qty"] for line in reply["pos.order.line"]) == [1.0, 3.0]
    assert before - qty(till.client, product) == pytest.approx(4), "both lines leave the stock"
    assert till.client.kw("pos.order", "search_count", [[["uuid", "=", draft["uuid"]]]]) == 1


def test_keys_a_new_order_may_lack_but_an_update_needs(till: Till):
    product = storable(till.client)[0]["id"]
    no_token = till.order([(product, 1, 1.0)])
    del no_token["access_token"]
    record = till.sync(no_token)["pos.order"][0]
    assert (record["state"], bool(record["access_token"])) == ("paid", True)
    draft = till.order([(product, 1, 1.0)], state="draft")
    till.sync(draft)
    update = dict(draft)
    del update["access_token"]
    err = till.refused(update)
    assert (err.name, err.message) == ("builtins.KeyError", "access_token")


def test_an_order_without_uuid_is_created_once(till: Till):
    """The uuid lookup of an order without one finds the earliest order without one (uuid = False)."""
    product = storable(till.client)[0]["id"]
    replies = []
    for _attempt in range(2):
        order = till.order([(product, 1, 1.0)])
        del order["uuid"]
        replies.append(till.sync(order)["pos.order"][0])
    earliest = till.client.kw_list("pos.order", "search", [[["uuid", "=", False]]], limit=1, order="id asc")
    assert [r["id"] for r in replies] == earliest * 2
    assert replies[0]["uuid"] is False


def test_unknown_records_are_refused(till: Till):
    product = storable(till.client)[0]["id"]
    err = till.refused(
        make_order(999999999, till.config_id, [(product, 1, 1.0)], payment_method_id=till.bank)
    )
    assert err.name == "odoo.exceptions.MissingError"
    assert (
        err.message
        == "Record does not exist or has been deleted.\n(Record: pos.session(999999999,), User: 2)"
    )
    fk = (
        "The operation cannot be completed: another model requires the record being deleted. "
        "If possible, archive it instead.\n\nModel: {model}\nConstraint: {constraint}\n"
    )
    err = till.refused(till.order([(999999999, 1, 1.0)]))
    assert (err.name, err.message) == (
        "odoo.exceptions.ValidationError",
        fk.format(
            model="Point of Sale Order Lines (pos.order.line)", constraint="pos_order_line_product_id_fkey"
        ),
    )
    err = till.refused(till.order([(product, 1, 1.0)], payment_method_id=999999999))
    assert (err.name, err.message) == (
        "odoo.exceptions.ValidationError",
        fk.format(
            model="Point of Sale Payments (pos.payment)", constraint="pos_payment_payment_method_id_fkey"
        ),
    )


def test_services_need_no_transfer_and_untracked_goods_move_no_quant(till: Till):
    goods = untracked_goods(till.client)["id"]
    reply = till.sync(till.order([(service(till.client)["id"], 1, 5.0)]))
    assert (reply["pos.order"][0]["state"], reply["pos.order"][0]["picking_ids"]) == ("paid", [])
    record = till.sync(till.order([(goods, 2, 1.0)]))["pos.order"][0]
    assert len(record["picking_ids"]) == 1
    assert read_one(till.client, "stock.picking", record["picking_ids"][0], ["state"])["state"] == "done"
    assert qty(till.client, goods) == 0


def _other_till(client: Client, main_config: int) -> int:
    configs = client.kw_list("pos.config", "search", [[["id", "!=", main_config]]], order="id asc")
    assert configs, "the target needs a second POS config"
    return int(configs[0])


def _to_closing_control(client: Client, config_id: int) -> int:
    """The config's current session in closing_control (opened first when needed)."""
    current = read_one(client, "pos.config", config_id, ["current_session_id"])["current_session_id"]
    if not current:
        client.kw("pos.config", "open_ui", [[config_id]])
        current = read_one(client, "pos.config", config_id, ["current_session_id"])["current_session_id"]
    session_id = int(current[0])
    client.kw("pos.session", "set_opening_control", [[session_id], 0, ""])
    client.kw("pos.session", "update_closing_control_state_session", [[session_id], ""])
    assert read_one(client, "pos.session", session_id, ["state"])["state"] == "closing_control"
    return session_id


def test_orders_of_a_closing_session_go_to_another_one(till: Till):
    client = till.client
    config_id = _other_till(client, till.config_id)
    closing = _to_closing_control(client, config_id)
    product = storable(client)[0]["id"]
    bank = payment_method(client, closing, "bank")
    order = make_order(closing, config_id, [(product, 1, 1.0)], payment_method_id=bank)
    err = till.refused(order)
    assert (err.name, err.message) == ("odoo.exceptions.UserError", NO_OPEN_SESSION)
    client.kw("pos.config", "open_ui", [[config_id]])
    sessions = client.kw_list(
        "pos.session", "search_read", [[["config_id", "=", config_id]]], fields=["state"]
    )
    assert [s["state"] for s in sessions if s["state"] != "closed"] == ["closing_control"], "no new session"
    assert client.kw("pos.session", "close_session_from_ui", [[closing]]) == {"successful": True}
    assert read_one(client, "pos.session", closing, ["state"])["state"] == "closed"
    again = client.kw("pos.session", "close_session_from_ui", [[closing]])
    assert (again["successful"], again["title"]) == (False, "Session already closed")
    err = till.refused(order)
    assert (err.name, err.message) == ("odoo.exceptions.UserError", NO_OPEN_SESSION)
    client.kw("pos.config", "open_ui", [[config_id]])
    fresh = read_one(client, "pos.config", config_id, ["current_session_id", "current_session_state"])
    assert fresh["current_session_state"] == "opening_control"
    record = sync(client, [order], config_id)["pos.order"][0]
    assert (record["session_id"], record["state"]) == (fresh["current_session_id"][0], "paid")


def test_opening_a_session_names_it(admin: Client):
    config_id, session_id = open_session(admin)
    row = read_one(admin, "pos.session", session_id, ["name", "state", "config_id", "user_id"])
    assert row["state"] == "opened"
    assert row["name"].startswith("POS/")
    assert row["config_id"][0] == config_id
    config = read_one(admin, "pos.config", config_id, ["current_session_id", "current_session_state"])
    assert (config["current_session_id"][0], config["current_session_state"]) == (session_id, "opened")


def test_barcode_lookup(admin: Client):
    product = admin.kw_list(
        "product.product",
        "search_read",
        [],
        domain=[["barcode", "!=", False], ["available_in_pos", "=", True]],
        fields=["id", "barcode", "is_storable"],
        limit=1,
    )[0]
    config_id, session_id = open_session(admin)
    found = admin.kw("pos.session", "find_product_by_barcode", [session_id, product["barcode"], config_id])
    assert [p["id"] for p in found["product.product"]] == [product["id"]]
    by_domain = admin.kw(
        "product.product",
        "search_read",
        [],
        domain=[["barcode", "=", product["barcode"]]],
        fields=["id"],
        limit=1,
    )
    assert by_domain == [{"id": product["id"]}]


def test_concurrent_first_syncs_leave_one_order(odoo: Any, till: Till):
    """Eight tills re-send each new order at once: all are told the same id, one order exists.

    This build has no unique(uuid): the syncs serialise on their session row (REPEATABLE READ), the
    later ones are retried by the server and then find the order. A draft found that way is updated,
    so each re-send of a draft adds its lines again.
    """
    product = storable(till.client)[0]["id"]
    before = qty(till.client, product)
    orders = [till.order([(product, 1, 1.0)]) for _i in range(3)]
    draft = till.order([(product, 1, 1.0)], state="draft")  # moves no stock: only the session row serialises
    orders.append(draft)
    clients = []
    for _i in range(8):
        client = odoo.client()
        client.http.cookies.update(till.client.http.cookies)
        clients.append(client)
    for order in orders:
        barrier = threading.Barrier(len(clients))
        acked: list[int] = []
        errors: list[str] = []

        def send(
            client: Client,
            order: dict[str, Any],
            barrier: threading.Barrier,
            acked: list[int],
            errors: list[str],
        ) -> None:
            barrier.wait()
            try:
                acked.append(sync(client, [order], till.config_id)["pos.order"][0]["id"])
            except RpcError as exc:
                errors.append(f"{exc.name}: {exc.message}")

        threads = [threading.Thread(target=send, args=(c, order, barrier, acked, errors)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert errors == []
        assert len(acked) == len(clients)
        assert len(set(acked)) == 1, acked
        assert till.client.kw("pos.order", "search_count", [[["uuid", "=", order["uuid"]]]]) == 1
    assert before - qty(till.client, product) == pytest.approx(len(orders) - 1)
    (saved,) = till.client.kw_list(
        "pos.order", "search_read", [[["uuid", "=", draft["uuid"]]]], fields=["lines"]
    )
    assert len(saved["lines"]) == len(clients), "each re-sent draft added its line"


def test_a_paid_order_stays_paid(till: Till):
    record = till.sync(till.order([(storable(till.client)[0]["id"], 1, 1.0)]))["pos.order"][0]
    with pytest.raises(RpcError) as err:
        till.client.kw("pos.order", "write", [[record["id"]], {"state": "draft"}])
    assert (err.value.name, err.value.message) == (
        "odoo.exceptions.UserError",
        "This order has already been paid. You cannot set it back to draft or edit it.",
    )
    with pytest.raises(RpcError) as err:
        till.client.kw("pos.order", "unlink", [[record["id"]]])
    assert (err.value.name, err.value.message) == (
        "odoo.exceptions.UserError",
        "In order to delete a sale, it must be new or cancelled.",
    )
    with pytest.raises(RpcError) as err:
        till.client.kw("pos.session", "set_opening_control", [[999999999], 0, ""])
    assert err.value.name == "odoo.exceptions.MissingError"


def _close_current_session(client: Client, config_id: int) -> None:
    current = read_one(client, "pos.config", config_id, ["current_session_id"])["current_session_id"]
    if current:
        session_id = _to_closing_control(client, config_id)
        assert client.kw("pos.session", "close_session_from_ui", [[session_id]])["successful"] is True


def test_change_needs_a_cash_method(till: Till):
    """A till without cash refuses the change of an order; its methods cannot change while it is open."""
    client = till.client
    configs = client.kw_list("pos.config", "search", [[]], order="id asc")
    assert len(configs) >= 3, "the target needs a third POS config"
    config_id = configs[-1]
    _close_current_session(client, config_id)
    methods = read_one(client, "pos.config", config_id, ["payment_method_ids"])["payment_method_ids"]
    kinds = {
        m["id"]: m["type"] for m in client.kw_list("pos.payment.method", "read", [methods], fields=["type"])
    }
    bank = min(i for i, kind in kinds.items() if kind == "bank")
    client.kw("pos.config", "write", [[config_id], {"payment_method_ids": [[6, 0, [bank]]]}])
    try:
        client.kw("pos.config", "open_ui", [[config_id]])
        session_id = read_one(client, "pos.config", config_id, ["current_session_id"])["current_session_id"][
            0
        ]
        client.kw("pos.session", "set_opening_control", [[session_id], 0, ""])
        order = make_order(
            session_id, config_id, [(storable(client)[0]["id"], 1, 10.0)], payment_method_id=bank
        )
        order["payment_ids"][0][2]["amount"] = 20.0
        order["amount_return"] = 10.0
        err = till.refused(order)
        assert (err.name, err.message) == (
            "odoo.exceptions.UserError",
            "No cash statement found for this session. Unable to record returned cash.",
        )
        with pytest.raises(RpcError) as refused:
            client.kw("pos.config", "write", [[config_id], {"payment_method_ids": [[6, 0, methods]]}])
        assert refused.value.message == (
            "Unable to modify this PoS Configuration because you can't modify Payment Methods "
            "while a session is open."
        )
    finally:
        _close_current_session(client, config_id)
        client.kw("pos.config", "write", [[config_id], {"payment_method_ids": [[6, 0, methods]]}])
    assert read_one(client, "pos.config", config_id, ["payment_method_ids"])["payment_method_ids"] == methods
