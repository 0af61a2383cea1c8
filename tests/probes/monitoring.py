"""Is the region's monitoring whole? Prometheus' and Alertmanager's own APIs, against the inventory.

Reads what Prometheus and Alertmanager actually do, never the prometheus role's variables: the scrape
jobs and instances there should be are computed here, from the inventory's groups and
:data:`EXPORTERS` (the observability contract: which exporter runs on which groups, at which port;
``roles/monitoring_exporters/README.md``), and the rule groups from the collection's rule files.

    python -m tests.probes.monitoring check --inventory '{"groups": {...}, "addresses": {...}}' \\
        [--without victorialogs] [--series pg_up=postgres_cluster ...] [--wait 60] [--out FILE]
    python -m tests.probes.monitoring notifications --alerts results/postgresql_ha/alerts.jsonl \\
        --alert PostgresNoLeader --since 1765000000.0 [--inventory ...] [--wait 120] [--out alert.json]

``--inventory``: Ansible's groups (``{group: [host, ...]}``) and each host's management address
(``{host: address}``). Prometheus (9090) and Alertmanager (9093) are on the hosts of ``monitoring``.

check, waiting up to ``--wait`` seconds for the first scrapes and evaluations: every active target
is ``up``; the jobs and instances are exactly those the inventory implies, each scraped at its
host's management address; each ``--series METRIC=GROUP`` is at 1 on every host of the group (an
exporter is up even when its login fails: ``pg_up``, ``pgbouncer_up`` say whether it read its
source); every rule group of the collection's rule files is loaded with its rules, and no rule is
in error; Alertmanager is ready, every severity the alert rules use has a route in the
configuration it runs, and Prometheus sends to it (active, none dropped). Prints a JSON summary;
exits 1 naming each problem (a target down by job, instance and its lastError).

notifications: the alerts file of the load harness's alert sink (``python -m loadtests alert-sink``,
which writes only what came with its bearer token) has the alert firing, with a ``startsAt`` at or
after ``--since`` (the fault), then resolved; with ``--inventory``, no notified alert names an
``instance`` that is not an inventory host. The figures: from the fault to the alert's ``startsAt``
and to its arrival at the sink, and the same for its resolution. When it did not fire (with
``--inventory``), ``prometheus_saw``: when the rule's expression held and the alert was pending or
firing, in seconds after the fault (a hold shorter than the rule's ``for`` plus one evaluation never
fires).

The HTTP calls are the harness's own client (``loadtests/prometheus.py``), the alerts file is read
with the harness's reader (``loadtests.alerts.read_alerts``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from loadtests.alerts import FiredAlert, read_alerts
from loadtests.prometheus import Alertmanager, Prometheus, PrometheusError
from tests.metric_names import RULES_DIR as RULES
from tests.metric_names import rule_files
from tests.probes.cli import emit, pairs

# Every platform group the region's monitoring covers (playbooks/monitoring.yml's hosts).
MONITORED = (
    "etcd_cluster",
    "postgres_cluster",
    "app_nodes",
    "redis_servers",
    "redis_sentinels",
    "docker_hosts",
    "odoo_nodes",
    "ingress",
    "hubs",
    "monitoring",
)
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
# job -> (groups whose hosts it scrapes, port): the observability contract, restated here so the
# probe does not read the prometheus role's defaults.
EXPORTERS: dict[str, tuple[tuple[str, ...], int]] = {
    "node": (MONITORED, 9100),
    "postgres": (("postgres_cluster",), 9187),
    "patroni": (("postgres_cluster",), 8008),
    "pgbouncer": (("app_nodes",), 9127),
    "redis": (("redis_servers",), 9121),
    "sentinel": (("redis_sentinels",), 9355),
    "traefik": (("ingress",), 8082),
    "prometheus": (("monitoring",), PROMETHEUS_PORT),
    "alertmanager": (("monitoring",), ALERTMANAGER_PORT),
    "victorialogs": (("monitoring",), 9428),
}
SEVERITY_MATCHER = re.compile(r"""^\s*severity\s*=\s*"?([^"\s]+)"?\s*$""")


def monitoring_address(inventory: Mapping[str, Any]) -> str:
    """The management address of the first host of ``monitoring`` (Prometheus and Alertmanager)."""
    hosts = sorted(inventory["groups"].get("monitoring", []))
    if not hosts:
        raise ValueError("the inventory has no host in group monitoring")
    return str(inventory["addresses"][hosts[0]])


def expected_targets(inventory: Mapping[str, Any], without: Iterable[str] = ()) -> dict[tuple[str, str], str]:
    """(job, instance) -> the URL Prometheus should scrape, for every job of :data:`EXPORTERS` whose
    groups have hosts (``without`` left out): instance is the inventory host name, the address its
    management address."""
    skipped = set(without)
    groups: Mapping[str, list[str]] = inventory["groups"]
    addresses: Mapping[str, str] = inventory["addresses"]
    expected: dict[tuple[str, str], str] = {}
    for job, (job_groups, port) in EXPORTERS.items():
        if job in skipped:
            continue
        for host in sorted({h for g in job_groups for h in groups.get(g, [])}):
            if not addresses.get(host):
                raise ValueError(f"no management address for {host} (job {job})")
            expected[(job, host)] = f"http://{addresses[host]}:{port}/metrics"
    return expected


def target_problems(active: list[dict[str, Any]], expected: Mapping[tuple[str, str], str]) -> list[str]:
    """What is wrong with Prometheus' active targets: down (with lastError), missing, unexpected,
    scraped at another address, or there twice."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for target in sorted(active, key=lambda t: (t["labels"].get("job", ""), t["labels"].get("instance", ""))):
        labels = target.get("labels", {})
        job, instance = str(labels.get("job", "")), str(labels.get("instance", ""))
        url = str(target.get("scrapeUrl", ""))
        if (job, instance) in seen:
            problems.append(f"job {job} instance {instance} ({url}): scraped twice")
        seen.add((job, instance))
        if (job, instance) not in expected:
            problems.append(f"job {job} instance {instance} ({url}): a target the inventory does not imply")
        elif url != expected[(job, instance)]:
            problems.append(
                f"job {job} instance {instance}: scraped at {url}, not at the host's management address "
                f"({expected[(job, instance)]})"
            )
        if target.get("health") != "up":
            error = target.get("lastError") or "not scraped yet"
            problems.append(f"job {job} instance {instance} ({url}) is {target.get('health')}: {error}")
    problems.extend(
        f"job {job} instance {instance}: no active target (expected {expected[(job, instance)]})"
        for job, instance in sorted(expected.keys() - seen)
    )
    return problems


def series_problems(
    prometheus: Prometheus, checks: Iterable[tuple[str, str]], groups: Mapping[str, list[str]]
) -> list[str]:
    """For each (metric, group): every host of the group has the metric (instance = host), every
    series of it at 1 (an exporter that answers while its source does not, such as pg_up or
    pgbouncer_up, or a textfile collector's success)."""
    problems: list[str] = []
    for metric, group in checks:
        values: dict[str, list[str]] = {}
        for series in prometheus.query(metric):
            values.setdefault(str(series["metric"].get("instance")), []).append(str(series["value"][1]))
        for host in sorted(groups.get(group, [])):
            if host not in values:
                problems.append(f"{metric} on {host}: no series")
            elif any(float(v) != 1 for v in values[host]):
                problems.append(f"{metric} on {host} is {', '.join(values[host])}, not 1")
    return problems


def collection_groups(files: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """rule group name -> (its file's name, the names of its rules in order)."""
    return {
        str(group["name"]): (
            name,
            [str(rule.get("alert") or rule.get("record")) for rule in group.get("rules", [])],
        )
        for name, doc in files.items()
        for group in doc.get("groups", [])
    }


def severities(files: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The severity labels the alert rules carry."""
    return {
        str(rule.get("labels", {}).get("severity"))
        for doc in files.values()
        for group in doc.get("groups", [])
        for rule in group.get("rules", [])
        if "alert" in rule
    }


def rule_problems(loaded: list[dict[str, Any]], expected: Mapping[str, tuple[str, list[str]]]) -> list[str]:
    """The collection's groups missing or loaded with other rules, and every loaded rule whose health
    is not ok (with its lastError)."""
    problems: list[str] = []
    by_name = {str(group.get("name")): group for group in loaded}
    for name, (file, rules) in sorted(expected.items()):
        group = by_name.get(name)
        if group is None:
            problems.append(f"rule group {name} ({file}): not loaded")
            continue
        if Path(str(group.get("file", ""))).name != file:
            problems.append(
                f"rule group {name}: loaded from {group.get('file')}, not from a file named {file}"
            )
        names = [str(rule.get("name")) for rule in group.get("rules", [])]
        if names != rules:
            problems.append(f"rule group {name} ({file}): loaded rules {names}, the file has {rules}")
    for group in loaded:
        for rule in group.get("rules", []):
            if rule.get("health") != "ok":
                error = rule.get("lastError") or "not evaluated yet"
                problems.append(
                    f"rule {group.get('name')}/{rule.get('name')} is {rule.get('health')}: {error}"
                )
    return problems


def routed_severities(config: Mapping[str, Any]) -> set[str]:
    """The severities Alertmanager's configuration routes to a receiver with a notifier."""
    notifying = {
        str(r.get("name"))
        for r in config.get("receivers", []) or []
        if any(key.endswith("_configs") and value for key, value in r.items())
    }
    found: set[str] = set()
    for route in (config.get("route") or {}).get("routes", []) or []:
        if str(route.get("receiver")) not in notifying:
            continue
        for matcher in route.get("matchers", []) or []:
            matched = SEVERITY_MATCHER.match(str(matcher))
            if matched:
                found.add(matched.group(1))
        if "severity" in (route.get("match") or {}):
            found.add(str(route["match"]["severity"]))
    return found


def alertmanager_problems(
    prometheus: Prometheus, alertmanager: Alertmanager, alert_severities: set[str]
) -> tuple[list[str], dict[str, Any]]:
    """Alertmanager ready, routing every severity, and the one Prometheus sends to."""
    problems: list[str] = []
    alertmanager_url = alertmanager.base_url
    summary: dict[str, Any] = {"url": alertmanager_url}
    if not alertmanager.ready():
        problems.append(f"Alertmanager at {alertmanager_url}: /-/ready does not answer 200")
    status = alertmanager.status()
    # One Alertmanager per region: clustering off is "disabled"; a cluster must have settled.
    summary["cluster"] = cluster = str((status.get("cluster") or {}).get("status"))
    if cluster not in ("ready", "disabled"):
        problems.append(f"Alertmanager at {alertmanager_url}: cluster status {cluster}")
    config = yaml.safe_load(str((status.get("config") or {}).get("original", ""))) or {}
    summary["routed_severities"] = sorted(routed_severities(config))
    problems.extend(
        f"Alertmanager at {alertmanager_url}: no route to a receiver for severity {severity}, "
        "which alert rules carry"
        for severity in sorted(alert_severities - set(summary["routed_severities"]))
    )
    alertmanagers = prometheus.alertmanagers()
    summary["prometheus_sends_to"] = alertmanagers
    wanted = f"{alertmanager_url}/api/v2/alerts"
    if alertmanagers["active"] != [wanted]:
        problems.append(
            f"Prometheus' active Alertmanagers are {alertmanagers['active']}, expected [{wanted}]"
        )
    if alertmanagers["dropped"]:
        problems.append(f"Prometheus dropped the Alertmanagers {alertmanagers['dropped']}")
    return problems, summary


def snapshot(
    inventory: Mapping[str, Any],
    without: Iterable[str],
    rules_dir: Path,
    series: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """One reading of Prometheus and Alertmanager: the problems found and what was read."""
    address = monitoring_address(inventory)
    prometheus = Prometheus(f"http://{address}:{PROMETHEUS_PORT}")
    alertmanager = Alertmanager(f"http://{address}:{ALERTMANAGER_PORT}")
    expected = expected_targets(inventory, without)
    files = rule_files(rules_dir)
    report: dict[str, Any] = {"prometheus": prometheus.base_url, "problems": []}

    def part(name: str, read: Callable[[], list[str]]) -> None:
        try:
            report["problems"].extend(read())
        except (OSError, PrometheusError, ValueError, KeyError) as error:
            report["problems"].append(f"{name}: cannot read it: {error}")

    def targets() -> list[str]:
        active = prometheus.active_targets()
        report["targets"] = [
            {
                "job": t["labels"].get("job"),
                "instance": t["labels"].get("instance"),
                "url": t.get("scrapeUrl"),
                "health": t.get("health"),
            }
            for t in active
        ]
        report["jobs"] = sorted({str(t["labels"].get("job")) for t in active})
        return target_problems(active, expected)

    def rules() -> list[str]:
        loaded = prometheus.rule_groups()
        report["rule_groups"] = sorted(str(g.get("name")) for g in loaded)
        report["rules"] = sum(len(g.get("rules", [])) for g in loaded)
        return rule_problems(loaded, collection_groups(files))

    def alerting() -> list[str]:
        problems, report["alertmanager"] = alertmanager_problems(prometheus, alertmanager, severities(files))
        return problems

    def firing() -> list[str]:
        # For the record: alerts are not judged here.
        report["firing"] = sorted(
            f"{a['labels'].get('alertname')} {a['labels'].get('instance') or a['labels'].get('region', '')}"
            for a in prometheus.alerts()
            if a.get("state") == "firing"
        )
        return []

    part("Prometheus' targets", targets)
    part("Prometheus' series", lambda: series_problems(prometheus, series, inventory["groups"]))
    part("Prometheus' rules", rules)
    part("Alertmanager", alerting)
    part("Prometheus' alerts", firing)
    report["expected_targets"] = len(expected)
    return report


def until_clean(read: Callable[[], dict[str, Any]], wait: float) -> dict[str, Any]:
    """``read()`` every 2 s until its report has no problem or `wait` seconds have passed; the last
    report, with the seconds waited."""
    deadline = time.monotonic() + wait
    while True:
        report = read()
        if not report["problems"] or time.monotonic() >= deadline:
            report["waited_s"] = round(wait - max(0.0, deadline - time.monotonic()), 1)
            return report
        time.sleep(2)


def check(
    inventory: Mapping[str, Any],
    without: Iterable[str] = (),
    rules_dir: Path = RULES,
    wait: float = 60.0,
    series: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """:func:`snapshot` until it finds no problem or `wait` seconds have passed."""
    checks = list(series)
    return until_clean(lambda: snapshot(inventory, without, rules_dir, checks), wait)


def notification_report(
    alerts: Sequence[FiredAlert], alert: str, since: float, hosts: Iterable[str] | None = None
) -> dict[str, Any]:
    """The first instance of `alert` that started at or after `since` (the fault) and its resolution,
    as the sink received them; with `hosts` (the inventory's), every alert's ``instance`` must be one."""
    report: dict[str, Any] = {"alert": alert, "since": since}
    problems: list[str] = []
    report["problems"] = problems
    after = [a for a in alerts if a.starts_at >= since]
    fired = next((a for a in after if a.name == alert), None)
    if fired is None:
        problems.append(f"{alert}: no firing notification of an alert that started since {since}")
        report["received"] = sorted({f"{a.name} {'resolved' if a.ends_at else 'firing'}" for a in alerts})
    else:
        report["labels"] = fired.labels
        report["fired_at"] = fired.starts_at
        report["fired_after_s"] = round(fired.starts_at - since, 1)
        report["firing_received_after_s"] = round(fired.first_received - since, 1)
        if fired.ends_at is None or fired.resolved_received is None:
            problems.append(f"{alert}: fired, but no resolved notification yet")
        else:
            report["resolved_at"] = fired.ends_at
            report["resolved_after_s"] = round(fired.ends_at - since, 1)
            report["resolved_received_after_s"] = round(fired.resolved_received - since, 1)
        # For the record: what else started since the fault (not judged).
        report["others"] = sorted({f"{a.name} {a.label_text()}" for a in after if a is not fired})
    if hosts is not None:
        known = set(hosts)
        foreign = sorted(
            {
                f"{a.name} {a.labels['instance']}"
                for a in alerts
                if a.labels.get("instance") not in known | {None}
            }
        )
        if foreign:
            problems.append(
                f"notified alerts about instances the inventory does not have: {', '.join(foreign)}"
            )
    return report


def notifications(
    alerts_file: Path, alert: str, since: float, wait: float = 120.0, hosts: Iterable[str] | None = None
) -> dict[str, Any]:
    """:func:`notification_report` of the sink's file until it has no problem or `wait` has passed."""
    known = None if hosts is None else list(hosts)
    report = until_clean(lambda: notification_report(read_alerts(alerts_file), alert, since, known), wait)
    report["alerts_file"] = str(alerts_file)
    return report


def spans(values: Sequence[Sequence[Any]], since: float, step: float) -> list[str]:
    """A range query's sample times as spans relative to `since`: ``"+9-+14 s"``, consecutive samples
    (`step` apart) joined."""
    times = [float(t) - since for t, _value in values]
    joined: list[list[float]] = []
    for at in times:
        if joined and at - joined[-1][1] <= step * 1.5:
            joined[-1][1] = at
        else:
            joined.append([at, at])
    return [f"+{start:g}..+{end:g} s" for start, end in joined]


def prometheus_view(
    inventory: Mapping[str, Any], alert: str, since: float, until: float, *, rules_dir: Path = RULES
) -> dict[str, Any]:
    """What Prometheus saw from `since` (the fault) to `until`, when `alert` did not arrive: when its
    rule's expression held (per series) and when the alert was pending or firing, each as spans of
    seconds after the fault. A rule's ``for`` needs the expression to hold over two evaluations: a
    span shorter than that explains an alert that never fired."""
    rule = next(
        (
            r
            for doc in rule_files(rules_dir).values()
            for group in doc.get("groups", [])
            for r in group.get("rules", [])
            if r.get("alert") == alert
        ),
        None,
    )
    if rule is None:
        return {"problems": [f"{alert}: no alerting rule of that name in {rules_dir}"]}
    prometheus = Prometheus(f"http://{monitoring_address(inventory)}:{PROMETHEUS_PORT}")
    view: dict[str, Any] = {"for": rule.get("for", "0s")}
    step = 1.0
    try:
        view["expression_held"] = {
            json.dumps(s["metric"], sort_keys=True): spans(s["values"], since, step)
            for s in prometheus.query_range(str(rule["expr"]), since - 10, until, step)
        }
        view["alert_state"] = {
            s["metric"].get("alertstate", "?"): spans(s["values"], since, step)
            for s in prometheus.query_range(f'ALERTS{{alertname="{alert}"}}', since - 10, until, step)
        }
    except (OSError, PrometheusError, ValueError, KeyError) as error:
        view["problems"] = [f"Prometheus at {prometheus.base_url}: cannot read it: {error}"]
    return view


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="targets, rules and Alertmanager against the inventory")
    checking.add_argument("--inventory", required=True, help='JSON: {"groups": {...}, "addresses": {...}}')
    checking.add_argument("--without", action="append", default=[], help="a job this region does not run")
    checking.add_argument(
        "--series",
        action="append",
        default=[],
        metavar="METRIC=GROUP",
        help="every host of GROUP has METRIC, at 1 (repeatable)",
    )
    checking.add_argument("--rules", type=Path, default=RULES, help="the collection's rule files")
    checking.add_argument("--wait", type=float, default=60.0, help="seconds to wait for a clean reading")
    checking.add_argument("--out", type=Path)
    notified = commands.add_parser("notifications", help="an alert fired and resolved at the webhook")
    notified.add_argument(
        "--alerts",
        type=Path,
        required=True,
        help="the alert sink's alerts.jsonl (python -m loadtests alert-sink)",
    )
    notified.add_argument("--alert", required=True)
    notified.add_argument("--since", type=float, required=True, help="epoch seconds of the fault")
    notified.add_argument("--wait", type=float, default=120.0)
    notified.add_argument(
        "--inventory", help="JSON as for check: every notified alert's instance must be one of its hosts"
    )
    notified.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "check":
        series = pairs(args.series, "--series", parser)
        report = check(json.loads(args.inventory), args.without, args.rules, args.wait, series)
    else:
        hosts = None
        if args.inventory:
            hosts = {h for members in json.loads(args.inventory)["groups"].values() for h in members}
        report = notifications(args.alerts, args.alert, args.since, args.wait, hosts)
        if args.inventory and "fired_at" not in report:
            # Not judged: why it did not arrive, as Prometheus saw it.
            inventory = json.loads(args.inventory)
            report["prometheus_saw"] = prometheus_view(inventory, args.alert, args.since, time.time())
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
