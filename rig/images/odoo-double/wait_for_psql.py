"""Wait until PostgreSQL accepts connections (like the official image's wait-for-psql.py)."""

import argparse
import os
import sys
import time

import psycopg

sys.path.insert(0, "/opt/odoo-double")
from odoo_double.config import ConfigError, load_config

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=int, default=30)
    args = parser.parse_args()
    try:
        cfg = load_config(os.environ.get("ODOO_RC", "/etc/odoo/odoo.conf"), image_env=True)
    except ConfigError as exc:
        print(f"odoo_double: {exc}", file=sys.stderr)
        sys.exit(2)
    start = time.time()
    error = ""
    while time.time() - start < args.timeout:
        try:
            with psycopg.connect(**cfg.dsn_kwargs("postgres"), connect_timeout=3):
                sys.exit(0)
        except psycopg.OperationalError as exc:
            error = str(exc).strip()
            time.sleep(1)
    print(f"Database connection failure: {error}", file=sys.stderr)
    sys.exit(1)
