"""Counts a Locust process's requests and CPU time, and bounds the requests it may send.

Loaded by both benchmark locustfiles. The measuring window runs from the end
of spawning (every user started) to the start of stopping; CPU time is the
process's user + system time (psutil), so the figure is requests per second
of one generator core. The result is written as JSON to ``BENCH_PROBE_OUT``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gevent
import psutil
from locust.env import Environment
from locust.event import Events


@dataclass(frozen=True)
class Snapshot:
    wall: float
    cpu: float
    requests: int
    failures: int


@dataclass
class Probe:
    out: Path
    max_requests: int
    requests: int = 0
    failures: int = 0
    environment: Environment | None = None
    started: Snapshot | None = None
    spawned: Snapshot | None = None
    stopped: Snapshot | None = None
    quitting: bool = False

    def snapshot(self) -> Snapshot:
        cpu = psutil.Process().cpu_times()
        return Snapshot(time.monotonic(), cpu.user + cpu.system, self.requests, self.failures)

    def on_request(self, exception: BaseException | None = None, **_: Any) -> None:
        self.requests += 1
        if exception is not None:
            self.failures += 1
        if self.requests >= self.max_requests and not self.quitting and self.environment is not None:
            self.quitting = True  # the request bound is reached: stop the whole test now
            runner = self.environment.runner
            if runner is not None:
                gevent.spawn(runner.quit)

    def on_stopping(self, **_: Any) -> None:
        if self.stopped is None:
            self.stopped = self.snapshot()
            self.write()

    def write(self) -> None:
        start = self.spawned or self.started
        end = self.stopped or self.snapshot()
        doc = {
            "pid": os.getpid(),
            "requests": self.requests,
            "failures": self.failures,
            "spawned": self.spawned is not None,
            "window": {
                "wall_s": round(end.wall - start.wall, 3) if start else None,
                "cpu_s": round(end.cpu - start.cpu, 3) if start else None,
                "requests": end.requests - start.requests if start else None,
                "failures": end.failures - start.failures if start else None,
            },
            "start": asdict(start) if start else None,
            "end": asdict(end),
        }
        self.out.write_text(json.dumps(doc, indent=2), encoding="utf-8")

    def install(self, events: Events) -> None:
        def on_init(environment: Environment, **_: Any) -> None:
            self.environment = environment
            self.started = self.snapshot()

        def on_spawned(**_: Any) -> None:
            if self.spawned is None:
                self.spawned = self.snapshot()

        hooks = (
            (events.init, on_init),
            (events.request, self.on_request),
            (events.spawning_complete, on_spawned),
            (events.test_stopping, self.on_stopping),
            (events.test_stop, self.on_stopping),
        )
        for hook, listener in hooks:
            hook.add_listener(listener)  # type: ignore[no-untyped-call]  # locust's EventHook is untyped


def install_from_env(events: Events) -> Probe:
    probe = Probe(Path(os.environ["BENCH_PROBE_OUT"]), int(os.environ.get("BENCH_MAX_REQUESTS", "20000")))
    probe.install(events)
    return probe
