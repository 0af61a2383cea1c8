"""Observability coverage without a platform: the sink over HTTP, the windows, the classification."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from loadtests.alerts import (
    AlertSink,
    FiredAlert,
    Windows,
    coverage,
    default_rule_files,
    fault_of,
    parse_address,
    parse_notification,
    parse_time,
    read_alerts,
    sink_token,
    unresolved_since,
    windows_from_api,
    windows_from_files,
)
from loadtests.analysis import DrillRecord
from loadtests.cli import main as cli_main
from loadtests.errors import ConfigError
from loadtests.plan import PlanBranch
from loadtests.prometheus import PrometheusError
from loadtests.scenario import DrillSpec

T0 = 1_700_000_000.0  # the run's start


def iso(t: float) -> str:
    """An RFC 3339 time with nanoseconds, as Alertmanager writes it."""
    whole = int(t)
    frac = f"{t - whole:.9f}"[2:]
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac}Z"


def alert(name: str, status: str, starts: float, ends: float | None = None, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": "s"},
        "startsAt": iso(starts),
        "endsAt": iso(ends) if ends is not None else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": f"{name}-{'-'.join(f'{k}={v}' for k, v in sorted(labels.items()))}",
    }


def notification(*alerts: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "groupKey": "{}:{alertname=...}",
            "truncatedAlerts": 0,
            "status": "resolved" if all(a["status"] == "resolved" for a in alerts) else "firing",
            "receiver": "webhook",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://am",
            "alerts": list(alerts),
        }
    ).encode()


# ------------------------------------------------------------------ the notification and its times


def test_times_as_alertmanager_writes_them():
    assert parse_time("2023-11-14T22:13:20.123456789Z") == pytest.approx(T0 + 0.123456789)
    assert parse_time("2023-11-14T23:13:20+01:00") == T0
    assert parse_time("0001-01-01T00:00:00Z") is None  # Go's zero time: not set
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"version": "3", "alerts": []}', "version '3', expected 4"),
        (b'{"version": "4"}', "no alerts list"),
        (b'{"alerts": [{"status": "firing", "labels": {}}]}', r"alerts\[0\].labels has no alertname"),
        (
            b'{"alerts": [{"status": "pending", "labels": {"alertname": "A"}, "startsAt": "x"}]}',
            "expected firing or resolved",
        ),
        (
            b'{"alerts": [{"status": "firing", "labels": {"alertname": "A"}, "startsAt": "soon"}]}',
            "startsAt is not a time",
        ),
    ],
)
def test_a_bad_notification_is_refused_with_the_reason(body, reason):
    with pytest.raises(ValueError, match=reason):
        parse_notification(body)


def test_address_and_token_options(tmp_path, monkeypatch):
    assert parse_address("10.213.30.1:9099") == ("10.213.30.1", 9099)
    assert parse_address("[::1]:9099") == ("::1", 9099)
    for bad in ("9099", "host:", "host:http", "host:70000"):
        with pytest.raises(ConfigError, match=r"--alert-sink: .*expected HOST:PORT"):
            parse_address(bad)
    monkeypatch.delenv("LOADTESTS_ALERT_SINK_TOKEN", raising=False)
    assert sink_token(None) is None
    monkeypatch.setenv("LOADTESTS_ALERT_SINK_TOKEN", " from-env \n")
    assert sink_token(None) == "from-env"
    file = tmp_path / "token"
    file.write_text("from-file\n")
    assert sink_token(str(file)) == "from-file"
    file.write_text("\n")
    with pytest.raises(ConfigError, match="the file is empty"):
        sink_token(str(file))
    with pytest.raises(ConfigError, match="cannot read"):
        sink_token(str(tmp_path / "none"))


# ------------------------------------------------------------------ the sink over HTTP


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[AlertSink]:
    s = AlertSink("127.0.0.1", 0, tmp_path / "out" / "alerts.jsonl", token="s3cret", clock=lambda: T0 + 99)
    s.start()
    yield s
    s.stop()


def post(
    sink: AlertSink | tuple[str, int], body: bytes, token: str | None = "s3cret", path: str = "/alerts"
) -> tuple[int, str]:
    """POST to a sink (or a sink's address), with the bearer token unless None; (status, body)."""
    conn = http.client.HTTPConnection(*(sink if isinstance(sink, tuple) else sink.address), timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, text


def test_the_sink_appends_each_alert_with_its_receive_time(sink: AlertSink):
    body = notification(alert("PostgresNoLeader", "firing", T0 + 70, region="pilot"))
    assert post(sink, body) == (200, "1 alerts\n")
    assert (
        post(sink, notification(alert("PostgresNoLeader", "resolved", T0 + 70, T0 + 95, region="pilot")))[0]
        == 200
    )
    rows = [json.loads(line) for line in sink.path.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["firing", "resolved"]
    assert rows[0]["received"] == T0 + 99
    assert rows[0]["receiver"] == "webhook"
    assert rows[0]["labels"] == {"alertname": "PostgresNoLeader", "severity": "critical", "region": "pilot"}
    assert sink.received == 2


def test_the_sink_refuses_bad_json_and_a_missing_or_wrong_token(sink: AlertSink):
    assert post(sink, b"{oops")[0] == 400
    status, text = post(sink, b'{"version": "4"}')
    assert (status, text) == (400, "no alerts list\n")
    good = notification(alert("A", "firing", T0))
    assert post(sink, good, token=None)[0] == 401
    assert post(sink, good, token="wrong")[0] == 401
    assert not sink.path.exists()  # nothing refused was written
    assert sink.refused == 4
    conn = http.client.HTTPConnection(*sink.address, timeout=10)
    conn.request("GET", "/-/healthy")
    assert conn.getresponse().status == 200
    conn.close()


def test_the_sink_wants_a_length_and_bounds_the_body(sink: AlertSink):
    conn = http.client.HTTPConnection(*sink.address, timeout=10)
    conn.putrequest("POST", "/")
    conn.putheader("Authorization", "Bearer s3cret")
    conn.putheader("Content-Length", str(64 * 1024 * 1024))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()


def test_the_token_is_never_written_or_printed(sink: AlertSink, capsys):
    post(sink, notification(alert("A", "firing", T0)))
    post(sink, notification(alert("A", "firing", T0)), token="guess")
    out = capsys.readouterr()
    assert "s3cret" not in sink.path.read_text() + out.out + out.err
    assert "guess" not in out.out + out.err


def test_a_sink_without_token_takes_any_post(tmp_path: Path):
    with AlertSink("127.0.0.1", 0, tmp_path / "a.jsonl") as open_sink:
        assert post(open_sink, notification(alert("A", "firing", T0)), token=None)[0] == 200


# ------------------------------------------------------------------ the sink alone (alert-sink)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sink_alone_runs_until_sigterm_with_its_pid_file(tmp_path: Path):
    """``python -m loadtests alert-sink``: listens, writes its pid, takes a notification with the
    token, refuses one without, and on SIGTERM stops, removes the pid file and says what it did."""
    (tmp_path / "token").write_text("s3cret\n")
    port = free_loopback_port()
    pid_file = tmp_path / "sink.pid"
    argv = [sys.executable, "-m", "loadtests", "alert-sink", "--listen", f"127.0.0.1:{port}"]
    argv += ["--out", str(tmp_path / "out"), "--token-file", str(tmp_path / "token"), "--for", "60s"]
    argv += ["--pid-file", str(pid_file)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pid_file.read_text().strip() == str(proc.pid)
        address = ("127.0.0.1", port)
        assert post(address, notification(alert("PostgresNoLeader", "firing", T0)))[0] == 200
        assert post(address, notification(alert("PostgresNoLeader", "firing", T0)), token=None)[0] == 401
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=20)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert not pid_file.exists()
    assert [a.name for a in read_alerts(tmp_path / "out" / "alerts.jsonl")] == ["PostgresNoLeader"]
    assert "bearer token required" in out
    assert "alert sink stopped: 1 alerts written, 1 requests refused" in out
    assert "s3cret" not in out


def test_the_sink_alone_stops_by_itself_after_its_time(tmp_path: Path):
    argv = [sys.executable, "-m", "loadtests", "alert-sink", "--listen", f"127.0.0.1:{free_loopback_port()}"]
    argv += ["--out", str(tmp_path), "--for", "1s"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    assert "alert sink done (--for): 0 alerts written, 0 requests refused" in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "reason"),
    [
        (["--listen", "9099"], 2, "error: --listen: 9099: expected HOST:PORT"),
        (
            ["--listen", "127.0.0.1:9", "--token-file", "/nonexistent/t"],
            2,
            "error: --token-file: /nonexistent/t: ",
        ),
        (["--listen", "127.0.0.1:9", "--for", "a while"], 2, "error: --for: a while: cannot read duration"),
    ],
)
def test_the_sink_alone_refuses_bad_options_naming_them(tmp_path, capsys, args, code, reason):
    assert cli_main(["alert-sink", "--out", str(tmp_path / "out"), *args]) == code
    assert reason in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_sink_alone_on_a_busy_port_exits_4(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        listen = f"127.0.0.1:{busy.getsockname()[1]}"
        assert cli_main(["alert-sink", "--out", str(tmp_path), "--listen", listen]) == 4
    assert f"error: --listen {listen}: cannot listen: " in capsys.readouterr().err


# ------------------------------------------------------------------ instances from the file


def test_alert_instances_merge_firing_and_resolved_and_a_new_firing_is_a_new_one(tmp_path: Path):
    path = tmp_path / "alerts.jsonl"
    with AlertSink("127.0.0.1", 0, path, clock=lambda: T0 + 50) as s:
        s.accept(notification(alert("A", "firing", T0 + 10, branch="S1")))
        s.accept(
            notification(
                alert("A", "firing", T0 + 10, branch="S1"), alert("A", "firing", T0 + 12, branch="S2")
            )
        )
        s.accept(notification(alert("A", "resolved", T0 + 10, T0 + 40, branch="S1")))
        s.accept(notification(alert("A", "firing", T0 + 60, branch="S1")))
    with path.open("a") as fh:
        fh.write('{"torn": ')
    found = read_alerts(path)
    assert [(a.labels["branch"], a.starts_at - T0, a.ends_at and a.ends_at - T0) for a in found] == [
        ("S1", 10, 40),
        ("S2", 12, None),
        ("S1", 60, None),
    ]
    assert [a.labels["branch"] for a in unresolved_since(path, T0 + 11)] == ["S2", "S1"]


# ------------------------------------------------------------------ windows


def test_the_platforms_rule_files_give_each_alerts_window():
    windows = windows_from_files(default_rule_files())
    w = {name: rule.window_s for name, rule in windows.rules.items()}
    assert w["PostgresNoLeader"] == 5
    assert w["RedisInstanceDown"] == 15
    assert w["RedisNoPrimary"] == 10
    assert w["OdooNodeDown"] == 20
    # no `for`: its window is in the expression (2 minutes of silence), as its annotation says
    assert (w["BranchTunnelDown"], windows.rules["BranchTunnelDown"].for_s) == (120, 0)
    assert w["BackupTooOld"] == 30 * 3600  # two rules, the shorter window
    assert "rule files in" in windows.source


class FakePrometheus:
    base_url = "http://prom:9090"

    def __init__(self, rules: list[dict[str, Any]] | None) -> None:
        self.rules = rules

    def alerting_rules(self) -> list[dict[str, Any]]:
        if self.rules is None:
            raise PrometheusError("/api/v1/rules: http://prom:9090 did not answer: refused")
        return self.rules


def test_windows_from_the_rules_api_and_an_unreadable_api():
    rules = [
        {"name": "A", "duration": 20, "annotations": {"detection_window": "2m"}, "type": "alerting"},
        {"name": "B", "duration": 15, "annotations": {}, "type": "alerting"},
        {"name": "C", "duration": 15, "annotations": {"detection_window": "soon"}, "type": "alerting"},
    ]
    windows = windows_from_api(FakePrometheus(rules))  # type: ignore[arg-type]
    assert {k: (v.window_s, v.for_s) for k, v in windows.rules.items()} == {
        "A": (120, 20),
        "B": (15, 15),
        "C": (15, 15),
    }
    down = windows_from_api(FakePrometheus(None))  # type: ignore[arg-type]
    assert down.rules == {}
    assert "did not answer" in down.error


# ------------------------------------------------------------------ classification

WINDOWS = Windows(
    {
        name: windows_from_files(default_rule_files()).rules[name]
        for name in ("PostgresNoLeader", "BranchTunnelDown", "OdooNodeDown", "RedisInstanceDown")
    },
    "rule files",
)
BRANCHES = [
    PlanBranch("S1", "One", "eu", "store", "standard", "lte", "u"),
    PlanBranch("S2", "Two", "eu", "store", "standard", "lte", "u"),
    PlanBranch("S3", "Three", "eu", "store", "standard", "broadband", "u"),
    PlanBranch("S4", "Four", "eu", "store", "standard", "fiber", "u"),
]


def drill(
    name: str, at: float, lasted: float, alerts: Any = None, **fields: Any
) -> tuple[DrillSpec, DrillRecord]:
    data: dict[str, Any] = {"name": name, "at": at, "executor": "docker", "action": "kill", **fields}
    if alerts is not None:
        data["alerts"] = alerts
    spec = DrillSpec.model_validate(data)
    rec = DrillRecord(name, spec.executor, spec.action, spec.target, at, T0 + at, T0 + at + lasted, ok=True)
    return spec, rec


def fired(name: str, starts: float, ends: float | None = None, **labels: str) -> FiredAlert:
    return FiredAlert(
        name, {"alertname": name, **labels}, T0 + starts, None if ends is None else T0 + ends, "", T0
    )


def classify(drills: list[tuple[DrillSpec, DrillRecord]], alerts: list[FiredAlert]) -> dict[str, Any]:
    rows = coverage([d[0] for d in drills], [d[1] for d in drills], alerts, WINDOWS, BRANCHES, T0)
    return {f"{r.drill} {r.expected}".strip(): r for r in rows}


def test_covered_with_the_delay_from_the_fault_and_the_resolution_after_its_end():
    d = drill("odoo_node_loss", 270, 41, [{"name": "OdooNodeDown"}])
    [row] = classify([d], [fired("OdooNodeDown", 295, 330, url="http://odoo-2:8069")]).values()
    assert row.status == "covered"
    assert (row.delay_s, row.resolved_s, row.fault_s, row.window_s) == (25, 19, 41, 20)
    assert row.fired[0]["labels"] == "url=http://odoo-2:8069"
    assert row.detail == "OdooNodeDown fired 25 s after the fault, resolved 19 s after the fault's end"
    assert row.passed


def test_a_covered_alert_still_firing_when_the_run_ended():
    d = drill("odoo_node_loss", 270, 41, [{"name": "OdooNodeDown"}])
    [row] = classify([d], [fired("OdooNodeDown", 295)]).values()
    assert row.status == "covered"
    assert not row.resolved
    assert row.resolved_s is None
    assert row.detail.endswith("not resolved by the end of the run")


def test_missed_when_a_fault_longer_than_the_window_raised_nothing():
    d = drill("odoo_node_loss", 270, 41, [{"name": "OdooNodeDown"}])
    before = fired("OdooNodeDown", 200)  # firing before the drill: not the drill's
    other = fired("PatroniMemberDown", 280)
    [row] = classify([d], [before, other]).values()
    assert row.status == "missed"
    assert row.detail == "OdooNodeDown did not fire although the fault lasted 41 s and its window is 20 s"
    assert row.others == ["PatroniMemberDown"]
    assert not row.passed


def test_below_the_window_is_never_covered_even_when_the_alert_fired():
    d = drill("lte_link_down", 360, 10, [{"name": "BranchTunnelDown", "each": "branch", "link": "lte"}])
    quiet = classify([d], [])["lte_link_down BranchTunnelDown each branch"]
    assert quiet.status == "below_window"
    assert quiet.detail == (
        "the fault lasted 10 s, BranchTunnelDown needs 2 min: the platform could not page for it"
    )
    loud = classify(
        [d], [fired("BranchTunnelDown", 400, branch="S1"), fired("BranchTunnelDown", 401, branch="S2")]
    )
    row = loud["lte_link_down BranchTunnelDown each branch"]
    assert row.status == "below_window"
    assert row.detail.endswith("; BranchTunnelDown fired anyway")


def test_each_wants_exactly_the_cut_branches():
    spec = [{"name": "BranchTunnelDown", "each": "branch", "link": "lte"}]
    d = drill("lte_link_down", 100, 150, spec)
    both = [
        fired("BranchTunnelDown", 230, 300, branch="S1", hub="h1"),
        fired("BranchTunnelDown", 235, 300, branch="S2"),
    ]
    row = classify([d], both)["lte_link_down BranchTunnelDown each branch"]
    assert row.status == "covered"
    assert (row.delay_s, row.delay_max_s, row.expected_values) == (130, 135, ["S1", "S2"])
    # one LTE branch silent, a broadband one alerting: missed, naming both
    wrong = [fired("BranchTunnelDown", 230, branch="S1"), fired("BranchTunnelDown", 232, branch="S3")]
    row = classify([d], wrong)["lte_link_down BranchTunnelDown each branch"]
    assert row.status == "missed"
    assert (row.missing_values, row.extra_values) == (["S2"], ["S3"])
    assert row.detail == (
        "no BranchTunnelDown for branch S2; BranchTunnelDown also for branch S3, which the drill did not cut"
    )


def test_overlapping_link_drills_each_get_their_own_branches():
    lte = drill("lte", 100, 150, [{"name": "BranchTunnelDown", "each": "branch", "link": "lte"}])
    bb = drill("bb", 200, 150, [{"name": "BranchTunnelDown", "each": "branch", "link": "broadband"}])
    alerts = [
        fired("BranchTunnelDown", 230, branch="S1"),
        fired("BranchTunnelDown", 231, branch="S2"),
        fired("BranchTunnelDown", 330, branch="S3"),  # inside the LTE drill's span too
    ]
    rows = classify([lte, bb], alerts)
    assert rows["lte BranchTunnelDown each branch"].status == "covered"
    assert rows["bb BranchTunnelDown each branch"].status == "covered"
    assert rows["bb BranchTunnelDown each branch"].delay_s == 130


def test_toxiproxy_link_drills_take_their_branches_from_the_target():
    spec = DrillSpec.model_validate(
        {
            "name": "lte",
            "at": 10,
            "executor": "toxiproxy",
            "action": "down",
            "target": "lte",
            "params": {"down_for": 150},
            "alerts": [{"name": "BranchTunnelDown", "each": "branch"}],
        }
    )
    rec = DrillRecord("lte", "toxiproxy", "down", "lte", 10, T0 + 10, T0 + 161, ok=True)
    [row] = coverage([spec], [rec], [fired("BranchTunnelDown", 140, branch="S1")], WINDOWS, BRANCHES, T0)
    assert row.expected_values == ["S1", "S2"]
    assert row.missing_values == ["S2"]


def test_labels_narrow_the_expected_alert():
    d = drill("redis", 180, 30, [{"name": "RedisInstanceDown", "labels": {"job": "redis"}}])
    sentinel = fired("RedisInstanceDown", 200, job="sentinel")
    assert classify([d], [sentinel])["redis RedisInstanceDown {job=redis}"].status == "missed"
    redis = fired("RedisInstanceDown", 200, 215, job="redis", instance="redis-1")
    assert classify([d], [sentinel, redis])["redis RedisInstanceDown {job=redis}"].status == "covered"


def test_drills_that_name_no_alert_expect_none_or_did_not_run():
    unnamed = drill("mystery", 10, 5)
    planned = drill("drain", 20, 5, [])
    spec, rec = drill("never", 30, 5, [{"name": "OdooNodeDown"}])
    rec.started = 0.0
    rows = classify([unnamed, planned, (spec, rec)], [fired("OdooNodeDown", 22)])
    assert rows["mystery"].status == "unspecified"
    assert "names no alert" in rows["mystery"].detail
    assert not rows["mystery"].passed
    assert rows["drain"].status == "none_expected"
    assert rows["drain"].passed
    assert rows["drain"].others == ["OdooNodeDown"]
    assert rows["never OdooNodeDown"].status == "not_run"
    assert not rows["never OdooNodeDown"].passed


def test_an_alert_no_rule_defines_says_so():
    d = drill("odd", 10, 100, [{"name": "NoSuchAlert"}])
    [row] = classify([d], []).values()
    assert row.status == "missed"
    assert row.window_s is None
    assert row.detail.endswith("(no rule named NoSuchAlert is loaded)")


# ------------------------------------------------------------------ the fault's own times


def test_the_fault_comes_from_the_drills_figures_when_it_names_them(tmp_path: Path):
    fault = {"file": str(tmp_path / "pg.json"), "start": "killed_at", "end": "first_write_at"}
    spec, rec = drill("pg", 60, 80, [{"name": "PostgresNoLeader"}], fault=fault)
    missing = fault_of(spec, rec)
    assert (missing.source, missing.seconds) == ("action", 80)
    assert missing.note.endswith("pg.json: not found")
    (tmp_path / "pg.json").write_text(json.dumps({"killed_at": T0 + 68.5, "first_write_at": T0 + 90}))
    os.utime(tmp_path / "pg.json", (T0 + 140, T0 + 140))
    got = fault_of(spec, rec)
    assert (got.start - T0, got.seconds, got.source) == (68.5, 21.5, str(tmp_path / "pg.json"))
    os.utime(tmp_path / "pg.json", (T0 - 600, T0 - 600))  # a previous run's
    assert "not written by this drill" in fault_of(spec, rec).note
    # the row measures from the kill, not from the playbook's start
    os.utime(tmp_path / "pg.json", (T0 + 140, T0 + 140))
    [row] = classify([(spec, rec)], [fired("PostgresNoLeader", 80, 92)]).values()
    assert (row.status, row.delay_s, row.resolved_s) == ("covered", 11.5, 2)


def test_the_newest_of_a_glob_and_unreadable_times(tmp_path: Path):
    fault = {"file": str(tmp_path / "redis" / "*.json"), "start": "down_at", "end": "restarted_at"}
    spec, rec = drill("redis", 180, 40, fault=fault)
    (tmp_path / "redis").mkdir()
    old, new = tmp_path / "redis" / "a.json", tmp_path / "redis" / "b.json"
    old.write_text(json.dumps({"down_at": T0 + 181, "restarted_at": T0 + 200}))
    new.write_text(json.dumps({"down_at": T0 + 185, "restarted_at": T0 + 191}))
    os.utime(old, (T0 + 210, T0 + 210))
    os.utime(new, (T0 + 220, T0 + 220))
    got = fault_of(spec, rec)
    assert (got.start - T0, got.seconds) == (185, 6)
    new.write_text("{}")
    os.utime(new, (T0 + 220, T0 + 220))
    assert "no down_at/restarted_at times" in fault_of(spec, rec).note
