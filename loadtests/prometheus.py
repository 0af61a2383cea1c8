"""Prometheus' HTTP API, read-only: the one client of the harness and of the test probes.

The harness reads the loaded rules (each alert's ``for`` and its
``detection_window`` annotation) and the SLI recording rules' series over a
run (``query_range``); ``tests/probes/dashboards.py`` resolves dashboard
variables (the label API) and checks that each panel query returns data.
Standard library only: an installed harness needs nothing more.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class PrometheusError(RuntimeError):
    """Prometheus did not answer, or answered with an error (its errorType and error)."""


class Prometheus:
    """The few read-only API calls the harness and the probes make."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, params: list[tuple[str, str]]) -> Any:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:  # 400/422/503 carry Prometheus' own error as JSON
            try:
                body = json.loads(exc.read() or b"{}")
            except ValueError:
                body = {}
            if not isinstance(body, dict) or "error" not in body:
                raise PrometheusError(f"{path}: HTTP {exc.code} {exc.reason}") from None
        except (OSError, ValueError) as exc:
            raise PrometheusError(f"{path}: {self.base_url} did not answer: {exc}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"{path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def label_values(self, label: str, match: str | None) -> list[str]:
        params = [("match[]", match)] if match else []
        return sorted(str(v) for v in self.get(f"/api/v1/label/{label}/values", params))

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """The matrix of ``expr`` from ``start`` to ``end`` (epoch seconds): ``[{metric, values}]``."""
        data = self.get(
            "/api/v1/query_range",
            [("query", expr), ("start", f"{start:.3f}"), ("end", f"{end:.3f}"), ("step", f"{step:g}")],
        )
        return list(data.get("result") or [])

    def has_data(self, expr: str, now: float, lookback: float, step: float) -> bool:
        """Whether `expr` returns a series at some step of the `lookback` seconds before `now`."""
        return bool(self.query_range(expr, now - lookback, now, step))

    def alerting_rules(self) -> list[dict[str, Any]]:
        """The loaded alerting rules (``/api/v1/rules?type=alert``): name, duration (``for``, s), labels,
        annotations, as Prometheus holds them."""
        data = self.get("/api/v1/rules", [("type", "alert")])
        return [
            r for g in data.get("groups") or [] for r in g.get("rules") or [] if r.get("type") == "alerting"
        ]
