"""Fixtures: the Odoo under test is the double on loopback, or a real Odoo from ODOO_* variables.

Set ODOO_URL, ODOO_DB, ODOO_LOGIN and ODOO_PASSWORD to run the protocol
assertions against a real Odoo 18; tests marked ``double_only`` are then skipped
because they drive the double's own configuration (faults, outages, restarts).
ODOO_PG_DSN (optional; the real-Odoo lane sets it) is a superuser libpq
connection string to that Odoo's database: tests that act on the database
server under Odoo (``Target.pg_dsn``) skip without it. ODOO_DATA_DIR (optional;
the lane sets it) is that Odoo's ``data_dir``, readable and writable by the
tests: the tests that look at the filestore (``Target.filestore``) skip without it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtests import capture
from tests.contract.rpc import Client
from tests.fixtures.double import DoubleProcess
from tests.fixtures.plugin import DoubleFactory, double_factory, pg_cluster, private_pg, redis_server, workdir

# the scheduler that keeps this suite on one pytest-xdist worker, the drift test last
# (tests/fixtures/workers.py); one unit of work, so the workers' order needs no hook here
from tests.fixtures.workers import pytest_xdist_make_scheduler

# the shared fixtures (tests/fixtures/plugin.py) and hooks this suite uses
__all__ = [
    "double_factory",
    "pg_cluster",
    "private_pg",
    "pytest_xdist_make_scheduler",
    "redis_server",
    "workdir",
]

REAL_ENV = ("ODOO_URL", "ODOO_DB", "ODOO_LOGIN", "ODOO_PASSWORD")


@dataclass
class Target:
    url: str
    db: str
    login: str
    password: str
    double: DoubleProcess | None
    pg_dsn: str = ""  # superuser access to Odoo's database, "" when not given
    data_dir: str = ""  # Odoo's data_dir (odoo.conf), "" when not given

    @property
    def is_double(self) -> bool:
        return self.double is not None

    @property
    def filestore(self) -> Path | None:
        """``<data_dir>/filestore/<db>``: where Odoo keeps this database's attachments (None: unknown)."""
        return Path(self.data_dir) / "filestore" / self.db if self.data_dir else None

    def client(self) -> Client:
        return Client(self.url, self.db)

    def admin(self) -> Client:
        client = self.client()
        client.authenticate(self.login, self.password)
        return client


_SESSION_CAPTURE: list[Path] = []  # the temporary recording of this session, when this conftest made one


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "double_only: drives the double itself; skipped against a real Odoo")
    # Against the double, record the contract clients' exchanges for the drift
    # test (test_drift.py), unless LOADTESTS_CAPTURE already names a recording.
    if not all(os.environ.get(v) for v in REAL_ENV) and capture.target() is None:
        path = Path(tempfile.mkdtemp(prefix="contract-capture-")) / "capture.jsonl"
        _SESSION_CAPTURE.append(capture.enable(path))


def pytest_unconfigure(config: pytest.Config) -> None:
    while _SESSION_CAPTURE:
        capture.disable()
        shutil.rmtree(_SESSION_CAPTURE.pop().parent, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if all(os.environ.get(v) for v in REAL_ENV):
        skip = pytest.mark.skip(reason="drives the double; ODOO_URL points at a real Odoo")
        for item in items:
            if "double_only" in item.keywords:
                item.add_marker(skip)
    # The drift test compares what the contract tests recorded: it runs after them.
    items.sort(key=lambda item: item.path.name == "test_drift.py")


@pytest.fixture(scope="session")
def contract_capture() -> Path | None:
    """Where this session's contract clients record their exchanges (None: nowhere)."""
    return _SESSION_CAPTURE[0] if _SESSION_CAPTURE else capture.target()


@pytest.fixture(scope="session")
def odoo(request: pytest.FixtureRequest) -> Target:
    if all(os.environ.get(v) for v in REAL_ENV):
        return Target(
            os.environ["ODOO_URL"].rstrip("/"),
            os.environ["ODOO_DB"],
            os.environ["ODOO_LOGIN"],
            os.environ["ODOO_PASSWORD"],
            None,
            os.environ.get("ODOO_PG_DSN", ""),
            os.environ.get("ODOO_DATA_DIR", ""),
        )
    double_factory: DoubleFactory = request.getfixturevalue("double_factory")
    double = double_factory("contract", options={"proxy_mode": True})
    return Target(
        double.url, double.db, "admin", "admin", double, double.pg.dsn(double.db), str(double.data_dir)
    )


@pytest.fixture
def admin(odoo: Target) -> Client:
    return odoo.admin()
