"""Preflight: before any load or drill, every persona's operations once against the target.

Discovery (``loadtests.discovery``) finds the records the personas need;
then each active persona's operations run once, through the same code the
simulated users run (``loadtests.operations``), and each keyed write is read
back the way the ledger reconciliation reads it. The result says exactly
what is missing: a module, an open POS session, goods that track inventory,
a customer, an access right. A run whose preflight fails stops here, before
the drills, with that list.

Preflight writes are real (one POS order, one transfer, one invoice, one
partner per persona) and carry a client key of their own preflight run id,
so the load's ledger never counts them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from loadtests import capture
from loadtests.discovery import Catalogue, Discovery, Problem, branches_for, explain, first_line
from loadtests.ledger import Outcome
from loadtests.odoo_client import Classified, OdooClient, OdooRpcError
from loadtests.operations import PERSONAS, Workplace
from loadtests.plan import new_run_id
from loadtests.reconcile import kind_queries
from loadtests.rpc import Caller, Request


@dataclass(frozen=True)
class Call:
    name: str  # model.method
    model: str
    reply: Classified

    @property
    def error(self) -> OdooRpcError | None:
        return OdooRpcError(self.name, self.reply.error) if self.reply.error is not None else None


class PreflightTransport:
    """The operations' transport in the preflight: the plain client; every exchange is kept."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client
        self.calls: list[Call] = []

    def send(self, request: Request) -> Classified:
        c = self.client.exchange(request.path, request.params, write=request.write)
        self.calls.append(Call(request.name, request.model, c))
        return c


@dataclass
class Check:
    persona: str
    operation: str
    ok: bool
    cause: str = ""
    calls: list[str] = field(default_factory=list)


@dataclass
class PreflightResult:
    ok: bool
    run_id: str
    catalogue: Catalogue
    problems: list[Problem]
    checks: list[Check]

    def lines(self) -> list[str]:
        """One screen: the verdict, then each problem with its fix, then each persona's checks."""
        verdict = "passed: the target is ready" if self.ok else "FAILED: the target is not ready"
        out = [f"preflight {verdict}"]
        for p in self.problems:
            out.append(f"  missing: {p.line()}")
        for c in self.checks:
            mark = "ok " if c.ok else "FAIL"
            out.append(f"  [{mark}] {c.persona}: {c.operation}" + (f": {c.cause}" if c.cause else ""))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "run_id": self.run_id,
            "problems": [asdict(p) for p in self.problems],
            "checks": [asdict(c) for c in self.checks],
            "catalogue": self.catalogue.model_dump(),
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2), encoding="utf-8")


class Preflight:
    """The discovery, then each of its personas' operations once, as a login of the target."""

    def __init__(self, discovery: Discovery, login: str, password: str) -> None:
        self.discovery = discovery
        self.client = discovery.client
        self.login = login
        self.password = password
        self.personas = [p for p in PERSONAS if p in discovery.personas]
        # LOADTESTS_CAPTURE records each operation's exchanges under its own label (the lane's captures)
        self.recorder = capture.attach(self.client.http, label="harness.preflight.discovery")

    def run(self) -> PreflightResult:
        run_id = new_run_id()
        try:
            self.client.authenticate(self.login, self.password)
        except (OdooRpcError, requests.RequestException) as exc:
            problem = Problem(
                f"login {self.login!r} to database {self.client.db!r} failed: {exc}",
                "Check --db, --login and ODOO_PASSWORD.",
                tuple(self.personas),
            )
            return PreflightResult(False, run_id, Catalogue(), [problem], [])
        discovery = self.discovery
        catalogue = discovery.run()
        checks: list[Check] = []
        transport = PreflightTransport(self.client)
        caller = Caller(transport, self.client.db, self.login, self.password)
        caller.use_session(self.client.session_info)  # the session the preflight logged in with
        blocked = {p for problem in discovery.problems for p in problem.personas}
        for persona in self.personas:
            if persona in blocked:
                checks.append(
                    Check(persona, "every operation", False, "not run: a record it needs is missing (above)")
                )
                continue
            branch = branches_for(persona, discovery.branches)[0].code
            w = Workplace(run_id, branch, catalogue)
            checks.extend(self.persona_checks(caller, transport, persona, w))
        ok = not discovery.problems and all(c.ok for c in checks)
        return PreflightResult(ok, run_id, catalogue, discovery.problems, checks)

    def persona_checks(
        self, caller: Caller, transport: PreflightTransport, persona: str, w: Workplace
    ) -> list[Check]:
        checks = []
        queries = kind_queries(w.run_id)
        for op in PERSONAS[persona].operations:
            if not op.preflight:
                continue
            if self.recorder:
                self.recorder.label = f"harness.preflight.{persona}.{op.label}"
            before = len(transport.calls)
            key, last = op.run(caller, w)
            calls = transport.calls[before:]
            check = Check(persona, op.label, True, calls=[f"{c.name}: {c.reply.outcome}" for c in calls])
            failed = next((c for c in calls if c.reply.outcome is not Outcome.OK), None)
            if failed is not None:
                check.ok = False
                check.cause = self.cause(failed, persona)
            elif last is None:
                check.ok = False
                check.cause = "nothing to work with (see the missing records above)"
            elif last.outcome is not Outcome.OK:
                check.ok = False
                check.cause = last.detail
            elif op.kind and key and op.kind in queries:
                check.cause = self.read_back(caller, queries[op.kind], key)
                check.ok = not check.cause
            checks.append(check)
        return checks

    def cause(self, call: Call, persona: str) -> str:
        error = call.error
        if error is None:
            return f"{call.name}: {call.reply.detail}"
        return explain(error, call.name, call.model, self.login, (persona,)).cause

    def read_back(self, caller: Caller, query: Any, key: str) -> str:
        """The write, read back as the ledger reconciliation reads it ("" when found once)."""
        domain = [[query.field, "=", key], *[list(t) for t in query.extra]]
        found = caller.call_kw(query.model, "search_count", [domain], tier="ledger")
        if found.outcome is not Outcome.OK:
            return f"the ledger cannot read {query.model} back: {first_line(found.detail)}"
        if found.result != 1:
            return f"acknowledged, but {found.result} {query.model} records carry its key {key!r}"
        return ""
