"""PgBouncer's admin console as Prometheus metrics, served over HTTP for the pgbouncer scrape job.

Why not Debian's prometheus-pgbouncer-exporter: bookworm's 1.7 reads SHOW
STATS' ``total_requests``, a column PgBouncer 1.18 (the same release) no
longer has, and dies at start with ``KeyError: 'total_requests'``. This
exporter reads every column by name and leaves out the ones a PgBouncer
version does not have, instead of failing.

Each scrape opens one connection to the console database ``pgbouncer`` (the
user must be in PgBouncer's stats_users: SHOW commands only; its password in
the libpq password file PGPASSFILE), runs SHOW LISTS, POOLS, DATABASES and
STATS, and closes it: nothing to reconnect after PgBouncer restarts.

- pgbouncer_up: 1 when the console answered, else 0 (and nothing else)
- SHOW LISTS (no labels): pgbouncer_databases, _users, _pools, _free_clients,
  _used_clients, _login_clients, _free_servers, _used_servers
- SHOW POOLS {database, user}: pgbouncer_active_clients (cl_active),
  _waiting_clients (cl_waiting), _active_servers (sv_active), _idle_servers
  (sv_idle), _used_pool_servers (sv_used), _max_wait_seconds (the oldest
  waiting client's wait)
- SHOW DATABASES {database}: pgbouncer_pool_size, _reserve_pool,
  _max_connections, _current_connections
- SHOW STATS {database}, counters: pgbouncer_queries_total,
  _transactions_total, _received_bytes_total, _sent_bytes_total,
  _query_seconds_total, _wait_seconds_total

    python3 retailops_pgbouncer.py --listen 10.0.0.5:9127 --pgbouncer-host 10.0.0.5 --pgbouncer-port 6432 \\
        --user monitoring
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
from retailops_textfile import Family, render, warn

Row = dict[str, Any]

# (column, metric, help) of each SHOW command with labelled rows.
POOLS = (
    ("cl_active", "pgbouncer_active_clients", "Clients linked to a server connection"),
    ("cl_waiting", "pgbouncer_waiting_clients", "Clients that sent a query and wait for a server connection"),
    ("sv_active", "pgbouncer_active_servers", "Server connections linked to a client"),
    ("sv_idle", "pgbouncer_idle_servers", "Server connections idle and ready for a client"),
    ("sv_used", "pgbouncer_used_pool_servers", "Server connections idle longer than server_check_delay"),
)
DATABASES = (
    ("pool_size", "pgbouncer_pool_size", "Maximum server connections of a pool"),
    ("reserve_pool", "pgbouncer_reserve_pool", "Extra server connections a pool may open when clients wait"),
    (
        "max_connections",
        "pgbouncer_max_connections",
        "Maximum server connections of the database (0: no limit)",
    ),
    ("current_connections", "pgbouncer_current_connections", "Server connections open to the database"),
)
STATS = (
    ("total_query_count", "pgbouncer_queries_total", "SQL queries pooled"),
    ("total_xact_count", "pgbouncer_transactions_total", "SQL transactions pooled"),
    ("total_received", "pgbouncer_received_bytes_total", "Bytes received from clients"),
    ("total_sent", "pgbouncer_sent_bytes_total", "Bytes sent to clients"),
    ("total_query_time", "pgbouncer_query_seconds_total", "Time spent in queries"),
    ("total_wait_time", "pgbouncer_wait_seconds_total", "Time clients waited for a server connection"),
)
# PgBouncer counts times in microseconds; Prometheus wants seconds.
MICROSECONDS = {"total_query_time", "total_wait_time"}
LISTS = (
    "databases",
    "users",
    "pools",
    "free_clients",
    "used_clients",
    "login_clients",
    "free_servers",
    "used_servers",
)


def show(connection: psycopg.Connection[Any], what: str) -> list[Row]:
    """SHOW <what> on the console. The console speaks only the simple query protocol: a client-side cursor."""
    with psycopg.ClientCursor(connection) as cursor:
        cursor.execute(f"SHOW {what}")
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def labelled(
    rows: list[Row],
    columns: tuple[tuple[str, str, str], ...],
    labels: Callable[[Row], dict[str, str]],
    kind: str,
) -> Iterator[Family]:
    """One family per column these rows have (a column this PgBouncer lacks gives none)."""
    for column, name, help_text in columns:
        if rows and column not in rows[0]:
            continue
        family = Family(name, help_text, kind)
        scale = 1e-6 if column in MICROSECONDS else 1.0
        for row in rows:
            if row[column] is not None:
                family.add(float(row[column]) * scale, **labels(row))
        yield family


def collect(connect: Callable[[], psycopg.Connection[Any]]) -> list[Family]:
    up = Family("pgbouncer_up", "1 when PgBouncer's admin console answered this scrape, else 0")
    try:
        with connect() as connection:
            lists, pools, databases, stats = (
                show(connection, what) for what in ("LISTS", "POOLS", "DATABASES", "STATS")
            )
    except psycopg.Error as error:
        warn(f"pgbouncer: {str(error).strip()}")
        up.add(0)
        return [up]
    up.add(1)
    families = [up]
    items = {str(row["list"]): float(row["items"]) for row in lists}
    for name in LISTS:
        if name in items:
            family = Family(f"pgbouncer_{name}", f"SHOW LISTS: {name.replace('_', ' ')}")
            family.add(items[name])
            families.append(family)
    families += labelled(pools, POOLS, lambda r: {"database": r["database"], "user": r["user"]}, "gauge")
    if pools and "maxwait" in pools[0]:
        wait = Family("pgbouncer_max_wait_seconds", "How long the oldest waiting client of a pool has waited")
        for row in pools:
            seconds = row["maxwait"] + row.get("maxwait_us", 0) / 1e6
            wait.add(seconds, database=row["database"], user=row["user"])
        families.append(wait)
    families += labelled(databases, DATABASES, lambda r: {"database": r["name"]}, "gauge")
    families += labelled(stats, STATS, lambda r: {"database": r["database"]}, "counter")
    return families


def handler(connect: Callable[[], psycopg.Connection[Any]]) -> type[BaseHTTPRequestHandler]:
    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "metrics are at /metrics")
                return
            body = render(collect(connect)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per scrape would flood the journal

    return Metrics


def address(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not host:port")
    return host.strip("[]"), int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listen", type=address, required=True, help="address:port to serve /metrics on")
    parser.add_argument("--pgbouncer-host", required=True, help="PgBouncer's address")
    parser.add_argument("--pgbouncer-port", type=int, default=6432, help="PgBouncer's port")
    parser.add_argument("--user", required=True, help="a stats_users user (its password in PGPASSFILE)")
    parser.add_argument("--timeout", type=int, default=5, help="seconds to wait for the console")
    args = parser.parse_args(argv)

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=args.pgbouncer_host,
            port=args.pgbouncer_port,
            dbname="pgbouncer",
            user=args.user,
            connect_timeout=args.timeout,
            autocommit=True,
            application_name="retailops_pgbouncer_exporter",
        )

    try:
        server = ThreadingHTTPServer(args.listen, handler(connect))
    except OSError as error:
        warn(f"pgbouncer: cannot listen on {args.listen[0]}:{args.listen[1]}: {error}")
        return 1
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
