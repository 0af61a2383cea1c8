"""Discover, from the Odoo under test, the ids each persona works with.

A real store works with its own records: its warehouse and stock location,
the operation type of its internal transfers, goods that track inventory,
customers to invoice, and a POS till with an open session. None of that is
the same from one database to the next, so the harness asks the target once,
before any load, and every simulated user reads the answer from the run plan.

Whatever is missing is a :class:`Problem` naming the cause and the personas
it stops, so the preflight can say "POS config 'Clothes Shop' (branch S002)
has no open session" instead of a NO-GO full of errors. Odoo 18 facts used
here (checked on 18.0-20250702 with demo data): ``stock.picking`` needs a
``picking_type_id`` (the warehouse's ``int_type_id`` for internal transfers,
usable even when archived), goods that move stock have ``is_storable``,
``combo`` products need combo lines (never sold here), a ``pay_later``
payment method needs a customer on the order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from pydantic import BaseModel

from loadtests.odoo_client import OdooClient, OdooRpcError

T = TypeVar("T")

# which branch kinds each persona works in (falls back to every branch)
PERSONA_KINDS: dict[str, tuple[str, ...]] = {
    "pos_cashier": ("store", "dark_store"),
    "store_manager": ("store", "dark_store"),
    "warehouse_scanner": ("warehouse", "dark_store"),
    "finance": ("office",),
    "reporting": ("office",),
    "integration_api": ("office",),
}

# the module a model comes from: an unknown model means that module is not installed
MODEL_MODULE = {
    "pos.config": "point_of_sale",
    "pos.session": "point_of_sale",
    "pos.order": "point_of_sale",
    "pos.payment.method": "point_of_sale",
    "report.pos.order": "point_of_sale",
    "stock.warehouse": "stock",
    "stock.location": "stock",
    "stock.picking": "stock",
    "stock.quant": "stock",
    "account.move": "account",
    "account.journal": "account",
}

# fields a module adds to a model the personas read: an unknown one means that module is missing
FIELD_MODULE = {
    "available_in_pos": "point_of_sale",
    "is_storable": "stock",
    "qty_available": "stock",
    "customer_rank": "account",
    "tracking": "stock",
}
_INVALID_FIELD = re.compile(r"Invalid field '?([\w.]+?)'?(?: on model| in leaf|$)")

PRODUCT_LIMIT = 300


class Product(BaseModel):
    id: int
    name: str
    price: float
    barcode: str = ""
    storable: bool = False


class Warehouse(BaseModel):
    id: int
    name: str
    code: str
    stock_location_id: int
    internal_type_id: int
    replenish_location_id: int  # where a store manager's internal transfer goes (a child of the stock)


class Till(BaseModel):
    config_id: int
    config_name: str
    session_id: int | None
    session_state: str
    payment_method_id: int | None


class Catalogue(BaseModel):
    """What the personas work with; branch codes map to their warehouse and POS till."""

    company_id: int | None = None
    warehouses: dict[str, Warehouse] = {}
    products: list[Product] = []
    customers: list[int] = []
    tills: dict[str, Till] = {}

    @property
    def storable(self) -> list[Product]:
        return [p for p in self.products if p.storable]

    @property
    def barcoded(self) -> list[Product]:
        return [p for p in self.products if p.barcode]


@dataclass(frozen=True)
class Problem:
    """Something the target lacks: the cause, how to fix it, and the personas it stops."""

    cause: str
    fix: str
    personas: tuple[str, ...]

    def line(self) -> str:
        return f"{self.cause} (stops: {', '.join(self.personas)})." + (f" {self.fix}" if self.fix else "")


class BranchRef(Protocol):
    """The part of a branch discovery needs (PlanBranch and register Branch both fit)."""

    @property
    def code(self) -> str: ...

    @property
    def kind(self) -> str: ...


B = TypeVar("B", bound=BranchRef)


def branches_for(persona: str, branches: Sequence[B]) -> list[B]:
    """The branches a persona's users are spread over: its kinds, else every branch."""
    kinds = PERSONA_KINDS.get(persona, ())
    return [b for b in branches if b.kind in kinds] or list(branches)


def match_rows(rows: Sequence[dict[str, Any]], code: str, position: int) -> dict[str, Any]:
    """The record of a branch: one whose code or name carries the branch code, else by position."""
    low = code.lower()
    for row in rows:
        for fld in ("code", "name"):
            value = row.get(fld)
            if isinstance(value, str) and low in value.lower():
                return row
    return rows[position % len(rows)]


def m2o_id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class Discovery:
    """Asks the target for each persona's records; collects problems instead of stopping at the first."""

    def __init__(
        self,
        client: OdooClient,
        personas: Sequence[str],
        branches: Sequence[BranchRef],
        *,
        open_pos_sessions: bool = False,
        log: Callable[[str], None] = print,
    ) -> None:
        self.client = client
        self.personas = tuple(personas)
        self.branches = list(branches)
        self.open_pos_sessions = open_pos_sessions
        self.log = log
        self.problems: list[Problem] = []

    # ------------------------------------------------------------------ helpers
    def needs(self, *personas: str) -> tuple[str, ...]:
        return tuple(p for p in personas if p in self.personas)

    def ask(self, what: str, model: str, personas: tuple[str, ...], fn: Callable[[], T]) -> T | None:
        """Run one read; an Odoo error becomes a Problem naming the module or the access right."""
        try:
            return fn()
        except OdooRpcError as exc:
            self.problems.append(explain(exc, what, model, self.client_login, personas))
        except requests.RequestException as exc:
            self.problems.append(
                Problem(f"{what}: the target did not answer ({exc})", "Check --host.", personas)
            )
        return None

    @property
    def client_login(self) -> str:
        return str(self.client.session_info.get("username") or self.client.session_info.get("name") or "")

    def company_domain(self) -> list[Any]:
        company = self.client.company_id
        return [["company_id", "in", [company, False]]] if company else []

    # ------------------------------------------------------------------ discovery
    def run(self) -> Catalogue:
        cat = Catalogue(company_id=self.client.company_id)
        stock_users = self.needs("store_manager", "warehouse_scanner")
        if stock_users:
            cat.warehouses = self.warehouses(stock_users)
        cat.products = self.products()
        if "finance" in self.personas:
            cat.customers = self.customers()
        if "pos_cashier" in self.personas:
            cat.tills = self.tills()
        if self.needs("store_manager") and cat.products and not cat.storable:
            self.problems.append(
                Problem(
                    "no product that tracks inventory (is_storable) is available in the POS",
                    "Mark goods as 'Track Inventory' (product type Goods) so replenishment moves stock.",
                    self.needs("store_manager"),
                )
            )
        return cat

    def warehouses(self, personas: tuple[str, ...]) -> dict[str, Warehouse]:
        rows = self.ask(
            "warehouses",
            "stock.warehouse",
            personas,
            lambda: self.client.search_read(
                "stock.warehouse",
                [["company_id", "=", self.client.company_id]] if self.client.company_id else [],
                ["id", "name", "code", "lot_stock_id", "int_type_id"],
            ),
        )
        if rows is None:
            return {}
        if not rows:
            self.problems.append(
                Problem(
                    "the login's company has no warehouse",
                    "Create a warehouse (Inventory > Configuration > Warehouses).",
                    personas,
                )
            )
            return {}
        found: dict[str, Warehouse] = {}
        for i, branch in enumerate(self.branches):
            row = match_rows(rows, branch.code, i)
            stock = m2o_id(row.get("lot_stock_id"))
            internal = m2o_id(row.get("int_type_id"))
            if stock is None or internal is None:
                self.problems.append(
                    Problem(
                        f"warehouse {row.get('name')!r} has no stock location or internal operation type",
                        "Check the warehouse's configuration in Inventory.",
                        personas,
                    )
                )
                return {}
            found[branch.code] = Warehouse(
                id=int(row["id"]),
                name=str(row.get("name") or ""),
                code=str(row.get("code") or ""),
                stock_location_id=stock,
                internal_type_id=internal,
                replenish_location_id=self.replenish_location(stock, personas),
            )
        return found

    def replenish_location(self, stock: int, personas: tuple[str, ...]) -> int:
        """A shelf under the warehouse stock (an internal transfer needs somewhere to go), else the stock."""
        rows = self.ask(
            "stock locations",
            "stock.location",
            personas,
            lambda: self.client.search_read(
                "stock.location", [["location_id", "=", stock], ["usage", "=", "internal"]], ["id"], limit=1
            ),
        )
        return int(rows[0]["id"]) if rows else stock

    def products(self) -> list[Product]:
        users = self.needs("pos_cashier", "store_manager", "finance", "integration_api")
        if not users:
            return []
        rows = self.ask(
            "products",
            "product.product",
            users,
            lambda: self.client.search_read(
                "product.product",
                # no combo (needs combo lines) and no lot/serial tracking (needs lot numbers on moves)
                [
                    ["sale_ok", "=", True],
                    ["available_in_pos", "=", True],
                    ["type", "!=", "combo"],
                    ["tracking", "=", "none"],
                ],
                ["id", "display_name", "barcode", "lst_price", "is_storable"],
                limit=PRODUCT_LIMIT,
            ),
        )
        if rows is None:
            return []
        if not rows:
            self.problems.append(
                Problem(
                    "no product is both sellable and available in the POS",
                    "Tick 'Sales' and 'Available in POS' on the products the stores sell.",
                    users,
                )
            )
        return [
            Product(
                id=int(r["id"]),
                name=str(r.get("display_name") or ""),
                price=float(r.get("lst_price") or 0.0),
                barcode=str(r.get("barcode") or ""),
                storable=bool(r.get("is_storable")),
            )
            for r in rows
        ]

    def customers(self) -> list[int]:
        rows = self.ask(
            "customers",
            "res.partner",
            ("finance",),
            lambda: self.client.search_read("res.partner", [["customer_rank", ">", 0]], ["id"], limit=20),
        )
        if rows is None:
            return []
        if not rows:
            self.problems.append(
                Problem(
                    "no customer (a partner with customer_rank > 0) to invoice",
                    "Create a customer, or invoice one once so Odoo ranks it as a customer.",
                    ("finance",),
                )
            )
        return [int(r["id"]) for r in rows]

    # ------------------------------------------------------------------ POS tills
    def tills(self) -> dict[str, Till]:
        personas = ("pos_cashier",)
        fields = ["id", "name", "current_session_id", "current_session_state", "payment_method_ids"]
        configs = self.ask(
            "POS configurations",
            "pos.config",
            personas,
            lambda: self.client.search_read("pos.config", self.company_domain(), fields),
        )
        if configs is None:
            return {}
        if not configs:
            self.problems.append(
                Problem(
                    "no POS configuration",
                    "Create a Point of Sale per store (Point of Sale > Configuration).",
                    personas,
                )
            )
            return {}
        tills: dict[str, Till] = {}
        for i, branch in enumerate(branches_for("pos_cashier", self.branches)):
            row = match_rows(configs, branch.code, i)
            till = self.till(row, branch.code)
            if till.session_id is None and self.open_pos_sessions:
                self.open_session(till.config_id, till.config_name, branch.code)
                rows = self.client.search_read("pos.config", [["id", "=", till.config_id]], fields)
                till = self.till(rows[0], branch.code)
            if till.session_id is None:
                self.problems.append(
                    Problem(
                        f"POS config {till.config_name!r} (branch {branch.code}) has no open session "
                        f"(state: {till.session_state or 'none'})",
                        "Open the session in Odoo (Point of Sale > Open Register), or let the harness "
                        "open it with --open-pos-sessions.",
                        personas,
                    )
                )
            elif till.payment_method_id is None:
                self.problems.append(
                    Problem(
                        f"POS config {till.config_name!r} (branch {branch.code}) has no cash or bank "
                        "payment method",
                        "Add a Cash or Card payment method to the Point of Sale.",
                        personas,
                    )
                )
            tills[branch.code] = till
        return tills

    def till(self, row: dict[str, Any], branch: str) -> Till:
        state = str(row.get("current_session_state") or "")
        session = m2o_id(row.get("current_session_id")) if state == "opened" else None
        return Till(
            config_id=int(row["id"]),
            config_name=str(row.get("name") or ""),
            session_id=session,
            session_state=state,
            payment_method_id=self.payment_method([int(i) for i in row.get("payment_method_ids") or []]),
        )

    def payment_method(self, ids: list[int]) -> int | None:
        """Cash if the till has it, else a bank (card) method; never pay-later (it needs a customer)."""
        if not ids:
            return None
        rows = self.ask(
            "POS payment methods",
            "pos.payment.method",
            ("pos_cashier",),
            lambda: self.client.search_read(
                "pos.payment.method", [["id", "in", ids]], ["id", "type", "is_cash_count"]
            ),
        )
        usable = [r for r in rows or [] if r.get("type") in ("cash", "bank")]
        usable.sort(key=lambda r: (not r.get("is_cash_count"), int(r["id"])))
        return int(usable[0]["id"]) if usable else None

    def open_session(self, config_id: int, name: str, branch: str) -> None:
        """Open the till's session as a store does at opening: open_ui, then the opening control."""
        self.log(f"opening the POS session of {name!r} (branch {branch})")
        try:
            self.client.call_kw("pos.config", "open_ui", [[config_id]])
            rows = self.client.search_read(
                "pos.session",
                [["config_id", "=", config_id], ["state", "=", "opening_control"]],
                ["id"],
                order="id desc",
                limit=1,
            )
            if rows:
                self.client.call_kw("pos.session", "set_opening_control", [[rows[0]["id"]], 0, ""])
        except OdooRpcError as exc:
            self.problems.append(
                Problem(
                    f"could not open the POS session of {name!r} (branch {branch}): {exc.message}",
                    "Open it in Odoo, or give the harness login the Point of Sale user right.",
                    ("pos_cashier",),
                )
            )


def explain(exc: OdooRpcError, what: str, model: str, login: str, personas: tuple[str, ...]) -> Problem:
    """An Odoo error on a discovery or preflight call, as a cause an operator can act on."""
    who = f"login {login!r}" if login else "the harness login"
    if exc.code == 404 or "doesn't exist" in exc.message:
        module = MODEL_MODULE.get(model, "")
        cause = f"{what}: model {model} does not exist" + (
            f": the module {module} is not installed" if module else ""
        )
        fix = f"Install {module} in the database." if module else "Install the module that provides it."
        return Problem(cause, fix, personas)
    if exc.name.endswith(("AccessError", "AccessDenied")):
        return Problem(
            f"{what}: {who} lacks the access rights for {model}: {first_line(exc.message)}",
            "Give the login the rights of the role it plays (e.g. Inventory / User, Point of Sale / User, "
            "Invoicing / Billing).",
            personas,
        )
    invalid = _INVALID_FIELD.search(exc.message) if exc.name == "builtins.ValueError" else None
    if invalid:
        field = invalid.group(1).rsplit(".", 1)[-1]
        module = FIELD_MODULE.get(field, "")
        if module:
            return Problem(
                f"{what}: the field {field} of {model} does not exist: the module {module} is not installed",
                f"Install {module} in the database.",
                personas,
            )
    if exc.code == 100:
        return Problem(f"{what}: the session expired or the login was refused", "Check --login.", personas)
    return Problem(f"{what}: Odoo refused {model}: {exc.name}: {first_line(exc.message)}", "", personas)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
