"""Host-state tests of the Molecule scenarios, with pytest-testinfra.

Each module holds one scenario's assertions on the hosts themselves: listening
sockets and their addresses, service state, file modes of secrets. The
scenario's verify.yml runs it against the scenario's containers through the
Molecule inventory (the docker connection), for example:

    python -m pytest -p no:cacheprovider --hosts='ansible://redis_servers' \
        --ansible-inventory="$MOLECULE_INVENTORY_FILE" tests/probes/testinfra/test_redis_ha.py

They read the hosts, never the roles' variables; the expected addresses are
the scenario's own (its molecule.yml). Not part of the unit run (pyproject's
testpaths): without --hosts they would test the machine running pytest.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run against the local machine: these tests are for a scenario's hosts."""
    if not config.getoption("hosts", default=None):
        raise pytest.UsageError("give --hosts: the scenario's hosts (see this conftest.py)")
