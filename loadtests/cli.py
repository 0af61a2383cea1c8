"""Command line: validate the inputs, run Locust with drills and link profiles, reconcile, gate, report.

Exit codes: 0 GO (``preflight``: the target is ready), 3 NO-GO (a gate
breached), 2 bad input file, 4 the harness itself failed (Locust did not
run, no samples), 5 the preflight failed: the target lacks what the personas
need (nothing was loaded, no drill ran).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import urllib3
from urllib3.exceptions import InsecureRequestWarning

from loadtests import dashboards as panels
from loadtests.alerts import (
    SINK_FILE,
    TOKEN_ENV,
    AlertSink,
    coverage,
    parse_address,
    read_alerts,
    rule_files,
    sink_token,
    unknown_alerts,
    unresolved_since,
    windows_from_api,
    windows_from_files,
)
from loadtests.analysis import (
    DrillRecord,
    analyse_drill,
    breakdown,
    drill_spans,
    error_windows,
    split_offline,
    tier_stats,
    time_series,
)
from loadtests.collection import HOSTNAME_RE, Branch
from loadtests.discovery import Catalogue, Discovery
from loadtests.distributed import WORKER_BRANCHES, BranchWorkers, WorkersFileError, load_workers
from loadtests.drills import (
    AnsibleExecutor,
    DockerExecutor,
    DrillRunner,
    Executor,
    Flapper,
    KubernetesExecutor,
    PatroniExecutor,
    ProcessExecutor,
    ToxiproxyExecutor,
)
from loadtests.durations import format_duration, parse_duration
from loadtests.endpoints import EndpointError, base_url
from loadtests.errors import ConfigError, ConfigErrors
from loadtests.gates import Gates, evaluate, load_gates
from loadtests.ledger import LedgerResult, read_ledger
from loadtests.links import FLAPPING, assign_link_classes, profiles_with
from loadtests.links_setup import LinkRig, Route, branch_servers, create_links, free_port, start_toxiproxy
from loadtests.odoo_client import OdooClient
from loadtests.odoo_under_test import OdooUnderTest, VersionProbeError, probe
from loadtests.plan import ENV, PlanBranch, RunPlan, new_run_id
from loadtests.preflight import Preflight, PreflightResult
from loadtests.prometheus import Prometheus
from loadtests.reconcile import JsonRpcReader, reconcile
from loadtests.region_loss import RegionLossSummary, measure_region_loss
from loadtests.register import erp_url, load_branches
from loadtests.report import Report, render_html, render_junit, summarise
from loadtests.report.model import Coverage, Dashboards, Sli, restore_line
from loadtests.restore_check import RestoreSummary, check_restore
from loadtests.samples import Sample, read_samples
from loadtests.scenario import Scenario, fill_placeholders, load_drills, load_scenario, parse_vars
from loadtests.sli import platform_sli

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
WORKERS_MAX_WAIT = 180.0  # s the master waits for the branch nodes' workers before it gives up
REPO = LOCUSTFILE.parent.parent


def log(msg: str) -> None:
    print(f"[loadtests {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    helps = {
        "run": "preflight, then a load test with drills, reconciliation, gates and the report",
        "check": "only validate the input files",
        "preflight": "only check that the target has what every persona needs (runs each operation once)",
    }
    for name, text in helps.items():
        s = sub.add_parser(name, help=text)
        s.add_argument("--scenario", required=True, help="traffic mix YAML (loadtests/scenarios/*.yaml)")
        s.add_argument("--register", required=True, help="branch register YAML of the region")
        s.add_argument("--gates", required=True, help="SLO gates YAML (loadtests/gates/*.yaml)")
        s.add_argument("--drills", help="drill timeline YAML, replacing the scenario's drills")
        s.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="substitute ${KEY} in drill targets and params (every placeholder needs a value)",
        )
        s.add_argument(
            "--alert-rules",
            action="append",
            default=[],
            metavar="PATH",
            help="Prometheus rule files or directories: the alerts the drills expect must be defined there, "
            "and their detection windows come from there without --prometheus (default: the collection's "
            "roles/prometheus/files/rules)",
        )
    for name in ("run", "preflight"):
        target_arguments(sub.choices[name])
    sub.choices["preflight"].add_argument("--out", help="directory for preflight.json")
    run = sub.choices["run"]
    run.add_argument("--out", required=True, help="results directory")
    run.add_argument("--duration", help="override the scenario's duration (e.g. 2m)")
    run.add_argument("--users", type=int, help="override the scenario's users")
    run.add_argument("--spawn-rate", type=float, help="override the scenario's spawn rate")
    run.add_argument(
        "--toxiproxy",
        default="off",
        help="link profiles: 'auto' starts a private toxiproxy-server, a URL uses one, 'off'",
    )
    run.add_argument("--workers", type=int, default=0, help="distributed: one master and N local workers")
    run.add_argument(
        "--branch-workers",
        metavar="FILE",
        help="distributed from the branches: the master here, a worker on each branch node as the "
        "workers file says (loadtests/distributed.py); each node's Toxiproxy carries its link profile",
    )
    run.add_argument(
        "--master-bind",
        default="127.0.0.1",
        help="with --branch-workers: the address the master listens on, one the branch nodes reach",
    )
    run.add_argument("--master-port", type=int, default=5557, help="with --branch-workers: the master's port")
    run.add_argument("--web", action="store_true", help="Locust web UI (autostarts; http://127.0.0.1:PORT)")
    run.add_argument("--web-port", type=int, default=8089)
    run.add_argument("--network-timeout", type=float, default=30.0, help="per-call timeout, seconds")
    run.add_argument("--reconcile-host", help="where to read the writes back (default --host)")
    run.add_argument(
        "--erp-name",
        default="",
        help="the ERP's DNS name the branches use: the users' Host header and TLS server name, whatever "
        "address they connect to (default --host's host; with a DR region: the name a failover moves)",
    )
    run.add_argument(
        "--odoo-label",
        default="",
        metavar="TEXT",
        help="what the Odoo under test is, e.g. 'Odoo 18.0 official image odoo:18.0' (report and console)",
    )
    run.add_argument(
        "--platform",
        default="",
        metavar="TEXT",
        help="what the Odoo app tier runs on, e.g. 'Kubernetes v1.35.4, 2 Odoo nodes' (report)",
    )
    run.add_argument(
        "--alert-sink",
        metavar="HOST:PORT",
        help="observability coverage: receive Alertmanager's webhook here for the run's duration "
        "(alerts.jsonl in --out) and gate that every drill raised its expected alerts",
    )
    run.add_argument(
        "--alert-sink-token-file",
        metavar="FILE",
        help=f"bearer token the webhook must send (default: ${TOKEN_ENV}; neither: no token)",
    )
    run.add_argument(
        "--alert-wait",
        default="0s",
        metavar="DURATION",
        help="with --alert-sink: after the load, wait up to this long for the alerts that fired during "
        "the run to resolve (e.g. 3m)",
    )
    run.add_argument(
        "--prometheus",
        metavar="URL",
        help="the platform's Prometheus: alert detection windows from its rules API; the report plots "
        "its SLI series per tier next to the harness's and says whether every dashboard panel had data",
    )
    dashboard_arguments(run)
    boards = sub.add_parser(
        "dashboards",
        help="only the dashboards check: every panel query against a Prometheus; exit 1 when one "
        "returns no data",
    )
    boards.add_argument("--prometheus", required=True, metavar="URL", help="e.g. http://10.20.250.20:9090")
    boards.add_argument(
        "--since",
        default="15m",
        metavar="DURATION",
        help="a panel has data when its query returns a series at some time of this window, up to now",
    )
    dashboard_arguments(boards)
    sink = sub.add_parser(
        "alert-sink",
        help="only the alert sink: Alertmanager's webhook into alerts.jsonl until SIGTERM, SIGINT or --for "
        "(a test scenario's webhook)",
    )
    sink.add_argument("--listen", required=True, metavar="HOST:PORT", help="where Alertmanager sends")
    sink.add_argument("--out", required=True, metavar="DIR", help=f"directory of {SINK_FILE} (appended to)")
    sink.add_argument(
        "--token-file",
        metavar="FILE",
        help=f"bearer token the webhook must send (default: ${TOKEN_ENV}; neither: no token)",
    )
    sink.add_argument(
        "--for",
        dest="lifetime",
        default="1h",
        metavar="DURATION",
        help="stop by itself after this long (default 1h)",
    )
    sink.add_argument(
        "--pid-file", metavar="FILE", help="its process id, written once it listens, removed at exit"
    )
    worker = sub.add_parser(
        "worker", help="a Locust worker of a run with --branch-workers (on a branch node)"
    )
    worker.add_argument("--master-host", required=True, help="the master's address (run --master-bind)")
    worker.add_argument("--master-port", type=int, default=5557)
    worker.add_argument(
        "--branches", required=True, help="the branch codes this worker serves, comma separated"
    )
    worker.add_argument("--logfile", help="Locust's log file (default: stderr)")
    return p


def worker_command(args: argparse.Namespace) -> int:
    """Become a Locust worker; the plan comes from the master, the password from ODOO_PASSWORD."""
    codes = [c.strip() for c in args.branches.split(",") if c.strip()]
    if not codes:
        print("error: --branches: give at least one branch code", file=sys.stderr)
        return 2
    if not os.environ.get("ODOO_PASSWORD"):
        print("error: ODOO_PASSWORD is not set: the worker's users log in with it", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k != ENV}
    env[WORKER_BRANCHES] = ",".join(codes)
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker"]
    argv += ["--master-host", args.master_host, "--master-port", str(args.master_port), "--loglevel", "INFO"]
    if args.logfile:
        argv += ["--logfile", args.logfile]
    os.execve(sys.executable, argv, env)


def alert_sink_command(args: argparse.Namespace) -> int:
    """Only the alert sink, until SIGTERM, SIGINT or --for: 2 bad input, 4 cannot listen, else 0."""
    try:
        host, port = parse_address(args.listen, "--listen")
        token = sink_token(args.token_file, "--token-file")
        try:
            lifetime = parse_duration(args.lifetime)
        except ValueError as exc:
            raise ConfigError("--for", args.lifetime, str(exc)) from None
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        sink = AlertSink(host, port, Path(args.out) / SINK_FILE, token)
    except OSError as exc:
        print(f"error: --listen {args.listen}: cannot listen: {exc}", file=sys.stderr)
        return 4
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    pid_file = Path(args.pid_file) if args.pid_file else None
    with sink:
        if pid_file:
            pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
        log(
            f"alert sink: Alertmanager's webhook to {sink.url} "
            f"({'bearer token required' if token else 'no token'}), alerts to {sink.path}, "
            f"for at most {format_duration(lifetime)}"
        )
        stopped = stop.wait(lifetime)
    if pid_file:
        pid_file.unlink(missing_ok=True)
    log(
        f"alert sink {'stopped' if stopped else 'done (--for)'}: {sink.received} alerts written, "
        f"{sink.refused} requests refused"
    )
    return 0


def dashboard_arguments(s: argparse.ArgumentParser) -> None:
    """Which dashboards, for which region (run and dashboards)."""
    s.add_argument(
        "--dashboards",
        metavar="DIR",
        help="Grafana dashboards (*.json) whose panel queries are checked (default: the collection's "
        "roles/grafana_dashboards/files/dashboards)",
    )
    s.add_argument(
        "--prometheus-region",
        default="",
        metavar="NAME",
        help="the region label of the region under test in Prometheus, the dashboards' region variable "
        "(default: the first region Prometheus knows)",
    )


def dashboards_command(args: argparse.Namespace) -> int:
    """Only the dashboards check: 0 every panel has data, 1 some have none, 2 bad input or no answer."""
    try:
        check_prometheus_options(args)
        since = parse_duration(args.since)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: --since {args.since}: {exc}", file=sys.stderr)
        return 2
    end = time.time()
    found = panels.during_run(
        Prometheus(args.prometheus), end - since, end, dashboards_dir(args), args.prometheus_region
    )
    print(found.model_dump_json(indent=2))
    if found.error:
        print(f"error: {found.error}", file=sys.stderr)
        return 2
    return 1 if found.empty else 0


def dashboards_dir(args: argparse.Namespace) -> Path | None:
    return Path(args.dashboards) if getattr(args, "dashboards", None) else None


def target_arguments(s: argparse.ArgumentParser) -> None:
    """The Odoo under test and how the harness's own calls reach it (run and preflight)."""
    s.add_argument("--host", required=True, help="ERP entrypoint, e.g. http://127.0.0.1:8069")
    s.add_argument("--db", default=os.environ.get("ODOO_DB", ""), help="database (env ODOO_DB)")
    s.add_argument("--login", default=os.environ.get("ODOO_LOGIN", "admin"), help="login (env ODOO_LOGIN)")
    s.add_argument("--password", default=None, help="password (better: env ODOO_PASSWORD)")
    s.add_argument(
        "--open-pos-sessions",
        action="store_true",
        help="open the POS session of a store's till when it has none (as a store does at opening); "
        "without it a till with no open session fails the preflight",
    )
    s.add_argument(
        "--ca-file",
        help="CA bundle to verify the ERP's certificate on the harness's own calls (version probe, "
        "preflight, reconciliation); the simulated users never verify it",
    )
    s.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the ERP's certificate on the harness's own calls",
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    alone = {"worker": worker_command, "alert-sink": alert_sink_command, "dashboards": dashboards_command}
    if args.command in alone:
        return alone[args.command](args)
    try:
        scenario, branches, gates = load_inputs(args)
        workers = branch_workers(args, branches)
    except (ConfigError, WorkersFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "insecure", False):
        urllib3.disable_warnings(InsecureRequestWarning)  # asked for: no warning on every reconciliation call
    if args.command == "check":
        log(f"ok: scenario {scenario.name}, {len(branches)} branches, gates for {', '.join(gates.tiers)}")
        return 0
    if args.command == "preflight":
        result = preflight(args, scenario, branches)
        return 0 if result.ok else PREFLIGHT_FAILED
    return Run(args, scenario, branches, gates, workers).execute()


PREFLIGHT_FAILED = 5


def branch_workers(args: argparse.Namespace, branches: list[Branch]) -> BranchWorkers | None:
    """The workers file of --branch-workers, checked against the register (None without it)."""
    path = getattr(args, "branch_workers", None)
    if not path:
        return None
    if args.workers:
        raise WorkersFileError("--branch-workers and --workers: give one of the two")
    workers = load_workers(path)
    workers.check([b.code for b in branches], link_emulation=args.toxiproxy != "off")
    if args.toxiproxy not in ("auto", "off"):
        raise WorkersFileError(
            "--branch-workers: the link profiles live on the branch nodes' Toxiproxy (workers file); "
            "give --toxiproxy auto or off"
        )
    return workers


def verify_of(args: argparse.Namespace) -> bool | str:
    """TLS verification of the harness's own calls: --insecure, --ca-file, else the system's CAs."""
    if getattr(args, "insecure", False):
        return False
    ca_file: str | None = getattr(args, "ca_file", None)
    return ca_file or True


def password_of(args: argparse.Namespace) -> str:
    return str(args.password) if args.password is not None else os.environ.get("ODOO_PASSWORD", "")


def preflight(args: argparse.Namespace, scenario: Scenario, branches: list[Branch]) -> PreflightResult:
    """Discover the target's records and run every active persona's operations once; print the result."""
    client = OdooClient(args.host, args.db, timeout=args_timeout(args), verify=verify_of(args))
    personas = [p for p, w in scenario.persona_weights().items() if w > 0]
    log(f"preflight: {len(personas)} personas ({', '.join(personas)}) against {args.host} db {args.db!r}")
    discovery = Discovery(client, personas, branches, open_pos_sessions=args.open_pos_sessions, log=log)
    result = Preflight(discovery, args.login, password_of(args)).run()
    for line in result.lines():
        log(line)
    if getattr(args, "out", None):
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        result.write(out / "preflight.json")
    return result


def args_timeout(args: argparse.Namespace) -> float:
    return float(getattr(args, "network_timeout", 30.0) or 30.0)


def load_inputs(args: argparse.Namespace) -> tuple[Scenario, list[Branch], Gates]:
    for option in ("host", "reconcile_host"):
        value = getattr(args, option, None)
        if value:
            try:
                base_url(value)
            except EndpointError as exc:
                raise ConfigError("--" + option.replace("_", "-"), value, str(exc)) from None
    erp_name = getattr(args, "erp_name", "") or ""
    # a host name as the register's hosts are (a name, not an address: Host and TLS server name)
    if erp_name and (not HOSTNAME_RE.match(erp_name) or erp_name.replace(".", "").isdigit()):
        raise ConfigError(
            "--erp-name", erp_name, "a DNS name such as erp.retail.example (no scheme, port or path)"
        )
    scenario = load_scenario(args.scenario)
    updates: dict[str, Any] = {}
    if args.drills:
        updates["drills"] = load_drills(args.drills)
    if getattr(args, "duration", None):
        try:
            updates["duration"] = parse_duration(args.duration)
        except ValueError as exc:
            raise ConfigError("--duration", "duration", str(exc)) from None
    if getattr(args, "users", None):
        updates["users"] = args.users
    if getattr(args, "spawn_rate", None):
        updates["spawn_rate"] = args.spawn_rate
    if updates:
        data = scenario.model_dump()
        data.update({k: ([d.model_dump() for d in v] if k == "drills" else v) for k, v in updates.items()})
        from loadtests.errors import validate_model  # noqa: PLC0415

        scenario = validate_model(Scenario, data, args.scenario)
    variables = parse_vars(getattr(args, "var", None) or [])
    if scenario.drills:
        drills = fill_placeholders(scenario.drills, variables, args.drills or args.scenario)
        scenario = scenario.model_copy(update={"drills": drills})
    check_alert_options(args, scenario)
    gates = load_gates(args.gates)
    unknown = sorted(set(gates.drill) - {d.name for d in scenario.drills})
    if unknown:
        raise ConfigError(
            str(args.gates),
            "drill",
            f"gates for drills the run does not have: {', '.join(unknown)} "
            f"(its drills: {', '.join(d.name for d in scenario.drills) or 'none'})",
        )
    return scenario, load_branches(args.register), gates


def check_alert_options(args: argparse.Namespace, scenario: Scenario) -> None:
    """--alert-sink, its token, --alert-wait and --prometheus, refused before anything starts; and
    every alert the drills expect defined in the rule files (a typo would be missed at every run)."""
    if any(d.alerts for d in scenario.drills):
        windows = windows_from_files(rule_files(getattr(args, "alert_rules", None) or []))
        if windows.rules:
            errors = unknown_alerts(scenario.drills, windows, args.drills or args.scenario)
            if errors:
                raise ConfigErrors(errors)
    if getattr(args, "alert_sink", None):
        parse_address(args.alert_sink)
        sink_token(args.alert_sink_token_file)
    wait = getattr(args, "alert_wait", None)
    if wait:
        try:
            parse_duration(wait)
        except ValueError as exc:
            raise ConfigError("--alert-wait", wait, str(exc)) from None
    check_prometheus_options(args)


def check_prometheus_options(args: argparse.Namespace) -> None:
    """--prometheus a URL, --dashboards a directory with dashboards in it."""
    url = getattr(args, "prometheus", None)
    if url:
        try:
            base_url(url)
        except EndpointError as exc:
            raise ConfigError("--prometheus", url, str(exc)) from None
    where = dashboards_dir(args)
    if where is not None and not any(where.glob("*.json")):
        raise ConfigError("--dashboards", str(where), "no such directory, or no *.json dashboard in it")


@dataclass
class Progress:
    """The console's line every 10 s while Locust runs: users, calls so far, the drills in action.

    Calls come from the run's samples (each call's outcome as the harness
    classified it), users from Locust's stats history CSV (its user count,
    written every second).
    """

    samples: Path
    history: Path  # locust_stats_history.csv
    users_wanted: int
    offset: int = 0
    calls: int = 0
    failed: int = 0
    unknown: int = 0
    all_spawned: bool = False

    def poll(self) -> None:
        if not self.samples.exists():
            return
        with self.samples.open("rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        for line in chunk[:end].splitlines():
            try:
                # a samples row: t, tier, name, branch, region, link, outcome, ms
                outcome = json.loads(line)[6]
            except (ValueError, IndexError):
                continue
            self.calls += 1
            self.failed += outcome == "failed"
            self.unknown += outcome == "unknown"

    def users(self) -> int | None:
        """Locust's user count in the newest row of its stats history (None before the first)."""
        try:
            with self.history.open("rb") as fh:
                fh.seek(max(0, self.history.stat().st_size - 4096))
                rows = fh.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return None
        fields = rows[-1].split(",") if len(rows) > 1 else []
        return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None

    def lines(self, elapsed: float, duration: float, drills: list[str]) -> list[str]:
        self.poll()
        users = self.users()
        out = []
        if users is not None and users >= self.users_wanted and not self.all_spawned:
            self.all_spawned = True
            out.append(f"all {users} users spawned")
        shown = "-" if users is None else str(users)
        line = (
            f"{elapsed:4.0f}s of {duration:.0f}s  users {shown}/{self.users_wanted}  calls {self.calls}  "
            f"failed {self.failed}  unknown {self.unknown}"
        )
        out.append(line + (f"  drill running: {', '.join(drills)}" if drills else ""))
        return out


class Run:
    def __init__(
        self,
        args: argparse.Namespace,
        scenario: Scenario,
        branches: list[Branch],
        gates: Gates,
        workers: BranchWorkers | None = None,
    ) -> None:
        self.args, self.scenario, self.branches, self.gates = args, scenario, branches, gates
        self.workers = workers
        self.out = Path(args.out).resolve()
        self.run_id = new_run_id()
        self.password = password_of(args)
        self.catalogue = Catalogue()
        self.rig: LinkRig | None = None
        self.flapper: Flapper | None = None
        self.procs: list[subprocess.Popen[bytes]] = []
        self.sink: AlertSink | None = None

    # ------------------------------------------------------------------ setup
    def link_classes(self) -> dict[str, str]:
        fixed = {b.code: b.link_class for b in self.branches}
        mix = self.scenario.links
        return assign_link_classes(
            [b.code for b in self.branches], mix.shares, mix.flapping_share, fixed, salt=self.scenario.name
        )

    def routes(self, classes: dict[str, str]) -> dict[str, Route]:
        """Branch code -> (link class, upstream[, server]): the branch's erp_url, else --host.

        With workers on the branch nodes: the ERP entrypoint as the node reaches
        it, through the Toxiproxy of that node (when the run emulates links).
        """
        if self.workers is not None:
            emulate = self.args.toxiproxy != "off"
            return {
                code: Route(classes[code], w.erp, w.toxiproxy if emulate else "")
                for code, w in self.workers.by_branch().items()
            }
        host = base_url(self.args.host)
        return {
            b.code: Route(classes[b.code], base_url(erp_url(b)) if erp_url(b) else host)
            for b in self.branches
        }

    def plan(self, routes: dict[str, Route]) -> RunPlan:
        proxies = self.rig.proxies if self.rig else {}
        plan_branches = []
        for b in self.branches:
            route = routes[b.code]
            proxy = proxies.get(route)
            plan_branches.append(
                PlanBranch(
                    b.code,
                    b.name,
                    b.region,
                    b.kind,
                    b.tier,
                    route.link_class,
                    proxy.url if proxy else route.upstream,
                    route.upstream,
                    proxy.name if proxy else "",
                )
            )
        return RunPlan(
            run_id=self.run_id,
            host=self.args.host,
            db=self.args.db,
            login=self.args.login,
            password="",
            personas=self.scenario.persona_weights(),
            branches=plan_branches,
            ledger_path=str(self.out / "ledger.jsonl"),
            samples_path=str(self.out / "samples.jsonl"),
            think_time_scale=self.scenario.think_time_scale,
            month_end=self.scenario.month_end,
            pos_receipt_share=self.scenario.pos_receipt_share,
            max_requests_per_user=self.scenario.max_requests_per_user,
            network_timeout=self.args.network_timeout,
            erp_name=self.args.erp_name,
            extra={"started_path": str(self.out / "started.txt")},
            catalogue=self.catalogue.model_dump(),
        )

    def executors(self) -> dict[str, Executor]:
        ex: dict[str, Executor] = {
            "docker": DockerExecutor(),
            "ansible": AnsibleExecutor(log_dir=self.out),
            "patroni": PatroniExecutor(),
            "process": ProcessExecutor(),
            "kubernetes": KubernetesExecutor(),
        }
        ex["toxiproxy"] = ToxiproxyExecutor(self.rig.links_by_class() if self.rig else None)
        return ex

    def locust_argv(self) -> tuple[list[str], list[list[str]]]:
        s, a = self.scenario, self.args
        base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", a.host]
        master = [
            *base,
            "-u",
            str(s.users),
            "-r",
            f"{s.spawn_rate:g}",
            "-t",
            format_duration(s.duration),
            "--csv",
            str(self.out / "locust"),
            "--html",
            str(self.out / "locust.html"),
            "--stop-timeout",
            "10",
            "--logfile",
            str(self.out / "locust.log"),
            "--loglevel",
            "INFO",
        ]
        if a.web:
            master += [
                "--autostart",
                "--autoquit",
                "5",
                "--web-host",
                "127.0.0.1",
                "--web-port",
                str(a.web_port),
            ]
        else:
            master += ["--headless", "--only-summary"]
        workers: list[list[str]] = []
        if self.workers is not None:
            master += [
                "--master",
                "--expect-workers",
                str(len(self.workers.names())),
                "--expect-workers-max-wait",
                f"{WORKERS_MAX_WAIT:.0f}",
                "--master-bind-host",
                a.master_bind,
                "--master-bind-port",
                str(a.master_port),
            ]
        elif a.workers > 0:
            port = free_port()
            master += [
                "--master",
                "--expect-workers",
                str(a.workers),
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
            ]
            workers = [
                [
                    *base,
                    "--worker",
                    "--master-host",
                    "127.0.0.1",
                    "--master-port",
                    str(port),
                    "--logfile",
                    str(self.out / f"worker-{i + 1}.log"),
                ]
                for i in range(a.workers)
            ]
        return master, workers

    # ------------------------------------------------------------------ run
    def execute(self) -> int:
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in ("samples.jsonl", "ledger.jsonl", "started.txt", SINK_FILE):
            (self.out / stale).unlink(missing_ok=True)
        s = self.scenario
        routes = self.routes(self.link_classes())
        try:
            odoo = probe(self.args.host, self.args.odoo_label, timeout=15, verify=self.verify)
        except VersionProbeError as exc:
            print(f"error: cannot name the Odoo under test, the run is not started: {exc}", file=sys.stderr)
            return 4
        log(odoo.line())
        ready = preflight(self.args, s, self.branches)
        if not ready.ok:
            print(
                "error: the preflight failed: the target lacks what the personas need (listed above); "
                "no load was sent and no drill ran",
                file=sys.stderr,
            )
            return PREFLIGHT_FAILED
        self.catalogue = ready.catalogue
        log(
            f"run {self.run_id}: scenario {s.name}, {s.users} users, {s.duration:.0f}s, "
            f"{len(self.branches)} branches, target {self.args.host}"
        )
        try:
            self.start_sink()
        except OSError as exc:
            print(f"error: --alert-sink {self.args.alert_sink}: cannot listen: {exc}", file=sys.stderr)
            return 4
        try:
            if self.args.toxiproxy != "off":
                self.start_links(routes)
            plan = self.plan(routes)
            for line in route_lines(plan.branches):
                log(line)
            plan_path = self.out / "plan.json"
            plan.dump(plan_path)
            drills, started = self.run_locust(plan_path)
            self.wait_alerts(started)
        finally:
            if self.flapper:
                self.flapper.stop()
            if self.rig:
                self.rig.close()
            if self.sink:
                self.sink.stop()
        return self.finish(plan, drills, started, odoo)

    def start_sink(self) -> None:
        """Alertmanager's webhook receiver, for the run (--alert-sink); its token is never logged."""
        if not getattr(self.args, "alert_sink", None):
            return
        host, port = parse_address(self.args.alert_sink)
        token = sink_token(self.args.alert_sink_token_file)
        self.sink = AlertSink(host, port, self.out / SINK_FILE, token)
        self.sink.start()
        log(
            f"alert sink: Alertmanager's webhook to {self.sink.url} "
            f"({'bearer token required' if token else 'no token'}), alerts to {SINK_FILE}"
        )

    def wait_alerts(self, started: float) -> None:
        """After the load: up to --alert-wait for the alerts that fired during the run to resolve."""
        if self.sink is None:
            return
        deadline = time.time() + parse_duration(self.args.alert_wait or 0)
        firing = unresolved_since(self.sink.path, started)
        if firing and time.time() < deadline:
            log(f"waiting up to {self.args.alert_wait} for {len(firing)} firing alerts to resolve")
        while firing and time.time() < deadline:
            time.sleep(min(2.0, max(0.0, deadline - time.time())))
            firing = unresolved_since(self.sink.path, started)
        if firing:
            names = ", ".join(sorted({a.name for a in firing}))
            log(f"{len(firing)} alerts still firing when the sink stopped: {names}")

    def start_links(self, routes: dict[str, Route]) -> None:
        """The Toxiproxy servers (the controller's, or the branch nodes') and a proxy per route on them."""
        if self.workers is not None:
            self.rig = branch_servers({r.server for r in routes.values()})
            where = f" on {len(self.rig.servers)} branch nodes"
        else:
            self.rig = start_toxiproxy(self.args.toxiproxy, self.out / "toxiproxy.log")
            where = ""
        profiles = profiles_with(dict(self.scenario.links.profiles))
        create_links(self.rig, set(routes.values()), profiles, self.run_id)
        log(f"link profiles via Toxiproxy {self.rig.version()}{where}: {len(self.rig.proxies)} proxies")

    @property
    def verify(self) -> bool | str:
        return verify_of(self.args)

    def run_locust(self, plan_path: Path) -> tuple[list[DrillRecord], float]:
        env = {
            **os.environ,
            ENV: str(plan_path),
            "ODOO_PASSWORD": self.password,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
        }
        master, workers = self.locust_argv()
        console = (self.out / "locust.console.log").open("ab")
        self.procs = [subprocess.Popen(master, env=env, stdout=console, stderr=subprocess.STDOUT)]
        worker_env = {k: v for k, v in env.items() if k != ENV}  # a worker asks the master for the plan
        for w in workers:
            self.procs.append(subprocess.Popen(w, env=worker_env, stdout=console, stderr=subprocess.STDOUT))
        if self.args.web:
            log(f"Locust web UI: http://127.0.0.1:{self.args.web_port}")
        if workers:
            log(f"distributed: 1 master + {len(workers)} workers")
        self.log_branch_workers()
        started = self.wait_started()
        runner = DrillRunner(self.scenario.drills, self.executors(), log)
        runner.start(started)
        mix = self.scenario.links
        flapping = self.rig.links_by_class().get(FLAPPING) if self.rig else None
        if flapping:
            self.flapper = Flapper(flapping, mix.flap_period, mix.flap_down)
            self.flapper.start()
        progress = Progress(
            self.out / "samples.jsonl", self.out / "locust_stats_history.csv", self.scenario.users
        )
        limit = started + self.scenario.duration + 120
        next_line = time.time() + 10
        while self.procs[0].poll() is None:
            if time.time() > limit:
                log("Locust overran its time limit; stopping it")
                self.procs[0].send_signal(signal.SIGTERM)
                try:
                    self.procs[0].wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.procs[0].kill()
                break
            if time.time() >= next_line:
                for line in progress.lines(time.time() - started, self.scenario.duration, runner.active()):
                    log(line)
                next_line += 10
            time.sleep(0.5)
        for p in self.procs[1:]:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        runner.stop()
        if self.flapper:
            self.flapper.stop()
        console.close()
        log(f"Locust finished (exit {self.procs[0].returncode})")
        return runner.records, started

    def log_branch_workers(self) -> None:
        if self.workers is not None:
            log(
                f"distributed from the branches: master on {self.args.master_bind}:{self.args.master_port}, "
                f"waiting for {len(self.workers.names())} workers: {', '.join(self.workers.names())}"
            )

    def wait_started(self) -> float:
        marker = self.out / "started.txt"
        deadline = time.time() + 60 + (WORKERS_MAX_WAIT if self.workers is not None else 0)
        while time.time() < deadline and self.procs[0].poll() is None:
            if marker.exists() and marker.read_text().strip():
                return float(marker.read_text().strip())
            time.sleep(0.2)
        return time.time()

    # ------------------------------------------------------------------ results
    def reconcile(self) -> LedgerResult:
        host = self.args.reconcile_host or self.args.host
        last = ""
        for _i in range(12):  # the database may still be coming back from the last drill
            try:
                reader = JsonRpcReader(host, self.args.db, self.args.login, self.password, verify=self.verify)
                return reconcile([self.out / "ledger.jsonl"], reader, self.run_id)
            except (OSError, requests.RequestException) as exc:
                last = f"{type(exc).__name__}: {exc}"
                time.sleep(5)
            except RuntimeError as exc:  # an RPC error: retrying will not help
                last = str(exc)
                break
        return LedgerResult((), checked=False, error=f"could not read the writes back: {last}")

    def restore_checks(self) -> list[RestoreSummary]:
        """The run's point-in-time restore drills against the ledger (loadtests.restore_check)."""
        return [
            check_restore(d.name, d.restore.file, [self.out / "ledger.jsonl"], self.run_id)
            for d in self.scenario.drills
            if d.restore is not None
        ]

    def region_losses(
        self, drills: list[DrillRecord], ledger: LedgerResult, samples: list[Sample], started: float
    ) -> list[RegionLossSummary]:
        """The run's region-loss drills measured against the ledger (loadtests.region_loss)."""
        specs = [d for d in self.scenario.drills if d.region_loss is not None]
        if not specs:
            return []
        entries = read_ledger([self.out / "ledger.jsonl"])
        tiers = [*self.gates.recovery, *self.gates.tiers, *sorted({s.tier for s in samples})]
        records = {r.name: r for r in drills}
        return [
            measure_region_loss(
                records[d.name],
                d.region_loss.region,
                entries=entries,
                ledger=ledger,
                samples=samples,
                tiers=tiers,
                run_start=started,
            )
            for d in specs
            if d.region_loss is not None
        ]

    def finish(self, plan: RunPlan, drills: list[DrillRecord], started: float, odoo: OdooUnderTest) -> int:
        samples = read_samples([self.out / "samples.jsonl"])
        if not samples:
            log("no calls were recorded; see locust.log and locust.console.log")
            return 4
        end = max(samples[-1].t, started + 1)
        ledger = self.reconcile()
        # Calls of branches a drill took offline by design (a tunnel cut) are that drill's
        # planned effect: reported with it, not held against the tiers.
        counted, offline = split_offline(samples, drills)
        outcomes = drill_outcomes(drills, counted, started, end, offline)
        spans = drill_spans(outcomes, started, end) if self.gates.latency_outside_drills else []
        stats = tier_stats(counted, spans)
        seen = self.observed_coverage(plan, drills, started)
        rows = [r.model_dump() for r in seen.rows] if seen.measured else None
        restores = self.restore_checks()
        losses = self.region_losses(drills, ledger, counted, started)
        verdict = evaluate(self.gates, stats, ledger, outcomes, rows, restores=restores, region_losses=losses)
        sli: Sli | None = None
        boards: Dashboards | None = None
        if self.args.prometheus:
            prometheus = Prometheus(self.args.prometheus)
            sli = platform_sli(prometheus, started, end, time_series(samples, started, end))
            # over the whole run, the wait for the alerts' resolution included
            boards = panels.during_run(
                prometheus, started, time.time(), dashboards_dir(self.args), self.args.prometheus_region
            )
        report = build_report(
            self,
            plan,
            samples,
            counted,
            outcomes,
            started,
            end,
            odoo,
            ledger,
            verdict,
            stats,
            coverage=seen,
            sli=sli,
            dashboards=boards,
            restores=restores,
            region_losses=losses,
        )
        (self.out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
        (self.out / "junit.xml").write_text(render_junit(report), encoding="utf-8")
        (self.out / "report.html").write_text(render_html(report), encoding="utf-8")
        t = report.ledger.totals
        log(
            f"ledger: lost {t.get('lost', '-')}, duplicated {t.get('duplicated', '-')}, unexpected "
            f"{t.get('unexpected', '-')}, recovered {t.get('recovered', '-')}, "
            f"unsettled {t.get('unsettled', '-')}, unreadable {t.get('unreadable', '-')}"
        )
        for d in report.drills:
            worst = f" ({d.error_window_tier})" if d.error_window_tier else ""
            log(
                f"drill {d.name}: error window {d.error_window_s} s{worst}, recovery {d.time_to_recovery_s} s"
            )
        for r in report.restore:
            log(restore_line(r))
        for line in report.summary.region_loss if report.summary else []:
            log(line)
        for c in report.coverage.rows:
            log(f"coverage {c.drill}{' ' + c.expected if c.expected else ''}: {c.status_text}: {c.detail}")
        if not report.coverage.measured:
            log("observability coverage not measured (no --alert-sink)")
        if boards is not None:
            log(
                f"dashboards: {boards.error}"
                if boards.error
                else f"dashboards: {boards.queries} panel queries, {len(boards.empty)} without data"
                + "".join(f"\n  no data: {e}" for e in boards.empty)
            )
        print(verdict.text(), flush=True)
        if report.summary:
            for line in [*report.summary.failed_gates, *report.summary.outages, report.summary.ledger]:
                log(line)
        log(f"report: {self.out / 'report.html'}")
        return verdict.exit_code()

    def observed_coverage(self, plan: RunPlan, drills: list[DrillRecord], started: float) -> Coverage:
        """Which alert each drill raised, from what the sink received (not measured without one)."""
        if self.sink is None:
            return Coverage(measured=False)
        if self.args.prometheus:
            windows = windows_from_api(Prometheus(self.args.prometheus))
        else:
            windows = windows_from_files(rule_files(self.args.alert_rules or []))
        rows = coverage(
            self.scenario.drills, drills, read_alerts(self.sink.path), windows, plan.branches, started
        )
        return Coverage.model_validate(
            {
                "measured": True,
                "source": self.sink.url,
                "windows": windows.source,
                "windows_error": windows.error,
                "received": self.sink.received,
                "refused": self.sink.refused,
                "file": SINK_FILE,
                "rows": [r.as_dict() for r in rows],
            }
        )


def drill_outcomes(
    drills: list[DrillRecord],
    samples: list[Sample],
    started: float,
    end: float,
    offline: dict[str, list[Sample]] | None = None,
) -> list[dict[str, Any]]:
    """Each drill's error window and recovery, over its window: to the next fault drill's start or
    its observe time. A drill that injects no fault (a restore on a scratch node) ends no window.
    ``offline``: per drill, the calls it took offline by design (left out of ``samples``)."""
    out = []
    ordered = sorted(drills, key=lambda d: d.at)
    for i, rec in enumerate(ordered):
        nxt = next((d.started for d in ordered[i + 1 :] if d.injects_fault and d.started), end)
        until = min(nxt, rec.started + rec.observe, end) if rec.started else end
        pool = samples if rec.executor == "toxiproxy" else [s for s in samples if s.link != FLAPPING]
        out.append(analyse_drill(rec, pool, until, (offline or {}).get(rec.name, ())).as_dict(started))
    return out


def route_lines(branches: list[PlanBranch]) -> list[str]:
    """One console line per route: the proxy (or direct), its link class, upstream and branches."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for b in branches:
        groups.setdefault((b.proxy, b.link_class, b.upstream, b.url), []).append(b.code)
    lines = []
    for (proxy, link, upstream, url), codes in sorted(groups.items()):
        via = f"proxy {proxy} ({link}, {url} -> {upstream})" if proxy else f"direct ({link}, {upstream})"
        lines.append(f"route {via}: {len(codes)} branches: {', '.join(codes)}")
    return lines


def routes_report(branches: list[PlanBranch], rig: LinkRig | None) -> list[dict[str, Any]]:
    """The proxies (or direct routes) of the run, each with the branches that used it."""
    out: list[dict[str, Any]] = []
    if rig:
        for proxy in sorted(rig.proxies.values(), key=lambda p: p.name):
            entry: dict[str, Any] = proxy.as_dict()
            entry["branches"] = [b.code for b in branches if b.proxy == proxy.name]
            out.append(entry)
        return out
    direct: dict[tuple[str, str], list[str]] = {}
    for b in branches:
        direct.setdefault((b.link_class, b.upstream), []).append(b.code)
    for (link, upstream), codes in sorted(direct.items()):
        out.append(
            {
                "name": "",
                "link_class": link,
                "listen": "",
                "upstream": upstream,
                "url": upstream,
                "branches": codes,
            }
        )
    return out


def build_report(  # noqa: PLR0917 - one call site, every piece of the run goes in
    run: Run,
    plan: RunPlan,
    samples: list[Sample],
    counted: list[Sample],
    drill_out: list[dict[str, Any]],
    started: float,
    end: float,
    odoo: OdooUnderTest,
    ledger: LedgerResult,
    verdict: Any,
    stats: dict[str, Any],
    *,
    coverage: Coverage | None = None,
    sli: Sli | None = None,
    dashboards: Dashboards | None = None,
    restores: list[RestoreSummary] | None = None,
    region_losses: list[RegionLossSummary] | None = None,
) -> Report:
    # Error windows over the calls the tiers are judged on (``counted``: without the calls
    # of branches a drill took offline); the time series and breakdowns show every call.
    windows = {}
    for tier in sorted({s.tier for s in samples}):
        ws = error_windows([s for s in counted if s.tier == tier])
        windows[tier] = [
            {
                "start_s": round(w.start - started, 2),
                "end_s": round(w.end - started, 2),
                "seconds": round(w.seconds, 2),
                "failures": w.failures,
                "closed": w.closed,
            }
            for w in ws
        ]
    sc = run.scenario
    data = {
        "odoo_under_test": odoo.as_dict(),
        "run": {
            "run_id": run.run_id,
            "started": datetime.fromtimestamp(started, UTC).isoformat(),
            "duration_s": round(end - started, 1),
            "host": run.args.host,
            "odoo": odoo.short,
            "users": sc.users,
            "mode": ("web UI" if run.args.web else "headless")
            + (f", distributed 1 master + {run.args.workers} workers" if run.args.workers else "")
            + (
                f", distributed 1 master + {len(run.workers.names())} workers on the branch nodes"
                if run.workers is not None
                else ""
            ),
            "toxiproxy": run.args.toxiproxy,
            "links": routes_report(plan.branches, run.rig),
            "platform": getattr(run.args, "platform", ""),
        },
        "scenario": {
            "name": sc.name,
            "file": str(run.args.scenario),
            "users": sc.users,
            "spawn_rate": sc.spawn_rate,
            "duration_s": sc.duration,
            "personas": sc.persona_weights(),
        },
        "verdict": {"go": verdict.go, "label": verdict.label, "reasons": verdict.reasons},
        "gates": {"file": str(run.args.gates), "results": [asdict(r) for r in verdict.results]},
        "tiers": {
            k: {
                "requests": v.requests,
                "failures": v.failures,
                "error_rate": v.error_rate,
                "p50_ms": v.p50_ms,
                "p95_ms": v.p95_ms,
                "p99_ms": v.p99_ms,
                "longest_error_window_s": v.longest_error_window_s,
                "latency_excluded": v.latency_excluded,
            }
            for k, v in stats.items()
        },
        "drills": drill_out,
        "error_windows": windows,
        "timeseries": time_series(samples, started, end),
        "breakdown": {
            "tier": breakdown(samples, lambda s: s.tier),
            "region": breakdown(samples, lambda s: s.region),
            "branch": breakdown(samples, lambda s: s.branch),
            "link": breakdown(samples, lambda s: s.link),
            "name": breakdown(samples, lambda s: s.name),
        },
        "ledger": ledger.summary(),
        "branches": [b.__dict__ for b in plan.branches],
    }
    report = Report.model_validate(data)
    report.coverage = coverage or Coverage(measured=False)
    report.sli = sli
    report.dashboards = dashboards
    report.restore = restores or []
    report.region_loss = region_losses or []
    report.summary = summarise(report)
    return report
