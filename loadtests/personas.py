"""Locust users for the people and systems that use the ERP from a branch.

Each user belongs to one branch of the register (chosen by the persona's
branch kinds, spread round-robin), sends its requests to that branch's route
(a Toxiproxy listener with the branch's link profile, forwarding to the
branch's erp_url or --host) and tags every call with branch, region and link
class. Whatever address it connects to, it names the ERP of ``--host`` in the
Host header and the TLS server name. Think times are scaled by the scenario.
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

from loadtests import keys
from loadtests.endpoints import host_header, server_name
from loadtests.ledger import LedgerWriter, Outcome
from loadtests.plan import PlanBranch, RunPlan
from loadtests.pos_order import OrderLine, pos_order
from loadtests.rpc import CallTags, Classified, OdooSession

# which branch kinds each persona works in (falls back to every branch)
PERSONA_KINDS: dict[str, tuple[str, ...]] = {
    "pos_cashier": ("store", "dark_store"),
    "store_manager": ("store", "dark_store"),
    "warehouse_scanner": ("warehouse", "dark_store"),
    "finance": ("office",),
    "reporting": ("office",),
    "integration_api": ("office",),
}


class _Shared:
    """Per-process state: the plan, the ledger writer and the catalogue cache."""

    plan: RunPlan | None = None
    ledger: LedgerWriter | None = None
    cache: ClassVar[dict[str, Any]] = {}
    counters: ClassVar[dict[str, itertools.count[int]]] = {}

    @classmethod
    def setup(cls, plan: RunPlan) -> None:
        cls.plan = plan
        cls.ledger = LedgerWriter(plan.ledger_path, source=f"{os.uname().nodename}-{os.getpid()}")


def pick_branch(persona: str, branches: list[PlanBranch], n: int) -> PlanBranch:
    kinds = PERSONA_KINDS.get(persona, ())
    fitting = [b for b in branches if b.kind in kinds] or branches
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

    def wait_time(self) -> float:
        scale = self.plan.think_time_scale
        return random.uniform(self.think[0] * scale, self.think[1] * scale)

    # -- helpers --------------------------------------------------------------
    def budget(self) -> None:
        self.calls += 1
        if self.calls > self.plan.max_requests_per_user:
            raise StopUser("request budget spent")

    def read(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None, *, tier: str
    ) -> Classified:
        self.budget()
        return self.odoo.call_kw(model, method, args, kwargs, tier=tier)

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

    def cached(self, name: str, loader: Callable[[], Any]) -> Any:
        key = f"{self.host}|{name}"
        if key not in _Shared.cache:
            value = loader()
            if value:
                _Shared.cache[key] = value
            return value
        return _Shared.cache[key]

    def products(self) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            c = self.read(
                "product.product",
                "search_read",
                [],
                {
                    "domain": [["sale_ok", "=", True], ["barcode", "!=", False]],
                    "fields": ["id", "display_name", "barcode", "lst_price"],
                    "limit": 300,
                    "order": "id asc",
                },
                tier="pos_sync",
            )
            return list(c.result or []) if c.outcome is Outcome.OK else []

        return list(self.cached("products", load) or [])

    def warehouse(self) -> dict[str, Any] | None:
        def load() -> list[dict[str, Any]]:
            c = self.read(
                "stock.warehouse",
                "search_read",
                [],
                {"domain": [], "fields": ["id", "name", "code", "lot_stock_id"], "order": "id asc"},
                tier="inventory",
            )
            return list(c.result or []) if c.outcome is Outcome.OK else []

        rows: list[dict[str, Any]] = self.cached("warehouses", load) or []
        found: dict[str, Any] | None = match_branch(rows, self.branch, self.plan.branches)
        return found

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


def match_branch(rows: list[dict[str, Any]], branch: PlanBranch, all_branches: list[PlanBranch]) -> Any:
    """The record of this branch: by branch code in code/name, else by position."""
    if not rows:
        return None
    code = branch.code.lower()
    for row in rows:
        for fld in ("branch_code", "code", "name"):
            value = row.get(fld)
            if isinstance(value, str) and (value.lower() == code or code in value.lower()):
                return row
    idx = [b.code for b in all_branches].index(branch.code) if branch in all_branches else 0
    return rows[idx % len(rows)]


def m2o_id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class PosCashier(BranchUser):
    """A till: scans barcodes, syncs paid orders; keeps unsent orders and re-sends the same uuid."""

    persona = "pos_cashier"
    think = (2.0, 6.0)
    max_offline_tries = 8

    def on_start(self) -> None:
        super().on_start()
        self.session_id: int | None = None
        self.config_id: int | None = None
        self.payment_method_id: int | None = None
        self.pending: list[tuple[dict[str, Any], int]] = []  # (order, tries)
        self.sequence = 0
        self.open_session()

    def open_session(self) -> None:
        c = self.read(
            "pos.config", "search_read", [], {"domain": [], "fields": ["id", "name"]}, tier="pos_sync"
        )
        configs = list(c.result or []) if c.outcome is Outcome.OK else []
        config = match_branch(configs, self.branch, self.plan.branches)
        if config is None:
            return
        self.config_id = int(config["id"])
        sid = self._find_session(["opened"])
        if sid is None:
            self.write("pos.config", "open_ui", [[self.config_id]], tier="pos_sync")
            sid = self._find_session(["opened", "opening_control"])
            if sid is not None:
                self.write("pos.session", "set_opening_control", [[sid], 0, ""], tier="pos_sync")
        self.session_id = sid
        pm = self.read(
            "pos.payment.method",
            "search_read",
            [],
            {"domain": [], "fields": ["id", "name"], "limit": 5},
            tier="pos_sync",
        )
        methods = list(pm.result or []) if pm.outcome is Outcome.OK else []
        self.payment_method_id = int(methods[0]["id"]) if methods else None

    def _find_session(self, states: list[str]) -> int | None:
        c = self.read(
            "pos.session",
            "search_read",
            [],
            {
                "domain": [["config_id", "=", self.config_id], ["state", "in", states]],
                "fields": ["id", "state"],
                "limit": 1,
                "order": "id desc",
            },
            tier="pos_sync",
        )
        rows = list(c.result or []) if c.outcome is Outcome.OK else []
        return int(rows[0]["id"]) if rows else None

    @task(10)
    def scan_barcode(self) -> None:
        products = self.products()
        if not products:
            return
        code = random.choice(products)["barcode"]
        self.read(
            "product.product",
            "search_read",
            [],
            {
                "domain": [["barcode", "=", code]],
                "fields": ["id", "display_name", "lst_price", "barcode"],
                "limit": 1,
            },
            tier="pos_sync",
        )

    @task(6)
    def sell(self) -> None:
        self.flush_offline()
        if self.session_id is None or self.config_id is None:
            self.open_session()
            return
        products = self.products()
        if not products:
            return
        order = self.build_order(random.sample(products, k=min(len(products), random.randint(1, 4))))
        self.send(order, tries=0)

    @task(1)
    def flush_offline(self) -> None:
        queue, self.pending = self.pending, []
        for order, tries in queue:
            self.send(order, tries)

    def send(self, order: dict[str, Any], tries: int) -> None:
        c = self.write(
            "pos.order",
            "sync_from_ui",
            [[order]],
            tier="pos_sync",
            kind="pos.order",
            key=order["uuid"],
            context={"config_id": self.config_id, "login_number": 0},
        )
        if c.outcome is Outcome.OK:
            return
        transient = (
            c.outcome is Outcome.UNKNOWN
            or "connection refused" in c.detail
            or (c.error_name.startswith("psycopg") or "Serialization" in c.error_name)
        )
        if transient and tries + 1 < self.max_offline_tries:
            self.pending.append((order, tries + 1))  # offline: re-sent later with the same uuid

    def build_order(self, products: list[dict[str, Any]]) -> dict[str, Any]:
        self.sequence += 1
        run_id = self.plan.run_id
        lines = [
            OrderLine(
                int(p["id"]),
                random.randint(1, 3),
                float(p.get("lst_price") or 1.0),
                p.get("display_name", ""),
            )
            for p in products
        ]
        return pos_order(
            keys.order_uuid(run_id),
            self.session_id,
            self.config_id,
            lines,
            self.payment_method_id,
            user_id=self.odoo.uid,
            sequence_number=self.sequence,
            new_uuid=lambda: keys.order_uuid(run_id),
        )

    def on_stop(self) -> None:
        # last chance for orders still waiting in the till (bounded: one pass)
        self.flush_offline()


class StoreManager(BranchUser):
    """Checks stock in the store and asks the warehouse for replenishment."""

    persona = "store_manager"
    think = (5.0, 15.0)

    @task(6)
    def stock_check(self) -> None:
        wh = self.warehouse()
        loc = m2o_id(wh.get("lot_stock_id")) if wh else None
        domain: list[Any] = [["location_id", "=", loc]] if loc else [["location_id.usage", "=", "internal"]]
        self.read(
            "stock.quant",
            "search_read",
            [],
            {
                "domain": domain,
                "fields": ["product_id", "location_id", "quantity", "reserved_quantity"],
                "limit": 80,
            },
            tier="inventory",
        )

    @task(3)
    def product_levels(self) -> None:
        products = self.products()
        if products:
            ids = [p["id"] for p in random.sample(products, k=min(10, len(products)))]
            self.read(
                "product.product", "read", [ids, ["id", "display_name", "qty_available"]], tier="inventory"
            )

    @task(1)
    def request_replenishment(self) -> None:
        wh = self.warehouse()
        products = self.products()
        loc = m2o_id(wh.get("lot_stock_id")) if wh else None
        if not loc or not products:
            return
        key = keys.ref(self.plan.run_id, "repl")
        moves = [
            [
                0,
                0,
                {
                    "name": p.get("display_name", ""),
                    "product_id": p["id"],
                    "product_uom_qty": random.randint(1, 12),
                    "location_id": loc,
                    "location_dest_id": loc,
                },
            ]
            for p in random.sample(products, k=min(3, len(products)))
        ]
        self.write(
            "stock.picking",
            "create",
            [
                {
                    "origin": key,
                    "picking_type_code": "internal",
                    "location_id": loc,
                    "location_dest_id": loc,
                    "move_ids": moves,
                }
            ],
            tier="inventory",
            kind="stock.picking",
            key=key,
        )


class WarehouseScanner(BranchUser):
    """Validates pickings that the run's store managers asked for."""

    persona = "warehouse_scanner"
    think = (3.0, 8.0)

    @task(4)
    def list_pickings(self) -> None:
        self.read(
            "stock.picking",
            "search_read",
            [],
            {
                "domain": [["state", "in", ["draft", "confirmed", "assigned"]]],
                "fields": ["id", "name", "state", "origin"],
                "limit": 20,
            },
            tier="inventory",
        )

    @task(3)
    def validate_picking(self) -> None:
        prefix = keys.run_prefix(self.plan.run_id, "repl")
        c = self.read(
            "stock.picking",
            "search_read",
            [],
            {
                "domain": [
                    ["state", "in", ["draft", "confirmed", "assigned"]],
                    ["origin", "=like", prefix + "%"],
                ],
                "fields": ["id", "origin"],
                "limit": 10,
            },
            tier="inventory",
        )
        rows = list(c.result or []) if c.outcome is Outcome.OK else []
        if not rows:
            return
        row = random.choice(rows)
        self.write(
            "stock.picking",
            "button_validate",
            [[row["id"]]],
            tier="inventory",
            kind="stock.picking.done",
            key=str(row["origin"]),
            context={"skip_backorder": True},
        )


class Finance(BranchUser):
    """Posts customer invoices (three times as often at month end) and reads journals."""

    persona = "finance"
    think = (4.0, 12.0)

    @task(3)
    def post_invoice(self) -> None:
        for _i in range(3 if self.plan.month_end else 1):
            self._post_one()

    def _post_one(self) -> None:
        products = self.products()
        if not products:
            return
        key = keys.ref(self.plan.run_id, "inv")
        # line_ids (not invoice_line_ids) and no price_unit: Odoo 18 precomputes the
        # price and the line type from the product, and the double knows these fields
        lines = [
            [0, 0, {"product_id": p["id"], "name": p.get("display_name", ""), "quantity": 1}]
            for p in random.sample(products, k=min(2, len(products)))
        ]
        self.odoo.ledgered("account.move", key, "finance", lambda: self._create_and_post(key, lines))

    def _create_and_post(self, key: str, lines: list[Any]) -> Classified:
        c = self.write(
            "account.move",
            "create",
            [{"move_type": "out_invoice", "ref": key, "partner_id": self.partner_id(), "line_ids": lines}],
            tier="finance",
        )
        if c.outcome is not Outcome.OK or not c.result:
            return c
        move_id = c.result[0] if isinstance(c.result, list) else c.result
        return self.write("account.move", "action_post", [[move_id]], tier="finance")

    def partner_id(self) -> int | bool:
        def load() -> list[dict[str, Any]]:
            c = self.read(
                "res.partner",
                "search_read",
                [],
                {"domain": [], "fields": ["id"], "limit": 20},
                tier="finance",
            )
            return list(c.result or []) if c.outcome is Outcome.OK else []

        rows: list[dict[str, Any]] = self.cached("partners", load) or []
        return int(random.choice(rows)["id"]) if rows else False

    @task(2)
    def journal(self) -> None:
        self.read(
            "account.move",
            "search_read",
            [],
            {
                "domain": [["state", "=", "posted"]],
                "fields": ["id", "name", "ref", "amount_total", "state"],
                "limit": 50,
                "order": "id desc",
            },
            tier="finance",
        )


class Reporting(BranchUser):
    """Heavy reads: sales, stock valuation, journals."""

    persona = "reporting"
    think = (10.0, 30.0)

    @task(3)
    def sales_report(self) -> None:
        self.read(
            "pos.order",
            "search_read",
            [],
            {
                "domain": [["state", "in", ["paid", "done", "invoiced"]]],
                "fields": ["id", "name", "amount_total", "config_id", "date_order"],
                "limit": 500,
                "order": "id desc",
            },
            tier="reporting",
        )

    @task(2)
    def stock_report(self) -> None:
        self.read(
            "stock.quant",
            "search_read",
            [],
            {
                "domain": [["location_id.usage", "=", "internal"]],
                "fields": ["product_id", "location_id", "quantity"],
                "limit": 500,
            },
            tier="reporting",
        )

    @task(1)
    def invoices_report(self) -> None:
        self.read(
            "account.move",
            "search_read",
            [],
            {"domain": [], "fields": ["id", "name", "state", "amount_total"], "limit": 300},
            tier="reporting",
        )


class IntegrationApi(BranchUser):
    """A partner system: bursts of external calls through /jsonrpc execute_kw."""

    persona = "integration_api"
    think = (5.0, 20.0)

    @task(3)
    def catalogue_burst(self) -> None:
        for _i in range(random.randint(3, 10)):
            self.budget()
            self.odoo.execute_kw(
                "product.product",
                "search_read",
                [[["sale_ok", "=", True]]],
                {"fields": ["id", "display_name", "lst_price"], "limit": 50},
                tier="integration",
            )

    @task(1)
    def partner_burst(self) -> None:
        for _i in range(random.randint(2, 6)):
            self.budget()
            key = keys.ref(self.plan.run_id, "partner")
            self.odoo.execute_kw(
                "res.partner",
                "create",
                [{"name": key}],  # the key is the name: a field every Odoo has
                {},
                tier="integration",
                write=True,
                ledger_kind="res.partner",
                ledger_key=key,
            )

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
