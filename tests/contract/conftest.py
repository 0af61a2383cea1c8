"""Fixtures: the Odoo under test is the double on loopback, or a real Odoo from ODOO_* variables.

Set ODOO_URL, ODOO_DB, ODOO_LOGIN and ODOO_PASSWORD to run the protocol
assertions against a real Odoo 18; tests marked ``double_only`` are then skipped
because they drive the double's own configuration (faults, outages, restarts).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.contract.rpc import Client
from tests.fixtures.double import DoubleProcess
from tests.fixtures.services import MissingTool, PgCluster, RedisServer, new_tempdir

REAL_ENV = ("ODOO_URL", "ODOO_DB", "ODOO_LOGIN", "ODOO_PASSWORD")


@dataclass
class Target:
    url: str
    db: str
    login: str
    password: str
    double: DoubleProcess | None

    @property
    def is_double(self) -> bool:
        return self.double is not None

    def client(self) -> Client:
        return Client(self.url, self.db)

    def admin(self) -> Client:
        client = self.client()
        client.authenticate(self.login, self.password)
        return client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "double_only: drives the double itself; skipped against a real Odoo")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if all(os.environ.get(v) for v in REAL_ENV):
        skip = pytest.mark.skip(reason="drives the double; ODOO_URL points at a real Odoo")
        for item in items:
            if "double_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = new_tempdir("odoo-double-tests-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _cluster(root: Path) -> PgCluster:
    pg = PgCluster(root)
    try:
        pg.init()
    except MissingTool as exc:
        pytest.fail(str(exc), pytrace=False)
    pg.start()
    return pg


@pytest.fixture(scope="session")
def pg_cluster(workdir: Path) -> Iterator[PgCluster]:
    pg = _cluster(workdir / "pg")
    yield pg
    pg.stop("immediate")


@pytest.fixture
def private_pg(tmp_path_factory: pytest.TempPathFactory, workdir: Path) -> Iterator[PgCluster]:
    """A cluster of its own, for tests that kill PostgreSQL."""
    pg = _cluster(workdir / f"pg-{len(list(workdir.iterdir()))}")
    yield pg
    pg.stop("immediate")


@pytest.fixture(scope="session")
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir / "redis")
    try:
        server.start()
    except MissingTool as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


DoubleFactory = Callable[..., DoubleProcess]


@pytest.fixture(scope="session")
def double_factory(workdir: Path, pg_cluster: PgCluster) -> Iterator[DoubleFactory]:
    started: list[DoubleProcess] = []

    def make(name: str, pg: PgCluster | None = None, start: bool = True, **kwargs: object) -> DoubleProcess:
        double = DoubleProcess(workdir / name, pg or pg_cluster, **kwargs)  # type: ignore[arg-type]
        started.append(double)
        return double.start() if start else double

    yield make
    for double in started:
        double.stop()


@pytest.fixture(scope="session")
def odoo(request: pytest.FixtureRequest) -> Target:
    if all(os.environ.get(v) for v in REAL_ENV):
        return Target(
            os.environ["ODOO_URL"].rstrip("/"),
            os.environ["ODOO_DB"],
            os.environ["ODOO_LOGIN"],
            os.environ["ODOO_PASSWORD"],
            None,
        )
    double_factory: DoubleFactory = request.getfixturevalue("double_factory")
    double = double_factory("contract", options={"proxy_mode": True})
    return Target(double.url, double.db, "admin", "admin", double)


@pytest.fixture
def admin(odoo: Target) -> Client:
    return odoo.admin()
