"""Benchmark side 2: OdooLocust 2.0 (odoolib over /jsonrpc), configured as odoo-protocol.md §14 says.

``protocol = "jsonrpc"`` (its json2 default needs Odoo 19), ``host`` a bare
hostname with the port apart, and the demo login defaults replaced.
"""

from __future__ import annotations

from locust import constant, events, task
from OdooLocust.OdooLocustUser import OdooLocustUser

from loadtests.bench.probe import install_from_env
from loadtests.bench.workload import DOMAIN, FIELDS, LIMIT, MODEL, target

install_from_env(events)
TARGET = target()


class OdooLocustReader(OdooLocustUser):  # type: ignore[misc]  # OdooLocust ships no type information
    host = TARGET["host"]
    port = int(TARGET["port"])
    database = TARGET["db"]
    login = TARGET["login"]
    password = TARGET["password"]
    protocol = "jsonrpc"
    wait_time = constant(0)

    @task
    def read(self) -> None:
        self.client.get_model(MODEL).search_read(DOMAIN, FIELDS, limit=LIMIT)
