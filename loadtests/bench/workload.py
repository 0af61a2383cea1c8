"""What both generators do and where they send it (no Locust import: the orchestrator reads it too)."""

from __future__ import annotations

import os
from typing import Any


def target() -> dict[str, str]:
    """Where and as whom both generators connect (set by ``python -m loadtests.bench``)."""
    return {k: os.environ[f"BENCH_{k.upper()}"] for k in ("url", "host", "port", "db", "login", "password")}


# the same read on both sides: OdooLocust's search_read is a search and a read (2 RPCs)
MODEL = "product.product"
DOMAIN: list[Any] = [["sale_ok", "=", True]]
FIELDS = ["id", "display_name", "lst_price"]
LIMIT = 20
