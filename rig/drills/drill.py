"""One drill's record and the one way a drill runs: fault, measure, rejoin, settle, always cleaned up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

HEALTHY_TIMEOUT = 180.0  # s for the cluster to be whole before and after a drill
GAP_TIMEOUT = 120.0  # s for the writers to write again after a fault
REJOIN_TIMEOUT = 180.0  # s for the old leader or primary to replicate again once back
REJOIN_GOAL = 60.0


@dataclass
class Drill:
    fault: str
    preset: str
    number: int
    started: float = 0.0
    ok: bool = False
    error: str = ""
    old: str = ""
    new: str = ""
    etcd_leader_on_old: bool | None = None
    gap_s: float | None = None
    first_write_s: float | None = None
    phases: dict[str, float | None] = field(default_factory=dict)
    parts: dict[str, float | None] = field(default_factory=dict)
    fence_s: float | None = None
    rejoin_s: float | None = None
    rewound: bool | None = None  # the old leader rejoined through pg_rewind
    writers: dict[str, dict[str, Any]] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Run(Protocol):
    def fault(self) -> None: ...
    def measure(self) -> None: ...
    def rejoin(self) -> None: ...
    def settle(self) -> None: ...
    def cleanup(self) -> None: ...


def perform(drill: Drill, run: Run) -> Drill:
    """The drill's steps in order; an error ends it, recorded, and the fault is always undone."""
    try:
        run.fault()
        run.measure()
        run.rejoin()
        run.settle()
    except Exception as exc:  # a failed drill is recorded, the campaign goes on
        drill.error = f"{type(exc).__name__}: {exc}"
    finally:
        run.cleanup()
    return drill
