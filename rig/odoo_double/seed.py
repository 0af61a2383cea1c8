"""Seed data shaped like an Odoo 18 retail database, for a harness that discovers its ids.

* one company (US), its currency, users, and customers (``customer_rank`` > 0);
* per warehouse (``--warehouses``): a view location, ``WHn/Stock`` with a
  ``Shelf 1`` under it, and the operation types Odoo creates (Receipts,
  Delivery Orders, PoS Orders active; Pick and Internal Transfers archived,
  as when multi-step routes are off, yet usable by id), named from their
  own sequences (``WH1/OUT/00001``);
* ``--products`` products: seven in ten storable goods with an EAN-13 barcode
  and ``--stock`` units in every warehouse, two in ten goods that do not
  track inventory, one in ten services (half of them sold in the POS), and
  a combo when there are twenty products or more;
* journals (Customer Invoices ``INV`` of type sale, with gapless names),
  payment methods (a bank Card and a pay-later Customer Account shared by
  every till, one Cash method per till);
* one POS config per ``--branches`` code, named ``Branch <code>``, on the
  warehouses in turn, with an opened session unless ``--no-open-sessions``.

Test-only credentials (documented in README.md):
  admin / admin                         uid 2, administrator
  cashier_<branch> / cashier_<branch>   one POS user per branch code
uid 1 is __system__ (inactive, no password), as in Odoo.
"""

from __future__ import annotations

import secrets
import shutil
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .attachment import filestore_of
from .auth import hash_password
from .config import Config
from .schema import TABLES, drop_ir_sequences, ensure_schema
from .sequences import create_sequence

Cursor = psycopg.Cursor[Any]
CUSTOMERS = (("Azure Retail", 3), ("Deco Stores", 8), ("Gemini Furniture", 1))
JOURNALS = (
    ("Customer Invoices", "INV", "sale"),
    ("Vendor Bills", "BILL", "purchase"),
    ("Miscellaneous Operations", "MISC", "general"),
    ("Point of Sale", "POSS", "general"),
    ("Bank", "BNK1", "bank"),
    ("Cash", "CSH1", "cash"),
)
#: (name, code, sequence code, source, destination, active); source/destination: stock, supplier, customer
PICKING_TYPES = (
    ("Receipts", "incoming", "IN", "supplier", "stock", True),
    ("Delivery Orders", "outgoing", "OUT", "stock", "customer", True),
    ("Pick", "internal", "PICK", "stock", "stock", False),
    ("Internal Transfers", "internal", "INT", "stock", "stock", False),
    ("PoS Orders", "outgoing", "POS", "stock", "customer", True),
)
TYPE_FIELDS = {
    "IN": "in_type_id",
    "OUT": "out_type_id",
    "PICK": "pick_type_id",
    "INT": "int_type_id",
    "POS": "pos_type_id",
}


@dataclass
class SeedSpec:
    products: int = 100
    warehouses: int = 1
    branches: tuple[str, ...] = ("B001",)
    stock: int = 1000
    open_sessions: bool = True
    reset: bool = False


def ean13(number: int) -> str:
    """An EAN-13 in the in-store range (prefix 2) with its check digit."""
    body = f"2{number:011d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def product_kind(index: int, count: int) -> str:
    """storable, goods (no inventory), service, pos_service or combo, deterministically by index."""
    if count >= 20 and index == count:
        return "combo"
    slot = index % 10
    if 1 <= slot <= 7:
        return "storable"
    if slot in (8, 9):
        return "goods"
    return "pos_service" if index % 20 == 10 else "service"


def create_database(cfg: Config, dbname: str) -> bool:
    with psycopg.connect(**cfg.dsn_kwargs("postgres"), autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return False
        conn.execute(
            sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(dbname))
        )
        return True


def seed(cfg: Config, spec: SeedSpec) -> dict[str, Any]:
    if not cfg.db_name:
        raise SystemExit("odoo.conf: option 'db_name' must name the database to seed")
    dbname = cfg.db_name.split(",")[0].strip()
    create_database(cfg, dbname)
    with psycopg.connect(**cfg.dsn_kwargs(dbname), connect_timeout=10) as conn:
        ensure_schema(conn, cfg.double_pos_uuid_unique)
        with conn.transaction(), conn.cursor() as cr:
            cr.execute("SELECT pg_advisory_xact_lock(18181)")
            if spec.reset:
                cr.execute(("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE").encode())
                drop_ir_sequences(cr)
                cr.execute("ALTER SEQUENCE pos_session_name_seq RESTART")
            cr.execute("SELECT count(*) FROM res_users")
            row = cr.fetchone()
            if not row or not row[0]:
                _seed(cr, cfg, spec)
        if spec.reset:  # the attachments' files go with their rows, as when Odoo drops a database
            shutil.rmtree(filestore_of(cfg.data_dir, dbname), ignore_errors=True)
        return summary(conn, dbname)


def _one(cr: Cursor, query: str, params: tuple[Any, ...] = ()) -> int:
    cr.execute(query.encode(), params)
    row = cr.fetchone()
    assert row is not None
    return int(row[0])


def _seed(cr: Cursor, cfg: Config, spec: SeedSpec) -> None:
    _base(cr, cfg, spec)
    locations = _common_locations(cr)
    warehouses = [_warehouse(cr, n, locations) for n in range(1, spec.warehouses + 1)]
    _products(cr, spec, warehouses)
    journals = {code: _journal(cr, name, code, kind) for name, code, kind in JOURNALS}
    shared = _shared_payment_methods(cr, journals)
    for index, branch in enumerate(spec.branches):
        _pos_config(cr, branch, warehouses[index % len(warehouses)], journals, shared, spec.open_sessions)


def _base(cr: Cursor, cfg: Config, spec: SeedSpec) -> None:
    params = {
        "database.secret": secrets.token_hex(32),
        "database.uuid": str(uuid.uuid4()),
        "base.login_cooldown_after": "5",
        "base.login_cooldown_duration": "60",
    }
    for key, value in params.items():
        cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", (key, value))
    cr.execute("INSERT INTO res_company (id, name, country_code) VALUES (1, 'RetailOps Test Company', 'US')")
    cr.execute("SELECT setval('res_company_id_seq', 1)")
    cr.execute("INSERT INTO res_currency (name, symbol) VALUES ('USD', '$')")
    users: list[tuple[str, str | None, str, bool, bool]] = [
        ("__system__", None, "OdooBot", False, True),
        ("admin", "admin", "Mitchell Admin", True, True),
    ]
    users += [
        (f"cashier_{b.lower()}", f"cashier_{b.lower()}", f"Cashier {b}", True, False) for b in spec.branches
    ]
    for login, password, name, active, admin in users:
        partner = _one(cr, "INSERT INTO res_partner (name, company_id) VALUES (%s, 1) RETURNING id", (name,))
        cr.execute(
            "INSERT INTO res_users (login, password, partner_id, company_id, active, is_admin) "
            "VALUES (%s, %s, %s, 1, %s, %s)",
            (
                login,
                hash_password(password, cfg.double_password_rounds) if password else None,
                partner,
                active,
                admin,
            ),
        )
    for name, rank in CUSTOMERS:
        cr.execute("INSERT INTO res_partner (name, customer_rank) VALUES (%s, %s)", (name, rank))
    cr.execute("INSERT INTO uom_uom (name) VALUES ('Units')")


def _location(cr: Cursor, name: str, usage: str, parent: int | None, warehouse: int | None = None) -> int:
    complete = name
    if parent is not None:
        cr.execute("SELECT complete_name FROM stock_location WHERE id = %s", (parent,))
        row = cr.fetchone()
        complete = f"{row[0]}/{name}" if row else name
    return _one(
        cr,
        "INSERT INTO stock_location (name, complete_name, usage, location_id, warehouse_id, company_id) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (name, complete, usage, parent, warehouse, 1 if warehouse else None),
    )


def _common_locations(cr: Cursor) -> dict[str, int]:
    partners = _location(cr, "Partners", "view", None)
    virtual = _location(cr, "Virtual Locations", "view", None)
    return {
        "customer": _location(cr, "Customers", "customer", partners),
        "supplier": _location(cr, "Vendors", "supplier", partners),
        "inventory": _location(cr, "Inventory adjustment", "inventory", virtual),
    }


def _warehouse(cr: Cursor, number: int, common: dict[str, int]) -> dict[str, int]:
    code = f"WH{number}"
    wh = _one(
        cr,
        "INSERT INTO stock_warehouse (name, code, company_id) VALUES (%s, %s, 1) RETURNING id",
        (f"Warehouse {number}", code),
    )
    view = _location(cr, code, "view", None, wh)
    stock = _location(cr, "Stock", "internal", view, wh)
    _location(cr, "Shelf 1", "internal", stock, wh)
    where = {**common, "stock": stock}
    values: dict[str, int] = {"id": wh, "view_location_id": view, "lot_stock_id": stock}
    for name, kind, seq_code, src, dst, active in PICKING_TYPES:
        sequence = create_sequence(cr, f"{code} {name}", None, f"{code}/{seq_code}/", 5, "standard")
        values[TYPE_FIELDS[seq_code]] = _one(
            cr,
            "INSERT INTO stock_picking_type (name, code, sequence_code, warehouse_id, company_id, "
            "default_location_src_id, default_location_dest_id, sequence_id, active) "
            "VALUES (%s, %s, %s, %s, 1, %s, %s, %s, %s) RETURNING id",
            (name, kind, seq_code, wh, where[src], where[dst], sequence, active),
        )
    assignments = ", ".join(f"{k} = %s" for k in values if k != "id")
    cr.execute(
        f"UPDATE stock_warehouse SET {assignments} WHERE id = %s".encode(),
        (*[v for k, v in values.items() if k != "id"], wh),
    )
    return values


def _products(cr: Cursor, spec: SeedSpec, warehouses: list[dict[str, int]]) -> None:
    columns = (
        "name, default_code, barcode, lst_price, standard_price, type, is_storable, available_in_pos, uom_id"
    )
    with cr.copy(f"COPY product_product ({columns}) FROM STDIN".encode()) as copy:
        for i in range(1, spec.products + 1):
            kind = product_kind(i, spec.products)
            price = round((i * 7919) % 9700 / 100 + 0.99, 2)
            name = {"service": "Service", "pos_service": "Service", "combo": "Combo"}.get(kind, "Product")
            copy.write_row(
                (
                    f"{name} {i:05d}",
                    f"RTL-{i:05d}",
                    ean13(i) if kind == "storable" else None,
                    price,
                    round(price * 0.6, 2),
                    {"storable": "consu", "goods": "consu", "combo": "combo"}.get(kind, "service"),
                    kind == "storable",
                    kind != "service",
                    1,
                )
            )
    for wh in warehouses:
        cr.execute(
            "INSERT INTO stock_quant (product_id, location_id, company_id, quantity) "
            "SELECT p.id, %s, 1, %s FROM product_product p WHERE p.is_storable",
            (wh["lot_stock_id"], spec.stock),
        )


def _journal(cr: Cursor, name: str, code: str, kind: str) -> int:
    sequence = create_sequence(cr, name, None, f"{code}/%(year)s/", 5, "no_gap")
    return _one(
        cr,
        "INSERT INTO account_journal (name, code, type, company_id, sequence_id) "
        "VALUES (%s, %s, %s, 1, %s) RETURNING id",
        (name, code, kind, sequence),
    )


def _payment_method(cr: Cursor, name: str, kind: str, journal: int | None, split: bool = False) -> int:
    return _one(
        cr,
        "INSERT INTO pos_payment_method "
        "(name, type, is_cash_count, journal_id, split_transactions, company_id) "
        "VALUES (%s, %s, %s, %s, %s, 1) RETURNING id",
        (name, kind, kind == "cash", journal, split),
    )


def _shared_payment_methods(cr: Cursor, journals: dict[str, int]) -> list[int]:
    return [
        _payment_method(cr, "Card", "bank", journals["BNK1"]),
        _payment_method(cr, "Customer Account", "pay_later", None, split=True),
    ]


def _pos_config(  # noqa: PLR0917
    cr: Cursor,
    branch: str,
    warehouse: dict[str, int],
    journals: dict[str, int],
    shared: list[int],
    open_session: bool,
) -> None:
    name = f"Branch {branch}"
    sequence = create_sequence(cr, f"POS Order {name}", "pos.order", f"{name}/", 4, "standard")
    config = _one(
        cr,
        "INSERT INTO pos_config (name, branch_code, company_id, warehouse_id, picking_type_id, journal_id, "
        "invoice_journal_id, sequence_id, cash_control) "
        "VALUES (%s, %s, 1, %s, %s, %s, %s, %s, true) RETURNING id",
        (
            name,
            branch,
            warehouse["id"],
            warehouse["pos_type_id"],
            journals["POSS"],
            journals["INV"],
            sequence,
        ),
    )
    cash = _payment_method(cr, "Cash", "cash", journals["CSH1"])
    for method in (*shared, cash):
        cr.execute(
            "INSERT INTO pos_config_pos_payment_method_rel (pos_config_id, pos_payment_method_id) "
            "VALUES (%s, %s)",
            (config, method),
        )
    if not open_session:
        return
    cr.execute("SELECT id FROM res_users WHERE login = %s", (f"cashier_{branch.lower()}",))
    user = cr.fetchone()
    number = _one(cr, "SELECT nextval('pos_session_name_seq')")
    cr.execute(
        "INSERT INTO pos_session (name, config_id, company_id, user_id, state, start_at) "
        "VALUES (%s, %s, 1, %s, 'opened', now() at time zone 'utc')",
        (f"POS/{number:05d}", config, user[0] if user else 2),
    )


def summary(conn: psycopg.Connection[Any], dbname: str) -> dict[str, Any]:
    with conn.cursor() as cr:
        cr.execute("SELECT count(*), count(*) FILTER (WHERE is_storable) FROM product_product")
        products = cr.fetchone() or (0, 0)
        cr.execute("SELECT id, code, lot_stock_id, int_type_id, pos_type_id FROM stock_warehouse ORDER BY id")
        warehouses = [
            {"id": r[0], "code": r[1], "stock_location_id": r[2], "int_type_id": r[3], "pos_type_id": r[4]}
            for r in cr.fetchall()
        ]
        cr.execute(
            "SELECT c.id, c.branch_code, c.name, c.warehouse_id, "
            "(SELECT s.id FROM pos_session s WHERE s.config_id = c.id AND s.state = 'opened' "
            "ORDER BY s.id DESC LIMIT 1), "
            "(SELECT min(m.id) FROM pos_config_pos_payment_method_rel r JOIN pos_payment_method m "
            "ON m.id = r.pos_payment_method_id WHERE r.pos_config_id = c.id AND m.is_cash_count) "
            "FROM pos_config c ORDER BY c.id"
        )
        configs = [
            {
                "config_id": r[0],
                "branch": r[1],
                "name": r[2],
                "warehouse_id": r[3],
                "open_session_id": r[4],
                "cash_payment_method_id": r[5],
                "login": f"cashier_{r[1].lower()}",
                "password": f"cashier_{r[1].lower()}",
            }
            for r in cr.fetchall()
        ]
        cr.execute("SELECT id, name, type FROM pos_payment_method ORDER BY id")
        methods = [{"id": r[0], "name": r[1], "type": r[2]} for r in cr.fetchall()]
        cr.execute("SELECT id FROM res_partner WHERE customer_rank > 0 ORDER BY id")
        customers = [r[0] for r in cr.fetchall()]
    return {
        "db": dbname,
        "products": products[0],
        "storable_products": products[1],
        "warehouses": warehouses,
        "pos_configs": configs,
        "payment_methods": methods,
        "customers": customers,
        "admin": {"login": "admin", "password": "admin", "uid": 2},
    }
