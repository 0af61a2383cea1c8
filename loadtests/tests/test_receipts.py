"""The cashier's receipts: ir.attachment writes keyed by their name, ledgered, reconciled, gated.

Real Odoo 18 stores an attachment's content in its filestore under the
SHA-1 of the content and reads a missing file back as empty content
(tests/contract/test_contract_attachments.py); the ledger counts an
acknowledged receipt whose file does not open as ``unreadable``.
"""

from __future__ import annotations

import base64
import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from loadtests import keys, operations
from loadtests.discovery import Catalogue, Product, Till
from loadtests.gates import evaluate, load_gates
from loadtests.ledger import LedgerResult, LedgerWriter, Outcome, read_ledger, reconcile_kind
from loadtests.odoo_client import Classified
from loadtests.operations import PERSONAS, Workplace
from loadtests.pos_order import receipt
from loadtests.reconcile import JsonRpcReader, kind_queries, opens, reconcile
from loadtests.rpc import Caller, CallTags, Request
from loadtests.scenario import Scenario

RUN = "0a1b2c3d"


class Scripted:
    """A transport answering sync_from_ui with the order's id and ir.attachment.create with ``attach``."""

    def __init__(self, attach: Classified | None = None, sync: Outcome = Outcome.OK) -> None:
        self.requests: list[Request] = []
        self.attach = attach or Classified(Outcome.OK, "", 77)
        self.sync = sync

    def send(self, request: Request) -> Classified:
        self.requests.append(request)
        if request.name == "pos.order.sync_from_ui":
            order = request.params["args"][0][0]
            if self.sync is not Outcome.OK:
                return Classified(self.sync, "connection refused")
            return Classified(Outcome.OK, "", {"pos.order": [{"id": 41, "uuid": order["uuid"]}]})
        if request.name == "ir.attachment.create":
            return self.attach
        return Classified(Outcome.OK, "", {"uid": 2})

    def named(self, name: str) -> list[Request]:
        return [r for r in self.requests if r.name == name]


def workplace(share: float) -> Workplace:
    catalogue = Catalogue(
        products=[Product(id=5, name="Desk", price=12.5), Product(id=6, name="Lamp", price=3.0)],
        tills={
            "S001": Till(
                config_id=1, config_name="Shop", session_id=3, session_state="opened", payment_method_id=2
            )
        },
    )
    return Workplace(RUN, "S001", catalogue, receipt_share=share)


def caller(transport: Scripted, ledger: LedgerWriter | None = None) -> Caller:
    c = Caller(transport, "retail", "admin", "pw", tags=CallTags("S001", "eu", "fiber"), ledger=ledger)
    c.uid = 2
    return c


def test_a_receipt_is_text_of_the_size_asked_headed_by_its_key():
    order = operations.build_order(workplace(0), 2)
    assert order is not None
    key = keys.ref(RUN, keys.RECEIPT)
    content = receipt(order, key, 2048)
    assert len(content) == 2048
    text = content.decode()
    assert text.startswith(key + "\n")
    assert order["uuid"] in text
    assert f"Total {order['amount_total']:.2f}" in text
    assert receipt(order, keys.ref(RUN, keys.RECEIPT), 2048) != content, "another key, another file"
    assert len(receipt(order, key, 10)) > 10, "never cut: a receipt keeps its lines"


def test_an_acknowledged_order_gets_its_receipt_attached_and_ledgered(tmp_path: Path):
    transport = Scripted()
    ledger = LedgerWriter(tmp_path / "ledger.jsonl")
    done = operations.sell(caller(transport, ledger), workplace(1.0))
    (attach,) = transport.named("ir.attachment.create")
    (vals,) = attach.params["args"]
    assert vals["res_model"] == "pos.order"
    assert vals["res_id"] == 41
    assert vals["name"].startswith(keys.run_prefix(RUN, keys.RECEIPT))
    content = base64.b64decode(vals["datas"])
    assert operations.RECEIPT_SIZE[0] <= len(content) <= operations.RECEIPT_SIZE[1]
    assert content.startswith(vals["name"].encode())
    assert attach.tier == "pos_sync"
    assert attach.write
    entries = read_ledger([tmp_path / "ledger.jsonl"])
    assert set(entries) == {"pos.order", "ir.attachment"}
    entry = entries["ir.attachment"][vals["name"]]
    assert entry.outcomes == [Outcome.OK]
    assert entry.tags == {"tier": "pos_sync", "branch": "S001", "region": "eu", "link": "fiber"}
    assert done.key in entries["pos.order"], "sell's own key stays the order's"


def test_the_share_decides_how_many_orders_get_a_receipt():
    transport = Scripted()
    random.seed(18)
    w = workplace(0.25)
    for _i in range(400):
        operations.sell(caller(transport), w)
    attached = len(transport.named("ir.attachment.create"))
    assert 60 < attached < 140, attached
    none = Scripted()
    operations.sell(caller(none), workplace(0.0))
    assert none.named("ir.attachment.create") == []


def test_no_receipt_for_an_order_not_acknowledged_and_none_sent_twice():
    refused = Scripted(sync=Outcome.UNKNOWN)
    w = workplace(1.0)
    operations.sell(caller(refused), w)
    assert refused.named("ir.attachment.create") == []
    assert len(w.offline) == 1, "the till keeps the order"
    lost = Scripted(attach=Classified(Outcome.UNKNOWN, "read timed out"))
    operations.sell(caller(lost), w)  # re-sends the kept order, then a new one: a receipt try each
    assert len(lost.named("ir.attachment.create")) == 2
    assert len({r.params["args"][0]["name"] for r in lost.named("ir.attachment.create")}) == 2
    assert w.offline == [], "a receipt whose answer was lost is not re-sent"


def test_the_preflight_operation_always_attaches_and_is_read_back_by_name():
    transport = Scripted()
    (op,) = [o for o in PERSONAS["pos_cashier"].operations if o.kind == "ir.attachment"]
    assert op.weight == 0, "the preflight's only: the load attaches by share"
    key, last = op.run(caller(transport), workplace(0.0))
    assert last is not None
    assert last.outcome is Outcome.OK
    assert transport.named("ir.attachment.create")[0].params["args"][0]["name"] == key
    q = kind_queries(RUN)[op.kind]
    assert (q.model, q.field, q.extra, q.scan_prefix) == (
        "ir.attachment",
        "name",
        (("res_model", "=", "pos.order"),),
        f"LT-{RUN}-receipt-",
    )
    assert q.opens
    assert not q.settled


def test_a_scenario_says_the_share_and_bounds_it():
    base: dict[str, Any] = {
        "name": "s",
        "users": 1,
        "spawn_rate": 1,
        "duration": "1m",
        "personas": {"pos_cashier": 1},
    }
    assert Scenario.model_validate(base).pos_receipt_share == 0.25
    assert Scenario.model_validate({**base, "pos_receipt_share": 1}).pos_receipt_share == 1.0
    with pytest.raises(ValueError, match="less than or equal to 1"):
        Scenario.model_validate({**base, "pos_receipt_share": 1.5})


def row(name: str, content: bytes, datas: bytes | None = None) -> dict[str, Any]:
    shown = content if datas is None else datas
    return {
        "name": name,
        "datas": base64.b64encode(shown).decode(),
        "checksum": hashlib.sha1(content).hexdigest(),
        "file_size": len(content),
    }


def test_an_attachment_opens_when_its_content_has_the_stored_checksum_and_size():
    assert opens(row("a", b"receipt"))
    assert not opens(row("a", b"receipt", b"")), "a file missing from the filestore reads as empty"
    assert not opens(row("a", b"receipt", b"receipT"))
    assert not opens({"name": "a", "datas": "", "checksum": False, "file_size": 0})
    assert not opens({"name": "a", "datas": "@@@", "checksum": "x", "file_size": 3})


def test_reconcile_counts_acknowledged_receipts_whose_file_does_not_open(tmp_path: Path):
    path = tmp_path / "ledger.jsonl"
    w = LedgerWriter(path)
    prefix = keys.run_prefix(RUN, keys.RECEIPT)
    names = {"good": f"{prefix}aaa", "gone": f"{prefix}bbb", "refused": f"{prefix}ccc"}
    for label, outcome in (("good", Outcome.OK), ("gone", Outcome.OK), ("refused", Outcome.FAILED)):
        w.attempt("ir.attachment", names[label])
        w.outcome("ir.attachment", names[label], outcome)
    rows = {
        names["good"]: row(names["good"], b"a receipt"),
        names["gone"]: row(names["gone"], b"another receipt", b""),
        names["refused"]: row(names["refused"], b"a refused receipt", b""),
    }
    asked: list[list[Any]] = []

    class Client:
        def call_kw(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
            assert model == "ir.attachment"
            asked.append(kwargs["domain"])
            (_field, op, value) = kwargs["domain"][0]
            if op == "=like":
                return [{"name": k} for k in rows if k.startswith(value.rstrip("%"))]
            return [rows[k] for k in value if k in rows]

    reader = JsonRpcReader.__new__(JsonRpcReader)
    reader.client = Client()  # type: ignore[assignment]
    result = reconcile([path], reader, RUN)
    (kind,) = result.kinds
    assert kind.kind == "ir.attachment"
    assert kind.present == tuple(sorted(names.values()))
    assert kind.unreadable == (names["gone"],), "only acknowledged receipts count"
    assert kind.lost == ()
    assert not result.valid
    assert result.summary().totals["unreadable"] == 1
    assert ["res_model", "=", "pos.order"] in asked[0]


def test_the_unreadable_gate(tmp_path: Path):
    path = tmp_path / "g.yaml"
    path.write_text("tiers:\n  pos_sync: {}\n")
    w = LedgerWriter(tmp_path / "l.jsonl")
    w.attempt("ir.attachment", "k1")
    w.outcome("ir.attachment", "k1", Outcome.OK)
    entries = read_ledger([tmp_path / "l.jsonl"])["ir.attachment"]
    kind = reconcile_kind("ir.attachment", entries, {"k1": 1}, unreadable=["k1"])
    verdict = evaluate(load_gates(path), {}, LedgerResult((kind,)))
    assert "ledger: 1 acknowledged attachments whose file does not open, limit 0 (e.g. k1)" in verdict.reasons
    assert not verdict.go
