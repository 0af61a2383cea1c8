"""The Kubernetes drill judge: drill windows from the harness's report, the autoscaler's figures."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tests.probes import k8s_drills

START = datetime(2026, 12, 4, 22, 0, tzinfo=UTC).timestamp()


def write(
    tmp_path: Path, rows: Sequence[tuple[float, int, int]], *, duration: float = 100
) -> argparse.Namespace:
    """rows: (seconds after the run's start, replicas, ready addresses); CPU 30 % per replica."""
    timeline = tmp_path / "timeline.json"
    samples = [
        {
            "t": START + t,
            "replicas": n,
            "desired": n,
            "cpu": 30 * n,
            "ready": ready,
            "nodes": ["n1", "n2"][:ready],
        }
        for t, n, ready in rows
    ]
    timeline.write_text(json.dumps({"samples": samples}))
    report = tmp_path / "report.json"
    report.write_text(
        json.dumps(
            {
                "run": {"started": datetime.fromtimestamp(START, UTC).isoformat(), "duration_s": duration},
                "drills": [
                    {"name": "pod_kill", "started_s": 20.0},
                    {"name": "pg_leader_kill", "started_s": 50.0},
                    {"name": "late", "started_s": None},  # never started: no window
                ],
            }
        )
    )
    return argparse.Namespace(
        timeline=str(timeline),
        report=str(report),
        min_replicas=2,
        never_empty=["pg_leader_kill"],
        hosted=["pg_leader_kill=n2"],
    )


def test_windows_figures_and_a_clean_run(tmp_path: Path) -> None:
    rows = [(0, 2, 2), (15, 3, 2), (25, 3, 3), (30, 3, 2), (55, 4, 1), (70, 4, 4), (110, 3, 3), (130, 2, 2)]
    figures, problems = k8s_drills.judge(write(tmp_path, rows))
    assert problems == []
    assert figures["drills"] == {
        "pod_kill": {"window_s": 30.0, "samples": 2, "min_ready": 2},
        "pg_leader_kill": {"window_s": 50.0, "samples": 2, "min_ready": 1, "hosted_on_n2": True},
    }
    assert figures["autoscaler"] == {
        "min_replicas": 2,
        "max_replicas_seen": 4,
        "max_cpu_utilization_seen": 120,
        "load_start_to_more_replicas_s": 15.0,
        "load_start_to_more_pods_ready_s": 25.0,
        "load_end_to_min_replicas_s": 30.0,
    }


def test_every_pod_unready_no_scale_out_and_no_scale_in_are_named(tmp_path: Path) -> None:
    rows = [(0, 2, 2), (40, 2, 1), (60, 2, 0), (70, 2, 2)]
    args = write(tmp_path, rows, duration=60)
    args.min_replicas = 1  # never back to 1
    args.never_empty += ["node_kill"]
    problems = k8s_drills.judge(args)[1]
    assert problems == [
        "pg_leader_kill: every HTTP pod was unready at once inside its window",
        "node_kill: the harness's report has no such drill",
        "pg_leader_kill: no ready HTTP pod on n2 when it started: the drill proved nothing",
        "the replicas did not come back to 1 after the load (timeline ends first)",
    ]
    args.min_replicas = 2
    problems = k8s_drills.judge(args)[1]
    assert "the autoscaler never raised the replicas above 2 under load" in problems


def test_cpu_utilization_reads_the_autoscalers_cpu_metric() -> None:
    from kubernetes.client import (  # noqa: PLC0415
        V2HorizontalPodAutoscalerStatus,
        V2MetricStatus,
        V2MetricValueStatus,
        V2ResourceMetricStatus,
    )

    def status(*metrics: V2MetricStatus) -> V2HorizontalPodAutoscalerStatus:
        return V2HorizontalPodAutoscalerStatus(desired_replicas=2, current_metrics=list(metrics) or None)

    memory = V2MetricStatus(
        type="Resource", resource=V2ResourceMetricStatus(name="memory", current=V2MetricValueStatus())
    )
    cpu = V2MetricStatus(
        type="Resource",
        resource=V2ResourceMetricStatus(name="cpu", current=V2MetricValueStatus(average_utilization=63)),
    )
    assert k8s_drills.cpu_utilization(status(memory, cpu)) == 63
    assert k8s_drills.cpu_utilization(status()) is None  # no reading yet
    assert k8s_drills.cpu_utilization(None) is None
