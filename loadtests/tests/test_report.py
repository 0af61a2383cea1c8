"""Reports from a synthetic but complete run: JSON shape, JUnit and the HTML page in a real browser."""

import argparse
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from loadtests.analysis import DrillRecord, tier_stats
from loadtests.cli import Run, build_report, drill_outcomes
from loadtests.gates import evaluate, load_gates
from loadtests.ledger import KindResult, LedgerResult
from loadtests.odoo_under_test import OdooUnderTest
from loadtests.plan import PlanBranch, RunPlan
from loadtests.report import render_html, render_junit
from loadtests.samples import Sample
from loadtests.scenario import load_scenario
from loadtests.tests import browser

HERE = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000.0


def synthetic(tight: bool = False):
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
    verdict = evaluate(gates, stats, ledger)
    odoo = OdooUnderTest(
        "Odoo 18 protocol double, image retailops/rig-odoo-double:18.0",
        args.host,
        "18.0-test",
        [18, 0, 0, "final", 0, ""],
    )
    outcomes = drill_outcomes([drill], samples, T0, samples[-1].t)
    end = samples[-1].t
    return build_report(run, plan, samples, samples, outcomes, T0, end, odoo, ledger, verdict, stats)


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


@pytest.mark.parametrize("tight", [False, True])
def test_html_report_renders_in_headless_chromium(tmp_path, tight):
    report = synthetic(tight)
    page = tmp_path / "report.html"
    page.write_text(render_html(report))
    seen = browser.check_page(
        page,
        {
            "charts": "document.querySelectorAll('svg.chart').length",
            "tier_charts": "Array.from(document.querySelectorAll('svg.chart[data-tier]'))"
            ".map(e => e.dataset.tier)",
            "bands": "document.querySelectorAll('svg.chart polygon.band').length",
            "drill_markers": "document.querySelectorAll('svg.chart line.drill').length",
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
        },
    )
    assert seen.errors == []
    assert seen.title.startswith("Load test normal_day")
    assert sorted(seen.values["tier_charts"]) == ["finance", "inventory", "pos_sync", "reporting"]
    assert seen.values["charts"] == 5  # four tiers and the link-class bars
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
        assert seen.values["headline"].startswith("NO-GO: 1 of")
        assert seen.values["failed_gates"][0].startswith("Finance (invoices): 1 call in 20 took longer")
        assert any(r.startswith("finance: p95") for r in seen.values["reasons"])
    else:
        assert seen.values["verdict"] == "GO", seen.values["reasons"]
