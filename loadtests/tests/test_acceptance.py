"""Acceptance: the whole harness against the Odoo double on loopback (issue 8).

The double and its PostgreSQL come from the shared fixtures
(tests/fixtures/plugin.py); a missing PostgreSQL or Redis fails the test with
the command that installs it.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from loadtests.links_setup import free_port, start_toxiproxy
from loadtests.tests import browser
from tests.fixtures.double import DoubleProcess
from tests.fixtures.plugin import DoubleFactory
from tests.fixtures.services import PgCluster

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
BRANCHES = ["B001", "B002", "B003", "W001", "O001"]
REGISTER = """region: loopback
platform_networks: [10.20.0.0/16]
hubs:
  - {name: hub-1, endpoint: "198.51.100.1:51820", tunnel_pool: 10.99.0.0/24}
branches:
  - {code: B001, name: Store One, country: FR, kind: store, tier: standard, link: fiber,
     lan_subnets: [10.101.1.0/24], hub: hub-1, endpoint: "203.0.113.1:51820"}
  - {code: B002, name: Store Two, country: FR, kind: store, tier: standard, link: lte,
     lan_subnets: [10.101.2.0/24], hub: hub-1, roaming: true}
  - {code: B003, name: Store Three, country: BE, kind: store, tier: basic, link: broadband,
     lan_subnets: [10.101.3.0/24], hub: hub-1, endpoint: "203.0.113.3:51820"}
  - {code: W001, name: Warehouse, country: FR, kind: warehouse, tier: critical, link: dual,
     lan_subnets: [10.101.4.0/24], hub: hub-1, endpoint: "203.0.113.4:51820"}
  - {code: O001, name: Head office, country: FR, kind: office, tier: critical, link: fiber,
     lan_subnets: [10.101.5.0/24], hub: hub-1, endpoint: "203.0.113.5:51820"}
"""
GATES = """tiers:
  pos_sync: {p95_ms: 5000, p99_ms: 15000, error_rate: 0.25, longest_error_window_s: 90}
  inventory: {p95_ms: 5000, error_rate: 0.25}
  finance: {p95_ms: 5000, error_rate: 0.3}
ledger: {max_lost: 0, max_duplicated: 0, max_unexpected: 0}
"""


def scenario(duration: str, drills: str = "[]") -> str:
    return f"""name: loopback
users: 10
spawn_rate: 5
duration: {duration}
think_time_scale: 0.3
pos_receipt_share: 0.5
personas:
  {{pos_cashier: 6, store_manager: 1, warehouse_scanner: 1, finance: 1, reporting: 1, integration_api: 1}}
links: {{shares: {{fiber: 1.0}}}}
drills: {drills}
"""


def start_double(
    factory: DoubleFactory, name: str, pg: PgCluster | None = None, **options: object
) -> DoubleProcess:
    """A double seeded with the register's branches, in a database of its own."""
    return factory(
        name,
        pg=pg,
        db=name.replace("-", "_"),
        options=options,
        seed_args=("--products", "60", "--warehouses", "2", "--branches", ",".join(BRANCHES)),
    )


def run_argv(
    tmp_path: Path, double: DoubleProcess, scen: str, gates: str, *extra: str, register: str = REGISTER
) -> list[str]:
    (tmp_path / "scenario.yaml").write_text(scen)
    (tmp_path / "register.yaml").write_text(register)
    (tmp_path / "gates.yaml").write_text(gates)
    return [
        sys.executable,
        "-m",
        "loadtests",
        "run",
        "--scenario",
        str(tmp_path / "scenario.yaml"),
        "--register",
        str(tmp_path / "register.yaml"),
        "--gates",
        str(tmp_path / "gates.yaml"),
        "--host",
        double.url,
        "--db",
        double.db,
        "--login",
        "admin",
        "--out",
        str(tmp_path / "results"),
        *extra,
    ]


ENV = {**os.environ, "ODOO_PASSWORD": "admin"}


def read_report(out: Path) -> dict[str, Any]:
    path = out / "report.json"
    return json.loads(path.read_text()) if path.exists() else {}


def run(
    tmp_path: Path,
    double: DoubleProcess,
    scen: str,
    gates: str = GATES,
    *extra: str,
    register: str = REGISTER,
):
    argv = run_argv(tmp_path, double, scen, gates, *extra, register=register)
    done = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600, check=False)
    out = tmp_path / "results"
    return done, out, read_report(out)


def test_two_minute_run_with_a_postgres_restart(tmp_path, double_factory, private_pg):
    double = start_double(double_factory, "lt-drill", pg=private_pg)
    stop = json.dumps(private_pg.stop_argv("fast"))  # argv lists: JSON is YAML flow style
    start = json.dumps(private_pg.start_argv())
    drills = (
        f"[{{name: restart-postgres, at: 45s, executor: process, action: restart, observe: 60s, "
        f"params: {{stop: {stop}, start: {start}, down_for: 5}}}}]"
    )
    # the head office reaches the ERP by another address (its erp_url): a route, and a proxy, of its own
    relay = double.url.replace("127.0.0.1", "localhost")
    register = REGISTER.replace(
        'endpoint: "203.0.113.5:51820"}', f'endpoint: "203.0.113.5:51820", vars: {{erp_url: "{relay}/"}}}}'
    )
    label = "Odoo 18 protocol double (loopback)"
    done, out, report = run(
        tmp_path,
        double,
        scenario("2m", drills),
        GATES,
        "--toxiproxy",
        "auto",
        "--odoo-label",
        label,
        register=register,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"Odoo under test: {label} (server_version 18.0-" in done.stdout
    assert report["odoo_under_test"]["label"] == label
    assert report["odoo_under_test"]["server_version_info"][:2] == [18, 0]
    routes = {(r["link_class"], r["upstream"]): r for r in report["run"]["links"]}
    assert set(routes) == {
        ("fiber", double.url),
        ("fiber", relay),
        ("lte", double.url),
        ("broadband", double.url),
    }
    assert routes[("fiber", relay)]["branches"] == ["O001"]
    assert sorted(routes[("fiber", double.url)]["branches"]) == ["B001", "W001"]
    by_code = {b["code"]: b for b in report["branches"]}
    assert by_code["O001"]["proxy"] == routes[("fiber", relay)]["name"]
    assert by_code["O001"]["upstream"] == relay
    assert report["breakdown"]["branch"]["O001"]["requests"] > 0
    for name in (
        "report.html",
        "report.json",
        "junit.xml",
        "locust.html",
        "locust_stats.csv",
        "ledger.jsonl",
    ):
        assert (out / name).exists(), name
    drill = report["drills"][0]
    assert drill["action_ok"], drill
    assert drill["error_window_s"] is not None
    assert drill["error_window_s"] > 0
    assert drill["recovered"]
    assert sum(drill["failed_by_tier"].values()) + sum(drill["unknown_by_tier"].values()) > 0
    totals = report["ledger"]["totals"]
    assert report["ledger"]["checked"]
    assert totals["lost"] == 0
    assert totals["duplicated"] == 0
    assert totals["acked"] > 20
    # the cashiers' receipts: acknowledged, present, and their files open (in the double's filestore)
    receipts = {k["kind"]: k for k in report["ledger"]["kinds"]}["ir.attachment"]
    assert receipts["acked"] > 0
    assert receipts["lost"] == receipts["unreadable"] == 0
    files = [p for p in (double.data_dir / "filestore" / double.db).glob("??/*") if p.is_file()]
    assert len(files) >= receipts["acked"]
    assert "GO" in done.stdout
    # the real report, as a person opens it: renders, charts and the drill marker, no console errors
    seen = browser.check_page(
        out / "report.html",
        {
            "tier_charts": "document.querySelectorAll('svg.chart[data-tier]').length",
            "drill_markers": "document.querySelectorAll('svg.chart line.drill').length",
            "verdict": "document.getElementById('verdict').textContent",
            "ledger": "document.getElementById('ledger-summary').textContent",
        },
    )
    assert seen.errors == []
    assert seen.values["tier_charts"] >= 3
    assert seen.values["drill_markers"] >= seen.values["tier_charts"]
    assert seen.values["verdict"] == "GO"
    assert "lost 0, duplicated 0" in seen.values["ledger"]


def test_double_dropping_acknowledged_orders_is_no_go(tmp_path, double_factory):
    double = start_double(double_factory, "lt-drop-acked", double_drop_acked_orders=0.3)
    done, _unused, report = run(tmp_path, double, scenario("40s"))
    if done.returncode == 5:
        # the fault dropped the preflight's own order: the preflight reads it back and stops there
        assert "POS order sync: acknowledged, but 0 pos.order records carry its key" in done.stdout
        return
    assert done.returncode == 3, done.stdout[-3000:]
    lost = report["ledger"]["totals"]["lost"]
    assert lost > 0
    assert f"ledger: {lost} lost acknowledged writes" in done.stdout


def test_tight_latency_gate_is_no_go_naming_the_tier(tmp_path, double_factory):
    double = start_double(double_factory, "lt-tight-gate")
    tight = GATES.replace("pos_sync: {p95_ms: 5000", "pos_sync: {p95_ms: 1")
    done, _unused, report = run(tmp_path, double, scenario("30s"), tight)
    assert done.returncode == 3
    assert any(r.startswith("pos_sync: p95") for r in report["verdict"]["reasons"]), report["verdict"]
    assert report["ledger"]["totals"]["lost"] == 0


NOTIFY = """
import json, sys, time, urllib.request
from datetime import datetime, timezone
url, status, since = sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
def iso(t): return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")
now = time.time()
starts = open(sys.argv[4]).read() if status == "resolved" else iso(now)
if status == "firing":
    open(sys.argv[4], "w").write(starts)
alert = {"status": status, "labels": {"alertname": "LoopbackDown", "severity": "critical"}, "annotations": {},
         "startsAt": starts, "endsAt": iso(now) if status == "resolved" else "0001-01-01T00:00:00Z",
         "fingerprint": "f1"}
body = json.dumps({"version": "4", "status": status, "receiver": "sink", "alerts": [alert]}).encode()
headers = {"Content-Type": "application/json", "Authorization": "Bearer tok-7f3a9c"}
req = urllib.request.Request(url, body, headers)
urllib.request.urlopen(req, timeout=10).read()
"""


def test_alert_sink_coverage_gate_and_report(tmp_path, double_factory):
    """A drill whose action sends Alertmanager's webhook itself (firing, then resolved 3 s later) to
    the run's sink: the coverage row, the gate, the outputs; a second drill names no alert."""
    double = start_double(double_factory, "lt-alert-sink")
    port = free_port()
    sink = f"http://127.0.0.1:{port}/alerts"
    script = tmp_path / "notify.py"
    script.write_text(NOTIFY)
    starts = tmp_path / "starts.txt"
    stop = json.dumps([sys.executable, str(script), sink, "firing", "0", str(starts)])
    start = json.dumps([sys.executable, str(script), sink, "resolved", "0", str(starts)])
    drills = (
        f"[{{name: loopback_down, at: 8s, executor: process, action: down, summary: the loopback goes down, "
        f"params: {{stop: {stop}, start: {start}, down_for: 3}}, alerts: [{{name: LoopbackDown}}]}}, "
        f"{{name: quiet, at: 20s, executor: process, action: noop, params: {{command: [true]}}}}]"
    )
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n  - name: g\n    rules:\n      - alert: LoopbackDown\n        expr: up == 0\n"
        "        annotations: {detection_window: 1s}\n"
    )
    (tmp_path / "token").write_text("tok-7f3a9c\n")
    done, out, report = run(
        tmp_path,
        double,
        scenario("30s", drills),
        GATES,
        "--alert-sink",
        f"127.0.0.1:{port}",
        "--alert-sink-token-file",
        str(tmp_path / "token"),
        "--alert-rules",
        str(rules),
        "--alert-wait",
        "10s",
    )
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-2000:]  # the quiet drill names no alert
    assert (
        f"alert sink: Alertmanager's webhook to http://127.0.0.1:{port}/ (bearer token required)"
        in done.stdout
    )
    assert "tok-7f3a9c" not in done.stdout + done.stderr + (tmp_path / "results" / "report.json").read_text()
    cov = report["coverage"]
    assert cov["measured"]
    assert cov["received"] == 2
    rows = {r["drill"]: r for r in cov["rows"]}
    assert rows["loopback_down"]["status"] == "covered", rows["loopback_down"]
    assert rows["loopback_down"]["resolved"]
    assert 0 <= rows["loopback_down"]["delay_s"] < 3
    assert rows["quiet"]["status"] == "unspecified"
    assert report["verdict"]["reasons"] == [
        "observability coverage: drill quiet: no alert named: the scenario names no alert for this drill "
        "(alerts:), so whether operators are paged when it happens is unknown"
    ]
    assert "coverage loopback_down LoopbackDown: covered: LoopbackDown fired" in done.stdout
    assert len((out / "alerts.jsonl").read_text().splitlines()) == 2
    junit = (out / "junit.xml").read_text()
    assert 'classname="coverage.loopback_down" name="LoopbackDown"' in junit


def test_distributed_mode_with_two_local_workers(tmp_path, double_factory):
    double = start_double(double_factory, "lt-distributed")
    done, out, report = run(tmp_path, double, scenario("30s"), GATES, "--workers", "2")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "distributed 1 master + 2 workers" in report["run"]["mode"]
    assert report["tiers"]["pos_sync"]["requests"] > 0
    assert (out / "worker-1.log").exists()
    assert (out / "worker-2.log").exists()


def test_workers_on_branch_nodes_with_a_toxiproxy_each(tmp_path, double_factory):
    """Two "branch nodes" on loopback, each with a Toxiproxy and a worker that gets the plan from the master.

    The master holds the run's files: the workers' ledger lines and samples
    reach it by message, the link drill takes the fiber proxies of both nodes
    down, and the report names the proxies' servers.
    """
    double = start_double(double_factory, "lt-branch-workers")
    nodes = {
        "node-a": start_toxiproxy("auto", tmp_path / "toxiproxy-a.log"),
        "node-b": start_toxiproxy("auto", tmp_path / "toxiproxy-b.log"),
    }
    served = {"node-a": ["B001", "B002", "W001"], "node-b": ["B003", "O001"]}
    entries = [
        {"branch": code, "worker": node, "erp": double.url, "toxiproxy": nodes[node].servers[""].url}
        for node, codes in served.items()
        for code in codes
    ]
    (tmp_path / "workers.json").write_text(json.dumps({"workers": entries}))
    port = free_port()
    drill = (
        "[{name: fiber_down, at: 12s, executor: toxiproxy, action: down, target: fiber, observe: 10s, "
        "params: {down_for: 3}}]"
    )
    argv = run_argv(
        tmp_path,
        double,
        scenario("40s", drill).replace(
            "links: {shares: {fiber: 1.0}}", "links: {shares: {fiber: 0.6, lte: 0.4}}"
        ),
        GATES,
        "--branch-workers",
        str(tmp_path / "workers.json"),
        "--master-port",
        str(port),
        "--toxiproxy",
        "auto",
    )
    # as validate_pilot.yml lays out a branch node: only the collection's module_utils
    libs = tmp_path / "collections" / "ansible_collections" / "retailops" / "odoo_platform" / "plugins"
    shutil.copytree(REPO / "plugins" / "module_utils", libs / "module_utils")
    worker_env = {k: v for k, v in ENV.items() if k != "RETAILOPS_RUN_PLAN"}
    worker_env["ANSIBLE_COLLECTIONS_PATH"] = str(tmp_path / "collections")
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "loadtests",
                "worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                str(port),
                "--branches",
                ",".join(codes),
                "--logfile",
                str(tmp_path / f"{node}.log"),
            ],
            cwd=tmp_path,  # not the checkout: nothing of the run's files is at hand
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        for node, codes in served.items()
    ]
    try:
        done = subprocess.run(
            argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600, check=False
        )
        for w in workers:
            assert w.wait(timeout=60) == 0  # the master's quit ends them
    finally:
        for w in workers:
            w.kill()
        for rig in nodes.values():
            rig.close()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = read_report(tmp_path / "results")
    assert "distributed 1 master + 2 workers on the branch nodes" in report["run"]["mode"]
    assert {link["server"] for link in report["run"]["links"]} == {r.servers[""].url for r in nodes.values()}
    # both workers' calls came back by message (which branches get users is Locust's spread of the personas)
    seen = set(report["breakdown"]["branch"])
    assert seen <= set(BRANCHES)
    assert seen & set(served["node-a"])
    assert seen & set(served["node-b"])
    assert report["ledger"]["totals"]["acked"] > 0
    assert report["ledger"]["totals"]["lost"] == 0
    fiber_down = next(d for d in report["drills"] if d["name"] == "fiber_down")
    assert fiber_down["action_ok"], fiber_down
    assert fiber_down["action_s"] >= 3
    for node, codes in served.items():
        assert (
            f"serving {', '.join(sorted(codes, key=BRANCHES.index))}"
            in (tmp_path / f"{node}.log").read_text()
        )


def test_web_ui_mode_serves_locust_during_the_run(tmp_path, double_factory):
    double = start_double(double_factory, "lt-web")
    port = free_port()
    argv = run_argv(tmp_path, double, scenario("30s"), GATES, "--web", "--web-port", str(port))
    ui = f"http://127.0.0.1:{port}"
    seen: list[dict[str, Any]] = []
    with subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline and not seen:
            try:
                page = requests.get(ui + "/", timeout=5)
                stats = requests.get(ui + "/stats/requests", timeout=5).json()
            except (requests.RequestException, ValueError):
                time.sleep(0.5)
                continue
            total = sum(row["num_requests"] for row in stats.get("stats", []) if row["name"] != "Aggregated")
            if page.status_code == 200 and stats.get("state") == "running" and total > 0:
                seen.append({"page": page.text, "stats": stats})
            time.sleep(0.5)
        output = proc.communicate(timeout=300)[0].decode(errors="replace")
    assert seen, "the Locust web UI never showed a running test with requests: " + output[-3000:]
    assert "locust" in seen[0]["page"].lower()
    assert seen[0]["stats"]["user_count"] > 0
    assert proc.returncode == 0, output[-3000:]
    report = read_report(tmp_path / "results")
    assert report["run"]["mode"] == "web UI"
    assert report["tiers"]["pos_sync"]["requests"] > 0
    assert f"Locust web UI: {ui}" in output
