"""Locust entry point of the harness (``locust -f loadtests/locustfile.py``).

Started by ``python -m loadtests run`` with ``RETAILOPS_RUN_PLAN`` naming the
run plan. Records one sample per JSON-RPC call (tier, branch, region, link
class, outcome, latency) into the run's samples file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtests.personas import PERSONA_CLASSES, configure
from loadtests.plan import RunPlan
from loadtests.samples import Sample, SampleWriter

PLAN = RunPlan.from_env()
configure(PLAN)
_writer = SampleWriter(PLAN.samples_path)

# Locust runs the User classes it finds in this module: one per persona (PosCashier, StoreManager, ...)
globals().update({cls.__name__: cls for cls in PERSONA_CLASSES.values()})


def _record(
    request_type: str, name: str, response_time: float, context: dict[str, Any] | None = None, **_: Any
) -> None:
    ctx = context or {}
    if "outcome" not in ctx:
        return
    _writer.add(
        Sample(
            time.time(),
            request_type,
            name,
            str(ctx.get("branch", "")),
            str(ctx.get("region", "")),
            str(ctx.get("link", "")),
            str(ctx["outcome"]),
            float(response_time or 0.0),
        )
    )


def _mark_start(environment: Environment, **_: Any) -> None:
    """The CLI times the drill timeline from this mark (written once, by the master or the local runner)."""
    marker = PLAN.extra.get("started_path")
    if marker and not isinstance(environment.runner, WorkerRunner) and not Path(marker).exists():
        Path(marker).write_text(f"{time.time():.3f}\n", encoding="utf-8")


def _flush_on_stop(environment: Environment, **_: Any) -> None:
    _writer.flush()


def _flush_on_quit(environment: Environment, **_: Any) -> None:
    _writer.flush()


events.request.add_listener(_record)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_mark_start)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_flush_on_stop)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_flush_on_quit)  # type: ignore[no-untyped-call]
