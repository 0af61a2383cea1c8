"""PostgreSQL client probes for the postgresql_ha scenario (psycopg 3).

Connection settings come from libpq's environment (PGHOST, PGPORT, PGDATABASE,
PGUSER, PGPASSWORD): the test points them at the routing endpoint, as an
application would.

    pg_ledger.py write --table t --key k          insert one row, print its commit time
    pg_ledger.py pitr-marks --table t             insert a row, take a timestamp, insert another
    pg_ledger.py writer --table t --ledger f --stop-file s --max-seconds n
                                                  insert unique keys until stopped; record each
                                                  attempt as acked, failed or indeterminate
    pg_ledger.py check --table t --ledger f --out r
                                                  read every row back: lost, duplicated, unexpected

The ledger is the load harness's (loadtests.ledger: one JSON line per attempt
and per outcome) and so is the check (Jepsen's set checker, reconcile_kind):
lost = acked - present, unexpected = present - attempted, duplicated = keys
present more than once, recovered = indeterminate writes that landed
(allowed). `check` exits 1 unless lost, duplicated and unexpected are all
empty and at least one write was acked.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import itertools
import json
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from loadtests.ledger import LedgerWriter, Outcome, read_ledger, reconcile_kind

CONNECT_TIMEOUT = 3


def connect() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(connect_timeout=CONNECT_TIMEOUT, autocommit=True)


def ensure_table(conn: psycopg.Connection[tuple[object, ...]], table: str) -> None:
    # No unique constraint: a duplicate must be visible, not rejected.
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (key text NOT NULL,"
            " written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        ).format(sql.Identifier(table))
    )


def insert(conn: psycopg.Connection[tuple[object, ...]], table: str, key: str) -> str:
    row = conn.execute(
        sql.SQL("INSERT INTO {} (key) VALUES (%s) RETURNING written_at").format(sql.Identifier(table)), (key,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def cmd_write(args: argparse.Namespace) -> int:
    with connect() as conn:
        ensure_table(conn, args.table)
        written_at = insert(conn, args.table, args.key)
    print(json.dumps({"key": args.key, "written_at": written_at}))
    return 0


def cmd_pitr_marks(args: argparse.Namespace) -> int:
    """Two writes with a server timestamp between them, a gap either side."""
    with connect() as conn:
        ensure_table(conn, args.table)
        before = f"before-{uuid.uuid4()}"
        after = f"after-{uuid.uuid4()}"
        insert(conn, args.table, before)
        time.sleep(args.gap)
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        target = row[0]
        assert isinstance(target, datetime.datetime)
        time.sleep(args.gap)
        insert(conn, args.table, after)
    # pgBackRest's format (YYYY-MM-DD HH:MM:SS.mmm+00), rounded down to the
    # millisecond: still after the first commit and before the second.
    utc = target.astimezone(datetime.UTC)
    stamp = utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}+00"
    print(json.dumps({"before": before, "after": after, "target": stamp}))
    return 0


KIND = "pg.row"


def cmd_writer(args: argparse.Namespace) -> int:
    """Insert unique keys until stopped; each is logged in the harness's write ledger (attempt, outcome)."""
    ledger = LedgerWriter(args.ledger, source=f"pg_ledger-{args.table}")
    with connect() as setup:
        ensure_table(setup, args.table)
    stop = Path(args.stop_file)
    deadline = time.monotonic() + args.max_seconds
    conn: psycopg.Connection[tuple[object, ...]] | None = None
    while time.monotonic() < deadline and not stop.exists():
        key = str(uuid.uuid4())
        ledger.attempt(KIND, key, table=args.table)
        if conn is None or conn.closed:
            try:
                conn = connect()
            except psycopg.Error as error:
                # Nothing was sent: the write certainly did not happen.
                ledger.outcome(KIND, key, Outcome.FAILED, f"connect: {error}".strip())
                time.sleep(args.interval)
                continue
        try:
            insert(conn, args.table, key)
            ledger.outcome(KIND, key, Outcome.OK)
        except psycopg.OperationalError as error:
            # The connection broke while the statement was in flight: it may or may not have committed.
            ledger.outcome(KIND, key, Outcome.UNKNOWN, str(error))
            conn.close()
            conn = None
        except psycopg.Error as error:
            ledger.outcome(KIND, key, Outcome.FAILED, str(error))
        time.sleep(args.interval)
    if conn is not None:
        conn.close()
    return 0


def longest_gap(acked_times: list[float]) -> float:
    times = sorted(acked_times)
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def cmd_check(args: argparse.Namespace) -> int:
    """Read every row back and reconcile with the ledger (the harness's reconcile_kind)."""
    entries = read_ledger([args.ledger]).get(KIND, {})
    with connect() as conn:
        rows = conn.execute(sql.SQL("SELECT key FROM {}").format(sql.Identifier(args.table))).fetchall()
    counts = collections.Counter(str(r[0]) for r in rows)
    kind = reconcile_kind(KIND, entries, {k: counts.get(k, 0) for k in entries}, counts)
    acked_ends = sorted(e.acked_at for e in entries.values() if e.acked_at is not None)
    starts = [e.first_attempt_at for e in entries.values() if e.first_attempt_at is not None]
    result = {
        **kind.summary().model_dump(exclude={"examples", "kind"}),
        "lost": list(kind.lost),
        "unexpected": list(kind.unexpected),
        "duplicated": list(kind.duplicated),
        "first_attempt": min(starts, default=0.0),
        "last_attempt": max(acked_ends + starts, default=0.0),
        "longest_gap_between_acks_s": round(longest_gap(acked_ends), 3),
        "acked_ends": acked_ends,
    }
    summary = {k: v for k, v in result.items() if k != "acked_ends"}
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(result))
    return 0 if kind.valid and kind.acked else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write")
    write.add_argument("--table", required=True)
    write.add_argument("--key", required=True)
    marks = sub.add_parser("pitr-marks")
    marks.add_argument("--table", required=True)
    marks.add_argument("--gap", type=float, default=1.5)
    writer = sub.add_parser("writer")
    writer.add_argument("--table", required=True)
    writer.add_argument("--ledger", required=True)
    writer.add_argument("--stop-file", required=True)
    writer.add_argument("--max-seconds", type=float, default=300)
    writer.add_argument("--interval", type=float, default=0.05)
    check = sub.add_parser("check")
    check.add_argument("--table", required=True)
    check.add_argument("--ledger", required=True)
    check.add_argument("--out", required=True)
    args = parser.parse_args()
    handlers = {"write": cmd_write, "pitr-marks": cmd_pitr_marks, "writer": cmd_writer, "check": cmd_check}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
