"""What each persona does in Odoo 18, written once for the load and for the preflight.

Every operation takes a :class:`Caller` (a Locust user during the load, a
plain JSON-RPC caller in the preflight) and the :class:`Workplace` of the
branch it works in (ids discovered from the target, ``loadtests.discovery``).
The calls are those a real store makes against Odoo 18's own models:

* replenishment: an internal transfer (``stock.picking`` with the
  warehouse's internal operation type, moves with a description) from the
  warehouse stock to a shelf, validated by the warehouse with
  ``button_validate`` (``skip_backorder``);
* invoicing: an ``out_invoice`` with a customer and product lines, then
  ``action_post`` (Odoo refuses one without either);
* POS: ``pos.order.sync_from_ui`` with the till's open session and a cash or
  card payment (``loadtests.pos_order``);
* reports: ``search_read`` and ``report.pos.order`` ``read_group``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from loadtests import keys
from loadtests.discovery import Catalogue, Product, Till, Warehouse
from loadtests.ledger import Outcome
from loadtests.pos_order import OrderLine, pos_order
from loadtests.rpc import Classified


class Caller(Protocol):
    def read(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        context: dict[str, Any] | None = None,
    ) -> Classified: ...

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
    ) -> Classified: ...

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
    ) -> Classified: ...

    def ledgered(self, kind: str, key: str, tier: str, send: Callable[[], Classified]) -> Classified: ...


@dataclass
class Workplace:
    """One branch's view of the catalogue, and the run's identity for client keys."""

    run_id: str
    branch: str
    catalogue: Catalogue
    uid: int | None = None
    month_end: bool = False

    @property
    def warehouse(self) -> Warehouse | None:
        return self.catalogue.warehouses.get(self.branch)

    @property
    def till(self) -> Till | None:
        return self.catalogue.tills.get(self.branch)

    def sample(self, products: list[Product], low: int, high: int) -> list[Product]:
        return random.sample(products, k=min(len(products), random.randint(low, high))) if products else []


def rows(c: Classified) -> list[dict[str, Any]]:
    return list(c.result or []) if c.outcome is Outcome.OK and isinstance(c.result, list) else []


# ---------------------------------------------------------------- POS cashier


def scan_barcode(caller: Caller, w: Workplace) -> Classified | None:
    """The back-office equivalent of a till's barcode lookup (odoo-protocol.md §8)."""
    products = w.catalogue.barcoded or w.catalogue.products
    if not products:
        return None
    product = random.choice(products)
    domain = [["barcode", "=", product.barcode]] if product.barcode else [["id", "=", product.id]]
    return caller.read(
        "product.product",
        "search_read",
        [],
        {"domain": domain, "fields": ["id", "display_name", "lst_price", "barcode"], "limit": 1},
        tier="pos_sync",
    )


def build_order(w: Workplace, sequence: int) -> dict[str, Any] | None:
    """A paid order of 1-4 products at their list price, paid in full with the till's method."""
    till = w.till
    if till is None or till.session_id is None or till.payment_method_id is None:
        return None
    products = w.sample(w.catalogue.products, 1, 4)
    if not products:
        return None
    lines = [OrderLine(p.id, random.randint(1, 3), p.price, p.name) for p in products]
    return pos_order(
        keys.order_uuid(w.run_id),
        till.session_id,
        till.config_id,
        lines,
        till.payment_method_id,
        user_id=w.uid or False,
        sequence_number=sequence,
        new_uuid=lambda: keys.order_uuid(w.run_id),
    )


def sync_order(caller: Caller, w: Workplace, order: dict[str, Any]) -> Classified:
    till = w.till
    return caller.write(
        "pos.order",
        "sync_from_ui",
        [[order]],
        tier="pos_sync",
        kind="pos.order",
        key=order["uuid"],
        context={"config_id": till.config_id if till else order.get("config_id"), "login_number": 0},
    )


# ---------------------------------------------------------------- store manager


def stock_check(caller: Caller, w: Workplace) -> Classified:
    wh = w.warehouse
    domain: list[Any] = (
        [["location_id", "=", wh.stock_location_id]] if wh else [["location_id.usage", "=", "internal"]]
    )
    return caller.read(
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


def product_levels(caller: Caller, w: Workplace) -> Classified | None:
    products = w.sample(w.catalogue.storable or w.catalogue.products, 10, 10)
    if not products:
        return None
    context = {"warehouse_id": w.warehouse.id} if w.warehouse else {}
    return caller.read(
        "product.product",
        "read",
        [[p.id for p in products], ["id", "display_name", "qty_available"]],
        tier="inventory",
        context=context,
    )


def request_replenishment(caller: Caller, w: Workplace) -> tuple[str, Classified] | None:
    """An internal transfer from the warehouse stock to a shelf, keyed by its origin."""
    wh = w.warehouse
    products = w.sample(w.catalogue.storable, 1, 3)
    if wh is None or not products:
        return None
    key = keys.ref(w.run_id, "repl")
    moves = [
        [
            0,
            0,
            {
                "name": p.name or key,
                "product_id": p.id,
                "product_uom_qty": random.randint(1, 12),
                "location_id": wh.stock_location_id,
                "location_dest_id": wh.replenish_location_id,
            },
        ]
        for p in products
    ]
    picking = {
        "picking_type_id": wh.internal_type_id,
        "origin": key,
        "location_id": wh.stock_location_id,
        "location_dest_id": wh.replenish_location_id,
        "move_ids": moves,
    }
    c = caller.write("stock.picking", "create", [picking], tier="inventory", kind="stock.picking", key=key)
    return key, c


# ---------------------------------------------------------------- warehouse scanner

OPEN_PICKING_STATES = ["draft", "confirmed", "waiting", "assigned"]


def list_pickings(caller: Caller, w: Workplace) -> Classified:
    domain: list[Any] = [["state", "in", OPEN_PICKING_STATES]]
    if w.warehouse:
        domain.append(["picking_type_id", "=", w.warehouse.internal_type_id])
    return caller.read(
        "stock.picking",
        "search_read",
        [],
        {"domain": domain, "fields": ["id", "name", "state", "origin"], "limit": 20},
        tier="inventory",
    )


def validate_picking(caller: Caller, w: Workplace) -> tuple[str, Classified] | None:
    """Validate one open transfer that this run's store managers asked for; its key is the origin."""
    found = caller.read(
        "stock.picking",
        "search_read",
        [],
        {
            "domain": [
                ["state", "in", OPEN_PICKING_STATES],
                ["origin", "=like", keys.run_prefix(w.run_id, "repl") + "%"],
            ],
            "fields": ["id", "origin"],
            "limit": 10,
        },
        tier="inventory",
    )
    open_ones = rows(found)
    if not open_ones:
        return None
    row = random.choice(open_ones)
    key = str(row["origin"])
    c = caller.write(
        "stock.picking",
        "button_validate",
        [[row["id"]]],
        tier="inventory",
        kind="stock.picking.done",
        key=key,
        context={"skip_backorder": True},
    )
    return key, c


# ---------------------------------------------------------------- finance


def post_invoice(caller: Caller, w: Workplace) -> tuple[str, Classified] | None:
    """A customer invoice with product lines (Odoo prices them), created and posted under one key."""
    customers = w.catalogue.customers
    products = w.sample(w.catalogue.products, 1, 2)
    if not customers or not products:
        return None
    key = keys.ref(w.run_id, "inv")
    move = {
        "move_type": "out_invoice",
        "ref": key,
        "partner_id": random.choice(customers),
        "invoice_line_ids": [[0, 0, {"product_id": p.id, "quantity": 1}] for p in products],
    }

    def create_and_post() -> Classified:
        c = caller.write("account.move", "create", [move], tier="finance")
        if c.outcome is not Outcome.OK or not c.result:
            return c
        move_id = c.result[0] if isinstance(c.result, list) else c.result
        return caller.write("account.move", "action_post", [[move_id]], tier="finance")

    return key, caller.ledgered("account.move", key, "finance", create_and_post)


def journal(caller: Caller, w: Workplace) -> Classified:
    return caller.read(
        "account.move",
        "search_read",
        [],
        {
            "domain": [["state", "=", "posted"], ["move_type", "=", "out_invoice"]],
            "fields": ["id", "name", "ref", "amount_total", "state"],
            "limit": 50,
            "order": "id desc",
        },
        tier="finance",
    )


# ---------------------------------------------------------------- reporting


def sales_report(caller: Caller, w: Workplace) -> Classified:
    return caller.read(
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


def sales_by_till_and_day(caller: Caller, w: Workplace) -> Classified:
    """Point of Sale > Reporting > Orders: quantities and totals per till and day."""
    return caller.read(
        "report.pos.order",
        "read_group",
        [],
        {
            "domain": [],
            "fields": ["product_qty:sum", "price_total:sum"],
            "groupby": ["config_id", "date:day"],
            "lazy": False,
        },
        tier="reporting",
    )


def stock_report(caller: Caller, w: Workplace) -> Classified:
    return caller.read(
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


def invoices_report(caller: Caller, w: Workplace) -> Classified:
    return caller.read(
        "account.move",
        "search_read",
        [],
        {
            "domain": [["move_type", "=", "out_invoice"]],
            "fields": ["id", "name", "state", "amount_total"],
            "limit": 300,
        },
        tier="reporting",
    )


# ---------------------------------------------------------------- integration API


def catalogue_read(caller: Caller, w: Workplace) -> Classified:
    return caller.integration(
        "product.product",
        "search_read",
        [[["sale_ok", "=", True]]],
        {"fields": ["id", "display_name", "lst_price"], "limit": 50},
        tier="integration",
    )


def partner_create(caller: Caller, w: Workplace) -> tuple[str, Classified]:
    key = keys.ref(w.run_id, "partner")
    return key, caller.integration(
        "res.partner",
        "create",
        [{"name": key}],  # the key is the name: a field every Odoo has
        {},
        tier="integration",
        kind="res.partner",
        key=key,
    )
