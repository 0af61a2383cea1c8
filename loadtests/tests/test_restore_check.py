"""The restore drill's check: the ledger sorted by the restore point, read from a database by SQL."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from loadtests.errors import ConfigError
from loadtests.gates import RestoreGate, load_gates, restore_results
from loadtests.ledger import LedgerWriter, Outcome, point_in_time, read_ledger
from loadtests.odoo_client import OdooClient
from loadtests.reconcile import JsonRpcReader, SqlReader, reconcile
from loadtests.report.model import restore_line
from loadtests.restore_check import AttachmentCheck, RestoreSummary, check_restore


def ledger_at(path: Path, writes: list[tuple[str, str, float, float | None, Outcome]]) -> None:
    """(kind, key, attempt time, outcome time or None, outcome) lines as the harness writes them."""
    with path.open("a", encoding="utf-8") as fh:
        for kind, key, sent, answered, outcome in writes:
            fh.write(json.dumps({"ev": "attempt", "kind": kind, "key": key, "t": sent, "src": "t"}) + "\n")
            if answered is not None:
                fh.write(
                    json.dumps(
                        {"ev": "outcome", "kind": kind, "key": key, "outcome": str(outcome), "t": answered}
                    )
                    + "\n"
                )


def test_point_in_time_sorts_the_writes_by_the_restore_point(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    ledger_at(
        path,
        [
            ("pos.order", "early", 90.0, 95.0, Outcome.OK),  # acknowledged before 100: must be there
            ("pos.order", "lost", 91.0, 96.0, Outcome.OK),
            ("pos.order", "across", 99.0, 101.0, Outcome.OK),  # either
            ("pos.order", "late", 100.5, 101.0, Outcome.OK),  # sent after: must be absent
            ("pos.order", "leak", 102.0, None, Outcome.UNKNOWN),  # sent after, no answer: still absent
            ("pos.order", "refused", 92.0, 93.0, Outcome.FAILED),  # never acknowledged: either
        ],
    )
    entries = read_ledger([path])["pos.order"]
    r = point_in_time("pos.order", entries, ["early", "across", "leak"], 100.0)
    assert (r.before, r.missing, r.after, r.present_after, r.straddling) == (2, 1, 2, 1, 2)
    assert r.examples == {"missing": ["lost"], "present_after": ["leak"]}
    exact = point_in_time("pos.order", entries, ["early", "lost"], 100.0)
    assert (exact.missing, exact.present_after) == (0, 0)


def test_sql_domains_are_the_reconciliations_and_nothing_else() -> None:
    where, params = SqlReader.where(
        [["uuid", "in", ["a", "b"]], ["backorder_id", "=", False], ["state", "=", "done"]]
    )
    text = where.as_string(None)
    assert text == '"uuid" = ANY(%s) AND "backorder_id" IS NULL AND "state" = %s'
    assert params == [["a", "b"], "done"]
    with pytest.raises(ValueError, match="'ilike' is not supported"):
        SqlReader.where([["name", "ilike", "x"]])


def summary(**kw: Any) -> RestoreSummary:
    base: dict[str, Any] = {
        "drill": "pitr",
        "checked": True,
        "target_time": "2026-12-07 10:00:00.000000+00",
        "total_restore_s": 42.0,
        "filestore_restored": True,
        "attachments": AttachmentCheck(checked=5, missing=0, mismatched=0),
        "attachments_acked_before": 5,
    }
    return RestoreSummary.model_validate({**base, **kw})


def kinds(missing: int = 0, present_after: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "kind": "pos.order",
            "before": 10,
            "missing": missing,
            "after": 4,
            "present_after": present_after,
            "straddling": 1,
            "examples": {"missing": ["k1"] * missing, "present_after": ["k9"] * present_after},
        }
    ]


def test_restore_gates_pass_only_for_an_exact_restore_with_its_files() -> None:
    ok = restore_results(RestoreGate(max_restore_s=60), [summary(kinds=kinds())])
    assert [(g.metric, g.passed) for g in ok] == [
        ("missing before", True),
        ("present after", True),
        ("unexpected", True),
        ("duplicated", True),
        ("attachments", True),
        ("duration", True),
    ]
    bad = {
        g.metric: g
        for g in restore_results(
            RestoreGate(max_restore_s=30),
            [
                summary(
                    kinds=kinds(missing=1, present_after=2),
                    attachments=AttachmentCheck(checked=5, missing=1, mismatched=0, examples=["ab/abc"]),
                )
            ],
        )
    }
    assert not bad["missing before"].passed
    assert "e.g. k1" in bad["missing before"].reason
    assert not bad["present after"].passed
    assert bad["present after"].actual == 2
    assert not bad["attachments"].passed
    assert "ab/abc" in bad["attachments"].reason
    assert not bad["duration"].passed
    # fewer attachment rows than attachments acknowledged before the restore point: rows are missing
    short = restore_results(RestoreGate(), [summary(kinds=kinds(), attachments_acked_before=6)])
    assert not next(g for g in short if g.metric == "attachments").passed
    unchecked = restore_results(RestoreGate(), [summary(checked=False, error="no restore results")])
    assert [(g.metric, g.passed) for g in unchecked] == [("checked", False)]
    no_files = restore_results(RestoreGate(), [summary(kinds=kinds(), filestore_restored=False)])
    assert not next(g for g in no_files if g.metric == "attachments").passed


def test_restore_line_reads_for_people() -> None:
    line = restore_line(summary(kinds=kinds(missing=1)))
    assert line.startswith("Restore drill pitr: database and filestore restored to 2026-12-07 10:00:00")
    assert "9 of 10 writes acknowledged before that point are there" in line
    assert "5 attachments checked, 0 did not open" in line
    assert "not checked" in restore_line(summary(checked=False, error="x"))


def test_check_restore_reads_the_restored_database_like_odoo_would(
    tmp_path: Path, double_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL reader finds what the JSON-RPC reader finds, on the double's own tables."""
    double = double_factory("restore-check")
    client = OdooClient(double.url, double.db)
    client.authenticate("admin", "admin")
    run_id = "0a1b2c3d"
    path = tmp_path / "ledger.jsonl"
    w = LedgerWriter(path)
    names = [f"{run_id}-partner-{i}" for i in range(4)]
    for name in names[:3]:  # the fourth is sent but never lands
        w.attempt("res.partner", name)
        client.call_kw("res.partner", "create", [{"name": name}], {})
        w.outcome("res.partner", name, Outcome.OK)
    target = time.time()
    time.sleep(0.05)
    w.attempt("res.partner", names[3])
    w.outcome("res.partner", names[3], Outcome.UNKNOWN)

    by_rpc = reconcile([path], JsonRpcReader(double.url, double.db, "admin", "admin"), run_id)
    monkeypatch.setenv("PGUSER", double.pg.user)
    monkeypatch.setenv("PGPASSWORD", double.pg.password)
    sql = SqlReader("127.0.0.1", double.pg.port, double.db)
    by_sql = reconcile([path], sql, run_id)
    sql.close()
    assert [k.summary() for k in by_sql.kinds] == [k.summary() for k in by_rpc.kinds]
    assert by_sql.kinds[0].present == tuple(names[:3])

    drill = {
        "scratch_node": "scratch",
        "listen_address": "127.0.0.1",
        "port": double.pg.port,
        "odoo_database": double.db,
        "target_time": "now",
        "target_epoch": target,
        "restore_started_at": target,
        "database_restore_s": 1.0,
        "total_restore_s": 2.0,
        "filestore_restored": True,
        "attachments": {"checked": 0, "missing": 0, "mismatched": 0, "examples": []},
    }
    (tmp_path / "restore.json").write_text(json.dumps(drill), encoding="utf-8")
    result = check_restore("pitr", str(tmp_path / "restore*.json"), [path], run_id)
    assert result.checked, result.error
    (kind,) = result.kinds
    assert (kind.before, kind.missing, kind.after, kind.present_after) == (3, 0, 1, 0)
    assert all(g.passed for g in restore_results(RestoreGate(), [result]))

    # the restore point before the last write: it is "present after", and the gate says so
    drill["target_epoch"] = target - 3600
    (tmp_path / "restore.json").write_text(json.dumps(drill), encoding="utf-8")
    early = check_restore("pitr", str(tmp_path / "restore.json"), [path], run_id)
    assert early.total("present_after") == 3
    assert not all(g.passed for g in restore_results(RestoreGate(), [early]))


def test_check_restore_reports_what_it_could_not_read(tmp_path: Path) -> None:
    missing = check_restore("pitr", str(tmp_path / "none.json"), [], "r1")
    assert not missing.checked
    assert "no restore results" in missing.error
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    bad = check_restore("pitr", str(tmp_path / "bad.json"), [], "r1")
    assert not bad.checked
    assert "bad.json" in bad.error

    def refuse(_info: Any) -> Any:
        raise OSError("connection refused")

    drill = {
        "scratch_node": "s",
        "listen_address": "10.0.0.9",
        "port": 5499,
        "odoo_database": "retail",
        "target_time": "t",
        "target_epoch": 1.0,
        "restore_started_at": 1.0,
        "database_restore_s": 1.0,
        "total_restore_s": 1.0,
        "filestore_restored": False,
    }
    (tmp_path / "r.json").write_text(json.dumps(drill), encoding="utf-8")
    down = check_restore("pitr", str(tmp_path / "r.json"), [], "r1", connect=refuse)
    assert not down.checked
    assert "connection refused" in down.error


def test_each_tiers_recovery_time_objective_bounds_the_restore(tmp_path: Path) -> None:
    gates_file = tmp_path / "gates.yaml"
    gates_file.write_text(
        "extends: pilot\nrecovery:\n  pos_sync: {rpo: 60s, rto: 30s}\n  reporting: {rpo: 1h, rto: 4h}\n",
        encoding="utf-8",
    )
    gates = load_gates(gates_file)
    assert gates.recovery["pos_sync"].rto == 30
    assert gates.tiers == load_gates("pilot").tiers  # the rest comes from the shipped pilot gates
    results = {g.metric: g for g in restore_results(gates.restore, [summary(kinds=kinds())], gates.recovery)}
    assert not results["rto pos_sync"].passed  # 42 s > 30 s
    assert "pos_sync's recovery time objective is 30 s" in results["rto pos_sync"].reason
    assert results["rto reporting"].passed
    gates_file.write_text("extends: pilot\nrecovery:\n  tills: {rto: 1m}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="tills"):
        load_gates(gates_file)
