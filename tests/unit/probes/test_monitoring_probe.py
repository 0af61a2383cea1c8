"""The monitoring probe's judgements, and the rig's webhook receiver it reads.

The targets, rules and routes are judged from answers shaped like Prometheus 2.42's and
Alertmanager 0.25's; the notifications from a real receiver (rig/webhook_receiver.py, in a thread)
fed Alertmanager-shaped POSTs.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from rig import webhook_receiver
from tests.probes import monitoring as probe
from tests.probes.prometheus_api import Prometheus

INVENTORY: dict[str, dict[str, Any]] = {
    "groups": {
        "all": ["db-1", "db-2", "app-1", "mon-1", "blob"],
        "etcd_cluster": ["db-1", "db-2"],
        "postgres_cluster": ["db-1", "db-2"],
        "app_nodes": ["app-1"],
        "monitoring": ["mon-1"],
        "azurite": ["blob"],
    },
    "addresses": {"db-1": "10.0.0.11", "db-2": "10.0.0.12", "app-1": "10.0.0.20", "mon-1": "10.0.0.40"},
}


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
    files = probe.rule_files()
    expected = probe.collection_groups(files)
    assert "retailops-postgresql" in expected
    assert expected["retailops-postgresql"][0] == "database.yml"
    assert probe.severities(files) == {"critical", "warning"}
    assert probe.rule_problems(loaded_groups(files), expected) == []


def test_a_rule_in_error_and_a_group_not_loaded_are_named() -> None:
    files = probe.rule_files()
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


def test_alertmanager_times_with_nanoseconds() -> None:
    assert probe.timestamp("2026-12-07T10:00:01.123456789Z") == pytest.approx(1796637601.123456)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "token").write_text("s3cret-token\n", encoding="utf-8")
    store = webhook_receiver.Store(tmp_path / "notifications.jsonl")
    server = ThreadingHTTPServer(("127.0.0.1", 0), webhook_receiver.handler(store, "s3cret-token"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def post(url: str, body: dict[str, Any], token: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def alert(status: str, starts: str, ends: str = "0001-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "PostgresNoLeader", "region": "pg", "severity": "critical"},
        "startsAt": starts,
        "endsAt": ends,
        "fingerprint": "4f1e",
    }


def test_the_alert_fired_after_the_fault_and_resolved(receiver: str) -> None:
    since = probe.timestamp("2026-12-07T10:00:00Z")
    early = {"status": "firing", "alerts": [alert("firing", "2026-12-07T09:00:00Z")]}
    firing = {"status": "firing", "alerts": [alert("firing", "2026-12-07T10:00:12.5Z")]}
    resolved = {
        "status": "resolved",
        "alerts": [alert("resolved", "2026-12-07T10:00:12.5Z", "2026-12-07T10:00:31Z")],
    }
    for body in (early, firing, resolved):
        assert post(f"{receiver}/alertmanager", body, "s3cret-token") == 200
    report = probe.notifications(receiver, "PostgresNoLeader", since, wait=0)
    assert report["problems"] == []
    assert (report["fired_after_s"], report["resolved_after_s"], report["rejected"]) == (12.5, 31.0, 0)


def test_a_wrong_token_is_refused_and_reported_without_the_alert(receiver: str) -> None:
    body = {"status": "firing", "alerts": [alert("firing", "2026-12-07T10:00:12Z")]}
    assert post(f"{receiver}/alertmanager", body, "guess") == 401
    assert post(f"{receiver}/alertmanager", body, None) == 401
    report = probe.notifications(receiver, "PostgresNoLeader", 0.0, wait=0)
    assert report["problems"] == [
        "PostgresNoLeader: no firing notification since 0.0",
        "the receiver refused 2 POSTs (wrong or no token)",
    ]
    assert report["received"] == []


def test_fired_but_not_yet_resolved(receiver: str) -> None:
    body = {"status": "firing", "alerts": [alert("firing", "2026-12-07T10:00:12Z")]}
    assert post(f"{receiver}/x", body, "s3cret-token") == 200
    report = probe.notifications(receiver, "PostgresNoLeader", 0.0, wait=0)
    assert report["problems"] == ["PostgresNoLeader: fired, but no resolved notification yet"]


def test_an_alert_about_a_target_outside_the_inventory_is_named(receiver: str) -> None:
    foreign = alert("firing", "2026-12-07T10:00:12Z")
    foreign["labels"] = {"alertname": "ScrapeTargetDown", "instance": "localhost:9100", "job": "node"}
    ours = alert("firing", "2026-12-07T10:00:12Z")
    ours["labels"] = {**ours["labels"], "instance": "db-1"}
    resolved = alert("resolved", "2026-12-07T10:00:12Z", "2026-12-07T10:00:31Z")
    resolved["labels"] = ours["labels"]
    for sent in ([foreign, ours], [resolved]):
        assert post(f"{receiver}/x", {"status": "firing", "alerts": sent}, "s3cret-token") == 200
    hosts = INVENTORY["groups"]["all"]
    report = probe.notifications(receiver, "PostgresNoLeader", 0.0, wait=0, hosts=hosts)
    assert report["problems"] == [
        "notified alerts about instances the inventory does not have: ScrapeTargetDown localhost:9100"
    ]
    assert probe.notifications(receiver, "PostgresNoLeader", 0.0, wait=0)["problems"] == []
