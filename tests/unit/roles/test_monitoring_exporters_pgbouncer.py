"""monitoring_exporters' PgBouncer exporter (files/retailops_pgbouncer.py) against a live PgBouncer.

PgBouncer 1.18 (Debian bookworm's, rig/host-packages.sh) in front of a
private PostgreSQL 15, a pool of one server connection in session mode; the
exporter runs as its unit runs it (a stats_users login, the password in
PGPASSFILE) and is scraped over HTTP like Prometheus does:

- a client holding the pool's only connection and a second one waiting show
  as pgbouncer_active_clients 1 and pgbouncer_waiting_clients 1, the alert
  PgBouncerPoolSaturated's input;
- PgBouncer down: the exporter still answers, with pgbouncer_up 0 (alert
  PgBouncerDown); PgBouncer back: pgbouncer_up 1 without restarting it;
- every scrape passes ``promtool check metrics``, and the names are tests/metric_names.py's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import ROOT

from loadtests.links_setup import free_port
from tests.exposition import Samples, names, promtool_ok, samples, value
from tests.fixtures.plugin import private_pg, start_or_fail, workdir
from tests.fixtures.services import PgBouncerServer, PgCluster, new_tempdir, wait_port
from tests.metric_names import EXPORTER_METRICS

__all__ = ["private_pg", "workdir"]

EXPORTER = ROOT / "roles" / "monitoring_exporters" / "files" / "retailops_pgbouncer.py"
MONITORING_PASSWORD = "stats-only-password"


@pytest.fixture
def pgbouncer(private_pg: PgCluster) -> Iterator[PgBouncerServer]:
    root = new_tempdir("pgbouncer-")
    server = PgBouncerServer(
        root,
        databases=[f"shop = host=127.0.0.1 port={private_pg.port} dbname=postgres pool_size=1"],
        users={private_pg.user: private_pg.password, "monitoring": MONITORING_PASSWORD},
        settings=["pool_mode = session", "stats_users = monitoring", "reserve_pool_size = 0"],
    )
    start_or_fail(server)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def exporter(pgbouncer: PgBouncerServer, tmp_path: Path) -> Iterator[str]:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:*:monitoring:{MONITORING_PASSWORD}\n")
    pgpass.chmod(0o600)
    port = free_port()
    argv = [
        sys.executable,
        str(EXPORTER),
        "--listen",
        f"127.0.0.1:{port}",
        "--pgbouncer-host",
        "127.0.0.1",
        "--pgbouncer-port",
        str(pgbouncer.port),
        "--user",
        "monitoring",
    ]
    proc = subprocess.Popen(
        argv, env={"PGPASSFILE": str(pgpass), "PATH": "/usr/bin:/bin"}, stderr=subprocess.PIPE, text=True
    )
    try:
        if not wait_port(port, 15):
            proc.terminate()
            pytest.fail(f"the exporter did not listen: {proc.communicate(timeout=5)[1]}")
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        proc.terminate()
        proc.wait(5)


def scrape(url: str) -> Samples:
    """One scrape, after promtool's check of the text."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    promtool_ok(text)
    return samples(text)


def connect(pgbouncer: PgBouncerServer, pg: PgCluster) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host="127.0.0.1",
        port=pgbouncer.port,
        dbname="shop",
        user=pg.user,
        password=pg.password,
        autocommit=True,
    )


@pytest.mark.slow
def test_a_waiting_client_shows_while_the_pool_is_taken(
    exporter: str, pgbouncer: PgBouncerServer, private_pg: PgCluster
) -> None:
    holder = connect(pgbouncer, private_pg)
    holder.execute("SELECT 1")
    waited: list[psycopg.Connection[tuple[object, ...]]] = []

    def wait_for_the_pool() -> None:
        second = connect(pgbouncer, private_pg)
        second.execute("SELECT 2")
        waited.append(second)

    second = threading.Thread(target=wait_for_the_pool)
    second.start()
    pool = {"database": "shop", "user": private_pg.user}
    deadline = time.monotonic() + 10
    found = scrape(exporter)
    while (
        found.get(("pgbouncer_waiting_clients", frozenset(pool.items()))) != 1 and time.monotonic() < deadline
    ):
        time.sleep(0.2)
        found = scrape(exporter)
    assert value(found, "pgbouncer_up") == 1
    # What the dashboards and rules may use (tests/metric_names.py) is what this PgBouncer gives.
    assert names(found) == EXPORTER_METRICS["pgbouncer"]
    assert value(found, "pgbouncer_waiting_clients", **pool) == 1
    assert value(found, "pgbouncer_active_clients", **pool) == 1
    assert value(found, "pgbouncer_active_servers", **pool) == 1
    assert value(found, "pgbouncer_pool_size", database="shop") == 1
    assert value(found, "pgbouncer_used_servers") >= 1
    assert value(found, "pgbouncer_queries_total", database="shop") >= 1
    holder.close()
    second.join(10)
    assert waited, "the waiting client never got the connection"
    waited[0].close()
    later = scrape(exporter)
    assert value(later, "pgbouncer_waiting_clients", **pool) == 0
    assert value(later, "pgbouncer_wait_seconds_total", database="shop") > 0


@pytest.mark.slow
def test_pgbouncer_down_is_pgbouncer_up_zero_and_back_without_a_restart(
    exporter: str, pgbouncer: PgBouncerServer
) -> None:
    assert value(scrape(exporter), "pgbouncer_up") == 1
    pgbouncer.stop()
    assert scrape(exporter) == {("pgbouncer_up", frozenset()): 0}
    pgbouncer.start()
    assert value(scrape(exporter), "pgbouncer_up") == 1


def test_a_listen_address_without_a_port_is_refused() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(EXPORTER),
            "--listen",
            "127.0.0.1",
            "--pgbouncer-host",
            "127.0.0.1",
            "--user",
            "x",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "--listen: '127.0.0.1' is not host:port" in done.stderr
