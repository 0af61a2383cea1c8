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
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import gevent.event
import gevent.ssl
from geventhttpclient.client import HTTPClientPool
from locust import TaskSet
from locust.contrib.fasthttp import FastHttpUser, insecure_ssl_context_factory
from locust.exception import StopUser

from loadtests import operations
from loadtests.discovery import Catalogue, branches_for
from loadtests.endpoints import host_header, server_name
from loadtests.ledger import LedgerWriter
from loadtests.operations import PERSONAS, Operation, Persona, Workplace
from loadtests.plan import PlanBranch, RunPlan
from loadtests.rpc import Caller, CallTags, FastHttpTransport


class _Shared:
    """Per-process state: the plan, its catalogue and the ledger writer (set by :func:`configure`)."""

    plan: RunPlan | None = None
    catalogue: Catalogue = Catalogue()
    ledger: LedgerWriter | None = None
    counters: ClassVar[dict[str, itertools.count[int]]] = {}
    ready = gevent.event.Event()

    @classmethod
    def setup(cls, plan: RunPlan, ledger: LedgerWriter) -> None:
        cls.plan = plan
        cls.catalogue = Catalogue.model_validate(plan.catalogue)
        cls.ledger = ledger
        cls.ready.set()


PLAN_WAIT = 60.0  # s a worker's first users wait for the master's answer with the plan


def pick_branch(persona: str, branches: list[PlanBranch], n: int) -> PlanBranch:
    fitting = branches_for(persona, branches)
    return fitting[n % len(fitting)]


class BranchUser(FastHttpUser):
    """Base persona: logs in, belongs to a branch, bounded number of calls.

    One subclass per persona (:func:`user_class`): its tasks are the persona's
    operations (``loadtests.operations.PERSONAS``) by weight, each called with
    the user's :class:`Caller` and :class:`Workplace`.
    """

    abstract = True
    persona = "base"
    think: tuple[float, float] = (1.0, 3.0)
    network_timeout = 30.0
    connection_timeout = 10.0

    def __init__(self, environment: Any) -> None:
        _Shared.ready.wait(PLAN_WAIT)
        plan = _Shared.plan
        if plan is None:
            raise StopUser(f"no run plan {PLAN_WAIT:.0f} s after the user started")
        n = next(_Shared.counters.setdefault(self.persona, itertools.count()))
        self.plan = plan
        self.branch = pick_branch(self.persona, plan.branches, n)
        self.host = self.branch.url or plan.host
        self.network_timeout = plan.network_timeout
        self.default_headers, self.client_pool = erp_identity(
            named(plan.host, plan.erp_name), self.host, self
        )
        super().__init__(environment)
        self.calls = 0
        self.odoo = Caller(
            FastHttpTransport(self.client),
            plan.db,
            plan.login,
            plan.password or os.environ.get("ODOO_PASSWORD", ""),
            tags=CallTags(self.branch.code, self.branch.region, self.branch.link_class),
            ledger=_Shared.ledger,
            before_call=self.budget,
        )
        self.workplace = Workplace(
            plan.run_id,
            self.branch.code,
            _Shared.catalogue,
            month_end=plan.month_end,
            receipt_share=plan.pos_receipt_share,
        )

    def wait_time(self) -> float:
        scale = self.plan.think_time_scale
        return random.uniform(self.think[0] * scale, self.think[1] * scale)

    def budget(self) -> None:
        self.calls += 1
        if self.calls > self.plan.max_requests_per_user:
            raise StopUser("request budget spent")

    def on_start(self) -> None:
        if PERSONAS[self.persona].web_login:
            self.odoo.authenticate()

    def on_stop(self) -> None:
        # last chance for orders still waiting in a till (bounded: one pass)
        if self.workplace.offline:
            operations.resend_offline(self.odoo, self.workplace)


def tasks_of(persona: Persona) -> list[TaskSet | Callable[..., Any]]:
    """A persona's operations as Locust tasks, each as often as its weight (as Locust lists them)."""

    def task_of(op: Operation) -> Callable[[BranchUser], None]:
        def run(user: BranchUser) -> None:
            for _i in range(op.times(user.workplace)):
                op.run(user.odoo, user.workplace)

        run.__name__ = op.run.__name__
        return run

    return [task for op in persona.operations for task in [task_of(op)] * op.weight]


def user_class(name: str, persona: Persona) -> type[BranchUser]:
    """The Locust user of a persona: ``PosCashier`` for ``pos_cashier``."""
    attrs = {"persona": name, "think": persona.think, "tasks": tasks_of(persona), "__doc__": persona.about}
    cls = type(
        "".join(part.title() for part in name.split("_")), (BranchUser,), {"__module__": __name__, **attrs}
    )
    return cast(type[BranchUser], cls)


def named(host: str, name: str) -> str:
    """``host`` (a URL) with its host replaced by the ERP DNS name ``name``, its port kept; else ``host``."""
    if not name:
        return host
    parts = urlsplit(host)
    return parts._replace(netloc=f"{name}:{parts.port}" if parts.port else name).geturl()


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


PERSONA_CLASSES = {name: user_class(name, persona) for name, persona in PERSONAS.items()}


def configure(plan: RunPlan, ledger: LedgerWriter) -> list[type[BranchUser]]:
    """Set weights from the plan; personas without weight become abstract (not spawned)."""
    _Shared.setup(plan, ledger)
    active = []
    for name, cls in PERSONA_CLASSES.items():
        weight = plan.personas.get(name, 0)
        cls.weight = max(weight, 1)
        cls.abstract = weight <= 0
        if weight > 0:
            active.append(cls)
    return active
