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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from loadtests import capture, operations
from loadtests.discovery import BranchRef, Catalogue, Discovery, Problem, branches_for, explain, first_line
from loadtests.ledger import Outcome
from loadtests.odoo_client import OdooClient, OdooRpcError
from loadtests.operations import Workplace
from loadtests.plan import new_run_id
from loadtests.reconcile import kind_queries
from loadtests.rpc import Classified


@dataclass(frozen=True)
class Call:
    name: str  # model.method
    model: str
    outcome: str
    detail: str
    error: OdooRpcError | None = None


class PreflightCaller:
    """``operations.Caller`` over the plain client: every call is recorded, nothing is retried."""

    def __init__(self, client: OdooClient, login: str, password: str) -> None:
        self.client = client
        self.login = login
        self.password = password
        self.calls: list[Call] = []
        self._rpc_uid: int | None = None

    def _record(self, name: str, model: str, fn: Callable[[], Any]) -> Classified:
        try:
            result = fn()
        except OdooRpcError as exc:
            self.calls.append(Call(name, model, "failed", str(exc), exc))
            return Classified(Outcome.FAILED, str(exc), None, exc.code, exc.name)
        except requests.RequestException as exc:
            detail = f"{type(exc).__name__}: {exc}"
            self.calls.append(Call(name, model, "failed", detail))
            return Classified(Outcome.FAILED, detail)
        self.calls.append(Call(name, model, "ok", ""))
        return Classified(Outcome.OK, "", result)

    def read(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        context: dict[str, Any] | None = None,
    ) -> Classified:
        return self._record(
            f"{model}.{method}", model, lambda: self.client.call_kw(model, method, args, kwargs, context)
        )

    def write(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        kind: str = "",
        key: str = "",
        context: dict[str, Any] | None = None,
    ) -> Classified:
        return self.read(model, method, args, kwargs, tier=tier, context=context)

    def integration(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        kind: str = "",
        key: str = "",
    ) -> Classified:
        if self._rpc_uid is None:
            login = self._record(
                "common.login", "res.users", lambda: self.client.login_uid(self.login, self.password)
            )
            if login.outcome is not Outcome.OK or not login.result:
                return Classified(Outcome.FAILED, "common.login refused the harness login")
            self._rpc_uid = int(login.result)
        uid = self._rpc_uid
        return self._record(
            f"{model}.{method} (jsonrpc)",
            model,
            lambda: self.client.execute_kw(
                model, method, args, kwargs, login_uid=uid, password=self.password
            ),
        )

    def ledgered(self, kind: str, key: str, tier: str, send: Callable[[], Classified]) -> Classified:
        return send()


@dataclass
class Check:
    persona: str
    operation: str
    ok: bool
    cause: str = ""
    calls: list[str] = field(default_factory=list)


# persona -> its operations, in the order a preflight runs them; each returns the
# client key of its write (or "") and its last call, None when it had nothing to work with
Op = Callable[[PreflightCaller, Workplace], tuple[str, Classified | None]]


def _plain(fn: Callable[[PreflightCaller, Workplace], Classified | None]) -> Op:
    return lambda c, w: ("", fn(c, w))


def _sell(c: PreflightCaller, w: Workplace) -> tuple[str, Classified | None]:
    order = operations.build_order(w, 1)
    if order is None:
        return "", None
    return str(order["uuid"]), operations.sync_order(c, w, order)


def _keyed(fn: Callable[[PreflightCaller, Workplace], tuple[str, Classified] | None]) -> Op:
    def run(c: PreflightCaller, w: Workplace) -> tuple[str, Classified | None]:
        done = fn(c, w)
        return done if done else ("", None)

    return run


PERSONA_OPERATIONS: dict[str, list[tuple[str, str, Op]]] = {
    # (operation, ledger kind of its write or "", function)
    "pos_cashier": [
        ("barcode lookup", "", _plain(operations.scan_barcode)),
        ("POS order sync", "pos.order", _sell),
    ],
    "store_manager": [
        ("stock check", "", _plain(operations.stock_check)),
        ("product levels", "", _plain(operations.product_levels)),
        ("replenishment transfer", "stock.picking", _keyed(operations.request_replenishment)),
    ],
    "warehouse_scanner": [
        ("open transfers", "", _plain(operations.list_pickings)),
        ("a transfer to validate", "stock.picking", _keyed(operations.request_replenishment)),
        ("transfer validation", "stock.picking.done", _keyed(operations.validate_picking)),
    ],
    "finance": [
        ("customer invoice, posted", "account.move", _keyed(operations.post_invoice)),
        ("journal", "", _plain(operations.journal)),
    ],
    "reporting": [
        ("sales list", "", _plain(operations.sales_report)),
        ("sales per till and day", "", _plain(operations.sales_by_till_and_day)),
        ("stock report", "", _plain(operations.stock_report)),
        ("invoices report", "", _plain(operations.invoices_report)),
    ],
    "integration_api": [
        ("catalogue read (jsonrpc)", "", _plain(operations.catalogue_read)),
        ("partner create (jsonrpc)", "res.partner", _keyed(operations.partner_create)),
    ],
}


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
    def __init__(
        self,
        client: OdooClient,
        login: str,
        password: str,
        personas: Sequence[str],
        branches: Sequence[BranchRef],
        *,
        open_pos_sessions: bool = False,
        log: Callable[[str], None] = print,
    ) -> None:
        self.client = client
        self.login = login
        self.password = password
        self.personas = [p for p in PERSONA_OPERATIONS if p in personas]
        self.branches = list(branches)
        self.open_pos_sessions = open_pos_sessions
        self.log = log
        # LOADTESTS_CAPTURE records each operation's exchanges under its own label (the lane's captures)
        self.recorder = capture.attach(client.http, label="harness.preflight.discovery")

    def run(self) -> PreflightResult:
        run_id = new_run_id()
        try:
            info = self.client.authenticate(self.login, self.password)
        except (OdooRpcError, requests.RequestException) as exc:
            problem = Problem(
                f"login {self.login!r} to database {self.client.db!r} failed: {exc}",
                "Check --db, --login and ODOO_PASSWORD.",
                tuple(self.personas),
            )
            return PreflightResult(False, run_id, Catalogue(), [problem], [])
        discovery = Discovery(
            self.client, self.personas, self.branches, open_pos_sessions=self.open_pos_sessions, log=self.log
        )
        catalogue = discovery.run()
        checks: list[Check] = []
        caller = PreflightCaller(self.client, self.login, self.password)
        uid = int(info["uid"])
        blocked = {p for problem in discovery.problems for p in problem.personas}
        for persona in self.personas:
            if persona in blocked:
                checks.append(
                    Check(persona, "every operation", False, "not run: a record it needs is missing (above)")
                )
                continue
            branch = branches_for(persona, self.branches)[0].code
            w = Workplace(run_id, branch, catalogue, uid=uid)
            checks.extend(self.persona_checks(caller, persona, w))
        ok = not discovery.problems and all(c.ok for c in checks)
        return PreflightResult(ok, run_id, catalogue, discovery.problems, checks)

    def persona_checks(self, caller: PreflightCaller, persona: str, w: Workplace) -> list[Check]:
        checks = []
        queries = kind_queries(w.run_id)
        for name, kind, op in PERSONA_OPERATIONS[persona]:
            if self.recorder:
                self.recorder.label = f"harness.preflight.{persona}.{name}"
            before = len(caller.calls)
            key, last = op(caller, w)
            calls = caller.calls[before:]
            check = Check(persona, name, True, calls=[f"{c.name}: {c.outcome}" for c in calls])
            failed = next((c for c in calls if c.outcome != "ok"), None)
            if failed is not None:
                check.ok = False
                check.cause = self.cause(failed, persona)
            elif last is None:
                check.ok = False
                check.cause = "nothing to work with (see the missing records above)"
            elif kind and key and kind in queries:
                check.cause = self.read_back(caller, queries[kind], key)
                check.ok = not check.cause
            checks.append(check)
        return checks

    def cause(self, call: Call, persona: str) -> str:
        if call.error is None:
            return f"{call.name}: {call.detail}"
        problem = explain(call.error, call.name, call.model, self.login, (persona,))
        return problem.cause

    def read_back(self, caller: PreflightCaller, query: Any, key: str) -> str:
        """The write, read back as the ledger reconciliation reads it ("" when found once)."""
        domain = [[query.field, "=", key], *[list(t) for t in query.extra]]
        found = caller.read(query.model, "search_count", [domain], tier="ledger")
        if found.outcome is not Outcome.OK:
            return f"the ledger cannot read {query.model} back: {first_line(found.detail)}"
        if found.result != 1:
            return f"acknowledged, but {found.result} {query.model} records carry its key {key!r}"
        return ""
