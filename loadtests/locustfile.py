"""Locust entry point of the harness (``locust -f loadtests/locustfile.py``).

Started by ``python -m loadtests run`` with ``RETAILOPS_RUN_PLAN`` naming the
run plan (the local runner or the master), or by ``python -m loadtests
worker`` (a worker: it asks the master for the plan, ``loadtests.distributed``).
Records one sample per JSON-RPC call (tier, branch, region, link class,
outcome, latency) into the run's samples file, a worker through the master.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtests import distributed
from loadtests.ledger import LedgerWriter
from loadtests.personas import PERSONA_CLASSES, configure
from loadtests.plan import ENV, RunPlan
from loadtests.samples import Sample, SampleWriter

log = logging.getLogger("loadtests")
_state: dict[str, Any] = {"plan": None, "samples": None}

# Locust runs the User classes it finds in this module: one per persona (PosCashier, StoreManager, ...)
globals().update({cls.__name__: cls for cls in PERSONA_CLASSES.values()})


def _source() -> str:
    return f"{os.uname().nodename}-{os.getpid()}"


def _load_plan_file() -> None:
    """The local runner or the master: the plan file the CLI wrote, the run's files on this disk.

    At import, before Locust collects the User classes: ``configure`` makes the
    personas the scenario does not weigh abstract.
    """
    plan = RunPlan.from_env()
    _state["plan"] = plan
    _state["samples"] = SampleWriter(plan.samples_path)
    configure(plan, LedgerWriter(plan.ledger_path, source=_source()))


def _serve_workers(runner: MasterRunner) -> None:
    """The master answers the workers' plan requests, appends their lines to the run's files, and
    drains them when the test stops (before Locust tells them to quit)."""
    plan: RunPlan | None = _state["plan"]
    if plan is None:
        raise RuntimeError(f"the master needs the run plan: {ENV} is not set")
    paths = {distributed.LEDGER: plan.ledger_path, distributed.SAMPLES: plan.samples_path}
    master = distributed.Master(dataclasses.asdict(plan), paths, runner.send_message)
    for name, handler in master.handlers().items():
        runner.register_message(name, handler)

    def drain(environment: Environment, **_: Any) -> None:
        # The users' calls end within the stop timeout; the answers need a few seconds more.
        log.info("draining the workers: %s", ", ".join(sorted(master.planned)) or "none")
        missing = master.finish(float(environment.stop_timeout or 0) + 15, gevent.sleep, time.monotonic)
        if missing:
            log.error("workers %s did not finish: their last ledger lines may be missing", ", ".join(missing))

    runner.environment.events.test_stop.add_listener(drain)  # type: ignore[no-untyped-call]


def _start_as_worker(runner: WorkerRunner) -> None:
    """A worker: register for the plan, then ask the master for it; lines go back to the master."""
    mine = distributed.own_branches()

    def sender(stream: str) -> Callable[[list[str]], None]:
        return lambda lines: runner.send_message(distributed.LINES, {"stream": stream, "lines": lines})

    def on_plan(environment: Environment, msg: Any, **_: Any) -> None:
        plan = RunPlan.from_dict(msg.data)
        if mine:
            served = [b for b in plan.branches if b.code in mine]
            if not served:
                log.error("none of this worker's branches (%s) is in the run plan", ", ".join(sorted(mine)))
                return
            plan = dataclasses.replace(plan, branches=served)
        _state["plan"] = plan
        _state["samples"] = SampleWriter(send=sender(distributed.SAMPLES))
        configure(plan, LedgerWriter(source=_source(), send=sender(distributed.LEDGER)))
        log.info("run plan %s: serving %s", plan.run_id, ", ".join(b.code for b in plan.branches))

    def on_finish(environment: Environment, msg: Any, **_: Any) -> None:
        runner.stop()  # each user ends its call; test_stop flushes the samples
        _flush(environment)
        runner.send_message(distributed.FINISHED, None)
        log.info("finished: users stopped, every ledger line and sample sent to the master")

    runner.register_message(distributed.PLAN, on_plan)
    runner.register_message(distributed.FINISH, on_finish)
    runner.send_message(distributed.PLAN_REQUEST, {"branches": sorted(mine)})


def _init(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        _start_as_worker(environment.runner)
    elif isinstance(environment.runner, MasterRunner):
        _serve_workers(environment.runner)


if os.environ.get(ENV):
    _load_plan_file()


def _record(
    request_type: str, name: str, response_time: float, context: dict[str, Any] | None = None, **_: Any
) -> None:
    ctx = context or {}
    writer: SampleWriter | None = _state["samples"]
    if "outcome" not in ctx or writer is None:
        return
    writer.add(
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
    plan: RunPlan | None = _state["plan"]
    marker = plan.extra.get("started_path") if plan else None
    if marker and not isinstance(environment.runner, WorkerRunner) and not Path(marker).exists():
        Path(marker).write_text(f"{time.time():.3f}\n", encoding="utf-8")


def _flush(environment: Environment, **_: Any) -> None:
    writer: SampleWriter | None = _state["samples"]
    if writer is not None:
        writer.flush()


events.init.add_listener(_init)  # type: ignore[no-untyped-call]
events.request.add_listener(_record)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_mark_start)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_flush)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_flush)  # type: ignore[no-untyped-call]
