"""The drift comparison (tests/contract/drift.py) finds drift, and only drift."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.contract import drift


def _ex(response: Any, status: int = 200, ordinal: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "phase": "call",
        "method": "POST",
        "path": "/web/dataset/call_kw/pos.order/sync_from_ui",
        "model": "pos.order",
        "rpc_method": "sync_from_ui",
        "ordinal": ordinal,
        "request": {},
        "status": status,
        "headers": {"Content-Type": "application/json"},
        "response": response,
        **extra,
    }


def _ok(result: Any) -> dict[str, Any]:
    return _ex({"jsonrpc": "2.0", "id": "<rpc-id>", "result": result})


def _err(name: str, message: str, code: int = 200) -> dict[str, Any]:
    data = {"name": name, "message": message, "arguments": [message], "context": {}, "debug": "<traceback>"}
    return _ex({"jsonrpc": "2.0", "id": "<rpc-id>", "error": {"code": code, "message": "x", "data": data}})


LABEL = "tests/contract/test_contract_pos.py::test_example"
ROW = {"id": "<id>", "name": "Order 1", "amount_total": 6.0, "lines": ["<id>"], "date_order": "<datetime>"}


def _diff(real: dict[str, Any], double: dict[str, Any]) -> list[str]:
    report = drift.compare(LABEL, [real], [double])
    return [line for lines in report.drift.values() for line in lines]


def test_same_shape_other_values_is_no_drift():
    other = {**ROW, "name": "Order 2", "amount_total": 1.5, "lines": ["<id>", "<id>"]}
    assert _diff(_ok([ROW]), _ok([other, other])) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.pop("name"), "result[0]: keys missing in the double: name"),
        (lambda r: r.update(extra=1), "result[0]: keys the double adds: extra"),
        (lambda r: r.update(amount_total=6), 'result[0]["amount_total"]: float in Odoo, int in the double'),
        (lambda r: r.update(date_order="2026-01-01T10:00:00Z"), "<datetime> in Odoo, str in the double"),
        (lambda r: r.update(lines=[{"id": 1}]), 'result[0]["lines"][0]: <id> in Odoo, dict in the double'),
    ],
)
def test_result_structure_drift(mutate, expected):
    row = copy.deepcopy(ROW)
    mutate(row)
    diffs = _diff(_ok([ROW]), _ok([row]))
    assert any(expected in d for d in diffs), diffs


def test_false_empty_lists_and_list_lengths_are_not_drift():
    real = _ok([{"barcode": "123", "lot_id": False, "tags": [], "qty": 1.0}])
    double = _ok([{"barcode": False, "lot_id": ["<id>", "LOT"], "tags": ["<id>"], "qty": 1.0}] * 3)
    assert _diff(real, double) == []


def test_errors_compare_code_name_message_and_envelope():
    real = _err("odoo.exceptions.UserError", "You need a customer to post an invoice.")
    assert _diff(real, copy.deepcopy(real)) == []
    assert any(
        "error.data.name" in d
        for d in _diff(
            real, _err("odoo.exceptions.ValidationError", real["response"]["error"]["data"]["message"])
        )
    )
    assert any("error.data.message" in d for d in _diff(real, _err("odoo.exceptions.UserError", "Other")))
    assert any(
        "error.code" in d
        for d in _diff(
            real, _err("odoo.exceptions.UserError", "You need a customer to post an invoice.", 100)
        )
    )
    assert any("envelope keys" in d for d in _diff(real, _ok(False)))
    no_id = copy.deepcopy(real)
    no_id["response"]["id"] = None
    assert any("envelope id" in d for d in _diff(real, no_id))


def test_status_and_non_json_bodies():
    page = _ex({"text": "<html>"}, status=200, headers={"Content-Type": "text/html; charset=utf-8"})
    other_text = _ex({"text": "other"}, status=200, headers={"Content-Type": "text/html"})
    assert _diff(page, other_text) == []
    assert any(
        "HTTP status" in d for d in _diff(page, _ex({"text": "<html>"}, status=404, headers=page["headers"]))
    )
    json_page = _ex({"text": "{}"}, headers={"Content-Type": "application/json"})
    assert any("Content-Type" in d for d in _diff(page, json_page))


def test_one_sided_calls_are_listed_not_drift():
    real = [_ok([ROW]), _ok(True) | {"model": "pos.config", "rpc_method": "open_ui"}]
    double = [_ok([ROW]), _ok([]) | {"model": "pos.session", "rpc_method": "search_read"}]
    report = drift.compare(LABEL, real, double)
    assert report.drift == {}
    assert [k[4] for k in report.only_real] == ["open_ui"]
    assert [k[4] for k in report.only_double] == ["search_read"]
    assert "only in Odoo's capture" in report.text()


def test_fixture_calls_are_compared_once_naming_the_tests():
    where = {"phase": "setup", "path": "/web/session/authenticate", "model": "", "rpc_method": ""}
    setup = _ok({"uid": "<id>", "name": "x"}) | where
    moved = copy.deepcopy(setup)
    moved["response"]["result"]["extra"] = 1
    real = {"t::a": [setup, _ok([ROW])], "t::b": [setup]}
    double = {"t::a": [moved, _ok([ROW])], "t::b": [moved]}
    assert drift.compare("t::a", real["t::a"], double["t::a"]).drift == {}  # the test's own calls only
    report = drift.compare_fixtures(real, double, ["t::a", "t::b"])
    (k,) = report.drift
    assert report.drift[k] == ["result: keys the double adds: extra"]
    assert report.tests[k] == ["t::a", "t::b"]
    assert "setup: /web/session/authenticate #0 (in 2 tests: a, b)" in report.text()


def test_mappings_by_record_id_compare_like_lists():
    real = _ok({"<id>": {"name": "A"}, "<id-2>": {"name": "B"}})
    assert _diff(real, _ok({"<id>": {"name": "C"}})) == []
    assert _diff(real, _ok({"<id>": {"label": "C"}})) != []


def _mutations(exchanges: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Copies of a capture, each with one change the comparison must report."""
    out = []
    for i, ex in enumerate(exchanges):
        response = ex["response"]
        if isinstance(response, dict) and isinstance(response.get("result"), dict) and response["result"]:
            changed = copy.deepcopy(exchanges)
            result = changed[i]["response"]["result"]
            result[f"{next(iter(result))}_renamed"] = result.pop(next(iter(result)))
            out.append(("a result key renamed", changed))
            break
    for i, ex in enumerate(exchanges):
        response = ex["response"]
        if isinstance(response, dict) and isinstance(response.get("error"), dict):
            changed = copy.deepcopy(exchanges)
            changed[i]["response"]["error"]["data"]["name"] += "Mutated"
            out.append(("an error name changed", changed))
            break
    changed = copy.deepcopy(exchanges)
    changed[0]["status"] = 500
    out.append(("an HTTP status changed", changed))
    return out


@pytest.mark.skipif(not drift.committed(), reason="no captures committed yet")
def test_committed_captures_match_themselves_and_not_a_mutation():
    """On every committed capture: itself is no drift, each mutation is drift naming the test and call."""
    for label, exchanges in drift.committed().items():
        seen: dict[tuple[str, str, str], int] = {}
        for ex in exchanges:
            ex["phase"] = "call"  # every call compared, fixtures' too: numbered again across the phases
            call = (ex["path"], ex["model"], ex["rpc_method"])
            ex["ordinal"] = seen.get(call, 0)
            seen[call] = ex["ordinal"] + 1
        assert drift.compare(label, exchanges, exchanges).drift == {}, label
        for what, mutated in _mutations(exchanges):
            report = drift.compare(label, exchanges, mutated)
            assert report.drift, f"{label}: {what} was not reported"
            assert label in report.text()
            assert exchanges[0]["path"] in report.text() or what != "an HTTP status changed"
