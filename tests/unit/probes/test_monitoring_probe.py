"""The monitoring probe's judgements, and its readings through the harness's client and sink.

The targets, rules and routes are judged from answers shaped like Prometheus 2.42's and
Alertmanager 0.25's, served over HTTP by a fake (so the calls of ``loadtests/prometheus.py`` the
probe makes are exercised too); the notifications from an alerts file written by the harness's
own alert sink (``loadtests.alerts.AlertSink``) from Alertmanager-shaped notifications.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadtests.alerts import AlertSink
from loadtests.prometheus import Prometheus
from tests.fixtures.http_api import http_api
from tests.fixtures.probe_inventory import INVENTORY
from tests.metric_names import RULES_DIR, rule_files
from tests.probes import monitoring as probe


def target(job: str, instance: str, url: str, health: str = "up", error: str = "") -> dict[str, Any]:
    labels = {"job": job, "instance": instance}
    return {"labels": labels, "scrapeUrl": url, "health": health, "lastError": error}


def healthy() -> list[dict[str, Any]]:
    expected = probe.expected_targets(INVENTORY, ["victorialogs"])
    return [target(job, instance, url) for (job, instance), url in expected.items()]


def test_the_inventory_implies_the_jobs_of_its_groups_at_the_management_addresses() -> None:
    expected = probe.expected_targets(INVENTORY, ["victorialogs"])
    assert sorted({job for job, _instance in expected}) == [
        "alertmanager",
        "node",
        "patroni",
        "pgbouncer",
        "postgres",
        "prometheus",
    ]
    # every monitored host once in node (not the azurite test host), the others by group
    assert sorted(i for j, i in expected if j == "node") == ["app-1", "db-1", "db-2", "mon-1"]
    assert expected[("patroni", "db-2")] == "http://10.0.0.12:8008/metrics"
    assert expected[("pgbouncer", "app-1")] == "http://10.0.0.20:9127/metrics"
    assert expected[("alertmanager", "mon-1")] == "http://10.0.0.40:9093/metrics"
    assert ("victorialogs", "mon-1") in probe.expected_targets(INVENTORY)
    assert probe.monitoring_address(INVENTORY) == "10.0.0.40"


def test_a_monitored_host_without_an_address_is_an_error() -> None:
    inventory = {**INVENTORY, "addresses": {k: v for k, v in INVENTORY["addresses"].items() if k != "app-1"}}
    with pytest.raises(ValueError, match="app-1"):
        probe.expected_targets(inventory)


def test_all_targets_up_where_expected_is_no_problem() -> None:
    expected = probe.expected_targets(INVENTORY, ["victorialogs"])
    assert probe.target_problems(healthy(), expected) == []


def test_a_down_target_is_named_with_its_job_instance_and_last_error() -> None:
    expected = probe.expected_targets(INVENTORY, ["victorialogs"])
    active = [
        t
        if (t["labels"]["job"], t["labels"]["instance"]) != ("postgres", "db-2")
        else {**t, "health": "down", "lastError": "connect: connection refused"}
        for t in healthy()
    ]
    assert probe.target_problems(active, expected) == [
        "job postgres instance db-2 (http://10.0.0.12:9187/metrics) is down: connect: connection refused"
    ]


def test_missing_unexpected_and_misaddressed_targets_are_named() -> None:
    expected = probe.expected_targets(INVENTORY, ["victorialogs"])
    active = [t for t in healthy() if t["labels"]["job"] != "pgbouncer"]
    active = [
        {**t, "scrapeUrl": "http://mon-1:9090/metrics"} if t["labels"]["job"] == "prometheus" else t
        for t in active
    ]
    active.append(target("redis", "db-1", "http://10.0.0.11:9121/metrics", "unknown"))
    problems = probe.target_problems(active, expected)
    assert problems == [
        "job prometheus instance mon-1: scraped at http://mon-1:9090/metrics, not at the host's "
        "management address (http://10.0.0.40:9090/metrics)",
        "job redis instance db-1 (http://10.0.0.11:9121/metrics): a target the inventory does not imply",
        "job redis instance db-1 (http://10.0.0.11:9121/metrics) is unknown: not scraped yet",
        "job pgbouncer instance app-1: no active target (expected http://10.0.0.20:9127/metrics)",
    ]


class AnsweringPrometheus(Prometheus):
    """Answers instant queries from a dict: expression -> [(instance, value), ...]."""

    def __init__(self, answers: dict[str, list[tuple[str, str]]]) -> None:
        super().__init__("http://prometheus.invalid")
        self.answers = answers

    def query(self, expr: str) -> list[dict[str, Any]]:
        return [{"metric": {"instance": i}, "value": [0, v]} for i, v in self.answers.get(expr, [])]


def test_a_source_an_exporter_cannot_read_is_named_per_host() -> None:
    prometheus = AnsweringPrometheus(
        {
            "pg_up": [("db-1", "1"), ("db-2", "0")],
            "pgbouncer_up": [("app-1", "1")],
            "retailops_pgbackrest_info_success": [("db-1", "1")],
        }
    )
    checks = [
        ("pg_up", "postgres_cluster"),
        ("pgbouncer_up", "app_nodes"),
        ("retailops_pgbackrest_info_success", "postgres_cluster"),
    ]
    assert probe.series_problems(prometheus, checks, INVENTORY["groups"]) == [
        "pg_up on db-2 is 0, not 1",
        "retailops_pgbackrest_info_success on db-2: no series",
    ]


def loaded_groups(files: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": group["name"],
            "file": f"/etc/prometheus/rules.d/{name}",
            "rules": [
                {"name": r.get("alert") or r.get("record"), "health": "ok", "lastError": ""}
                for r in group["rules"]
            ],
        }
        for name, doc in files.items()
        for group in doc["groups"]
    ]


def test_the_collections_rule_groups_loaded_and_healthy_is_no_problem() -> None:
    files = rule_files()
    expected = probe.collection_groups(files)
    assert "retailops-postgresql" in expected
    assert expected["retailops-postgresql"][0] == "database.yml"
    assert probe.severities(files) == {"critical", "warning"}
    assert probe.rule_problems(loaded_groups(files), expected) == []


def test_a_rule_in_error_and_a_group_not_loaded_are_named() -> None:
    files = rule_files()
    loaded = [g for g in loaded_groups(files) if g["name"] != "retailops-redis"]
    postgres = next(g for g in loaded if g["name"] == "retailops-postgresql")
    error = {"health": "err", "lastError": "vector cannot contain metrics"}
    postgres["rules"][0] = {**postgres["rules"][0], **error}
    assert probe.rule_problems(loaded, probe.collection_groups(files)) == [
        "rule group retailops-redis (redis.yml): not loaded",
        "rule retailops-postgresql/PostgresNoLeader is err: vector cannot contain metrics",
    ]


def test_routed_severities_need_a_receiver_that_notifies() -> None:
    config = {
        "route": {
            "receiver": "webhook",
            "routes": [
                {"receiver": "webhook", "matchers": ['severity="critical"']},
                {"receiver": "null", "matchers": ["severity=warning"]},
                {"receiver": "webhook", "match": {"severity": "info"}},
            ],
        },
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": "<secret>"}]}, {"name": "null"}],
    }
    assert probe.routed_severities(config) == {"critical", "info"}


# ------------------------------------------------------------------ a whole reading over HTTP


def answers(inventory: dict[str, Any], port: int) -> dict[str, Any]:
    """What a healthy Prometheus and Alertmanager answer, path -> body, for `inventory`."""
    files = rule_files()
    targets = [
        target(job, instance, url)
        for (job, instance), url in probe.expected_targets(inventory, ["victorialogs"]).items()
    ]
    config = {
        "route": {
            "receiver": "webhook",
            "routes": [
                {"receiver": "webhook", "matchers": [f'severity="{severity}"']}
                for severity in sorted(probe.severities(files))
            ],
        },
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": "<secret>"}]}],
    }
    am = f"http://127.0.0.1:{port}/api/v2/alerts"
    return {
        "/api/v1/targets": {"activeTargets": targets, "droppedTargets": []},
        "/api/v1/rules": {"groups": loaded_groups(files)},
        "/api/v1/alertmanagers": {"activeAlertmanagers": [{"url": am}], "droppedAlertmanagers": []},
        "/api/v1/alerts": {"alerts": [{"labels": {"alertname": "Watchdog"}, "state": "firing"}]},
        "/api/v1/query": {"resultType": "vector", "result": []},
        "/api/v2/status": {"cluster": {"status": "disabled"}, "config": {"original": yaml.safe_dump(config)}},
    }


@pytest.fixture
def monitoring_node(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """One fake server on loopback for both APIs (the probe's two ports made its one); yields the
    inventory whose monitoring host it is, and the answers to change."""
    served: dict[str, Any] = {}

    def answer(path: str, _query: dict[str, list[str]]) -> Any:
        if path == "/-/ready":
            return "ready"
        if path not in served:
            return None
        return served[path] if path.startswith("/api/v2/") else {"status": "success", "data": served[path]}

    with http_api(answer) as url:
        port = int(url.rsplit(":", 1)[1])
        monkeypatch.setattr(probe, "PROMETHEUS_PORT", port)
        monkeypatch.setattr(probe, "ALERTMANAGER_PORT", port)
        inventory = {**INVENTORY, "addresses": {**INVENTORY["addresses"], "mon-1": "127.0.0.1"}}
        served.update(answers(inventory, port))
        yield inventory, served


def test_a_healthy_monitoring_node_reads_without_a_problem(
    monitoring_node: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    inventory, _served = monitoring_node
    report = probe.check(inventory, ["victorialogs"], wait=0)
    assert report["problems"] == []
    assert report["jobs"] == ["alertmanager", "node", "patroni", "pgbouncer", "postgres", "prometheus"]
    assert report["alertmanager"]["routed_severities"] == ["critical", "warning"]
    assert report["firing"] == ["Watchdog "]


def test_a_down_target_a_dropped_alertmanager_and_an_unrouted_severity_are_named(
    monitoring_node: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    inventory, served = monitoring_node
    targets = served["/api/v1/targets"]["activeTargets"]
    node = next(t for t in targets if t["labels"] == {"job": "node", "instance": "db-1"})
    node.update(health="down", lastError="context deadline exceeded")
    served["/api/v1/alertmanagers"]["droppedAlertmanagers"] = [{"url": "http://elsewhere:9093/api/v2/alerts"}]
    config = yaml.safe_load(served["/api/v2/status"]["config"]["original"])
    config["route"]["routes"] = [r for r in config["route"]["routes"] if "warning" not in str(r)]
    served["/api/v2/status"]["config"]["original"] = yaml.safe_dump(config)
    am = f"http://127.0.0.1:{probe.ALERTMANAGER_PORT}"
    assert probe.check(inventory, ["victorialogs"], wait=0)["problems"] == [
        "job node instance db-1 (http://10.0.0.11:9100/metrics) is down: context deadline exceeded",
        f"Alertmanager at {am}: no route to a receiver for severity warning, which alert rules carry",
        "Prometheus dropped the Alertmanagers ['http://elsewhere:9093/api/v2/alerts']",
    ]


def test_prometheus_not_answering_is_named_per_part_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "PROMETHEUS_PORT", 9)  # discard: nothing listens there on loopback
    monkeypatch.setattr(probe, "ALERTMANAGER_PORT", 9)
    inventory = {**INVENTORY, "addresses": {**INVENTORY["addresses"], "mon-1": "127.0.0.1"}}
    problems = probe.check(inventory, ["victorialogs"], wait=0)["problems"]
    assert [p.split(": cannot read it: ")[0] for p in problems] == [
        "Prometheus' targets",
        "Prometheus' rules",
        "Alertmanager",
        "Prometheus' alerts",
    ]
    assert problems[0].startswith("Prometheus' targets: cannot read it: /api/v1/targets: http://127.0.0.1:9 ")


# ------------------------------------------------------------------ what reached the alert sink

T0 = 1796637600.0  # 2026-12-07T10:00:00Z: the fault


def rfc3339(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def alert(name: str, status: str, starts: float, ends: float | None = None, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "critical", **labels},
        "startsAt": rfc3339(starts),
        "endsAt": rfc3339(ends) if ends is not None else "0001-01-01T00:00:00Z",
        "fingerprint": f"{name}-{sorted(labels.items())}",
    }


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Callable[[float, list[dict[str, Any]]], None]]:
    """Feeds notifications to the harness's sink (received at a given time); its file is read back."""
    clock = [T0]
    sink = AlertSink("127.0.0.1", 0, tmp_path / "alerts.jsonl", token="t", clock=lambda: clock[0])

    def receive(at: float, alerts: list[dict[str, Any]]) -> None:
        clock[0] = at
        sink.accept(json.dumps({"version": "4", "receiver": "webhook", "alerts": alerts}).encode())

    yield receive
    sink.stop()


def test_the_alert_started_after_the_fault_reached_the_sink_and_resolved(
    sink: Callable[[float, list[dict[str, Any]]], None], tmp_path: Path
) -> None:
    sink(T0 - 3000, [alert("PostgresNoLeader", "firing", T0 - 3600, region="pg")])  # an earlier fault
    sink(T0 + 14.1, [alert("PostgresNoLeader", "firing", T0 + 12.5, region="pg")])
    sink(T0 + 20, [alert("PatroniMemberDown", "firing", T0 + 19, instance="db-1")])
    sink(T0 + 33.2, [alert("PostgresNoLeader", "resolved", T0 + 12.5, T0 + 31, region="pg")])
    report = probe.notifications(tmp_path / "alerts.jsonl", "PostgresNoLeader", T0, wait=0)
    assert report["problems"] == []
    assert (report["fired_after_s"], report["firing_received_after_s"]) == (12.5, 14.1)
    assert (report["resolved_after_s"], report["resolved_received_after_s"]) == (31.0, 33.2)
    assert report["others"] == ["PatroniMemberDown instance=db-1, severity=critical"]


def test_an_alert_only_from_before_the_fault_is_no_notification_of_it(
    sink: Callable[[float, list[dict[str, Any]]], None], tmp_path: Path
) -> None:
    sink(T0 - 50, [alert("PostgresNoLeader", "firing", T0 - 60, region="pg")])
    sink(T0 + 40, [alert("PostgresNoLeader", "resolved", T0 - 60, T0 + 30, region="pg")])
    report = probe.notifications(tmp_path / "alerts.jsonl", "PostgresNoLeader", T0, wait=0)
    assert report["problems"] == [
        f"PostgresNoLeader: no firing notification of an alert that started since {T0}"
    ]
    assert report["received"] == ["PostgresNoLeader resolved"]


def test_no_alerts_file_at_all_is_no_notification(tmp_path: Path) -> None:
    report = probe.notifications(tmp_path / "alerts.jsonl", "PostgresNoLeader", T0, wait=0)
    assert report["problems"] == [
        f"PostgresNoLeader: no firing notification of an alert that started since {T0}"
    ]


def test_fired_but_not_yet_resolved(
    sink: Callable[[float, list[dict[str, Any]]], None], tmp_path: Path
) -> None:
    sink(T0 + 14, [alert("PostgresNoLeader", "firing", T0 + 12, region="pg")])
    report = probe.notifications(tmp_path / "alerts.jsonl", "PostgresNoLeader", T0, wait=0)
    assert report["problems"] == ["PostgresNoLeader: fired, but no resolved notification yet"]


def test_an_alert_about_a_target_outside_the_inventory_is_named(
    sink: Callable[[float, list[dict[str, Any]]], None], tmp_path: Path
) -> None:
    sink(T0 - 200, [alert("ScrapeTargetDown", "firing", T0 - 210, instance="localhost:9100", job="node")])
    sink(T0 + 14, [alert("PostgresNoLeader", "firing", T0 + 12, instance="db-1")])
    sink(T0 + 33, [alert("PostgresNoLeader", "resolved", T0 + 12, T0 + 31, instance="db-1")])
    hosts = INVENTORY["groups"]["all"]
    report = probe.notifications(tmp_path / "alerts.jsonl", "PostgresNoLeader", T0, wait=0, hosts=hosts)
    assert report["problems"] == [
        "notified alerts about instances the inventory does not have: ScrapeTargetDown localhost:9100"
    ]
    assert probe.notifications(tmp_path / "alerts.jsonl", "PostgresNoLeader", T0, wait=0)["problems"] == []


def test_an_alert_that_did_not_fire_is_explained_by_what_prometheus_saw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rule's expression held 9-13 s after the fault, shorter than its ``for`` plus an evaluation:
    pending once, never firing; the report says so in seconds after the fault."""
    asked: list[str] = []

    def answer(path: str, query: dict[str, list[str]]) -> Any:
        if path != "/api/v1/query_range":
            return None
        expr = query["query"][0]
        asked.append(expr)
        assert float(query["start"][0]) == T0 - 10
        assert query["step"] == ["1"]
        if expr.startswith("ALERTS"):
            result = [{"metric": {"alertstate": "pending"}, "values": [[T0 + 10, "1"]]}]
        else:
            held = [[T0 + t, "0"] for t in (9, 10, 11, 12, 13)]
            result = [{"metric": {"region": "pg", "scope": "pg"}, "values": held}]
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    with http_api(answer) as url:
        monkeypatch.setattr(probe, "PROMETHEUS_PORT", int(url.rsplit(":", 1)[1]))
        inventory = {**INVENTORY, "addresses": {**INVENTORY["addresses"], "mon-1": "127.0.0.1"}}
        view = probe.prometheus_view(inventory, "PostgresNoLeader", T0, T0 + 60)
    assert view == {
        "for": "5s",
        "expression_held": {'{"region": "pg", "scope": "pg"}': ["+9..+13 s"]},
        "alert_state": {"pending": ["+10..+10 s"]},
    }
    assert "patroni_primary" in asked[0]
    assert probe.prometheus_view(inventory, "NoSuchAlert", T0, T0 + 60)["problems"] == [
        f"NoSuchAlert: no alerting rule of that name in {RULES_DIR}"
    ]


def test_spans_join_consecutive_samples_only() -> None:
    values = [[T0 + t, "1"] for t in (1, 2, 3, 7, 8, 20)]
    assert probe.spans(values, T0, 1.0) == ["+1..+3 s", "+7..+8 s", "+20..+20 s"]
