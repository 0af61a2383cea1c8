"""Tables of the retail subset of Odoo 18 the double serves (names as in Odoo).

Columns Odoo requires are NOT NULL here, and references are foreign keys
with PostgreSQL's default names (``pos_order_line_product_id_fkey``), so a
missing value or an unknown id fails the way it fails in Odoo. A database
created by an older double (another ``SCHEMA_VERSION``) is emptied and
rebuilt: the double's databases are test databases.

Versions: 2, the retail subset; 3, ``ir_attachment`` (the columns real Odoo
18 has for a file attachment, tests/contract/test_contract_attachments.py).
"""

from __future__ import annotations

import psycopg

SCHEMA_VERSION = 3

VIEWS = ("report_pos_order", "pos_session_payment_method_rel", "pos_order_payment_method_rel")
TABLES = (
    "ir_attachment",
    "account_move_line",
    "account_move",
    "account_journal",
    "stock_move",
    "stock_picking",
    "pos_payment",
    "pos_order_line",
    "pos_order",
    "pos_session",
    "pos_config_pos_payment_method_rel",
    "pos_config",
    "pos_payment_method",
    "stock_quant",
    "stock_picking_type",
    "stock_location",
    "stock_warehouse",
    "product_product",
    "uom_uom",
    "ir_sequence",
    "res_users",
    "res_partner",
    "res_currency",
    "res_company",
    "ir_config_parameter",
)

DDL = """
CREATE TABLE IF NOT EXISTS ir_config_parameter (key varchar PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS res_company (
    id serial PRIMARY KEY, name varchar NOT NULL, country_code varchar NOT NULL DEFAULT 'US');
CREATE TABLE IF NOT EXISTS res_currency (
    id serial PRIMARY KEY, name varchar NOT NULL, symbol varchar NOT NULL);
CREATE TABLE IF NOT EXISTS res_partner (
    id serial PRIMARY KEY, name varchar, company_id int REFERENCES res_company,
    email varchar, customer_rank int NOT NULL DEFAULT 0, supplier_rank int NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT res_partner_check_name CHECK (name IS NOT NULL));
CREATE TABLE IF NOT EXISTS res_users (
    id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, password varchar,
    partner_id int NOT NULL REFERENCES res_partner, company_id int REFERENCES res_company,
    active boolean NOT NULL DEFAULT true, is_admin boolean NOT NULL DEFAULT false,
    tz varchar DEFAULT 'Europe/Brussels', lang varchar DEFAULT 'en_US');
CREATE TABLE IF NOT EXISTS ir_sequence (
    id serial PRIMARY KEY, name varchar NOT NULL, code varchar, prefix varchar NOT NULL DEFAULT '',
    padding int NOT NULL DEFAULT 5, number_next int NOT NULL DEFAULT 1,
    implementation varchar NOT NULL DEFAULT 'standard');
CREATE TABLE IF NOT EXISTS uom_uom (id serial PRIMARY KEY, name varchar NOT NULL);
CREATE TABLE IF NOT EXISTS product_product (
    id serial PRIMARY KEY, name varchar NOT NULL, default_code varchar, barcode varchar,
    lst_price numeric NOT NULL DEFAULT 1, standard_price numeric NOT NULL DEFAULT 0,
    sale_ok boolean NOT NULL DEFAULT true, available_in_pos boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true, type varchar NOT NULL DEFAULT 'consu',
    is_storable boolean NOT NULL DEFAULT false, company_id int REFERENCES res_company,
    tracking varchar NOT NULL DEFAULT 'none',
    uom_id int NOT NULL DEFAULT 1 REFERENCES uom_uom,
    create_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE UNIQUE INDEX IF NOT EXISTS product_product_barcode_uniq ON product_product (barcode)
    WHERE barcode IS NOT NULL;
CREATE INDEX IF NOT EXISTS product_product_name_lower ON product_product (lower(name) varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS product_product_default_code ON product_product (default_code);
CREATE TABLE IF NOT EXISTS stock_warehouse (
    id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL UNIQUE,
    company_id int NOT NULL REFERENCES res_company, active boolean NOT NULL DEFAULT true,
    view_location_id int, lot_stock_id int,
    in_type_id int, out_type_id int, int_type_id int, pick_type_id int, pos_type_id int);
CREATE TABLE IF NOT EXISTS stock_location (
    id serial PRIMARY KEY, name varchar NOT NULL, complete_name varchar NOT NULL,
    usage varchar NOT NULL, location_id int REFERENCES stock_location,
    warehouse_id int REFERENCES stock_warehouse, company_id int REFERENCES res_company,
    active boolean NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS stock_picking_type (
    id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL, sequence_code varchar NOT NULL,
    warehouse_id int REFERENCES stock_warehouse, company_id int NOT NULL REFERENCES res_company,
    default_location_src_id int NOT NULL REFERENCES stock_location,
    default_location_dest_id int NOT NULL REFERENCES stock_location,
    sequence_id int NOT NULL REFERENCES ir_sequence, create_backorder varchar NOT NULL DEFAULT 'ask',
    active boolean NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS stock_quant (
    id serial PRIMARY KEY, product_id int NOT NULL REFERENCES product_product,
    location_id int NOT NULL REFERENCES stock_location, lot_id int, package_id int,
    owner_id int REFERENCES res_partner, company_id int REFERENCES res_company,
    quantity numeric NOT NULL DEFAULT 0, reserved_quantity numeric NOT NULL DEFAULT 0,
    in_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    UNIQUE (product_id, location_id));
CREATE TABLE IF NOT EXISTS account_journal (
    id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL UNIQUE, type varchar NOT NULL,
    company_id int NOT NULL REFERENCES res_company, sequence_id int REFERENCES ir_sequence,
    active boolean NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS pos_payment_method (
    id serial PRIMARY KEY, name varchar NOT NULL, type varchar NOT NULL DEFAULT 'bank',
    is_cash_count boolean NOT NULL DEFAULT false, journal_id int REFERENCES account_journal,
    split_transactions boolean NOT NULL DEFAULT false, company_id int NOT NULL REFERENCES res_company,
    active boolean NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS pos_config (
    id serial PRIMARY KEY, name varchar NOT NULL, branch_code varchar UNIQUE,
    company_id int NOT NULL REFERENCES res_company, warehouse_id int NOT NULL REFERENCES stock_warehouse,
    picking_type_id int NOT NULL REFERENCES stock_picking_type,
    journal_id int REFERENCES account_journal, invoice_journal_id int REFERENCES account_journal,
    sequence_id int NOT NULL REFERENCES ir_sequence, cash_control boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS pos_config_pos_payment_method_rel (
    pos_config_id int NOT NULL REFERENCES pos_config ON DELETE CASCADE,
    pos_payment_method_id int NOT NULL REFERENCES pos_payment_method ON DELETE CASCADE,
    PRIMARY KEY (pos_config_id, pos_payment_method_id));
CREATE TABLE IF NOT EXISTS pos_session (
    id serial PRIMARY KEY, name varchar NOT NULL, config_id int NOT NULL REFERENCES pos_config,
    company_id int REFERENCES res_company, user_id int REFERENCES res_users,
    state varchar NOT NULL DEFAULT 'opening_control', update_stock_at_closing boolean NOT NULL DEFAULT false,
    cash_register_balance_start numeric NOT NULL DEFAULT 0, opening_notes text,
    closing_notes text, cash_register_balance_end_real numeric,
    start_at timestamp, stop_at timestamp, move_id int,
    write_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS pos_session_config_state ON pos_session (config_id, state);
CREATE SEQUENCE IF NOT EXISTS pos_session_name_seq;
CREATE TABLE IF NOT EXISTS pos_order (
    id serial PRIMARY KEY, name varchar NOT NULL, pos_reference varchar, uuid varchar,
    access_token varchar, state varchar NOT NULL DEFAULT 'draft',
    session_id int NOT NULL REFERENCES pos_session, config_id int NOT NULL REFERENCES pos_config,
    user_id int REFERENCES res_users, partner_id int REFERENCES res_partner,
    company_id int NOT NULL REFERENCES res_company, pricelist_id int, fiscal_position_id int,
    sequence_number int NOT NULL DEFAULT 0, tracking_number varchar, date_order timestamp NOT NULL,
    amount_total numeric NOT NULL DEFAULT 0, amount_tax numeric NOT NULL DEFAULT 0,
    amount_paid numeric NOT NULL DEFAULT 0, amount_return numeric NOT NULL DEFAULT 0,
    to_invoice boolean NOT NULL DEFAULT false, account_move int,
    last_order_preparation_change text, general_note text, nb_print int NOT NULL DEFAULT 0,
    create_uid int, create_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    write_uid int, write_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS pos_order_uuid_index ON pos_order (uuid);
CREATE INDEX IF NOT EXISTS pos_order_session_index ON pos_order (session_id);
CREATE TABLE IF NOT EXISTS pos_order_line (
    id serial PRIMARY KEY, order_id int NOT NULL REFERENCES pos_order ON DELETE CASCADE, uuid varchar,
    product_id int NOT NULL REFERENCES product_product, full_product_name varchar,
    company_id int REFERENCES res_company, qty numeric NOT NULL DEFAULT 1,
    price_unit numeric NOT NULL DEFAULT 0, discount numeric NOT NULL DEFAULT 0,
    price_subtotal numeric NOT NULL DEFAULT 0, price_subtotal_incl numeric NOT NULL DEFAULT 0,
    customer_note text, note text, price_type varchar NOT NULL DEFAULT 'original',
    create_uid int, create_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    write_uid int, write_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS pos_order_line_order_index ON pos_order_line (order_id);
CREATE TABLE IF NOT EXISTS pos_payment (
    id serial PRIMARY KEY, pos_order_id int NOT NULL REFERENCES pos_order ON DELETE CASCADE,
    uuid varchar, name varchar, payment_method_id int NOT NULL REFERENCES pos_payment_method,
    amount numeric NOT NULL DEFAULT 0, payment_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    is_change boolean NOT NULL DEFAULT false, session_id int REFERENCES pos_session,
    user_id int REFERENCES res_users, company_id int REFERENCES res_company,
    create_uid int, create_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    write_uid int, write_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS pos_payment_order_index ON pos_payment (pos_order_id);
CREATE TABLE IF NOT EXISTS stock_picking (
    id serial PRIMARY KEY, name varchar NOT NULL DEFAULT '/', origin varchar,
    state varchar NOT NULL DEFAULT 'draft', move_type varchar NOT NULL DEFAULT 'direct',
    picking_type_id int NOT NULL REFERENCES stock_picking_type,
    location_id int NOT NULL REFERENCES stock_location,
    location_dest_id int NOT NULL REFERENCES stock_location,
    partner_id int REFERENCES res_partner, company_id int REFERENCES res_company,
    backorder_id int REFERENCES stock_picking,
    pos_order_id int REFERENCES pos_order, pos_session_id int REFERENCES pos_session,
    scheduled_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'), date_done timestamp);
CREATE INDEX IF NOT EXISTS stock_picking_pos_order_index ON stock_picking (pos_order_id);
CREATE INDEX IF NOT EXISTS stock_picking_origin_index ON stock_picking (origin);
CREATE TABLE IF NOT EXISTS stock_move (
    id serial PRIMARY KEY, picking_id int REFERENCES stock_picking ON DELETE CASCADE,
    name varchar NOT NULL, origin varchar, product_id int NOT NULL REFERENCES product_product,
    product_uom_qty numeric NOT NULL DEFAULT 0, quantity numeric NOT NULL DEFAULT 0,
    picked boolean NOT NULL DEFAULT false, state varchar NOT NULL DEFAULT 'draft',
    reserved numeric NOT NULL DEFAULT 0,
    location_id int NOT NULL REFERENCES stock_location,
    location_dest_id int NOT NULL REFERENCES stock_location,
    company_id int REFERENCES res_company,
    date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS stock_move_picking_index ON stock_move (picking_id);
CREATE TABLE IF NOT EXISTS account_move (
    id serial PRIMARY KEY, name varchar, ref varchar,
    state varchar NOT NULL DEFAULT 'draft', move_type varchar NOT NULL DEFAULT 'entry',
    journal_id int NOT NULL REFERENCES account_journal, partner_id int REFERENCES res_partner,
    company_id int REFERENCES res_company,
    date date NOT NULL DEFAULT current_date, invoice_date date,
    pos_order_id int REFERENCES pos_order, pos_session_id int REFERENCES pos_session);
CREATE TABLE IF NOT EXISTS account_move_line (
    id serial PRIMARY KEY, move_id int NOT NULL REFERENCES account_move ON DELETE CASCADE,
    name varchar, display_type varchar NOT NULL DEFAULT 'product',
    product_id int REFERENCES product_product, quantity numeric NOT NULL DEFAULT 1,
    price_unit numeric NOT NULL DEFAULT 0, debit numeric NOT NULL DEFAULT 0,
    credit numeric NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS account_move_line_move_index ON account_move_line (move_id);
CREATE TABLE IF NOT EXISTS ir_attachment (
    id serial PRIMARY KEY, name varchar NOT NULL, description text,
    res_model varchar, res_field varchar, res_id int,
    company_id int REFERENCES res_company ON DELETE SET NULL,
    type varchar NOT NULL DEFAULT 'binary', url varchar(1024), public boolean, access_token varchar,
    db_datas bytea, store_fname varchar, file_size int, checksum varchar(40), mimetype varchar,
    index_content text, original_id int REFERENCES ir_attachment ON DELETE SET NULL,
    create_uid int REFERENCES res_users ON DELETE SET NULL,
    create_date timestamp DEFAULT (now() at time zone 'utc'),
    write_uid int REFERENCES res_users ON DELETE SET NULL,
    write_date timestamp DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS ir_attachment_res_idx ON ir_attachment (res_model, res_id);
CREATE INDEX IF NOT EXISTS ir_attachment__store_fname_index ON ir_attachment (store_fname);
CREATE INDEX IF NOT EXISTS ir_attachment__url_index ON ir_attachment (url) WHERE url IS NOT NULL;
CREATE OR REPLACE VIEW pos_session_payment_method_rel AS
    SELECT s.id AS pos_session_id, r.pos_payment_method_id
    FROM pos_session s JOIN pos_config_pos_payment_method_rel r ON r.pos_config_id = s.config_id;
CREATE OR REPLACE VIEW pos_order_payment_method_rel AS
    SELECT o.id AS pos_order_id, r.pos_payment_method_id
    FROM pos_order o JOIN pos_config_pos_payment_method_rel r ON r.pos_config_id = o.config_id;
CREATE OR REPLACE VIEW report_pos_order AS
    SELECT l.id, o.date_order AS date, o.id AS order_id, o.partner_id, l.product_id, o.state,
           o.user_id, o.company_id, o.config_id, o.session_id, o.pricelist_id,
           l.qty AS product_qty, l.price_subtotal_incl AS price_total,
           l.price_subtotal AS price_sub_total, l.price_subtotal AS price_subtotal_excl,
           l.price_unit * l.qty * l.discount / 100 AS total_discount, l.price_unit AS average_price,
           1 AS nbr_lines, (o.account_move IS NOT NULL) AS invoiced
    FROM pos_order_line l JOIN pos_order o ON o.id = l.order_id;
"""

UNIQUE_UUID = (
    ("pos_order", "pos_order_uuid_unique"),
    ("pos_order_line", "pos_order_line_uuid_unique"),
    ("pos_payment", "pos_payment_uuid_unique"),
)


def _current_version(cr: psycopg.Cursor[object]) -> int | None:
    cr.execute(b"CREATE TABLE IF NOT EXISTS double_schema (version int NOT NULL)")
    cr.execute(b"SELECT version FROM double_schema")
    row = cr.fetchone()
    return int(row[0]) if row else None  # type: ignore[index]


def _rebuild_if_older(cr: psycopg.Cursor[object]) -> None:
    version = _current_version(cr)
    if version == SCHEMA_VERSION:
        return
    if version is not None or _has_tables(cr):
        cr.execute(("DROP VIEW IF EXISTS " + ", ".join(VIEWS)).encode())
        cr.execute(("DROP TABLE IF EXISTS " + ", ".join(TABLES) + " CASCADE").encode())
        cr.execute(
            b"DROP SEQUENCE IF EXISTS pos_order_number_seq, stock_picking_number_seq, pos_session_name_seq"
        )
        drop_ir_sequences(cr)
    cr.execute(b"DELETE FROM double_schema")
    cr.execute(b"INSERT INTO double_schema (version) VALUES (%s)", (SCHEMA_VERSION,))


def drop_ir_sequences(cr: psycopg.Cursor[object]) -> None:
    """The PostgreSQL sequences of standard ir.sequence rows (``ir_sequence_007``)."""
    cr.execute(b"SELECT relname FROM pg_class WHERE relkind = 'S' AND relname ~ '^ir_sequence_[0-9]+$'")
    for row in cr.fetchall():
        cr.execute(f"DROP SEQUENCE IF EXISTS {row[0]}".encode())  # type: ignore[index]


def _has_tables(cr: psycopg.Cursor[object]) -> bool:
    cr.execute(b"SELECT 1 FROM pg_class WHERE relname = 'res_users' AND relkind = 'r'")
    return cr.fetchone() is not None


def ensure_schema(conn: psycopg.Connection[object], unique_uuid: bool) -> None:
    """Create the tables (idempotent) and switch the unique(uuid) constraints on or off.

    Without them (the default, as the 18.0-20250702 build), concurrent first
    syncs of one uuid still leave one order: each sync writes its POS session
    row, so the later transaction fails to serialise and is retried. With
    them (odoo/odoo PR #216862), a duplicate insert is a ValidationError.
    """
    with conn.transaction(), conn.cursor() as cr:
        cr.execute("SELECT pg_advisory_xact_lock(18180)")
        _rebuild_if_older(cr)
        cr.execute(DDL.encode())
        try:
            with conn.transaction():
                cr.execute(b"CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cr.execute(
                    b"CREATE INDEX IF NOT EXISTS product_product_name_trgm "
                    b"ON product_product USING gin (name gin_trgm_ops)"
                )
        except psycopg.Error:
            pass  # pg_trgm ships in postgresql-contrib; lower(name) stays indexed without it
        for table, constraint in UNIQUE_UUID:
            cr.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", (constraint,))
            present = cr.fetchone() is not None
            if unique_uuid and not present:
                cr.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE (uuid)".encode())
            elif not unique_uuid and present:
                cr.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}".encode())
