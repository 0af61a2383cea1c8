"""A region lost, measured by the ledger: recovery time and point per tier, their gates, the report."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from pydantic import ValidationError

from loadtests.analysis import DrillRecord
from loadtests.drills import DockerExecutor, DrillError
from loadtests.gates import RecoveryTarget, evaluate, load_gates, region_loss_results
from loadtests.ledger import KindResult, LedgerEntry, LedgerResult, Outcome
from loadtests.region_loss import RegionLossSummary, measure_region_loss
from loadtests.report import render_html, summarise
from loadtests.report.model import region_loss_lines
from loadtests.samples import Sample
from loadtests.scenario import DrillSpec
from loadtests.tests.test_report import synthetic

T0 = 1_700_000_000.0
LOST_AT = T0 + 200.0  # the region's containers killed from here ...
GONE_AT = T0 + 201.0  # ... to here


def entry(key: str, tier: str, sent: float, acked: float | None, kind: str = "pos.order") -> LedgerEntry:
    e = LedgerEntry(kind, key, attempts=1, tags={"tier": tier}, first_attempt_at=sent)
    e.outcomes = [Outcome.OK] if acked is not None else [Outcome.UNKNOWN]
    e.acked_at = acked
    return e


def ledger_of(entries: list[LedgerEntry], lost: set[str]) -> LedgerResult:
    kinds = []
    for kind in sorted({e.kind for e in entries}):
        keys = tuple(e.key for e in entries if e.kind == kind)
        acked = tuple(e.key for e in entries if e.kind == kind and e.acked_at is not None)
        gone = tuple(k for k in acked if k in lost)
        present = tuple(k for k in acked if k not in lost)
        kinds.append(KindResult(kind, keys, acked, (), (), present, gone, (), (), (), ()))
    return LedgerResult(tuple(kinds))


def by_kind(entries: list[LedgerEntry]) -> dict[str, dict[str, LedgerEntry]]:
    out: dict[str, dict[str, LedgerEntry]] = {}
    for e in entries:
        out.setdefault(e.kind, {})[e.key] = e
    return out


RECORD = DrillRecord("region_loss", "docker", "kill", "label:org.retailops.region=pilot-local", 200)
RECORD.started, RECORD.finished, RECORD.ok = LOST_AT, GONE_AT, True

ENTRIES = [
    # POS: acknowledged by the primary, the last two never reached the DR region
    entry("pos-1", "pos_sync", T0 + 100, T0 + 100.2),
    entry("pos-2", "pos_sync", T0 + 198, T0 + 198.5),
    entry("pos-3", "pos_sync", T0 + 199, T0 + 199.4),
    # sent into the dying region, never acknowledged
    entry("pos-4", "pos_sync", T0 + 200.5, None),
    # the DR region's first acknowledged POS write, 95 s after the loss
    entry("pos-5", "pos_sync", T0 + 290, T0 + 295.0),
    # inventory: nothing lost, back at 320 s
    entry("inv-1", "inventory", T0 + 150, T0 + 150.1, kind="stock.quant"),
    entry("inv-2", "inventory", T0 + 319, T0 + 320.0, kind="stock.quant"),
]
SAMPLES = [
    Sample(T0 + 150, "reporting", "report", "B1", "eu", "fiber", "ok", 50),
    Sample(T0 + 210, "reporting", "report", "B1", "eu", "fiber", "failed", 5000),
    Sample(T0 + 330, "reporting", "report", "B1", "eu", "fiber", "ok", 80),
]


def measured(lost: set[str]) -> RegionLossSummary:
    return measure_region_loss(
        RECORD,
        "pilot-local",
        entries=by_kind(ENTRIES),
        ledger=ledger_of(ENTRIES, lost),
        samples=SAMPLES,
        tiers=["pos_sync", "inventory", "finance", "reporting"],
        run_start=T0,
    )


def test_recovery_time_and_point_per_tier() -> None:
    loss = measured({"pos-2", "pos-3"})
    assert loss.measured
    assert (loss.lost_at_s, loss.gone_at_s) == (200.0, 201.0)
    tiers = {t.tier: t for t in loss.tiers}
    pos = tiers["pos_sync"]
    assert (pos.rto_s, pos.measured_by) == (95.0, "acknowledged write")
    assert (pos.acked_before, pos.lost_before, pos.lost_after) == (3, 2, 0)
    # the oldest missing write was acknowledged 1.5 s before the loss: the DR region's recovery point
    assert pos.rpo_s == 1.5
    assert pos.examples == ["pos-2", "pos-3"]
    inv = tiers["inventory"]
    assert (inv.rto_s, inv.lost_before, inv.rpo_s) == (120.0, 0, 0.0)
    # a tier that writes nothing: its first answered call after the loss
    assert (tiers["reporting"].rto_s, tiers["reporting"].measured_by) == (130.0, "answered call")
    # a tier without a call after the loss never came back
    assert (tiers["finance"].rto_s, tiers["finance"].measured_by) == (None, "")


def test_a_write_the_dr_region_acknowledged_and_lost_is_counted_apart() -> None:
    pos = measured({"pos-5"}).tiers[0]
    assert (pos.lost_before, pos.lost_after, pos.rpo_s) == (0, 1, 0.0)


def test_not_measured_when_the_drill_failed_or_the_ledger_was_not_read() -> None:
    failed = DrillRecord(
        "region_loss", "docker", "kill", "x", 200, LOST_AT, LOST_AT + 1, False, "no container"
    )
    loss = measure_region_loss(
        failed, "pilot-local", entries={}, ledger=LedgerResult(()), samples=[], tiers=[], run_start=T0
    )
    assert not loss.measured
    assert loss.error == "no container"
    unread = measure_region_loss(
        RECORD,
        "pilot-local",
        entries={},
        ledger=LedgerResult((), checked=False, error="Odoo did not answer"),
        samples=[],
        tiers=[],
        run_start=T0,
    )
    assert not unread.measured
    assert "Odoo did not answer" in unread.error


TARGETS = {
    "pos_sync": RecoveryTarget(rpo=5, rto=120),
    "inventory": RecoveryTarget(rpo=60, rto=300),
    "finance": RecoveryTarget(rpo=60, rto=3600),
    "reporting": RecoveryTarget(rto=3600),
}


def test_gates_hold_the_measures_to_the_region_targets() -> None:
    results = {r.metric: r for r in region_loss_results([measured({"pos-2", "pos-3"})], TARGETS)}
    assert results["rto pos_sync"].passed
    assert results["rpo pos_sync"].passed
    assert "lost 2 of 3 writes acknowledged before the loss, the oldest 1.5 s before it" in (
        results["rpo pos_sync"].reason
    )
    assert not results["rto finance"].passed  # never back
    assert "not back by the end of the run" in results["rto finance"].reason
    assert "rpo reporting" not in results
    tight = {**TARGETS, "pos_sync": RecoveryTarget(rpo=0.5, rto=60)}
    strict = {r.metric: r for r in region_loss_results([measured({"pos-2", "pos-3"})], tight)}
    assert not strict["rto pos_sync"].passed
    assert not strict["rpo pos_sync"].passed
    after = {r.metric: r for r in region_loss_results([measured({"pos-5"})], TARGETS)}
    assert not after["lost after pos_sync"].passed


def test_a_loss_without_targets_or_not_measured_fails() -> None:
    [no_targets] = [r for r in region_loss_results([measured(set())], {}) if not r.passed]
    assert "no recovery objectives" in no_targets.reason
    unmeasured = RegionLossSummary(drill="region_loss", region="pilot-local", measured=False, error="boom")
    [r] = region_loss_results([unmeasured], TARGETS)
    assert not r.passed
    assert r.reason.endswith("not measured: boom")


def test_writes_lost_before_the_loss_are_judged_by_the_rpo_not_max_lost() -> None:
    gates = load_gates("pilot")
    ledger = ledger_of(ENTRIES, {"pos-2", "pos-3"})
    loss = measured({"pos-2", "pos-3"})
    lost = next(r for r in evaluate(gates, {}, ledger, region_losses=[loss]).results if r.metric == "lost")
    assert lost.passed
    assert lost.actual == 0
    assert "2 more acknowledged before a region was lost" in lost.reason
    plain = next(r for r in evaluate(gates, {}, ledger).results if r.metric == "lost")
    assert not plain.passed
    assert plain.actual == 2


def test_an_attachment_that_came_over_without_its_file_is_in_the_recovery_point() -> None:
    """make pilot-dr, 2026-12-07: a receipt acknowledged 3.4 s before the loss reached the DR
    region's database (streamed) but not its filestore copies (taken every 60 s): the ledger's
    "attachments whose file does not open" gate said NO-GO although the tier's rpo allowed it."""
    receipt = entry("receipt-1", "pos_sync", T0 + 196.5, T0 + 196.6, kind="ir.attachment")
    entries = [*ENTRIES, receipt]
    ledger = ledger_of(entries, set())
    ledger = LedgerResult(
        tuple(
            dataclasses.replace(k, unreadable=("receipt-1",)) if k.kind == "ir.attachment" else k
            for k in ledger.kinds
        )
    )
    loss = measure_region_loss(
        RECORD,
        "pilot-local",
        entries=by_kind(entries),
        ledger=ledger,
        samples=SAMPLES,
        tiers=["pos_sync"],
        run_start=T0,
    )
    [pos] = loss.tiers
    assert (pos.lost_before, pos.files_missing_before, pos.rpo_s) == (0, 1, 3.4)
    assert pos.examples == ["receipt-1"]
    gates = load_gates("pilot")
    unreadable = next(
        r for r in evaluate(gates, {}, ledger, region_losses=[loss]).results if r.metric == "unreadable"
    )
    assert (unreadable.passed, unreadable.actual) == (True, 0)
    assert "1 more acknowledged before a region was lost" in unreadable.reason
    plain = next(r for r in evaluate(gates, {}, ledger).results if r.metric == "unreadable")
    assert (plain.passed, plain.actual) == (False, 1)
    rpo = {r.metric: r for r in region_loss_results([loss], TARGETS)}["rpo pos_sync"]
    assert rpo.passed  # 3.4 s, within the tier's 5 s
    assert "and the file of 1 attachments, the oldest 3.4 s before it" in rpo.reason
    line = next(x for x in region_loss_lines(loss) if "attachments" in x)
    assert "0 of 4 writes acknowledged before the loss missing and the file of 1 attachments" in line


def test_the_first_screen_says_what_the_stores_lost() -> None:
    lines = region_loss_lines(measured({"pos-2", "pos-3"}))
    assert lines[0].startswith("Region pilot-local lost at 200 s into the run")
    pos = next(line for line in lines if "2 of 3" in line)
    assert "back after 95.0 s (first acknowledged write)" in pos
    assert "the oldest 1.5 s old at the loss (recovery point)" in pos
    assert any("not back by the end of the run" in line for line in lines)


def spec(**over: Any) -> DrillSpec:
    return DrillSpec.model_validate(
        {"name": "d", "at": "10s", "executor": "docker", "action": "kill", "target": "x", **over}
    )


def test_which_drills_inject_a_fault() -> None:
    assert spec().injects_fault
    assert not spec(restore={"file": "r.json"}).injects_fault
    assert not spec(executor="ansible", injects_fault=False).injects_fault
    assert spec(region_loss={"region": "pilot-local"}).injects_fault
    for bad, field in (
        ({"restore": {"file": "r.json"}, "injects_fault": True}, "injects_fault"),
        ({"region_loss": {"region": "pilot-local"}, "injects_fault": False}, "injects_fault"),
        ({"region_loss": {"region": "x"}, "restore": {"file": "r.json"}}, "region_loss"),
        ({"region_loss": {"region": ""}}, "region"),
    ):
        with pytest.raises(ValidationError, match=field):
            spec(**bad)


class FakeContainer:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def kill(self, signal: str) -> None:
        self.log.append(f"kill {self.name} {signal}")


class FakeContainers:
    def __init__(self, log: list[str], labelled: list[str]) -> None:
        self.log, self.labelled = log, labelled
        self.filters: list[dict[str, str]] = []

    def get(self, name: str) -> FakeContainer:
        return FakeContainer(name, self.log)

    def list(self, filters: dict[str, str]) -> list[FakeContainer]:
        self.filters.append(filters)
        return [FakeContainer(n, self.log) for n in self.labelled]


class FakeClient:
    def __init__(self, labelled: list[str]) -> None:
        self.log: list[str] = []
        self.containers = FakeContainers(self.log, labelled)


def test_a_docker_drill_kills_every_container_of_a_label() -> None:
    client = FakeClient(["pilot-db-1", "pilot-app-1", "pilot-hub"])
    DockerExecutor(client).run(spec(target="label:org.retailops.region=pilot-local"))
    assert sorted(client.log) == [
        "kill pilot-app-1 SIGKILL",
        "kill pilot-db-1 SIGKILL",
        "kill pilot-hub SIGKILL",
    ]
    assert client.containers.filters == [{"label": "org.retailops.region=pilot-local"}]
    one = FakeClient([])
    DockerExecutor(one).run(spec(target="pilot-app-2"))
    assert one.log == ["kill pilot-app-2 SIGKILL"]


def test_a_label_nothing_carries_is_an_error() -> None:
    nowhere = re.escape("no running container has the label org.retailops.region=nowhere")
    with pytest.raises(DrillError, match=nowhere):
        DockerExecutor(FakeClient([])).run(spec(target="label:org.retailops.region=nowhere"))
    with pytest.raises(DrillError, match="unknown action"):
        DockerExecutor(FakeClient(["a"])).run(spec(action="explode"))


def test_the_report_shows_the_region_loss_first_and_in_detail() -> None:
    report = synthetic()
    report.region_loss = [measured({"pos-2", "pos-3"})]
    report.summary = summarise(report)
    assert report.summary.region_loss[0].startswith("Region pilot-local lost at 200 s")
    html = render_html(report)
    assert 'id="region-loss-summary"' in html
    assert 'id="region-loss"' in html
    assert "not back" in html  # finance


def test_a_dr_region_that_holds_none_of_the_writes_misses_its_recovery_point() -> None:
    """make pilot-dr, a standby that had not caught up: every write acknowledged before the loss missing.
    The newest missing one is always just before the loss; the recovery point is the oldest one's."""
    pos = measured({"pos-1", "pos-2", "pos-3"}).tiers[0]
    assert (pos.lost_before, pos.rpo_s) == (3, 99.8)
    minute = {**TARGETS, "pos_sync": RecoveryTarget(rpo=60, rto=120)}
    results = {r.metric: r for r in region_loss_results([measured({"pos-1", "pos-2", "pos-3"})], minute)}
    assert not results["rpo pos_sync"].passed
