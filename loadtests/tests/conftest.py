"""The shared loopback fixtures (tests/fixtures/plugin.py): PostgreSQL clusters and Odoo double processes."""

from tests.fixtures.patroni_api import patroni_api
from tests.fixtures.plugin import double_factory, pg_cluster, private_pg, workdir

# and the hooks that run the suites on pytest-xdist workers (tests/fixtures/workers.py)
from tests.fixtures.workers import pytest_collection_modifyitems, pytest_xdist_make_scheduler

__all__ = [
    "double_factory",
    "patroni_api",
    "pg_cluster",
    "private_pg",
    "pytest_collection_modifyitems",
    "pytest_xdist_make_scheduler",
    "workdir",
]
