"""Reports from a synthetic but complete run: JSON shape, JUnit and the HTML page in a real browser."""

import argparse
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from loadtests.alerts import FiredAlert, RuleWindow, Windows, coverage
from loadtests.analysis import DrillRecord, tier_stats
from loadtests.cli import Run, build_report, drill_outcomes
from loadtests.gates import evaluate, load_gates
from loadtests.ledger import KindResult, LedgerResult
from loadtests.odoo_under_test import OdooUnderTest
from loadtests.plan import PlanBranch, RunPlan
from loadtests.report import render_html, render_junit, summarise
from loadtests.report.model import (
    Coverage,
    Dashboards,
    ErrorWindow,
    Sli,
    SliSeries,
    coverage_lines,
    worst_outages,
)
from loadtests.report.model import CoverageRow as CoverageRowInfo
from loadtests.samples import Sample
from loadtests.scenario import DrillSpec, load_scenario
from loadtests.sli import harness_series
from loadtests.tests import browser

HERE = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000.0


def observed(drill: DrillRecord, plan: RunPlan) -> Coverage:
    """What a sink would have made of the drill: PostgresNoLeader covered, PatroniMemberDown below its
    30 s window (the drill's fault lasted 1.5 s)."""
    spec = DrillSpec.model_validate(
        {
            "name": drill.name,
            "at": drill.at,
            "executor": drill.executor,
            "action": drill.action,
            "summary": "PostgreSQL restarts",
            "alerts": [{"name": "PostgresNoLeader"}, {"name": "PatroniMemberDown"}],
        }
    )
    windows = Windows(
        {
            "PostgresNoLeader": RuleWindow("PostgresNoLeader", 1.0, 1.0),
            "PatroniMemberDown": RuleWindow("PatroniMemberDown", 30.0, 30.0),
        },
        "rule files in roles/prometheus/files/rules",
    )
    alerts = [
        FiredAlert(
            "PostgresNoLeader",
            {"alertname": "PostgresNoLeader", "region": "eu-west"},
            T0 + 66,
            T0 + 75,
            "f",
            0,
        ),
        FiredAlert(
            "TierErrorBudgetBurnFast", {"alertname": "TierErrorBudgetBurnFast"}, T0 + 62, None, "g", 0
        ),
    ]
    rows = coverage([spec], [drill], alerts, windows, plan.branches, T0)
    return Coverage(
        measured=True,
        source="http://10.0.0.1:9099/",
        windows=windows.source,
        received=3,
        file="alerts.jsonl",
        rows=[CoverageRowInfo.model_validate(r.as_dict()) for r in rows],
    )


def sli_of(report) -> Sli:
    tiers = harness_series(report.timeseries.model_dump())
    tiers["pos_sync"].platform_error_pct = [
        SliSeries(
            label="region=eu-west",
            points=[(float(t), 0.5 if 60 <= t < 90 else 0.0) for t in range(0, 120, 10)],
        )
    ]
    tiers["pos_sync"].platform_p95_ms = [
        SliSeries(label="region=eu-west", points=[(float(t), 300.0) for t in range(0, 120, 10)])
    ]
    return Sli(
        source="http://prometheus:9090", queries={"error_pct": "q1", "p95_ms": "q2"}, step_s=2.0, tiers=tiers
    )


def synthetic(tight: bool = False, alerts: bool = False):
    rnd = random.Random(7)
    samples = []
    for i in range(3000):
        t = T0 + i * 0.04
        tier = ["pos_sync", "inventory", "finance", "reporting"][i % 4]
        link = ["fiber", "broadband", "lte", "lte_flapping"][i % 4 if i % 7 else 3]
        down = T0 + 60 <= t < T0 + 62  # the drill's outage
        outcome = ("unknown" if tier == "pos_sync" else "failed") if down else "ok"
        samples.append(
            Sample(
                t,
                tier,
                f"{tier}.call",
                f"B00{i % 3}",
                "eu-west",
                link,
                outcome,
                rnd.uniform(20, 400) * (3 if link.startswith("lte") else 1),
            )
        )
    drill = DrillRecord(
        "restart-postgres",
        "process",
        "restart",
        "pg",
        at=59.5,
        started=T0 + 59.5,
        finished=T0 + 61,
        ok=True,
        observe=40,
    )
    args = argparse.Namespace(
        out="unused",
        password="",
        host="http://127.0.0.1:8069",
        web=False,
        workers=2,
        toxiproxy="auto",
        scenario=str(HERE / "scenarios/normal_day.yaml"),
        gates="g.yaml",
    )
    scenario = load_scenario(HERE / "scenarios" / "normal_day.yaml")
    gates = load_gates(HERE / "gates" / "default.yaml")
    if tight:
        gates = gates.model_copy(
            update={
                "tiers": {**gates.tiers, "finance": gates.tiers["finance"].model_copy(update={"p95_ms": 5.0})}
            }
        )
    run = Run(args, scenario, [], gates)
    plan = RunPlan(
        "abcd1234",
        args.host,
        "retail",
        "admin",
        "",
        {"pos_cashier": 1},
        [PlanBranch("B000", "Store", "eu-west", "store", "standard", "fiber", args.host)],
        "l",
        "s",
    )
    keys = tuple(f"k{i}" for i in range(500))
    recovered = keys[480:492]  # 12 of the 15 indeterminate writes landed
    kind = KindResult(
        "pos.order", keys, keys[:480], keys[495:], keys[480:495], keys[:492], (), (), (), recovered, ()
    )
    ledger = LedgerResult((kind,))
    stats = tier_stats(samples)
    seen = observed(drill, plan) if alerts else None
    rows = [r.model_dump() for r in seen.rows] if seen else None
    verdict = evaluate(gates, stats, ledger, coverage=rows)
    odoo = OdooUnderTest(
        "Odoo 18 protocol double, image retailops/rig-odoo-double:18.0",
        args.host,
        "18.0-test",
        [18, 0, 0, "final", 0, ""],
    )
    outcomes = drill_outcomes([drill], samples, T0, samples[-1].t)
    report = build_report(
        run, plan, samples, samples, outcomes, T0, samples[-1].t, odoo, ledger, verdict, stats, coverage=seen
    )
    if alerts:
        report.sli = sli_of(report)
    return report


def test_report_json_has_drill_window_ledger_and_breakdowns():
    report = synthetic().model_dump(mode="json")
    d = report["drills"][0]
    assert d["action_ok"]
    assert 1.5 <= d["error_window_s"] <= 2.5
    assert d["failed_by_tier"]
    assert d["unknown_by_tier"]["pos_sync"] > 0
    assert set(report["breakdown"]["link"]) == {"fiber", "broadband", "lte", "lte_flapping"}
    assert report["ledger"]["totals"]["recovered"] == 12
    assert report["error_windows"]["pos_sync"][0]["start_s"] >= 59.5
    assert report["run"]["odoo"] == "Odoo 18.0-test"
    odoo = report["odoo_under_test"]
    assert odoo["label"] == "Odoo 18 protocol double, image retailops/rig-odoo-double:18.0"
    assert odoo["server_version"] == "18.0-test"
    assert odoo["server_version_info"] == [18, 0, 0, "final", 0, ""]
    assert next(iter(report)) == "odoo_under_test"
    assert list(report)[1] == "summary"


def test_first_screen_speaks_to_store_operations():
    ok = synthetic().summary
    assert ok is not None
    assert ok.headline.startswith("GO: every gate held")
    assert ok.failed_gates == []
    # the drill's two-second outage, attributed to it, with what the ledger says of orders
    pos = next(line for line in ok.outages if line.startswith("POS sync (tills)"))
    assert "s of failed syncs during the drill restart-postgres, all acknowledged orders kept." in pos
    assert ok.ledger.startswith("480 writes acknowledged to the branches: 0 lost, 0 duplicated")
    assert ok.under_test[0].startswith("Odoo: Odoo 18 protocol double")
    bad = synthetic(tight=True).summary
    assert bad is not None
    assert bad.headline.startswith("NO-GO: 1 of ")
    assert bad.failed_gates == [
        next(g for g in bad.failed_gates if g.startswith("Finance (invoices): 1 call in 20 took longer than"))
    ]
    assert bad.failed_gates[0].endswith("(limit 5 ms).")


def test_an_outage_is_the_drills_while_the_drills_analysis_reads_it():
    """A tunnel's calls can fail for a while after its link is back (the tunnel's handshake): the
    drills table counts them in the drill's window, and the first screen says the same."""
    report = synthetic()
    d = report.drills[0]  # started 59.5 s, its action 1.5 s, observed for 40 s
    assert d.started_s is not None
    assert d.observed_until_s is not None
    assert d.observed_until_s == pytest.approx(d.started_s + 40, abs=0.01)

    def worst(start_s: float) -> str:
        late = ErrorWindow(start_s=start_s, end_s=start_s + 5, seconds=5.0, failures=1, closed=True)
        only = report.model_copy(update={"error_windows": {"reporting": [late]}})
        return next(o.drill for o in worst_outages(only))

    assert worst(d.started_s + 30) == "restart-postgres"  # well after its action and recovery
    assert worst(d.observed_until_s + 1) == ""


def test_junit_lists_each_gate_and_fails_on_breach():
    root = ET.fromstring(render_junit(synthetic(tight=True)))
    suite = root.find("testsuite")
    assert suite is not None
    failures = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert int(suite.get("failures", "0")) == len(failures) >= 1
    assert any(c.get("classname") == "slo.finance" and c.get("name") == "p95" for c in failures)
    props = {p.get("name"): p.get("value") or "" for p in suite.iter("property")}
    assert props["server_version"] == "18.0-test"
    assert props["odoo_under_test"].startswith("Odoo 18 protocol double")


def test_coverage_rows_in_report_json_junit_and_the_first_screen():
    report = synthetic(alerts=True)
    data = report.model_dump(mode="json")
    rows = data["coverage"]["rows"]
    assert data["coverage"]["measured"]
    assert [(r["expected"], r["status"]) for r in rows] == [
        ("PostgresNoLeader", "covered"),
        ("PatroniMemberDown", "below_window"),
    ]
    covered = rows[0]
    assert (covered["delay_s"], covered["resolved_s"], covered["window_s"]) == (6.5, 14.0, 1.0)
    assert covered["fired"] == [
        {
            "name": "PostgresNoLeader",
            "labels": "region=eu-west",
            "starts_at_s": 66.0,
            "ends_at_s": 75.0,
            "delay_s": 6.5,
        }
    ]
    assert covered["others"] == ["TierErrorBudgetBurnFast"]
    # the gate: one result per row, the below-window one failing
    assert [
        (g["metric"], g["passed"]) for g in data["gates"]["results"] if g["scope"] == "observability coverage"
    ] == [
        ("restart-postgres: PostgresNoLeader", True),
        ("restart-postgres: PatroniMemberDown", False),
    ]
    assert not report.verdict.go
    summary = report.summary
    assert summary is not None
    assert summary.failed_gates == [
        "Alerting: 1 of 1 drills were not seen by the platform's alerts (below): "
        "GO needs every drill covered."
    ]
    assert summary.coverage == [
        "0 of 1 drills raised the alerts that page the operators.",
        "Operators would not be paged when PostgreSQL restarts (drill restart-postgres): below the alert's "
        "window, the fault lasted 1.5 s, PatroniMemberDown needs 30 s: the platform could not page for it; a "
        "drill this short cannot prove coverage, so coverage fails.",
    ]
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert (
        "slo.observability coverage",
        "restart-postgres: PatroniMemberDown",
    ) not in cases  # as coverage rows
    ok = cases[("coverage.restart-postgres", "PostgresNoLeader")]
    assert ok.find("failure") is None
    assert "delay 6.5 s; resolved 14.0" in (ok.findtext("system-out") or "")
    below = cases[("coverage.restart-postgres", "PatroniMemberDown")].find("failure")
    assert below is not None
    assert below.get("message", "").startswith("below the alert's window: the fault lasted 1.5 s")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["observability_coverage"] == "measured"


def test_without_an_alert_source_coverage_is_not_measured_and_has_no_gate():
    report = synthetic()
    assert not report.coverage.measured
    assert not [g for g in report.gates.results if g.scope == "observability coverage"]
    assert report.summary is not None
    assert report.summary.coverage[0].startswith(
        "Observability coverage was not measured: the run had no alert"
    )
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["observability_coverage"] == "not measured"


def test_the_dashboards_check_on_the_first_screen_in_junit_and_html_not_in_the_verdict():
    report = synthetic()
    assert report.dashboards is None
    assert report.summary is not None
    assert not [c for c in report.summary.coverage if "dashboards" in c]
    blank = "overview panel 7 (Tunnels down) target A"
    for boards, line, failure in [
        (
            Dashboards(source="http://p:9090", directory="/d", queries=41),
            "The operators' dashboards showed data in all 41 panel queries during the run.",
            None,
        ),
        (
            Dashboards(source="http://p:9090", directory="/d", queries=41, empty=[blank]),
            "1 of 41 panel queries of the operators' dashboards were blank during the run (listed below): "
            "an operator would look at empty panels there.",
            f"no data: {blank}",
        ),
        (
            Dashboards(source="http://p:9090", directory="/d", error="/api/v1/query: p did not answer"),
            "The operators' dashboards were not checked: /api/v1/query: p did not answer.",
            "/api/v1/query: p did not answer",
        ),
    ]:
        checked = report.model_copy(update={"dashboards": boards})
        summary = summarise(checked)
        assert summary.coverage[-1] == line
        assert summary.headline.startswith("GO")  # information only: the stores' verdict is the same
        suite = ET.fromstring(render_junit(checked)).find("testsuite")
        assert suite is not None
        case = next(c for c in suite.iter("testcase") if c.get("classname") == "observability")
        found = case.find("failure")
        assert (found.get("message") if found is not None else None) == failure
        page = render_html(checked.model_copy(update={"summary": summary}))
        assert ('id="dashboards-ok"' in page) == boards.passed
        assert (f"<li>{blank}</li>" in page) == bool(boards.empty)


@pytest.mark.parametrize("tight", [False, True])
def test_html_report_renders_in_headless_chromium(tmp_path, tight):
    report = synthetic(tight, alerts=tight)
    page = tmp_path / "report.html"
    page.write_text(render_html(report))
    seen = browser.check_page(
        page,
        {
            "charts": "document.querySelectorAll('svg.chart').length",
            "tier_charts": "Array.from(document.querySelectorAll('svg.chart[data-tier]:not(.sli)'))"
            ".map(e => e.dataset.tier)",
            "bands": "document.querySelectorAll('svg.chart polygon.band').length",
            "drill_markers": "document.querySelectorAll('svg.chart:not(.sli) line.drill').length",
            "error_windows": "document.querySelectorAll('svg.chart rect.error-window').length",
            "verdict": "document.getElementById('verdict').textContent",
            "reasons": "Array.from(document.querySelectorAll('#reasons li')).map(e => e.textContent)",
            "ledger": "document.getElementById('ledger-summary').textContent",
            "chart_height": "document.querySelector('svg.chart').getBoundingClientRect().height",
            "odoo": "document.getElementById('odoo-under-test').textContent",
            "odoo_top": "document.getElementById('odoo-under-test').getBoundingClientRect().top",
            "routes": "document.querySelectorAll('#routes tr').length",
            "headline": "document.getElementById('headline').textContent",
            "headline_bottom": "document.getElementById('headline').getBoundingClientRect().bottom",
            "failed_gates": "Array.from(document.querySelectorAll('#failed-gates li'))"
            ".map(e => e.textContent)",
            "outages": "Array.from(document.querySelectorAll('#outages li')).map(e => e.textContent)",
            "gates_top": "document.getElementById('gates').getBoundingClientRect().top",
            "coverage_summary": "Array.from(document.querySelectorAll('#coverage-summary li'))"
            ".map(e => e.textContent)",
            "coverage_rows": "Array.from(document.querySelectorAll('table#coverage tr[data-status]'))"
            ".map(e => e.dataset.status)",
            "coverage_text": "document.getElementById('coverage').textContent",
            "sli_charts": "Array.from(document.querySelectorAll('svg.chart.sli'))"
            ".map(e => e.dataset.tier + ' ' + e.dataset.metric)",
            "sli_platform_lines": "document.querySelectorAll('svg.chart.sli polyline.platform').length",
            "sli_harness_lines": "document.querySelectorAll('svg.chart.sli polyline.harness').length",
        },
    )
    assert seen.errors == []
    assert seen.title.startswith("Load test normal_day")
    assert sorted(seen.values["tier_charts"]) == ["finance", "inventory", "pos_sync", "reporting"]
    sli = 8 if tight else 0  # with alerts: error rate and p95 of four tiers, the platform's for pos_sync
    assert seen.values["charts"] == 5 + sli  # four tiers and the link-class bars (and the SLI plots)
    assert seen.values["bands"] == 4
    assert seen.values["drill_markers"] == 4
    assert seen.values["error_windows"] >= 4
    assert seen.values["chart_height"] > 100
    assert "lost 0, duplicated 0" in seen.values["ledger"]
    assert seen.values["odoo"].startswith("Odoo under test: Odoo 18 protocol double, image retailops/")
    assert 'server_version 18.0-test, server_version_info [18, 0, 0, "final", 0, ""]' in seen.values["odoo"]
    assert seen.values["odoo_top"] < 200  # at the top, under the verdict
    assert seen.values["routes"] == 2  # header and the one direct route of the synthetic run
    # the first screen: the verdict in words and what the stores felt come before the gate table
    assert seen.values["headline_bottom"] < seen.values["gates_top"]
    assert any(o.startswith("POS sync (tills):") for o in seen.values["outages"])
    if tight:
        assert seen.values["verdict"] == "NO-GO"
        assert seen.values["headline"].startswith("NO-GO: 2 of")
        assert seen.values["failed_gates"][0].startswith("Finance (invoices): 1 call in 20 took longer")
        assert seen.values["failed_gates"][1].startswith("Alerting: 1 of 1 drills were not seen")
        assert any(r.startswith("finance: p95") for r in seen.values["reasons"])
        assert seen.values["coverage_summary"][1].startswith(
            "Operators would not be paged when PostgreSQL restarts"
        )
        assert seen.values["coverage_rows"] == ["covered", "below_window"]
        assert "below the alert's window: the fault lasted 1.5 s" in seen.values["coverage_text"]
        assert sorted(seen.values["sli_charts"])[:2] == ["finance error rate", "finance p95 latency"]
        assert seen.values["sli_platform_lines"] == 2
        assert seen.values["sli_harness_lines"] == 8
    else:
        assert seen.values["verdict"] == "GO", seen.values["reasons"]
        assert seen.values["coverage_summary"][0].startswith("Observability coverage was not measured")
        assert seen.values["coverage_text"].startswith("Not measured")
        assert seen.values["sli_charts"] == []


def test_the_first_screen_counts_the_drills_that_must_page_and_names_the_planned_ones():
    def row(drill: str, status: str, passed: bool, detail: str = "d") -> CoverageRowInfo:
        return CoverageRowInfo.model_validate(
            {
                "drill": drill,
                "summary": drill.replace("_", " "),
                "expected": "",
                "status": status,
                "status_text": status,
                "passed": passed,
                "detail": detail,
                "fault_start_s": 1.0,
                "fault_s": 1.0,
                "fault_source": "action",
                "window_s": None,
                "delay_s": None,
                "delay_max_s": None,
                "resolved_s": None,
                "resolved": False,
                "fired": [],
                "expected_values": [],
                "missing_values": [],
                "extra_values": [],
                "others": [],
            }
        )

    lines = coverage_lines(
        Coverage(
            measured=True,
            rows=[
                row("pg_leader_kill", "covered", True),
                row("node_drain", "none_expected", True),
                row("mystery", "unspecified", False, "the scenario names no alert for this drill"),
                row("lte_link_down", "missed", False, "no BranchTunnelDown for branch S2"),
            ],
        )
    )
    assert lines == [
        "1 of 3 drills raised the alerts that page the operators; 1 planned drills expect none (node_drain).",
        "Nobody knows whether operators are paged when mystery (drill mystery): the scenario names no alert "
        "for this drill.",
        "Operators would not be paged when lte link down (drill lte_link_down): "
        "no BranchTunnelDown for branch S2.",
    ]
