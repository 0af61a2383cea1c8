"""The log store probe's judgements, and its readings through VictoriaLogs' query API.

The entries are judged from answers shaped like VictoriaLogs v1.52.2's ``/select/logsql/query``
(one JSON object a line; a stats pipe's rows carry its ``by`` fields and the count), served over
HTTP by a fake, so the probe's own calls are exercised too. test_log_shipping.py runs the same
probe against the real victoria-logs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.http_api import http_api
from tests.fixtures.probe_inventory import INVENTORY
from tests.probes import logs as probe

GROUPS: dict[str, list[str]] = INVENTORY["groups"]
SERVICES = [("patroni.service", "postgres_cluster"), ("pgbouncer.service", "app_nodes")]


def row(
    host: str, service: str, entries: int = 3, region: str = "eu-west", stream: str = ""
) -> dict[str, str]:
    return {
        "_stream": stream or probe.stream_of(region, host, service),
        "region": region,
        "host": host,
        "service": service,
        "entries": str(entries),
    }


def healthy() -> list[dict[str, str]]:
    return [
        row("db-1", "patroni.service"),
        row("db-1", "etcd.service"),
        row("db-2", "patroni.service"),
        row("app-1", "pgbouncer.service"),
        row("mon-1", "victoria-logs.service"),
    ]


def answer(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def test_the_shipping_hosts_are_those_of_the_platform_groups() -> None:
    assert probe.shipping_hosts(GROUPS) == ["app-1", "db-1", "db-2", "mon-1"]  # not the azurite host


def test_the_store_is_on_the_monitoring_node_at_its_management_address() -> None:
    assert probe.store_url(INVENTORY) == "http://10.0.0.40:9428"


def test_every_host_and_service_there_with_its_labels_is_no_problem() -> None:
    assert probe.arrival_problems(healthy(), "eu-west", GROUPS, SERVICES) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda rows: rows[:-1], "mon-1: no entry in the store"),
        (lambda rows: [r for r in rows if r["host"] != "db-2"], "db-2: no entry in the store"),
        (
            lambda rows: (
                [r for r in rows if r != row("db-2", "patroni.service")] + [row("db-2", "etcd.service")]
            ),
            "db-2: no entry of service patroni.service (it has etcd.service)",
        ),
        (lambda rows: [*rows, row("db-1", "kernel", region="us-east")], "region 'us-east', not 'eu-west'"),
        (lambda rows: [*rows, row("blob", "azurite.service")], "host 'blob' is not a shipping host"),
        (
            lambda rows: [*rows, row("e1f2a3b4c5d6", "cron.service")],
            "host 'e1f2a3b4c5d6' is not a shipping host",
        ),
        (lambda rows: [*rows, row("db-1", "")], "no service"),
        (
            lambda rows: [*rows, row("db-1", "cron.service", stream='{host="db-1"}')],
            "the stream is not the region, host and service",
        ),
    ],
    ids=[
        "a host",
        "a host entirely",
        "a service",
        "region",
        "non-shipping",
        "container id",
        "service",
        "stream",
    ],
)
def test_what_is_missing_or_mislabelled_is_named(
    change: Callable[[list[dict[str, str]]], list[dict[str, str]]], problem: str
) -> None:
    problems = probe.arrival_problems(change(healthy()), "eu-west", GROUPS, SERVICES)
    assert len(problems) == 1, problems
    assert problem in problems[0]


def test_a_service_of_a_group_the_inventory_lacks_is_a_problem() -> None:
    problems = probe.arrival_problems(healthy(), "eu-west", GROUPS, [("redis.service", "redis_servers")])
    assert problems == ["redis.service=redis_servers: the inventory has no host in redis_servers"]


def test_check_reads_the_store_and_waits_for_a_clean_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.probes.monitoring.time.sleep", lambda _s: None)
    queries: list[str] = []

    def get(path: str, query: dict[str, list[str]]) -> Any:
        assert path == "/select/logsql/query"
        queries.append(query["query"][0])
        # mon-1's entries arrive at the third reading
        return answer(healthy() if len(queries) >= 3 else healthy()[:-1])

    with http_api(get) as url:
        report = probe.check(probe.LogStore(url), "eu-west", GROUPS, SERVICES, wait=30)
    assert report["problems"] == []
    assert queries == [probe.COUNT_BY_STREAM] * 3
    assert report["entries"]["db-1"] == {"patroni.service": 3, "etcd.service": 3}
    assert report["total_entries"] == 15
    assert report["streams"] == 5


def test_a_bad_query_reports_the_store_s_own_message() -> None:
    with http_api(lambda _path, _query: (400, "cannot parse query")) as url:
        report = probe.snapshot(probe.LogStore(url), "eu-west", GROUPS, [])
    (problem,) = report["problems"]
    assert "HTTP 400: cannot parse query" in problem


def test_entry_times_are_read_to_the_microsecond() -> None:
    assert probe.entry_time("2026-12-06T17:21:43.988808Z") == pytest.approx(1796577703.988808, abs=1e-6)
    assert probe.entry_time("2026-12-06T17:21:43Z") == 1796577703.0


def stamp(epoch: float) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return f"{whole}.{int((epoch % 1) * 1e6):06d}Z"


def marker(word: str, host: str, written: float, service: str = "retailops-log-marker") -> dict[str, str]:
    return {
        "_time": stamp(written),
        "_msg": f"retailops log marker {word}",
        "_stream": probe.stream_of("eu-west", host, service),
        "region": "eu-west",
        "host": host,
        "service": service,
    }


def test_markers_are_timed_from_their_entry_to_the_first_answer_that_has_them() -> None:
    now = [1796577700.0]
    queries: list[str] = []
    written = {"db-1": 1796577700.5, "app-1": 1796577701.0}
    entries = [
        marker("logmarkera1", "db-1", written["db-1"]),
        marker("logmarkerb2", "app-1", written["app-1"]),
    ]

    def get(_path: str, query: dict[str, list[str]]) -> Any:
        queries.append(query["query"][0])
        now[0] += 1.0  # a second a reading: db-1's at the 2nd, app-1's at the 3rd
        return answer([e for e in entries if probe.entry_time(e["_time"]) < now[0] - 1.2])

    with http_api(get) as url:
        report = probe.watch_markers(
            probe.LogStore(url),
            {"db-1": "logmarkera1", "app-1": "logmarkerb2"},
            "eu-west",
            service="retailops-log-marker",
            within=5,
            wait=30,
            clock=lambda: now[0],
        )
    assert report["problems"] == []
    assert queries[0] == '"logmarkera1" OR "logmarkerb2" | fields _time, _msg, _stream, region, host, service'
    assert len(queries) == 3
    assert report["markers"]["db-1"][0]["delay_s"] == pytest.approx(1.5)
    assert report["markers"]["app-1"][0]["delay_s"] == pytest.approx(2.0)
    assert report["delays_s"] == {"db-1": 1.5, "app-1": 2.0}
    assert report["delay_s"] == {"min": 1.5, "max": 2.0}


def watch(entries: list[dict[str, str]], markers: dict[str, str], within: float = 5) -> dict[str, Any]:
    now = 1796577800.0
    with http_api(lambda _path, _query: answer(entries)) as url:
        return probe.watch_markers(
            probe.LogStore(url),
            markers,
            "eu-west",
            service="retailops-log-marker",
            within=within,
            wait=0,
            clock=lambda: now,
        )


def test_a_marker_missing_late_twice_or_mislabelled_is_named() -> None:
    written = 1796577799.0
    report = watch(
        [
            marker("logmarkerlate", "db-1", written - 30),
            marker("logmarkertwice", "db-2", written),
            {**marker("logmarkertwice", "db-2", written + 0.5)},
            marker("logmarkerwrong", "db-1", written, service="init.scope"),
        ],
        {
            "db-1": "logmarkerlate",
            "db-2": "logmarkertwice",
            "app-1": "logmarkerwrong",
            "mon-1": "logmarkermissing",
        },
    )
    assert report["problems"] == [
        "app-1: marker logmarkerwrong has region, host, service ('eu-west', 'db-1', 'init.scope'), "
        "expected ('eu-west', 'app-1', 'retailops-log-marker')",
        "db-1: marker logmarkerlate was searchable 31.0 s after it was written (bound 5 s)",
        "db-2: marker logmarkertwice is in the store 2 times",
        "mon-1: marker logmarkermissing not in the store",
    ]


def test_a_marker_must_be_one_word() -> None:
    with pytest.raises(ValueError, match="one word"):
        watch([], {"db-1": "log-marker-1"})


def test_the_command_line_prints_the_report_and_fails_on_a_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    with http_api(lambda _path, _query: answer(healthy()[:-1])) as url:
        rc = probe.main(
            [
                "check",
                "--store",
                url,
                "--region",
                "eu-west",
                "--inventory",
                json.dumps(INVENTORY),
                "--service",
                "patroni.service=postgres_cluster",
                "--wait",
                "0",
                "--out",
                str(tmp_path / "logs.json"),
            ]
        )
    assert rc == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["problems"] == ["mon-1: no entry in the store"]
    assert json.loads((tmp_path / "logs.json").read_text()) == printed
