"""Locust workers on the branch nodes: the workers file, and what master and workers say to each other.

With ``run --branch-workers FILE`` the controller runs only the Locust
master; a worker runs on each branch node (``loadtests worker``, started by
``playbooks/validate_pilot.yml``) and its users send their calls from that
node, through the branch's own tunnel, to the ERP entrypoint. A worker holds
no file of the run: it asks the master for the run plan when it starts
(``PLAN_REQUEST`` -> ``PLAN``), keeps the branches it serves, and sends every
ledger line and sample back (``LINES``); the master appends them to the run's
ledger and samples files, so the analysis is the same as for a local run.
At the end the master drains the workers before it quits: it asks each
(``FINISH``), a worker stops its users (each ends its call within Locust's
stop timeout), sends what it still holds and answers ``FINISHED``; lines
travel in order, so the master has every line once it has every answer.
Without this, a worker's last lines arrived after the master had stopped
listening (Locust's master quits 0.5 s after telling the workers), and a
write the ERP saved had no line in the ledger.
The harness password never travels this way: each worker has it in its own
environment (ODOO_PASSWORD).

The workers file (YAML or JSON) names, per branch, the worker that serves it
(default: one worker per branch, named by its code), the ERP entrypoint as
the branch node reaches it, and the Toxiproxy API on that node that carries
its link profile (none: the branch's own link, no emulation)::

    workers:
      - branch: pilot-store-fiber
        erp: https://10.213.20.50:443
        toxiproxy: http://10.213.22.2:8474
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loadtests.endpoints import base_url
from loadtests.jsonl import append_lines

PLAN_REQUEST = "retailops_plan_request"
PLAN = "retailops_plan"
LINES = "retailops_lines"
FINISH = "retailops_finish"
FINISHED = "retailops_finished"
WORKER_BRANCHES = (
    "RETAILOPS_WORKER_BRANCHES"  # the worker's environment: the codes it serves, comma separated
)

LEDGER, SAMPLES = "ledger", "samples"


class WorkersFileError(ValueError):
    pass


class BranchWorker(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    branch: str = Field(min_length=1)
    worker: str = ""  # default: the branch code
    erp: str = Field(min_length=1)  # the ERP entrypoint's URL as the branch node reaches it
    toxiproxy: str = ""  # the Toxiproxy API on the branch node; "" = no link emulation

    @field_validator("erp", "toxiproxy")
    @classmethod
    def _url(cls, value: str) -> str:
        return base_url(value) if value else value  # EndpointError is a ValueError: a field error

    @property
    def name(self) -> str:
        return self.worker or self.branch


class BranchWorkers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: list[BranchWorker] = Field(min_length=1)

    def by_branch(self) -> dict[str, BranchWorker]:
        return {w.branch: w for w in self.workers}

    def names(self) -> list[str]:
        return sorted({w.name for w in self.workers})

    def check(self, branch_codes: list[str], link_emulation: bool) -> None:
        """Every branch of the run has exactly one worker entry and nothing else has one."""
        seen: dict[str, int] = {}
        for w in self.workers:
            seen[w.branch] = seen.get(w.branch, 0) + 1
        problems = [f"branch {code!r} is listed {n} times" for code, n in sorted(seen.items()) if n > 1]
        problems += [f"branch {code!r} has no worker" for code in branch_codes if code not in seen]
        problems += [
            f"branch {code!r} is not in the register" for code in sorted(seen) if code not in branch_codes
        ]
        if link_emulation:
            problems += [
                f"branch {w.branch!r}: toxiproxy is empty (give the Toxiproxy API on its node, or run "
                "with --toxiproxy off)"
                for w in self.workers
                if not w.toxiproxy
            ]
        if problems:
            raise WorkersFileError("workers: " + "; ".join(problems))


def load_workers(path: str | Path) -> BranchWorkers:
    """The workers file, checked; a clear error naming the entry and field otherwise."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WorkersFileError(f"{p}: {exc}") from exc
    try:
        return BranchWorkers.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise WorkersFileError(f"{p}: {where}") from exc


def own_branches() -> set[str]:
    """The branch codes this worker serves (its environment)."""
    return {c.strip() for c in os.environ.get(WORKER_BRANCHES, "").split(",") if c.strip()}


class Master:
    """The master's side: the plan to each worker that asks, the workers' lines to the run's files
    (``paths``: stream -> file), and the drain at the end (:meth:`finish`)."""

    def __init__(self, plan: dict[str, Any], paths: dict[str, str], send: Callable[..., None]) -> None:
        self.plan = plan
        self.paths = paths
        self.send = send
        self.planned: set[str] = set()  # the workers that asked for the plan
        self.finished: set[str] = set()

    def handlers(self) -> dict[str, Callable[..., None]]:
        return {PLAN_REQUEST: self.on_plan_request, LINES: self.on_lines, FINISHED: self.on_finished}

    def on_plan_request(self, environment: Any, msg: Any, **_: Any) -> None:
        self.planned.add(msg.node_id)
        self.send(PLAN, self.plan, client_id=msg.node_id)

    def on_lines(self, environment: Any, msg: Any, **_: Any) -> None:
        stream, lines = msg.data.get("stream"), msg.data.get("lines") or []
        if stream in self.paths:
            append_lines(self.paths[stream], [str(line) for line in lines])

    def on_finished(self, environment: Any, msg: Any, **_: Any) -> None:
        self.finished.add(msg.node_id)

    def finish(self, timeout: float, sleep: Callable[[float], None], clock: Callable[[], float]) -> list[str]:
        """Ask every worker that has the plan to finish, and wait (``sleep``: the caller's, gevent's
        under Locust, so the answers are received meanwhile) until each has answered or `timeout`
        seconds have passed: the workers that did not answer (their last lines may be missing)."""
        for node in sorted(self.planned - self.finished):
            self.send(FINISH, None, client_id=node)
        deadline = clock() + timeout
        while self.planned - self.finished and clock() < deadline:
            sleep(0.1)
        return sorted(self.planned - self.finished)
