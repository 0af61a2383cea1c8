import json
import multiprocessing
from pathlib import Path

from loadtests.ledger import KeyStatus, LedgerEntry, LedgerWriter, Outcome, read_ledger, reconcile_kind


def _write_many(path: Path, n: int, src: str) -> None:
    w = LedgerWriter(path, source=src)
    for i in range(n):
        w.attempt("pos.order", f"{src}-{i}", branch="B1")
        w.outcome("pos.order", f"{src}-{i}", Outcome.OK)


def test_processes_share_one_file_without_torn_lines(tmp_path):
    path = tmp_path / "ledger.jsonl"
    procs = [multiprocessing.Process(target=_write_many, args=(path, 300, f"w{i}")) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 4 * 300 * 2
    assert all(json.loads(line)["kind"] == "pos.order" for line in lines)
    entries = read_ledger([path])["pos.order"]
    assert len(entries) == 1200
    assert all(e.status is KeyStatus.ACKED for e in entries.values())


def test_status_of_a_key_over_retries(tmp_path):
    path = tmp_path / "l.jsonl"
    w = LedgerWriter(path)
    w.attempt("pos.order", "a")
    w.outcome("pos.order", "a", Outcome.UNKNOWN, "timeout")
    w.attempt("pos.order", "a")  # offline retry with the same uuid
    w.outcome("pos.order", "a", Outcome.OK)
    w.attempt("pos.order", "b")
    w.outcome("pos.order", "b", Outcome.FAILED)
    w.attempt("pos.order", "c")
    w.outcome("pos.order", "c", Outcome.UNKNOWN)
    w.attempt("pos.order", "d")  # the worker died mid-request: no outcome
    w.attempt("pos.order", "e")
    w.outcome("pos.order", "e", Outcome.UNKNOWN)
    w.attempt("pos.order", "e")
    w.outcome("pos.order", "e", Outcome.FAILED)
    with path.open("a") as fh:
        fh.write('{"ev":"outc')  # torn last line is ignored
    e = read_ledger([path])["pos.order"]
    assert {k: v.status for k, v in e.items()} == {
        "a": KeyStatus.ACKED,
        "b": KeyStatus.FAILED,
        "c": KeyStatus.INDETERMINATE,
        "d": KeyStatus.INDETERMINATE,
        "e": KeyStatus.INDETERMINATE,
    }


def _entries(tmp_path: Path, spec: dict[str, Outcome]) -> dict[str, LedgerEntry]:
    path = tmp_path / "x.jsonl"
    w = LedgerWriter(path)
    for key, outcome in spec.items():
        w.attempt("k", key)
        w.outcome("k", key, outcome)
    return read_ledger([path])["k"]


def test_reconcile_finds_lost_duplicated_unexpected_recovered(tmp_path):
    e = _entries(
        tmp_path,
        {
            "acked-ok": Outcome.OK,
            "acked-lost": Outcome.OK,
            "acked-dup": Outcome.OK,
            "unk-landed": Outcome.UNKNOWN,
            "unk-absent": Outcome.UNKNOWN,
            "failed-absent": Outcome.FAILED,
            "failed-landed": Outcome.FAILED,
        },
    )
    present = {"acked-ok": 1, "acked-lost": 0, "acked-dup": 2, "unk-landed": 1, "failed-landed": 1}
    scanned = {"acked-ok": 1, "acked-dup": 2, "unk-landed": 1, "failed-landed": 1, "stranger": 1}
    r = reconcile_kind("k", e, present, scanned)
    assert r.lost == ("acked-lost",)
    assert r.duplicated == ("acked-dup",)
    assert r.unexpected == ("stranger",)
    assert r.recovered == ("unk-landed",)
    assert r.failed_present == ("failed-landed",)
    assert not r.valid
    s = r.summary()
    assert (s.attempted, s.acked, s.failed, s.indeterminate) == (7, 3, 2, 2)
    assert (s.lost, s.duplicated, s.unexpected, s.recovered) == (1, 1, 1, 1)
    assert s.examples["duplicated"] == ["acked-dup"]


def test_reconcile_clean_run_is_valid(tmp_path):
    e = _entries(tmp_path, {"a": Outcome.OK, "b": Outcome.UNKNOWN, "c": Outcome.FAILED})
    r = reconcile_kind("k", e, {"a": 1, "b": 0, "c": 0}, {"a": 1})
    assert r.valid
    assert r.recovered == ()
    assert r.present == ("a",)


def test_an_acknowledged_order_not_paid_in_full_is_unsettled(tmp_path):
    # Real Odoo 18 acknowledges an order sent as paid whose payments do not cover its total.
    path = tmp_path / "l.jsonl"
    w = LedgerWriter(path)
    for key, outcome in (("short", Outcome.OK), ("fine", Outcome.OK), ("refused", Outcome.FAILED)):
        w.attempt("pos.order", key)
        w.outcome("pos.order", key, outcome)
    entries = read_ledger([path])["pos.order"]
    r = reconcile_kind(
        "pos.order", entries, {"short": 1, "fine": 1, "refused": 1}, unsettled=["short", "refused"]
    )
    assert r.unsettled == ("short",), "only acknowledged orders count"
    assert not r.valid
    assert r.summary().unsettled == 1
    assert r.summary().examples["unsettled"] == ["short"]


def test_reconcile_asks_the_database_whether_orders_are_settled(tmp_path):
    from loadtests.reconcile import JsonRpcReader, reconcile  # noqa: PLC0415

    path = tmp_path / "l.jsonl"
    w = LedgerWriter(path)
    for key in ("r1-a", "r1-b"):
        w.attempt("pos.order", key)
        w.outcome("pos.order", key, Outcome.OK)
    rows = {
        "r1-a": {"uuid": "r1-a", "state": "paid", "amount_total": 20.0, "amount_paid": 5.0},
        "r1-b": {"uuid": "r1-b", "state": "paid", "amount_total": 7.5, "amount_paid": 7.5},
    }

    class Client:
        def call_kw(self, model, method, args, kwargs):
            (_field, op, value) = kwargs["domain"][0]
            if op == "=like":
                return [{"uuid": k} for k in rows if k.startswith(value.rstrip("%"))]
            return [rows[k] for k in value if k in rows]

    reader = JsonRpcReader.__new__(JsonRpcReader)
    reader.client = Client()  # type: ignore[assignment]
    result = reconcile([path], reader, "r1")
    (kind,) = result.kinds
    assert kind.unsettled == ("r1-a",)
    assert not result.valid
