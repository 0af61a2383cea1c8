"""Wait until PostgreSQL accepts connections, as the official image's wait-for-psql.py.

The connection settings come from the --db_* arguments, else from $ODOO_RC.
Runs with the image's Odoo virtualenv (psycopg2).
"""

import argparse
import configparser
import os
import sys
import time

import psycopg2


def main() -> int:
    parser = argparse.ArgumentParser()
    for option in ("db_host", "db_port", "db_user", "db_password"):
        parser.add_argument(f"--{option}")
    parser.add_argument("--timeout", type=int, default=5)
    args = parser.parse_args()

    rc = configparser.ConfigParser(interpolation=None)
    rc.read(os.environ.get("ODOO_RC", "/etc/odoo/odoo.conf"))

    def setting(name: str, default: str = "") -> str:
        value = getattr(args, name, None) or rc.get("options", name, fallback=default)
        return "" if value == "False" else str(value)

    dsn = {
        "dbname": "postgres",
        "host": setting("db_host"),
        "port": setting("db_port", "5432"),
        "user": setting("db_user"),
        "password": setting("db_password"),
        "sslmode": setting("db_sslmode", "prefer"),
    }
    start = time.time()
    error = ""
    while time.time() - start < args.timeout:
        try:
            psycopg2.connect(connect_timeout=3, **{k: v for k, v in dsn.items() if v}).close()
            return 0
        except psycopg2.OperationalError as exc:
            error = str(exc).strip()
            time.sleep(1)
    print(f"Database connection failure: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
