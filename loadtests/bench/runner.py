"""Run Locust processes at the same time, each bounded, and take each one's CPU time when it exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Generator:
    name: str
    locustfile: Path
    logs: Path
    proc: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    cpu_s: float = 0.0
    probe: dict[str, Any] = field(default_factory=dict)

    @property
    def probe_path(self) -> Path:
        return self.logs / f"{self.name}.probe.json"

    def argv(self, users: int, seconds: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(self.locustfile),
            "--headless",
            "--only-summary",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--stop-timeout",
            "5",
            "--logfile",
            str(self.logs / f"{self.name}.locust.log"),
            "--loglevel",
            "WARNING",
        ]

    def reap(self, block: bool) -> bool:
        """Collect the exit status and CPU time (rusage of the exited child); True once it has exited."""
        if self.proc is None or self.exit_code is not None:
            return True
        pid, status, usage = os.wait4(self.proc.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        self.exit_code = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.exit_code
        self.cpu_s = usage.ru_utime + usage.ru_stime
        return True


def run_side_by_side(
    generators: list[Generator], env: dict[str, str], users: int, seconds: int, cwd: Path
) -> dict[str, Generator]:
    """Start every generator at once; a generator still running 60 s after its time is killed."""
    for g in generators:
        console = (g.logs / f"{g.name}.console.log").open("wb")
        g.proc = subprocess.Popen(
            g.argv(users, seconds),
            cwd=cwd,
            env={**env, "BENCH_PROBE_OUT": str(g.probe_path)},
            stdout=console,
            stderr=subprocess.STDOUT,
        )
        console.close()
    deadline = time.monotonic() + seconds + 60
    while not all(g.reap(block=False) for g in generators):
        if time.monotonic() > deadline:
            for g in generators:
                if g.exit_code is None and g.proc is not None:
                    g.proc.send_signal(signal.SIGKILL)
                    g.reap(block=True)
            break
        time.sleep(0.2)
    for g in generators:
        g.probe = json.loads(g.probe_path.read_text()) if g.probe_path.exists() else {}
    return {g.name: g for g in generators}
