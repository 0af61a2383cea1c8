"""The shared loopback fixtures (tests/fixtures/plugin.py): PostgreSQL clusters and Odoo double processes."""

from tests.fixtures.patroni_api import patroni_api
from tests.fixtures.plugin import double_factory, pg_cluster, private_pg, workdir

__all__ = ["double_factory", "patroni_api", "pg_cluster", "private_pg", "workdir"]
