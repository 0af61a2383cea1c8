"""The dashboards check against a fake Prometheus: it names exactly the panels that return nothing.

The fake answers Prometheus' label, query and query_range APIs; a query has data when every
metric it reads is in the fake's `present` set and its matchers agree with the fake's labels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loadtests import cli
from loadtests import dashboards as probe
from loadtests.prometheus import Prometheus, PrometheusError
from tests import metric_names
from tests.fixtures.http_api import http_api


class FakePrometheus:
    def __init__(self) -> None:
        self.present: set[str] = set()
        self.labels: dict[str, list[str]] = {
            "region": ["eu-west", "eu-north"],
            "tier": ["finance", "pos_sync"],
        }
        # a query holding one of these strings returns nothing (a series absent for that value)
        self.absent_when: set[str] = set()
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.fail = False

    def answer(self, path: str, params: dict[str, list[str]]) -> dict[str, Any]:
        self.requests.append((path, params))
        if self.fail:
            return {"status": "error", "errorType": "bad_data", "error": "parse error"}
        if path.startswith("/api/v1/label/"):
            label = path.split("/")[4]
            return {"status": "success", "data": self.labels.get(label, [])}
        query = params["query"][0]
        data = metric_names.metric_names(query) <= self.present and not any(
            s in query for s in self.absent_when
        )
        series = [{"metric": {"instance": "a"}, "values": [[0, "1"]]}] if data else []
        assert path == "/api/v1/query_range", path
        return {"status": "success", "data": {"resultType": "matrix", "result": series}}


@pytest.fixture
def fake() -> Iterator[tuple[FakePrometheus, str]]:
    state = FakePrometheus()
    with http_api(state.answer) as url:
        yield state, url


DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
END = 1_800_000_000.0


def empty_panels(url: str, directory: Path | None = None, **chosen: str) -> list[str]:
    """The check over the 900 s before END, as the harness runs it over a run."""
    return probe.check(Prometheus(url), END - 900, END, directory=directory, chosen=chosen or None).empty


def small_dashboards(directory: Path) -> Path:
    """Two panels and a row repeated over `tier`, in the dashboards' own format."""
    dashboard = {
        "uid": "test-board",
        "title": "Test",
        "templating": {
            "list": [
                {"name": "DS_PROMETHEUS", "type": "datasource", "query": "prometheus"},
                {"name": "region", "type": "query", "query": {"query": "label_values(up, region)"}},
                {
                    "name": "tier",
                    "type": "query",
                    "definition": 'label_values(tier:retailops_requests:rate5m{region="$region"}, tier)',
                    "query": 'label_values(tier:retailops_requests:rate5m{region="$region"}, tier)',
                    "multi": True,
                    "includeAll": True,
                },
            ]
        },
        "panels": [
            {
                "id": 1,
                "type": "stat",
                "title": "Leader",
                "datasource": DS,
                "targets": [
                    {"refId": "A", "expr": 'patroni_primary{region="$region"} == 1', "instant": True}
                ],
            },
            {
                "id": 2,
                "type": "timeseries",
                "title": "Waiting clients",
                "datasource": DS,
                "targets": [
                    {"refId": "A", "expr": 'pgbouncer_waiting_clients{region="$region"}'},
                    {"refId": "B", "expr": 'pgbouncer_pool_size{region="$region"}'},
                ],
            },
            {"id": 3, "type": "row", "title": "Tier $tier", "repeat": "tier", "panels": []},
            {
                "id": 4,
                "type": "timeseries",
                "title": "$tier: requests",
                "datasource": DS,
                "targets": [
                    {
                        "refId": "A",
                        "expr": 'sum(rate(x_total{region="$region", tier="$tier"}[$__rate_interval]))'
                        ' or tier:retailops_requests:rate5m{region="$region", tier="$tier"}',
                    }
                ],
            },
        ],
    }
    (directory / "test.json").write_text(json.dumps(dashboard))
    return directory


def test_every_query_with_data_reports_nothing(fake: tuple[FakePrometheus, str], tmp_path: Path) -> None:
    state, url = fake
    state.present = {"patroni_primary", "pgbouncer_waiting_clients", "pgbouncer_pool_size", "x_total"}
    state.present.add("tier:retailops_requests:rate5m")
    assert empty_panels(url, small_dashboards(tmp_path), region="eu-west") == []


def test_a_missing_metric_names_its_panel_and_target(
    fake: tuple[FakePrometheus, str], tmp_path: Path
) -> None:
    state, url = fake
    state.present = {
        "patroni_primary",
        "pgbouncer_waiting_clients",
        "x_total",
        "tier:retailops_requests:rate5m",
    }
    assert empty_panels(url, small_dashboards(tmp_path), region="eu-west") == [
        "test-board panel 2 (Waiting clients) target B"
    ]


def test_a_repeated_row_runs_once_per_value(fake: tuple[FakePrometheus, str], tmp_path: Path) -> None:
    state, url = fake
    state.present = {"patroni_primary", "pgbouncer_waiting_clients", "pgbouncer_pool_size", "x_total"}
    state.present.add("tier:retailops_requests:rate5m")
    state.absent_when = {'tier="finance"'}
    empty = empty_panels(url, small_dashboards(tmp_path), region="eu-west")
    assert empty == ["test-board panel 4 ($tier: requests) target A [tier=finance]"]
    queries = [params["query"][0] for path, params in state.requests if path == "/api/v1/query_range"]
    assert 'sum(rate(x_total{region="eu-west", tier="pos_sync"}[1m])) or' in " ".join(queries)


def test_variables_come_from_the_label_api(fake: tuple[FakePrometheus, str], tmp_path: Path) -> None:
    """No region given: the first region Prometheus knows; tier's values match the chosen region."""
    state, url = fake
    state.present = {"patroni_primary"}
    empty_panels(url, small_dashboards(tmp_path))
    label_calls = [(path, params) for path, params in state.requests if path.startswith("/api/v1/label/")]
    assert label_calls[0][0] == "/api/v1/label/region/values"
    assert label_calls[1] == (
        "/api/v1/label/tier/values",
        {"match[]": ['tier:retailops_requests:rate5m{region="eu-north"}']},
    )
    ranges = [params for path, params in state.requests if path == "/api/v1/query_range"]
    assert ranges[0]["query"] == ['patroni_primary{region="eu-north"} == 1']
    assert float(ranges[0]["end"][0]) - float(ranges[0]["start"][0]) == 900


def test_a_variable_with_no_value_counts_as_empty(fake: tuple[FakePrometheus, str], tmp_path: Path) -> None:
    state, url = fake
    state.present = {"patroni_primary", "pgbouncer_waiting_clients", "pgbouncer_pool_size"}
    state.labels["tier"] = []
    empty = empty_panels(url, small_dashboards(tmp_path), region="eu-west")
    assert empty == ["test-board panel 4 ($tier: requests) target A [tier has no value]"]


def test_an_error_from_prometheus_is_raised(fake: tuple[FakePrometheus, str], tmp_path: Path) -> None:
    state, url = fake
    state.fail = True
    with pytest.raises(PrometheusError, match="bad_data"):
        empty_panels(url, small_dashboards(tmp_path), region="eu-west")


def test_the_real_dashboards_run_through_the_probe(fake: tuple[FakePrometheus, str]) -> None:
    """Every query of the role's dashboards resolves its variables and runs; with every known metric
    present, none is empty, and each one was asked for."""
    state, url = fake
    state.present = set(metric_names.KNOWN)
    state.labels["branch"] = ["S-001", "W-002"]
    assert empty_panels(url, region="eu-west") == []
    asked = [params["query"][0] for path, params in state.requests if path == "/api/v1/query_range"]
    queries = [q for d in probe.load().values() for q in probe.queries(d)]
    tiers = len(state.labels["tier"])
    assert len(asked) == sum(tiers if q.repeat == "tier" else 1 for q in queries)
    assert not [q for q in asked if "$" in q or "[[" in q]


def test_the_command_line_exits_1_on_an_empty_panel(
    fake: tuple[FakePrometheus, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = fake
    state.present = {"patroni_primary"}
    argv = ["dashboards", "--prometheus", url, "--prometheus-region", "eu-west", "--since", "20m"]
    status = cli.main([*argv, "--dashboards", str(small_dashboards(tmp_path))])
    assert status == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["queries"], len(out["empty"]), out["region"]) == (5, 4, "eu-west")
    ranges = [params for path, params in state.requests if path == "/api/v1/query_range"]
    assert float(ranges[0]["end"][0]) - float(ranges[0]["start"][0]) == pytest.approx(1200, abs=1)


def test_the_command_line_refuses_bad_input_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["dashboards", "--prometheus", "http://127.0.0.1:1", "--dashboards", str(tmp_path)]) == 2
    assert "--dashboards" in capsys.readouterr().err
    assert cli.main(["dashboards", "--prometheus", "ftp://x", "--dashboards", str(tmp_path)]) == 2
    assert "--prometheus" in capsys.readouterr().err
    assert cli.main(["dashboards", "--prometheus", "http://127.0.0.1:1", "--since", "soon"]) == 2
    assert "--since" in capsys.readouterr().err


def test_during_a_run_what_stops_the_check_is_reported_not_raised(
    fake: tuple[FakePrometheus, str], tmp_path: Path
) -> None:
    state, url = fake
    state.fail = True
    found = probe.during_run(Prometheus(url), END - 60, END, small_dashboards(tmp_path), "eu-west")
    assert (found.error.split(":", maxsplit=1)[0], found.queries, found.passed) == (
        "/api/v1/label/tier/values",
        0,
        False,
    )
    state.fail = False
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.json").write_text(
        '{"uid": "x", "panels": [{"id": 1, "targets": [{"expr": "up{a=\\"$nope\\"}"}]}]}'
    )
    found = probe.during_run(Prometheus(url), END - 60, END, broken)
    assert "variable 'nope'" in found.error
    found = probe.during_run(Prometheus("http://127.0.0.1:1"), END - 60, END, small_dashboards(tmp_path))
    assert "did not answer" in found.error
