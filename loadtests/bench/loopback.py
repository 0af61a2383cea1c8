"""The benchmark's target: a private PostgreSQL and the Odoo double on 127.0.0.1.

Started with the shared test fixtures (tests/fixtures), with the fast
settings the tests use (1000 password rounds, short retry backoff).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class LoopbackTarget:
    url: str
    port: int
    db: str
    login: str
    password: str
    server: str


@contextmanager
def loopback_double(workers: int) -> Iterator[LoopbackTarget]:
    # the fixtures live with the tests: only the benchmark needs them
    from tests.fixtures.double import DoubleProcess  # noqa: PLC0415
    from tests.fixtures.services import PgCluster, new_tempdir  # noqa: PLC0415

    root = new_tempdir("bench-generator-")
    pg = PgCluster(root / "pg")
    double: DoubleProcess | None = None
    try:
        pg.init()
        pg.start()
        double = DoubleProcess(root / "double", pg, db="bench", options={"workers": workers})
        double.start()
        health = requests.get(double.url + "/web/health", timeout=10)
        server = health.headers.get("X-Odoo-Double", "unknown server")
        yield LoopbackTarget(double.url, double.http_port, double.db, "admin", "admin", server)
    finally:
        if double is not None:
            double.stop()
        pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
