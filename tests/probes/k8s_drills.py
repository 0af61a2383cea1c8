"""What the cluster did while the harness ran its Kubernetes drills (molecule/kubernetes verify).

    python -m tests.probes.k8s_drills watch --namespace retail --until results/done --out timeline.json &
    python -m loadtests run --scenario loadtests/scenarios/kubernetes_drills.yaml ... --out run/
    touch results/done
    python -m tests.probes.k8s_drills judge --timeline timeline.json --report run/report.json \\
        --min-replicas 2 --out figures.json

``watch`` samples the tenant's HTTP tier through the cluster's API every
``--interval`` seconds: the Deployment's replica count, the HorizontalPod-
Autoscaler's desired count and CPU reading, and the ready addresses behind the Service
``odoo-http`` (its EndpointSlices, what an ingress routes to). It stops when
the ``--until`` file exists, or after ``--max-seconds``.

``judge`` lays the timeline beside the harness's report (its drills' start
times) and checks what the harness cannot see: the Odoo pods were never all
unready at once during the PostgreSQL leader kill (``--never-empty``), a
node that a drill kills ran one of them then (``--hosted DRILL=NODE``), the
autoscaler added a pod under load (the time from the start of the load to the
higher replica count, and to the new pod ready) and came back to
``--min-replicas`` once the load stopped. Figures go to ``--out``; exit 1 when
a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.probes.odoo_kubernetes import Cluster


def sample(cluster: Cluster, namespace: str) -> dict[str, Any]:
    """One look at the HTTP tier; a field the API did not answer is None."""
    row: dict[str, Any] = {"t": round(time.time(), 2)}
    try:
        row["replicas"] = cluster.deployment(namespace, "odoo-http")["spec"]["replicas"]
    except ApiException:
        row["replicas"] = None
    try:
        hpa = client.AutoscalingV2Api().read_namespaced_horizontal_pod_autoscaler("odoo-http", namespace)
        row["desired"] = hpa.status.desired_replicas if hpa.status else None
        row["cpu"] = cpu_utilization(hpa.status)
    except ApiException:
        row["desired"], row["cpu"] = None, None
    try:
        ready = [e for e in cluster.http_endpoints(namespace) if e["ready"]]
        row["ready"] = len(ready)
        row["nodes"] = sorted({str(e["node"]) for e in ready})
    except ApiException:
        row["ready"], row["nodes"] = None, None
    return row


def cpu_utilization(status: Any) -> int | None:
    """The autoscaler's last CPU reading (percent of the pods' requests), None before it has one."""
    for metric in (status.current_metrics if status else None) or []:
        current = metric.resource.current if metric.type == "Resource" and metric.resource else None
        if current is not None and metric.resource.name == "cpu":
            return current.average_utilization  # type: ignore[no-any-return]
    return None


def watch(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    until = Path(args.until)
    out = Path(args.out)
    rows: list[dict[str, Any]] = []
    deadline = time.time() + args.max_seconds
    while time.time() < deadline and not until.exists():
        rows.append(sample(cluster, args.namespace))
        if len(rows) % 30 == 0:  # a timeline to read even if the run is cut short
            out.write_text(json.dumps({"namespace": args.namespace, "samples": rows}) + "\n")
        time.sleep(args.interval)
    stopped = "until file" if until.exists() else f"after {args.max_seconds} s"
    return {"namespace": args.namespace, "stopped": stopped, "samples": rows}, [] if rows else ["no sample"]


def windows(report: dict[str, Any]) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """Run start and end (epoch seconds), and each drill's window: its start to the next drill's."""
    start = datetime.fromisoformat(report["run"]["started"]).timestamp()
    end = start + float(report["run"]["duration_s"])
    drills = sorted(
        (d for d in report["drills"] if d.get("started_s") is not None), key=lambda d: d["started_s"]
    )
    spans: dict[str, tuple[float, float]] = {}
    for i, d in enumerate(drills):
        until = start + drills[i + 1]["started_s"] if i + 1 < len(drills) else end
        spans[d["name"]] = (start + d["started_s"], until)
    return start, end, spans


def first(rows: list[dict[str, Any]], since: float, test: Any) -> float | None:
    """Seconds from ``since`` to the first sample at or after it that passes ``test``."""
    for row in rows:
        if row["t"] >= since and test(row):
            return round(float(row["t"]) - since, 1)
    return None


def judge(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    rows: list[dict[str, Any]] = json.loads(Path(args.timeline).read_text())["samples"]
    report = json.loads(Path(args.report).read_text())
    start, end, spans = windows(report)
    problems: list[str] = []
    figures: dict[str, Any] = {"samples": len(rows), "drills": {}}
    for name, (a, b) in spans.items():
        seen = [r["ready"] for r in rows if a <= r["t"] <= b and r["ready"] is not None]
        figures["drills"][name] = {
            "window_s": round(b - a, 1),
            "samples": len(seen),
            "min_ready": min(seen, default=None),
        }
    for name in args.never_empty:
        if name not in spans:
            problems.append(f"{name}: the harness's report has no such drill")
            continue
        low = figures["drills"][name]["min_ready"]
        if not figures["drills"][name]["samples"]:
            problems.append(f"{name}: no sample of the HTTP pods inside its window")
        elif low == 0:
            problems.append(f"{name}: every HTTP pod was unready at once inside its window")
    for pair in args.hosted:
        name, _sep, node = pair.partition("=")
        if name not in spans:
            problems.append(f"{name}: the harness's report has no such drill")
            continue
        before = [r for r in rows if r["t"] <= spans[name][0] and r.get("nodes") is not None]
        on_node = bool(before) and node in before[-1]["nodes"]
        figures["drills"][name]["hosted_on_" + node] = on_node
        if not on_node:
            problems.append(f"{name}: no ready HTTP pod on {node} when it started: the drill proved nothing")
    floor = args.min_replicas
    scaled = first(rows, start, lambda r: (r["replicas"] or 0) > floor)
    ready_more = first(rows, start, lambda r: (r["ready"] or 0) > floor)
    back = first(rows, end, lambda r: r["replicas"] == floor)
    figures["autoscaler"] = {
        "min_replicas": floor,
        "max_replicas_seen": max((r["replicas"] or 0 for r in rows), default=0),
        "max_cpu_utilization_seen": max((r.get("cpu") or 0 for r in rows), default=0),
        "load_start_to_more_replicas_s": scaled,
        "load_start_to_more_pods_ready_s": ready_more,
        "load_end_to_min_replicas_s": back,
    }
    if scaled is None:
        problems.append(f"the autoscaler never raised the replicas above {floor} under load")
    if back is None:
        problems.append(f"the replicas did not come back to {floor} after the load (timeline ends first)")
    return figures, problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("probe", choices=["watch", "judge"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--namespace", default="")
    parser.add_argument("--until", default="", help="watch: stop when this file exists")
    parser.add_argument("--max-seconds", type=float, default=1200, help="watch: stop after this long at most")
    parser.add_argument("--interval", type=float, default=1.0, help="watch: seconds between samples")
    parser.add_argument("--timeline", default="", help="judge: the watch's output")
    parser.add_argument("--report", default="", help="judge: the harness's report.json")
    parser.add_argument("--min-replicas", type=int, default=2, help="judge: the autoscaler's lower bound")
    parser.add_argument(
        "--never-empty",
        action="append",
        default=[],
        help="judge: a drill during which some HTTP pod stays ready",
    )
    parser.add_argument(
        "--hosted",
        action="append",
        default=[],
        help="judge: DRILL=NODE, NODE ran a ready HTTP pod as DRILL began",
    )
    args = parser.parse_args()
    if args.probe == "watch":
        if not args.namespace or not args.until:
            parser.error("watch needs --namespace and --until")
        result, problems = watch(Cluster(args.kubeconfig), args)
    else:
        if not args.timeline or not args.report:
            parser.error("judge needs --timeline and --report")
        result, problems = judge(args)
    result["problems"] = problems
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
