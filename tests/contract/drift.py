"""Shape drift between real Odoo's captures (tests/captures/) and the double's exchanges.

Both sides are normalised the same way (``loadtests.capture``) and paired by
(test, phase, path, model, method, ordinal): the ordinal counts the test's
earlier calls to the same path, model and method in the same phase. A pair
drifts when any of these differ:

* the HTTP status;
* the envelope: the response's top-level keys (``result`` present or not,
  ``error``), the JSON-RPC ``id`` (null or not) and the key sets of the error
  and its ``data``;
* the error: ``code``, ``message``, ``data.name``, ``data.message``;
* the result's structure: value types, dict key sets, list elements, and the
  typed placeholders (``<id>``, ``<datetime>``, ``<uuid>``...) as types;
  ids and volatile values are placeholders on both sides, so never compared.

Odoo's ``false`` (the empty value of every field type) fits any type; an
empty list fits any list; list elements, and the values of mappings keyed by
record id (``{"<id>": ..., "<id-2>": ...}``), are compared pairwise up to the
shorter side: how many records there are is data, not shape. A response that
is not JSON is compared by status and Content-Type only.

The test's own calls (phase ``call``) are compared per test. Calls made by
fixtures (``setup``/``teardown``, e.g. the ``admin`` fixture's login) are the
same in every test that uses the fixture: they are compared once, in
:func:`compare_fixtures`, each drift listed with the tests it appears in.

Calls made on one side only are listed, not counted as drift: a test's calls
depend on the state it finds (``open_session`` opens a POS session only when
none is open; the double's database is seeded differently from Odoo's demo
data), and a test that fails half-way on one side makes none of its later
calls. The contract test itself fails in the second case, which is where such
a difference shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.capture import LEFT_OUT, PLACEHOLDER, group, load_dir, read_records

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "tests" / "captures" / "odoo-18.0"
CONTRACT_PREFIX = "tests/contract/test_contract_"

FIXTURES = "fixtures (setup/teardown)"
CALL_PHASES = ("call", "")  # "" : recorded outside a pytest phase
FIXTURE_PHASES = ("setup", "teardown")
ID_KEY = re.compile(r"^<id(-\d+)?>$")

Key = tuple[str, str, str, str, str, int]  # test, phase, path, model, method, ordinal


def key(label: str, exchange: dict[str, Any]) -> Key:
    return (
        label,
        str(exchange.get("phase", "")),
        exchange["path"],
        exchange["model"],
        exchange["rpc_method"],
        int(exchange["ordinal"]),
    )


def describe(k: Key) -> str:
    _label, phase, path, model, method, ordinal = k
    call = f" ({model}.{method})" if model else ""
    where = f"{phase}: " if phase not in CALL_PHASES else ""
    return f"{where}{path}{call} #{ordinal}"


_KINDS = {type(None): "null", bool: "bool", int: "int", float: "float", list: "list", dict: "dict"}


def _kind(value: Any) -> str:
    """The JSON type of ``value``; a typed placeholder (``<id>``) is a type of its own."""
    if isinstance(value, str):
        return value if PLACEHOLDER.match(value) else "str"
    return _KINDS.get(type(value), type(value).__name__)


def shape_diff(real: Any, double: Any, where: str = "result") -> list[str]:
    """Where ``double`` does not have the shape of ``real``, one line each."""
    if real is False or double is False:
        return []
    kr, kd = _kind(real), _kind(double)
    if kr != kd:
        return [f"{where}: {kr} in Odoo, {kd} in the double ({json.dumps(double)[:80]})"]
    out: list[str] = []
    if isinstance(real, dict) and isinstance(double, dict) and _by_id(real) and _by_id(double):
        for a, b in zip(real.values(), double.values(), strict=False):  # a mapping by record id
            out += shape_diff(a, b, f"{where}[<id>]")
    elif isinstance(real, dict) and isinstance(double, dict):
        only_real = sorted(set(real) - set(double))
        only_double = sorted(set(double) - set(real))
        if only_real:
            out.append(f"{where}: keys missing in the double: {', '.join(only_real)}")
        if only_double:
            out.append(f"{where}: keys the double adds: {', '.join(only_double)}")
        for k in sorted(set(real) & set(double)):
            out += shape_diff(real[k], double[k], f"{where}[{json.dumps(k)}]")
    elif isinstance(real, list) and isinstance(double, list):
        r = [v for v in real if not (isinstance(v, str) and LEFT_OUT.match(v))]
        d = [v for v in double if not (isinstance(v, str) and LEFT_OUT.match(v))]
        for i, (a, b) in enumerate(zip(r, d, strict=False)):
            out += shape_diff(a, b, f"{where}[{i}]")
    return out


def _by_id(value: dict[str, Any]) -> bool:
    return bool(value) and all(ID_KEY.match(k) for k in value)


_RECORD_REF = re.compile(r"\b[A-Z]+/\d{4}/\d+\b|\(id \d+\)")


def error_message(message: Any) -> Any:
    """An error text as compared: record names and ids as placeholders, lines in a stable order.

    Odoo 18's account.move._post collects its refusals in a set and joins them, so
    their order follows the server process's string hashing and differs from run to
    run; "The entry INV/2026/00005 (id 33)" names whatever record the test made.
    """
    if not isinstance(message, str):
        return message
    lines = _RECORD_REF.sub("<record>", message).split("\n")
    return "\n".join(sorted(lines)) if len(lines) > 1 else lines[0]


def _error_fields(error: Any) -> dict[str, Any]:
    if not isinstance(error, dict):
        return {}
    found = error.get("data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    return {
        "error.code": error.get("code"),
        "error.message": error.get("message"),
        "error.data.name": data.get("name"),
        "error.data.message": error_message(data.get("message")),
        "error keys": sorted(error),
        "error.data keys": sorted(data),
    }


def differences(real: dict[str, Any], double: dict[str, Any]) -> list[str]:
    """The drift of one paired exchange, one line each."""
    out: list[str] = []
    if real["status"] != double["status"]:
        out.append(f"HTTP status: {real['status']} in Odoo, {double['status']} in the double")
    rr, dr = real["response"], double["response"]
    if not (isinstance(rr, dict) and isinstance(dr, dict)) or "text" in rr or "text" in dr:
        ct_real = str(real["headers"].get("Content-Type", "")).split(";", maxsplit=1)[0]
        ct_double = str(double["headers"].get("Content-Type", "")).split(";", maxsplit=1)[0]
        if ct_real != ct_double:
            out.append(f"Content-Type: {ct_real!r} in Odoo, {ct_double!r} in the double")
        return out
    if sorted(rr) != sorted(dr):
        out.append(f"envelope keys: {sorted(rr)} in Odoo, {sorted(dr)} in the double")
    if _kind(rr.get("id")) != _kind(dr.get("id")):
        out.append(f"envelope id: {rr.get('id')!r} in Odoo, {dr.get('id')!r} in the double")
    er, ed = _error_fields(rr.get("error")), _error_fields(dr.get("error"))
    for name in sorted(set(er) | set(ed)):
        if er.get(name) != ed.get(name):
            out.append(f"{name}: {er.get(name)!r} in Odoo, {ed.get(name)!r} in the double")
    if "result" in rr and "result" in dr:
        out += shape_diff(rr["result"], dr["result"])
    return out


@dataclass
class Report:
    label: str
    drift: dict[Key, list[str]] = field(default_factory=dict)
    only_real: list[Key] = field(default_factory=list)
    only_double: list[Key] = field(default_factory=list)
    paired: int = 0
    tests: dict[Key, list[str]] = field(default_factory=dict)  # fixtures: the tests each drift is in

    def text(self) -> str:
        lines = [f"{self.label}: {self.paired} calls paired, {len(self.drift)} drift"]
        for k, diffs in self.drift.items():
            tests = self.tests.get(k, [])
            seen_in = (
                f" (in {len(tests)} tests: {', '.join(t.split('::')[-1] for t in tests)})" if tests else ""
            )
            lines.append(f"  {describe(k)}{seen_in}:")
            lines += [f"    {d}" for d in diffs]
        if self.only_real:
            lines.append("  only in Odoo's capture (not drift): " + "; ".join(map(describe, self.only_real)))
        if self.only_double:
            lines.append("  only in the double (not drift): " + "; ".join(map(describe, self.only_double)))
        return "\n".join(lines)


def compare(
    label: str,
    real: Iterable[dict[str, Any]],
    double: Iterable[dict[str, Any]],
    phases: tuple[str, ...] = CALL_PHASES,
) -> Report:
    """The drift of one test's exchanges in ``phases`` (by default the test's own calls)."""
    real_by = {key(label, ex): ex for ex in real if ex.get("phase", "") in phases}
    double_by = {key(label, ex): ex for ex in double if ex.get("phase", "") in phases}
    report = Report(label)
    for k, ex in real_by.items():
        if k not in double_by:
            report.only_real.append(k)
            continue
        report.paired += 1
        diffs = differences(ex, double_by[k])
        if diffs:
            report.drift[k] = diffs
    report.only_double = [k for k in double_by if k not in real_by]
    return report


def compare_fixtures(
    real: dict[str, list[dict[str, Any]]], double: dict[str, list[dict[str, Any]]], labels: Iterable[str]
) -> Report:
    """The fixtures' calls (setup, teardown) of every test in ``labels``: each distinct drift once."""
    report = Report(FIXTURES)
    for label in labels:
        one = compare(label, real.get(label, []), double.get(label, []), FIXTURE_PHASES)
        report.paired += one.paired
        for k, diffs in one.drift.items():
            general = (FIXTURES, *k[1:])
            known = report.drift.setdefault(general, [])
            known += [d for d in diffs if d not in known]
            report.tests.setdefault(general, []).append(label)
        report.only_real += [
            (FIXTURES, *k[1:]) for k in one.only_real if (FIXTURES, *k[1:]) not in report.only_real
        ]
        report.only_double += [
            (FIXTURES, *k[1:]) for k in one.only_double if (FIXTURES, *k[1:]) not in report.only_double
        ]
    return report


def committed(path: Path = CAPTURES) -> dict[str, list[dict[str, Any]]]:
    """The committed captures of contract tests, by test node id ({} when none)."""
    if not path.is_dir():
        return {}
    return {label: ex for label, ex in load_dir(path).items() if label.startswith(CONTRACT_PREFIX)}


def skipped_on_real(path: Path = CAPTURES) -> set[str]:
    """Contract tests skipped against the real Odoo that was captured (double_only): no capture by design."""
    source = path / "_source.json"
    if not source.is_file():
        return set()
    return set(json.loads(source.read_text(encoding="utf-8")).get("skipped_tests", []))


def recorded(raw: Path) -> dict[str, list[dict[str, Any]]]:
    """A recording (JSON lines) normalised and grouped by test, as the lane writes captures."""
    if not raw.is_file():
        return {}
    return group(read_records(raw))
