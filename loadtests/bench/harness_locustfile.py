"""Benchmark side 1: this harness's client (FastHttpUser + Caller.call_kw, session cookie)."""

from __future__ import annotations

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

from loadtests.bench.probe import install_from_env
from loadtests.bench.workload import DOMAIN, FIELDS, LIMIT, MODEL, target
from loadtests.rpc import Caller, FastHttpTransport

install_from_env(events)
TARGET = target()


class HarnessReader(FastHttpUser):
    host = TARGET["url"]
    wait_time = constant(0)

    def on_start(self) -> None:
        self.odoo = Caller(FastHttpTransport(self.client), TARGET["db"], TARGET["login"], TARGET["password"])
        self.odoo.authenticate()

    @task
    def read(self) -> None:
        kwargs = {"domain": DOMAIN, "fields": FIELDS, "limit": LIMIT}
        self.odoo.call_kw(MODEL, "search_read", [], kwargs, tier="bench")
