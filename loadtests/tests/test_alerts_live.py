"""The alert sink against Debian's real Prometheus and Alertmanager, on loopback.

Prometheus scrapes a gauge this test serves (every 1 s) and evaluates, every
5 s, an alert with ``for: 5s`` on it and two SLI recording rules; Alertmanager
(group_wait and group_interval 1 s) sends its webhook, with a bearer token, to
the harness's sink. The test flips the gauge to 1, waits for the firing
notification, flips it back and waits for the resolved one: what Prometheus
puts in ``startsAt`` and ``endsAt`` is checked against the flip times, then
the windows come from the real rules API, the drill is classified covered,
and the SLI series come from the real ``query_range``. Everything it starts is
stopped; each wait is bounded (the whole test takes 30-40 s).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from loadtests.alerts import AlertSink, FiredAlert, coverage, read_alerts, windows_from_api
from loadtests.analysis import DrillRecord
from loadtests.prometheus import Prometheus
from loadtests.scenario import DrillSpec
from loadtests.sli import platform_sli
from tests.fixtures.http_api import http_api
from tests.fixtures.plugin import start_or_fail
from tests.fixtures.services import PromServer, new_tempdir, stop_process

EVAL_S = 5.0  # evaluation_interval
SCRAPE_S = 1.0  # scrape_interval
FOR_S = 5.0  # the alert's for
SLACK_S = 3.0  # a loaded 2-core machine: a late scrape or notification
TOKEN = "live-test-token"

RULES = f"""
groups:
  - name: coverage-live
    rules:
      - alert: CoverageLiveFault
        expr: coverage_live_fault == 1
        for: {FOR_S:g}s
        labels: {{severity: critical}}
        annotations:
          summary: the test's fault
          detection_window: {FOR_S:g}s
      - record: tier:retailops_errors:ratio_rate5m
        expr: vector(0.25)
        labels: {{tier: pos_sync, region: live}}
      - record: tier:retailops_latency_seconds:p95_5m
        expr: vector(0.3)
        labels: {{tier: pos_sync, region: live}}
"""


@dataclass
class Gauge:
    """``coverage_live_fault`` on ``/metrics``, flipped by the test."""

    value: int = 0


def gauge_metrics(gauge: Gauge) -> Callable[[str, dict[str, list[str]]], str]:
    """What the gauge's ``/metrics`` answers (tests.fixtures.http_api serves it)."""
    return lambda _path, _query: f"# TYPE coverage_live_fault gauge\ncoverage_live_fault {gauge.value}\n"


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@dataclass
class Live:
    gauge: Gauge
    sink: AlertSink
    prometheus: PromServer
    alertmanager: PromServer


@pytest.fixture
def live() -> Iterator[Live]:
    root = new_tempdir("lt-alerts-live-")
    gauge = Gauge()
    stack = contextlib.ExitStack()
    metrics = stack.enter_context(http_api(gauge_metrics(gauge)))
    sink = AlertSink("127.0.0.1", 0, root / "alerts.jsonl", token=TOKEN)
    sink.start()
    am_config = f"""
route:
  receiver: sink
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: {sink.url}alerts
        send_resolved: true
        http_config:
          authorization: {{type: Bearer, credentials: {TOKEN}}}
"""
    alertmanager = PromServer(root / "alertmanager", "alertmanager", am_config)
    prometheus: PromServer | None = None
    try:
        start_or_fail(alertmanager)
        prom_config = f"""
global: {{scrape_interval: {SCRAPE_S:g}s, evaluation_interval: {EVAL_S:g}s}}
alerting:
  alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{alertmanager.port}"]}}]}}]
rule_files: [{root / "prometheus" / "rules.yml"}]
scrape_configs:
  - job_name: fault
    static_configs: [{{targets: ["{metrics.removeprefix("http://")}"]}}]
"""
        prometheus = PromServer(root / "prometheus", "prometheus", prom_config, {"rules.yml": RULES})
        start_or_fail(prometheus)
        yield Live(gauge, sink, prometheus, alertmanager)
    finally:
        if prometheus is not None:
            stop_process(prometheus.proc)
        stop_process(alertmanager.proc)
        sink.stop()
        stack.close()
        shutil.rmtree(root, ignore_errors=True)


def test_prometheus_and_alertmanager_send_firing_then_resolved_to_the_sink(live: Live) -> None:
    prom = Prometheus(live.prometheus.url)
    wait_for(
        "Prometheus scrapes the gauge",
        lambda: prom.get("/api/v1/query", [("query", 'up{job="fault"} == 1')])["result"],
        30,
    )
    path = live.sink.path

    def one(status: str) -> FiredAlert | None:
        rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        if not any(r["status"] == status and r["labels"]["alertname"] == "CoverageLiveFault" for r in rows):
            return None
        return next(a for a in read_alerts(path) if a.name == "CoverageLiveFault")

    flip_on = time.time()
    live.gauge.value = 1
    firing = wait_for("the firing notification", lambda: one("firing"), 40)
    flip_off = time.time()
    live.gauge.value = 0
    resolved = wait_for("the resolved notification", lambda: one("resolved") and one("resolved"), 40)
    firing_row = next(json.loads(line) for line in path.read_text().splitlines())

    # startsAt: the evaluation at which the alert turned firing, i.e. at least `for` after the
    # condition's first evaluation, which follows the flip (1 s: the scrape's own timestamp)
    assert flip_on + FOR_S - SCRAPE_S <= firing.starts_at <= flip_on + FOR_S + EVAL_S + SCRAPE_S + SLACK_S
    assert firing.first_received >= firing.starts_at
    # one alert instance: the resolved notification keeps startsAt; endsAt is the evaluation that
    # found the condition false
    assert resolved.starts_at == firing.starts_at
    assert resolved.ends_at is not None
    assert flip_off - SCRAPE_S <= resolved.ends_at <= flip_off + EVAL_S + SCRAPE_S + SLACK_S
    assert resolved.resolved_received is not None
    assert resolved.resolved_received >= resolved.ends_at
    assert live.sink.refused == 0  # Alertmanager sent the bearer token
    print(  # the figures the report's live findings quote (pytest -s)
        f"\nflip on -> startsAt {firing.starts_at - flip_on:.2f} s, "
        f"startsAt -> received {firing.first_received - firing.starts_at:.2f} s, "
        f"flip off -> endsAt {resolved.ends_at - flip_off:.2f} s, "
        f"endsAt -> received {resolved.resolved_received - resolved.ends_at:.2f} s, "
        f"firing notification endsAt {firing_row['endsAt']!r}"
    )
    # Alertmanager 0.25 sends a firing alert's endsAt as Go's zero time: not set
    assert firing_row["status"] == "firing"

    # the windows from the real rules API: detection_window, and for as `duration`
    windows = windows_from_api(prom)
    assert windows.error == ""
    rule = windows.rules["CoverageLiveFault"]
    assert (rule.window_s, rule.for_s) == (FOR_S, FOR_S)

    # the fault held from flip to flip: covered, the delay and resolution from the alert's own times
    spec = DrillSpec.model_validate(
        {
            "name": "fault",
            "at": 0,
            "executor": "process",
            "action": "flip",
            "alerts": [{"name": "CoverageLiveFault"}],
        }
    )
    record = DrillRecord("fault", "process", "flip", "", 0.0, started=flip_on, finished=flip_off, ok=True)
    [row] = coverage([spec], [record], read_alerts(path), windows, [], flip_on - 10)
    assert row.status == "covered", row.detail
    assert row.delay_s == pytest.approx(firing.starts_at - flip_on)
    assert row.resolved
    assert row.resolved_s == pytest.approx(resolved.ends_at - flip_off)

    # the SLI recording rules over the same span, through query_range
    series = {"bucket_s": 2.0, "tiers": {"pos_sync": [{"t": 0.0, "count": 4, "failures": 1, "p95": 250.0}]}}
    sli = platform_sli(prom, flip_on, time.time(), series)
    assert sli.error == ""
    tier = sli.tiers["pos_sync"]
    assert [s.label for s in tier.platform_error_pct] == ["region=live"]
    assert {v for _t, v in tier.platform_error_pct[0].points} == {25.0}
    assert {round(v) for _t, v in tier.platform_p95_ms[0].points} == {300}
    assert tier.harness_error_pct == [(1.0, 25.0)]
