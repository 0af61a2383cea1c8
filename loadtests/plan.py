"""The run plan: what the CLI hands to every Locust process (master and workers).

Written as JSON next to the results and named by ``RETAILOPS_RUN_PLAN`` for
the local runner or the master; a worker gets it from the master
(``loadtests.distributed``) and keeps the branches it serves.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENV = "RETAILOPS_RUN_PLAN"


@dataclass(frozen=True)
class PlanBranch:
    code: str
    name: str
    region: str
    kind: str
    tier: str
    link_class: str  # fiber / broadband / lte / lte_flapping
    url: str  # where this branch's users connect (a Toxiproxy listener, else the upstream itself)
    upstream: str = ""  # the ERP as seen from the branch: its vars.erp_url, else --host
    proxy: str = ""  # the Toxiproxy proxy of its route (link class, upstream); "" without Toxiproxy


@dataclass(frozen=True)
class RunPlan:
    run_id: str  # 8 hex digits; prefixes every client key of the run
    host: str
    db: str
    login: str
    password: str
    personas: dict[str, int]
    branches: list[PlanBranch]
    ledger_path: str
    samples_path: str
    think_time_scale: float = 1.0
    month_end: bool = False
    pos_receipt_share: float = 0.0  # the scenario's: acknowledged orders with a receipt attached
    max_requests_per_user: int = 100000
    network_timeout: float = 30.0
    erp_name: str = ""  # the ERP's DNS name the users send (Host, TLS server name); "" = --host's host
    extra: dict[str, str] = field(default_factory=dict)
    catalogue: dict[str, Any] = field(default_factory=dict)  # loadtests.discovery.Catalogue, discovered

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> RunPlan:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        """The plan from its JSON form (the file, or the master's answer to a worker)."""
        return cls(**{**data, "branches": [PlanBranch(**b) for b in data["branches"]]})

    @classmethod
    def from_env(cls) -> RunPlan:
        path = os.environ.get(ENV)
        if not path:
            raise RuntimeError(f"{ENV} is not set; start Locust through `python -m loadtests run`")
        return cls.load(path)


def new_run_id() -> str:
    return secrets.token_hex(4)
