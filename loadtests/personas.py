"""Locust users for the people and systems that use the ERP from a branch.

Each user belongs to one branch of the register (chosen by the persona's
branch kinds, spread round-robin), sends its requests to that branch's route
(a Toxiproxy listener with the branch's link profile, forwarding to the
branch's erp_url or --host) and tags every call with branch, region and link
class. Whatever address it connects to, it names the ERP of ``--host`` in the
Host header and the TLS server name. Think times are scaled by the scenario.

What a user does is in ``loadtests.operations`` (shared with the preflight);
the ids it works with (its warehouse, till, products, customers) were
discovered from the target before the load and travel in the run plan.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable
from typing import Any, ClassVar

import gevent.ssl
from geventhttpclient.client import HTTPClientPool
from locust import task
from locust.contrib.fasthttp import FastHttpUser, insecure_ssl_context_factory
from locust.exception import StopUser

from loadtests import operations
from loadtests.discovery import Catalogue, branches_for
from loadtests.endpoints import host_header, server_name
from loadtests.ledger import LedgerWriter, Outcome
from loadtests.operations import Workplace
from loadtests.plan import PlanBranch, RunPlan
from loadtests.rpc import CallTags, Classified, OdooSession


class _Shared:
    """Per-process state: the plan, its catalogue and the ledger writer."""

    plan: RunPlan | None = None
    catalogue: Catalogue = Catalogue()
    ledger: LedgerWriter | None = None
    counters: ClassVar[dict[str, itertools.count[int]]] = {}

    @classmethod
    def setup(cls, plan: RunPlan) -> None:
        cls.plan = plan
        cls.catalogue = Catalogue.model_validate(plan.catalogue)
        cls.ledger = LedgerWriter(plan.ledger_path, source=f"{os.uname().nodename}-{os.getpid()}")


def pick_branch(persona: str, branches: list[PlanBranch], n: int) -> PlanBranch:
    fitting = branches_for(persona, branches)
    return fitting[n % len(fitting)]


class BranchUser(FastHttpUser):
    """Base persona: logs in, belongs to a branch, bounded number of calls."""

    abstract = True
    persona = "base"
    think: tuple[float, float] = (1.0, 3.0)
    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        plan = _Shared.plan
        if plan is None:
            raise StopUser("no run plan loaded")
        n = next(_Shared.counters.setdefault(self.persona, itertools.count()))
        self.plan = plan
        self.branch = pick_branch(self.persona, plan.branches, n)
        self.host = self.branch.url or plan.host
        self.network_timeout = plan.network_timeout
        self.default_headers, self.client_pool = erp_identity(plan.host, self.host, self)
        super().__init__(environment)
        self.calls = 0
        self.odoo = OdooSession(
            self.client,
            plan.db,
            plan.login,
            plan.password or os.environ.get("ODOO_PASSWORD", ""),
            CallTags(self.branch.code, self.branch.region, self.branch.link_class),
            _Shared.ledger,
        )
        self.workplace = Workplace(plan.run_id, self.branch.code, _Shared.catalogue, month_end=plan.month_end)

    def wait_time(self) -> float:
        scale = self.plan.think_time_scale
        return random.uniform(self.think[0] * scale, self.think[1] * scale)

    # -- the Caller of loadtests.operations -------------------------------------
    def budget(self) -> None:
        self.calls += 1
        if self.calls > self.plan.max_requests_per_user:
            raise StopUser("request budget spent")

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
        self.budget()
        return self.odoo.call_kw(model, method, args, kwargs, tier=tier, context=context)

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
        self.budget()
        return self.odoo.call_kw(
            model,
            method,
            args,
            kwargs,
            tier=tier,
            write=True,
            ledger_kind=kind,
            ledger_key=key,
            context=context,
        )

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
        self.budget()
        return self.odoo.execute_kw(
            model, method, args, kwargs, tier=tier, write=bool(key), ledger_kind=kind, ledger_key=key
        )

    def ledgered(self, kind: str, key: str, tier: str, send: Callable[[], Classified]) -> Classified:
        return self.odoo.ledgered(kind, key, tier, send)

    def on_start(self) -> None:
        self.odoo.authenticate()


def erp_identity(
    erp: str, connect_to: str, user: FastHttpUser
) -> tuple[dict[str, str], HTTPClientPool | None]:
    """The ``Host`` header and, for HTTPS, a client pool sending the ERP's name as TLS server name (SNI).

    ``erp`` is ``--host``, ``connect_to`` where the user connects (a Toxiproxy
    listener, a branch relay by IP, or ``erp`` itself). Traefik routes by the
    Host header and picks its certificate by SNI, so both carry the ERP's name
    whatever the address. The certificate is not verified (FastHttpUser's
    ``insecure``, as before). For an ERP named by an IP address no SNI is
    sent (TLS has no SNI for IPs).
    """
    headers = {"Host": host_header(erp)}
    name = server_name(erp)
    if not name or not connect_to.startswith("https:"):
        return headers, None
    pool = HTTPClientPool(
        network_timeout=user.network_timeout,
        connection_timeout=user.connection_timeout,
        concurrency=user.concurrency,
        insecure=user.insecure,
        ssl_context_factory=user.ssl_context_factory
        or (insecure_ssl_context_factory if user.insecure else gevent.ssl.create_default_context),
        ssl_options={"server_hostname": name},
    )
    return headers, pool


class PosCashier(BranchUser):
    """A till: scans barcodes, syncs paid orders; keeps unsent orders and re-sends the same uuid."""

    persona = "pos_cashier"
    think = (2.0, 6.0)
    max_offline_tries = 8

    def on_start(self) -> None:
        super().on_start()
        self.pending: list[tuple[dict[str, Any], int]] = []  # (order, tries)
        self.sequence = 0

    @task(10)
    def scan_barcode(self) -> None:
        operations.scan_barcode(self, self.workplace)

    @task(6)
    def sell(self) -> None:
        self.flush_offline()
        self.sequence += 1
        self.workplace.uid = self.odoo.uid
        order = operations.build_order(self.workplace, self.sequence)
        if order is not None:
            self.send(order, tries=0)

    @task(1)
    def flush_offline(self) -> None:
        queue, self.pending = self.pending, []
        for order, tries in queue:
            self.send(order, tries)

    def send(self, order: dict[str, Any], tries: int) -> None:
        c = operations.sync_order(self, self.workplace, order)
        if c.outcome is Outcome.OK:
            return
        transient = (
            c.outcome is Outcome.UNKNOWN
            or "connection refused" in c.detail
            or (c.error_name.startswith("psycopg") or "Serialization" in c.error_name)
        )
        if transient and tries + 1 < self.max_offline_tries:
            self.pending.append((order, tries + 1))  # offline: re-sent later with the same uuid

    def on_stop(self) -> None:
        # last chance for orders still waiting in the till (bounded: one pass)
        self.flush_offline()


class StoreManager(BranchUser):
    """Checks stock in the store and asks the warehouse for replenishment (an internal transfer)."""

    persona = "store_manager"
    think = (5.0, 15.0)

    @task(6)
    def stock_check(self) -> None:
        operations.stock_check(self, self.workplace)

    @task(3)
    def product_levels(self) -> None:
        operations.product_levels(self, self.workplace)

    @task(1)
    def request_replenishment(self) -> None:
        operations.request_replenishment(self, self.workplace)


class WarehouseScanner(BranchUser):
    """Validates the transfers that the run's store managers asked for."""

    persona = "warehouse_scanner"
    think = (3.0, 8.0)

    @task(4)
    def list_pickings(self) -> None:
        operations.list_pickings(self, self.workplace)

    @task(3)
    def validate_picking(self) -> None:
        operations.validate_picking(self, self.workplace)


class Finance(BranchUser):
    """Posts customer invoices (three times as often at month end) and reads journals."""

    persona = "finance"
    think = (4.0, 12.0)

    @task(3)
    def post_invoice(self) -> None:
        for _i in range(3 if self.plan.month_end else 1):
            operations.post_invoice(self, self.workplace)

    @task(2)
    def journal(self) -> None:
        operations.journal(self, self.workplace)


class Reporting(BranchUser):
    """Heavy reads: sales per till and day, stock, invoices."""

    persona = "reporting"
    think = (10.0, 30.0)

    @task(2)
    def sales_report(self) -> None:
        operations.sales_report(self, self.workplace)

    @task(1)
    def sales_by_till_and_day(self) -> None:
        operations.sales_by_till_and_day(self, self.workplace)

    @task(2)
    def stock_report(self) -> None:
        operations.stock_report(self, self.workplace)

    @task(1)
    def invoices_report(self) -> None:
        operations.invoices_report(self, self.workplace)


class IntegrationApi(BranchUser):
    """A partner system: bursts of external calls through /jsonrpc execute_kw."""

    persona = "integration_api"
    think = (5.0, 20.0)

    @task(3)
    def catalogue_burst(self) -> None:
        for _i in range(random.randint(3, 10)):
            operations.catalogue_read(self, self.workplace)

    @task(1)
    def partner_burst(self) -> None:
        for _i in range(random.randint(2, 6)):
            operations.partner_create(self, self.workplace)

    def on_start(self) -> None:
        pass  # /jsonrpc logs in with common.login on the first call


PERSONA_CLASSES: dict[str, type[BranchUser]] = {
    c.persona: c for c in (PosCashier, StoreManager, WarehouseScanner, Finance, Reporting, IntegrationApi)
}


def configure(plan: RunPlan) -> list[type[BranchUser]]:
    """Set weights from the plan; personas without weight become abstract (not spawned)."""
    _Shared.setup(plan)
    active = []
    for name, cls in PERSONA_CLASSES.items():
        weight = plan.personas.get(name, 0)
        cls.weight = max(weight, 1)
        cls.abstract = weight <= 0
        if weight > 0:
            active.append(cls)
    return active
