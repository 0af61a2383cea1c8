"""Tables of the retail subset of Odoo 18 the double serves (names as in Odoo)."""

from __future__ import annotations

import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS ir_config_parameter (
    key varchar PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS res_company (id serial PRIMARY KEY, name varchar NOT NULL);
CREATE TABLE IF NOT EXISTS res_partner (
    id serial PRIMARY KEY, name varchar NOT NULL, company_id int REFERENCES res_company);
CREATE TABLE IF NOT EXISTS res_users (
    id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, password varchar,
    partner_id int NOT NULL REFERENCES res_partner, company_id int REFERENCES res_company,
    active boolean NOT NULL DEFAULT true, is_admin boolean NOT NULL DEFAULT false,
    tz varchar DEFAULT 'Europe/Brussels', lang varchar DEFAULT 'en_US');
CREATE TABLE IF NOT EXISTS uom_uom (id serial PRIMARY KEY, name varchar NOT NULL);
CREATE TABLE IF NOT EXISTS product_product (
    id serial PRIMARY KEY, name varchar NOT NULL, default_code varchar, barcode varchar,
    lst_price numeric NOT NULL DEFAULT 0, standard_price numeric NOT NULL DEFAULT 0,
    sale_ok boolean NOT NULL DEFAULT true, available_in_pos boolean NOT NULL DEFAULT true,
    active boolean NOT NULL DEFAULT true, type varchar NOT NULL DEFAULT 'consu',
    is_storable boolean NOT NULL DEFAULT true,
    uom_id int REFERENCES uom_uom, create_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE UNIQUE INDEX IF NOT EXISTS product_product_barcode_uniq ON product_product (barcode)
    WHERE barcode IS NOT NULL;
CREATE INDEX IF NOT EXISTS product_product_name_lower ON product_product (lower(name) varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS product_product_default_code ON product_product (default_code);
CREATE TABLE IF NOT EXISTS stock_warehouse (
    id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL UNIQUE, lot_stock_id int);
CREATE TABLE IF NOT EXISTS stock_location (
    id serial PRIMARY KEY, name varchar NOT NULL, complete_name varchar NOT NULL,
    usage varchar NOT NULL, warehouse_id int REFERENCES stock_warehouse);
CREATE TABLE IF NOT EXISTS stock_quant (
    id serial PRIMARY KEY, product_id int NOT NULL REFERENCES product_product,
    location_id int NOT NULL REFERENCES stock_location, lot_id int, package_id int, owner_id int,
    quantity numeric NOT NULL DEFAULT 0, reserved_quantity numeric NOT NULL DEFAULT 0,
    in_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    UNIQUE (product_id, location_id));
CREATE TABLE IF NOT EXISTS pos_payment_method (id serial PRIMARY KEY, name varchar NOT NULL,
    is_cash_count boolean NOT NULL DEFAULT false);
CREATE TABLE IF NOT EXISTS pos_config (
    id serial PRIMARY KEY, name varchar NOT NULL, branch_code varchar NOT NULL UNIQUE,
    warehouse_id int NOT NULL REFERENCES stock_warehouse, cash_control boolean NOT NULL DEFAULT false,
    update_stock_at_closing boolean NOT NULL DEFAULT false, active boolean NOT NULL DEFAULT true);
CREATE TABLE IF NOT EXISTS pos_session (
    id serial PRIMARY KEY, name varchar NOT NULL, config_id int NOT NULL REFERENCES pos_config,
    user_id int REFERENCES res_users, state varchar NOT NULL DEFAULT 'opening_control',
    cash_register_balance_start numeric NOT NULL DEFAULT 0, opening_notes text,
    closing_notes text, cash_register_balance_end_real numeric,
    start_at timestamp, stop_at timestamp, move_id int);
CREATE INDEX IF NOT EXISTS pos_session_config_state ON pos_session (config_id, state);
CREATE SEQUENCE IF NOT EXISTS pos_order_number_seq;
CREATE TABLE IF NOT EXISTS pos_order (
    id serial PRIMARY KEY, name varchar NOT NULL, pos_reference varchar, uuid varchar,
    access_token varchar, state varchar NOT NULL DEFAULT 'draft',
    session_id int NOT NULL REFERENCES pos_session, config_id int NOT NULL REFERENCES pos_config,
    user_id int REFERENCES res_users, partner_id int REFERENCES res_partner,
    company_id int REFERENCES res_company, pricelist_id int, fiscal_position_id int,
    sequence_number int, tracking_number varchar, date_order timestamp NOT NULL,
    amount_total numeric NOT NULL DEFAULT 0, amount_tax numeric NOT NULL DEFAULT 0,
    amount_paid numeric NOT NULL DEFAULT 0, amount_return numeric NOT NULL DEFAULT 0,
    to_invoice boolean NOT NULL DEFAULT false, account_move int,
    last_order_preparation_change text, general_note text, nb_print int NOT NULL DEFAULT 0,
    create_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
    write_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'));
CREATE INDEX IF NOT EXISTS pos_order_uuid_index ON pos_order (uuid);
CREATE INDEX IF NOT EXISTS pos_order_session_index ON pos_order (session_id);
CREATE TABLE IF NOT EXISTS pos_order_line (
    id serial PRIMARY KEY, order_id int NOT NULL REFERENCES pos_order ON DELETE CASCADE, uuid varchar,
    product_id int NOT NULL REFERENCES product_product, full_product_name varchar,
    qty numeric NOT NULL DEFAULT 1, price_unit numeric NOT NULL DEFAULT 0,
    discount numeric NOT NULL DEFAULT 0, price_subtotal numeric NOT NULL DEFAULT 0,
    price_subtotal_incl numeric NOT NULL DEFAULT 0, customer_note text);
CREATE INDEX IF NOT EXISTS pos_order_line_order_index ON pos_order_line (order_id);
CREATE TABLE IF NOT EXISTS pos_payment (
    id serial PRIMARY KEY, pos_order_id int NOT NULL REFERENCES pos_order ON DELETE CASCADE,
    uuid varchar, name varchar, payment_method_id int REFERENCES pos_payment_method,
    amount numeric NOT NULL DEFAULT 0, payment_date timestamp);
CREATE INDEX IF NOT EXISTS pos_payment_order_index ON pos_payment (pos_order_id);
CREATE SEQUENCE IF NOT EXISTS stock_picking_number_seq;
CREATE TABLE IF NOT EXISTS stock_picking (
    id serial PRIMARY KEY, name varchar NOT NULL, origin varchar, state varchar NOT NULL DEFAULT 'draft',
    picking_type_code varchar NOT NULL DEFAULT 'outgoing',
    location_id int NOT NULL REFERENCES stock_location,
    location_dest_id int NOT NULL REFERENCES stock_location,
    pos_order_id int REFERENCES pos_order, pos_session_id int REFERENCES pos_session,
    scheduled_date timestamp NOT NULL DEFAULT (now() at time zone 'utc'), date_done timestamp);
CREATE INDEX IF NOT EXISTS stock_picking_pos_order_index ON stock_picking (pos_order_id);
CREATE TABLE IF NOT EXISTS stock_move (
    id serial PRIMARY KEY, picking_id int REFERENCES stock_picking ON DELETE CASCADE,
    name varchar, product_id int NOT NULL REFERENCES product_product,
    product_uom_qty numeric NOT NULL DEFAULT 0, quantity numeric NOT NULL DEFAULT 0,
    state varchar NOT NULL DEFAULT 'draft',
    location_id int NOT NULL REFERENCES stock_location,
    location_dest_id int NOT NULL REFERENCES stock_location, date timestamp);
CREATE INDEX IF NOT EXISTS stock_move_picking_index ON stock_move (picking_id);
CREATE TABLE IF NOT EXISTS ir_sequence (
    id serial PRIMARY KEY, code varchar NOT NULL UNIQUE, prefix varchar NOT NULL,
    padding int NOT NULL DEFAULT 5, number_next int NOT NULL DEFAULT 1,
    implementation varchar NOT NULL DEFAULT 'no_gap');
CREATE TABLE IF NOT EXISTS account_journal (
    id serial PRIMARY KEY, name varchar NOT NULL, code varchar NOT NULL UNIQUE, type varchar NOT NULL,
    sequence_id int REFERENCES ir_sequence);
CREATE TABLE IF NOT EXISTS account_move (
    id serial PRIMARY KEY, name varchar NOT NULL DEFAULT '/', ref varchar,
    state varchar NOT NULL DEFAULT 'draft', move_type varchar NOT NULL DEFAULT 'entry',
    journal_id int NOT NULL REFERENCES account_journal, partner_id int REFERENCES res_partner,
    date date NOT NULL DEFAULT current_date, amount_total numeric NOT NULL DEFAULT 0,
    pos_order_id int REFERENCES pos_order, pos_session_id int REFERENCES pos_session);
CREATE TABLE IF NOT EXISTS account_move_line (
    id serial PRIMARY KEY, move_id int NOT NULL REFERENCES account_move ON DELETE CASCADE,
    name varchar, debit numeric NOT NULL DEFAULT 0, credit numeric NOT NULL DEFAULT 0,
    product_id int REFERENCES product_product, quantity numeric NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS account_move_line_move_index ON account_move_line (move_id);
"""

UNIQUE_UUID = (
    ("pos_order", "pos_order_unique_uuid"),
    ("pos_order_line", "pos_order_line_unique_uuid"),
    ("pos_payment", "pos_payment_unique_uuid"),
)


def ensure_schema(conn: psycopg.Connection[object], unique_uuid: bool) -> None:
    """Create the tables (idempotent) and switch the unique(uuid) constraints on or off.

    With unique_uuid, like odoo/odoo PR #216862, a concurrent duplicate sync
    fails with a ValidationError instead of inserting a second order.
    """
    with conn.transaction(), conn.cursor() as cr:
        cr.execute("SELECT pg_advisory_xact_lock(18180)")
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
            cr.execute(
                "SELECT 1 FROM pg_constraint WHERE conname = %s",
                (constraint,),
            )
            present = cr.fetchone() is not None
            if unique_uuid and not present:
                cr.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE (uuid)".encode())
            elif not unique_uuid and present:
                cr.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}".encode())
