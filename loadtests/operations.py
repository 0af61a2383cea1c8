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
  card payment (``loadtests.pos_order``); for a share of the acknowledged
  orders, the receipt attached to the order (``ir.attachment`` ``create``
  with ``datas``: a file in Odoo's filestore);
* reports: ``search_read`` and ``report.pos.order`` ``read_group``.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from loadtests import keys
from loadtests.discovery import Catalogue, Product, Till, Warehouse
from loadtests.ledger import Outcome
from loadtests.odoo_client import Classified
from loadtests.pos_order import OrderLine, pos_order, receipt
from loadtests.rpc import Caller


@dataclass
class Workplace:
    """One user's branch: its view of the catalogue, the run's identity for client keys, its till's queue."""

    run_id: str
    branch: str
    catalogue: Catalogue
    month_end: bool = False
    receipt_share: float = 0.0  # the acknowledged orders whose receipt the till attaches (0..1)
    sequence: int = 0  # the till's order number
    offline: list[tuple[dict[str, Any], int]] = field(default_factory=list)  # orders to re-send, tries

    @property
    def warehouse(self) -> Warehouse | None:
        return self.catalogue.warehouses.get(self.branch)

    @property
    def till(self) -> Till | None:
        return self.catalogue.tills.get(self.branch)

    def sample(self, products: list[Product], low: int, high: int) -> list[Product]:
        return random.sample(products, k=min(len(products), random.randint(low, high))) if products else []


class Done(NamedTuple):
    """What an operation did: the client key of its write ("" for none) and its last call (None:
    nothing to work with, e.g. no open transfer to validate)."""

    key: str = ""
    call: Classified | None = None


def rows(c: Classified) -> list[dict[str, Any]]:
    return list(c.result or []) if c.outcome is Outcome.OK and isinstance(c.result, list) else []


def search_read(
    caller: Caller,
    model: str,
    domain: list[Any],
    fields: list[str],
    *,
    tier: str,
    limit: int,
    order: str = "",
) -> Done:
    kwargs: dict[str, Any] = {"domain": domain, "fields": fields, "limit": limit}
    if order:
        kwargs["order"] = order
    return Done("", caller.call_kw(model, "search_read", [], kwargs, tier=tier))


# ---------------------------------------------------------------- POS cashier

MAX_OFFLINE_TRIES = 8
RECEIPT_SIZE = (1024, 4096)  # bytes of a receipt


def scan_barcode(caller: Caller, w: Workplace) -> Done:
    """The back-office equivalent of a till's barcode lookup (odoo-protocol.md §8)."""
    products = w.catalogue.barcoded or w.catalogue.products
    if not products:
        return Done()
    product = random.choice(products)
    domain = [["barcode", "=", product.barcode]] if product.barcode else [["id", "=", product.id]]
    fields = ["id", "display_name", "lst_price", "barcode"]
    return search_read(caller, "product.product", domain, fields, tier="pos_sync", limit=1)


def build_order(w: Workplace, user_id: int | None) -> dict[str, Any] | None:
    """A paid order of 1-4 products at their list price, paid in full with the till's method."""
    till = w.till
    if till is None or till.session_id is None or till.payment_method_id is None:
        return None
    products = w.sample(w.catalogue.products, 1, 4)
    if not products:
        return None
    w.sequence += 1
    lines = [OrderLine(p.id, random.randint(1, 3), p.price, p.name) for p in products]
    return pos_order(
        keys.order_uuid(w.run_id),
        till.session_id,
        till.config_id,
        lines,
        till.payment_method_id,
        user_id=user_id or False,
        sequence_number=w.sequence,
        new_uuid=lambda: keys.order_uuid(w.run_id),
    )


def sync_order(caller: Caller, w: Workplace, order: dict[str, Any], tries: int = 0) -> Classified:
    """Send a paid order; a till keeps one that may not have arrived and re-sends the same uuid later."""
    till = w.till
    c = caller.call_kw(
        "pos.order",
        "sync_from_ui",
        [[order]],
        tier="pos_sync",
        write=True,
        kind="pos.order",
        key=order["uuid"],
        context={"config_id": till.config_id if till else order.get("config_id"), "login_number": 0},
    )
    transient = c.outcome is Outcome.UNKNOWN or (
        c.outcome is Outcome.FAILED
        and (
            "connection refused" in c.detail
            or c.error_name.startswith("psycopg")
            or "Serialization" in c.error_name
        )
    )
    if transient and tries + 1 < MAX_OFFLINE_TRIES:
        w.offline.append((order, tries + 1))
    return c


def synced_order_id(c: Classified, order_uuid: str) -> int | None:
    """The id Odoo gave the order in its sync_from_ui reply (None: not in it)."""
    records = c.result.get("pos.order") if isinstance(c.result, dict) else None
    for record in records or []:
        if (
            isinstance(record, dict)
            and record.get("uuid") == order_uuid
            and isinstance(record.get("id"), int)
        ):
            return int(record["id"])
    return None


def attach_receipt(caller: Caller, w: Workplace, order: dict[str, Any], synced: Classified) -> Done:
    """The receipt of an acknowledged order attached to it: ``ir.attachment`` named by its key.

    Odoo writes the content to its filestore (``<data_dir>/filestore/<db>/``,
    named by its SHA-1). Never re-sent: creating an attachment is not
    idempotent, so one whose answer was lost stays indeterminate in the
    ledger rather than risking a duplicate.
    """
    order_id = synced_order_id(synced, str(order["uuid"]))
    if order_id is None:
        return Done()
    key = keys.ref(w.run_id, keys.RECEIPT)
    content = receipt(order, key, random.randint(*RECEIPT_SIZE))
    vals = {
        "name": key,
        "datas": base64.b64encode(content).decode(),
        "res_model": "pos.order",
        "res_id": order_id,
    }
    c = caller.call_kw(
        "ir.attachment", "create", [vals], tier="pos_sync", write=True, kind="ir.attachment", key=key
    )
    return Done(key, c)


def sync_with_receipt(caller: Caller, w: Workplace, order: dict[str, Any], tries: int = 0) -> Classified:
    """Sync an order; once acknowledged, attach its receipt for the workplace's share of orders."""
    c = sync_order(caller, w, order, tries)
    if c.outcome is Outcome.OK and random.random() < w.receipt_share:
        attach_receipt(caller, w, order, c)
    return c


def resend_offline(caller: Caller, w: Workplace) -> Done:
    """Re-send the orders the till kept (the same uuids); one pass."""
    queue, w.offline = w.offline, []
    last = None
    for order, tries in queue:
        last = sync_with_receipt(caller, w, order, tries)
    return Done("", last)


def sell(caller: Caller, w: Workplace) -> Done:
    """Re-send what the till kept, then ring up and sync a new paid order."""
    resend_offline(caller, w)
    order = build_order(w, caller.uid)
    if order is None:
        return Done()
    return Done(str(order["uuid"]), sync_with_receipt(caller, w, order))


def sell_with_receipt(caller: Caller, w: Workplace) -> Done:
    """A new paid order and, once acknowledged, its receipt (whatever the share): the preflight's."""
    order = build_order(w, caller.uid)
    if order is None:
        return Done()
    c = sync_order(caller, w, order)
    if c.outcome is not Outcome.OK:
        return Done("", c)
    return attach_receipt(caller, w, order, c)


# ---------------------------------------------------------------- store manager


def stock_check(caller: Caller, w: Workplace) -> Done:
    wh = w.warehouse
    domain: list[Any] = (
        [["location_id", "=", wh.stock_location_id]] if wh else [["location_id.usage", "=", "internal"]]
    )
    fields = ["product_id", "location_id", "quantity", "reserved_quantity"]
    return search_read(caller, "stock.quant", domain, fields, tier="inventory", limit=80)


def product_levels(caller: Caller, w: Workplace) -> Done:
    products = w.sample(w.catalogue.storable or w.catalogue.products, 10, 10)
    if not products:
        return Done()
    context = {"warehouse_id": w.warehouse.id} if w.warehouse else {}
    ids = [p.id for p in products]
    fields = ["id", "display_name", "qty_available"]
    return Done(
        "", caller.call_kw("product.product", "read", [ids, fields], tier="inventory", context=context)
    )


def request_replenishment(caller: Caller, w: Workplace) -> Done:
    """An internal transfer from the warehouse stock to a shelf, keyed by its origin."""
    wh = w.warehouse
    products = w.sample(w.catalogue.storable, 1, 3)
    if wh is None or not products:
        return Done()
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
    c = caller.call_kw(
        "stock.picking", "create", [picking], tier="inventory", write=True, kind="stock.picking", key=key
    )
    return Done(key, c)


# ---------------------------------------------------------------- warehouse scanner

OPEN_PICKING_STATES = ["draft", "confirmed", "waiting", "assigned"]


def list_pickings(caller: Caller, w: Workplace) -> Done:
    domain: list[Any] = [["state", "in", OPEN_PICKING_STATES]]
    if w.warehouse:
        domain.append(["picking_type_id", "=", w.warehouse.internal_type_id])
    fields = ["id", "name", "state", "origin"]
    return search_read(caller, "stock.picking", domain, fields, tier="inventory", limit=20)


def validate_picking(caller: Caller, w: Workplace) -> Done:
    """Validate one open transfer that this run's store managers asked for; its key is the origin."""
    domain = [
        ["state", "in", OPEN_PICKING_STATES],
        ["origin", "=like", keys.run_prefix(w.run_id, "repl") + "%"],
    ]
    found = search_read(caller, "stock.picking", domain, ["id", "origin"], tier="inventory", limit=10)
    open_ones = rows(found.call) if found.call else []
    if not open_ones:
        return Done()
    row = random.choice(open_ones)
    key = str(row["origin"])
    c = caller.call_kw(
        "stock.picking",
        "button_validate",
        [[row["id"]]],
        tier="inventory",
        write=True,
        kind="stock.picking.done",
        key=key,
        context={"skip_backorder": True},
    )
    return Done(key, c)


# ---------------------------------------------------------------- finance


def post_invoice(caller: Caller, w: Workplace) -> Done:
    """A customer invoice with product lines (Odoo prices them), created and posted under one key."""
    customers = w.catalogue.customers
    products = w.sample(w.catalogue.products, 1, 2)
    if not customers or not products:
        return Done()
    key = keys.ref(w.run_id, "inv")
    move = {
        "move_type": "out_invoice",
        "ref": key,
        "partner_id": random.choice(customers),
        "invoice_line_ids": [[0, 0, {"product_id": p.id, "quantity": 1}] for p in products],
    }

    def create_and_post() -> Classified:
        c = caller.call_kw("account.move", "create", [move], tier="finance", write=True)
        if c.outcome is not Outcome.OK or not c.result:
            return c
        move_id = c.result[0] if isinstance(c.result, list) else c.result
        return caller.call_kw("account.move", "action_post", [[move_id]], tier="finance", write=True)

    return Done(key, caller.ledgered("account.move", key, "finance", create_and_post))


def journal(caller: Caller, w: Workplace) -> Done:
    domain = [["state", "=", "posted"], ["move_type", "=", "out_invoice"]]
    fields = ["id", "name", "ref", "amount_total", "state"]
    return search_read(caller, "account.move", domain, fields, tier="finance", limit=50, order="id desc")


# ---------------------------------------------------------------- reporting


def sales_report(caller: Caller, w: Workplace) -> Done:
    domain = [["state", "in", ["paid", "done", "invoiced"]]]
    fields = ["id", "name", "amount_total", "config_id", "date_order"]
    return search_read(caller, "pos.order", domain, fields, tier="reporting", limit=500, order="id desc")


def sales_by_till_and_day(caller: Caller, w: Workplace) -> Done:
    """Point of Sale > Reporting > Orders: quantities and totals per till and day."""
    kwargs = {
        "domain": [],
        "fields": ["product_qty:sum", "price_total:sum"],
        "groupby": ["config_id", "date:day"],
        "lazy": False,
    }
    return Done("", caller.call_kw("report.pos.order", "read_group", [], kwargs, tier="reporting"))


def stock_report(caller: Caller, w: Workplace) -> Done:
    domain = [["location_id.usage", "=", "internal"]]
    fields = ["product_id", "location_id", "quantity"]
    return search_read(caller, "stock.quant", domain, fields, tier="reporting", limit=500)


def invoices_report(caller: Caller, w: Workplace) -> Done:
    domain = [["move_type", "=", "out_invoice"]]
    fields = ["id", "name", "state", "amount_total"]
    return search_read(caller, "account.move", domain, fields, tier="reporting", limit=300)


# ---------------------------------------------------------------- integration API


def catalogue_read(caller: Caller, w: Workplace) -> Done:
    kwargs = {"fields": ["id", "display_name", "lst_price"], "limit": 50}
    domain = [["sale_ok", "=", True]]
    c = caller.call_kw("product.product", "search_read", [domain], kwargs, tier="integration", jsonrpc=True)
    return Done("", c)


def partner_create(caller: Caller, w: Workplace) -> Done:
    key = keys.ref(w.run_id, "partner")
    partner = {"name": key}  # the key is the name: a field every Odoo has
    c = caller.call_kw(
        "res.partner",
        "create",
        [partner],
        tier="integration",
        write=True,
        kind="res.partner",
        key=key,
        jsonrpc=True,
    )
    return Done(key, c)


# ---------------------------------------------------------------- who does what


def once(w: Workplace) -> int:
    return 1


def month_end_triple(w: Workplace) -> int:
    return 3 if w.month_end else 1


def burst(low: int, high: int) -> Callable[[Workplace], int]:
    return lambda w: random.randint(low, high)


@dataclass(frozen=True)
class Operation:
    """One thing a persona does: the preflight runs it once, a simulated user by ``weight``."""

    label: str  # how the preflight names it
    run: Callable[[Caller, Workplace], Done]
    kind: str = ""  # the ledger kind of its write, read back by the preflight
    weight: int = 0  # a simulated user's task weight; 0: the preflight's only
    times: Callable[[Workplace], int] = once  # how many in a row a simulated user does
    preflight: bool = True


@dataclass(frozen=True)
class Persona:
    """Who works from a branch: what they do, and how long a simulated one thinks between two calls."""

    about: str
    think: tuple[float, float]  # seconds, scaled by the scenario
    operations: tuple[Operation, ...]
    web_login: bool = True  # logs in to the web client first (/jsonrpc logs in on its first call)


PERSONAS: dict[str, Persona] = {
    "pos_cashier": Persona(
        "A till: scans barcodes, syncs paid orders (a share with their receipt attached); keeps unsent "
        "orders and re-sends the same uuid.",
        (2.0, 6.0),
        (
            Operation("barcode lookup", scan_barcode, weight=10),
            Operation("POS order sync", sell, "pos.order", weight=6),
            Operation("POS receipt attached", sell_with_receipt, "ir.attachment"),
            Operation("offline orders re-sent", resend_offline, weight=1, preflight=False),
        ),
    ),
    "store_manager": Persona(
        "Checks stock in the store and asks the warehouse for replenishment (an internal transfer).",
        (5.0, 15.0),
        (
            Operation("stock check", stock_check, weight=6),
            Operation("product levels", product_levels, weight=3),
            Operation("replenishment transfer", request_replenishment, "stock.picking", weight=1),
        ),
    ),
    "warehouse_scanner": Persona(
        "Validates the transfers that the run's store managers asked for.",
        (3.0, 8.0),
        (
            Operation("open transfers", list_pickings, weight=4),
            Operation("a transfer to validate", request_replenishment, "stock.picking"),
            Operation("transfer validation", validate_picking, "stock.picking.done", weight=3),
        ),
    ),
    "finance": Persona(
        "Posts customer invoices (three times as many at month end) and reads journals.",
        (4.0, 12.0),
        (
            Operation("customer invoice, posted", post_invoice, "account.move", 3, month_end_triple),
            Operation("journal", journal, weight=2),
        ),
    ),
    "reporting": Persona(
        "Heavy reads: sales per till and day, stock, invoices.",
        (10.0, 30.0),
        (
            Operation("sales list", sales_report, weight=2),
            Operation("sales per till and day", sales_by_till_and_day, weight=1),
            Operation("stock report", stock_report, weight=2),
            Operation("invoices report", invoices_report, weight=1),
        ),
    ),
    "integration_api": Persona(
        "A partner system: bursts of external calls through /jsonrpc execute_kw.",
        (5.0, 20.0),
        (
            Operation("catalogue read (jsonrpc)", catalogue_read, weight=3, times=burst(3, 10)),
            Operation("partner create (jsonrpc)", partner_create, "res.partner", 1, burst(2, 6)),
        ),
        web_login=False,
    ),
}
