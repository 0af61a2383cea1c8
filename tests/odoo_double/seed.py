"""Seed data: products with EAN-13 barcodes, warehouses, one POS config per branch, test users.

Test-only credentials (documented in README.md):
  admin / admin                         uid 2, administrator
  cashier_<branch> / cashier_<branch>   one POS user per branch code
uid 1 is __system__ (inactive, no password), as in Odoo.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .auth import hash_password
from .config import Config
from .schema import ensure_schema

TABLES = [
    "account_move_line",
    "account_move",
    "account_journal",
    "ir_sequence",
    "stock_move",
    "stock_picking",
    "pos_payment",
    "pos_order_line",
    "pos_order",
    "pos_session",
    "pos_config",
    "pos_payment_method",
    "stock_quant",
    "stock_location",
    "stock_warehouse",
    "product_product",
    "uom_uom",
    "res_users",
    "res_partner",
    "res_company",
    "ir_config_parameter",
]


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
                cr.execute("ALTER SEQUENCE pos_order_number_seq RESTART")
                cr.execute("ALTER SEQUENCE stock_picking_number_seq RESTART")
            cr.execute("SELECT count(*) FROM res_users")
            row = cr.fetchone()
            if not row or not row[0]:
                _seed(cr, cfg, spec)
        return summary(conn, dbname)


def _seed(cr: psycopg.Cursor[Any], cfg: Config, spec: SeedSpec) -> None:
    rounds = cfg.double_password_rounds
    params = {
        "database.secret": secrets.token_hex(32),
        "database.uuid": str(uuid.uuid4()),
        "base.login_cooldown_after": "5",
        "base.login_cooldown_duration": "60",
    }
    for key, value in params.items():
        cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", (key, value))
    cr.execute("INSERT INTO res_company (id, name) VALUES (1, 'RetailOps Test Company')")
    cr.execute("SELECT setval('res_company_id_seq', 1)")
    users: list[tuple[str, str | None, str, bool, bool]] = [
        ("__system__", None, "OdooBot", False, True),
        ("admin", "admin", "Mitchell Admin", True, True),
    ]
    users += [
        (f"cashier_{b.lower()}", f"cashier_{b.lower()}", f"Cashier {b}", True, False) for b in spec.branches
    ]
    for login, password, name, active, admin in users:
        cr.execute("INSERT INTO res_partner (name, company_id) VALUES (%s, 1) RETURNING id", (name,))
        partner = cr.fetchone()
        assert partner is not None
        cr.execute(
            "INSERT INTO res_users (login, password, partner_id, company_id, active, is_admin) "
            "VALUES (%s, %s, %s, 1, %s, %s)",
            (login, hash_password(password, rounds) if password else None, partner[0], active, admin),
        )
    cr.execute("INSERT INTO uom_uom (name) VALUES ('Units')")
    for usage, name in (
        ("customer", "Partners/Customers"),
        ("supplier", "Partners/Vendors"),
        ("inventory", "Virtual Locations/Inventory adjustment"),
    ):
        cr.execute(
            "INSERT INTO stock_location (name, complete_name, usage) VALUES (%s, %s, %s)",
            (name.rsplit("/", 1)[-1], name, usage),
        )
    for n in range(1, spec.warehouses + 1):
        code = f"WH{n}"
        cr.execute(
            "INSERT INTO stock_warehouse (name, code) VALUES (%s, %s) RETURNING id", (f"Warehouse {n}", code)
        )
        wh = cr.fetchone()
        assert wh is not None
        cr.execute(
            "INSERT INTO stock_location (name, complete_name, usage, warehouse_id) "
            "VALUES ('Stock', %s, 'internal', %s) RETURNING id",
            (f"{code}/Stock", wh[0]),
        )
        loc = cr.fetchone()
        assert loc is not None
        cr.execute("UPDATE stock_warehouse SET lot_stock_id = %s WHERE id = %s", (loc[0], wh[0]))
    with cr.copy(
        "COPY product_product (name, default_code, barcode, lst_price, standard_price, uom_id) FROM STDIN"
    ) as copy:
        for i in range(1, spec.products + 1):
            price = round((i * 7919) % 9700 / 100 + 0.99, 2)
            copy.write_row((f"Product {i:05d}", f"RTL-{i:05d}", ean13(i), price, round(price * 0.6, 2), 1))
    cr.execute(
        "INSERT INTO stock_quant (product_id, location_id, quantity) "
        "SELECT p.id, w.lot_stock_id, %s FROM product_product p CROSS JOIN stock_warehouse w",
        (spec.stock,),
    )
    cr.execute("INSERT INTO pos_payment_method (name, is_cash_count) VALUES ('Cash', true), ('Card', false)")
    for code, prefix in (("INV", "INV/%(year)s/"), ("POSS", "POSS/%(year)s/"), ("MISC", "MISC/%(year)s/")):
        cr.execute(
            "INSERT INTO ir_sequence (code, prefix, padding) VALUES (%s, %s, 5) RETURNING id", (code, prefix)
        )
        seq = cr.fetchone()
        assert seq is not None
        kind = {"INV": "sale", "POSS": "general", "MISC": "general"}[code]
        cr.execute(
            "INSERT INTO account_journal (name, code, type, sequence_id) VALUES (%s, %s, %s, %s)",
            (code, code, kind, seq[0]),
        )
    for index, branch in enumerate(spec.branches):
        cr.execute("SELECT id FROM stock_warehouse ORDER BY id OFFSET %s LIMIT 1", (index % spec.warehouses,))
        wh = cr.fetchone()
        assert wh is not None
        cr.execute(
            "INSERT INTO pos_config (name, branch_code, warehouse_id) VALUES (%s, %s, %s) RETURNING id",
            (f"Branch {branch}", branch, wh[0]),
        )
        config = cr.fetchone()
        assert config is not None
        if spec.open_sessions:
            cr.execute("SELECT id FROM res_users WHERE login = %s", (f"cashier_{branch.lower()}",))
            user = cr.fetchone()
            cr.execute(
                "INSERT INTO pos_session (name, config_id, user_id, state, start_at) "
                "VALUES ('/', %s, %s, 'opened', now() at time zone 'utc') RETURNING id",
                (config[0], user[0] if user else 2),
            )
            session = cr.fetchone()
            assert session is not None
            cr.execute(
                "UPDATE pos_session SET name = %s WHERE id = %s", (f"POS/{session[0]:05d}", session[0])
            )


def summary(conn: psycopg.Connection[Any], dbname: str) -> dict[str, Any]:
    with conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM product_product")
        products = cr.fetchone()
        cr.execute("SELECT id, code, lot_stock_id FROM stock_warehouse ORDER BY id")
        warehouses = [{"id": r[0], "code": r[1], "stock_location_id": r[2]} for r in cr.fetchall()]
        cr.execute(
            "SELECT c.id, c.branch_code, c.name, c.warehouse_id, "
            "(SELECT s.id FROM pos_session s WHERE s.config_id = c.id AND s.state = 'opened' "
            "ORDER BY s.id DESC LIMIT 1) FROM pos_config c ORDER BY c.id"
        )
        configs = [
            {
                "config_id": r[0],
                "branch": r[1],
                "name": r[2],
                "warehouse_id": r[3],
                "open_session_id": r[4],
                "login": f"cashier_{r[1].lower()}",
                "password": f"cashier_{r[1].lower()}",
            }
            for r in cr.fetchall()
        ]
        cr.execute("SELECT id, name FROM pos_payment_method ORDER BY id")
        methods = [{"id": r[0], "name": r[1]} for r in cr.fetchall()]
    return {
        "db": dbname,
        "products": products[0] if products else 0,
        "warehouses": warehouses,
        "pos_configs": configs,
        "payment_methods": methods,
        "admin": {"login": "admin", "password": "admin", "uid": 2},
    }
