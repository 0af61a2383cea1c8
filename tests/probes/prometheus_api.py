"""The read-only HTTP calls the probes make to Prometheus, Alertmanager and a webhook receiver.

One client for every probe that reads a Prometheus (``dashboards.py``: panel queries;
``monitoring.py``: targets, rules, Alertmanagers). Standard library only.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any


def get_json(url: str, timeout: float = 10.0) -> Any:
    """The JSON body of a GET of `url` (raises on an HTTP error or a body that is not JSON)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def is_ready(url: str, timeout: float = 10.0) -> bool:
    """Whether a GET of `url` (a ``/-/ready`` endpoint) answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class Prometheus:
    """The few read-only API calls the probes make."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """The ``data`` of an API answer; a ``status`` other than success raises RuntimeError."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        body = get_json(f"{self.base_url}{path}{query}", self.timeout)
        if body.get("status") != "success":
            raise RuntimeError(f"{path}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def label_values(self, label: str, match: str | None) -> list[str]:
        params = [("match[]", match)] if match else []
        return sorted(str(v) for v in self.get(f"/api/v1/label/{label}/values", params))

    def has_data(self, expr: str, now: float, lookback: float, step: float) -> bool:
        """Whether `expr` returns a series at some step of the `lookback` seconds before `now`."""
        data = self.get(
            "/api/v1/query_range",
            [
                ("query", expr),
                ("start", f"{now - lookback:.3f}"),
                ("end", f"{now:.3f}"),
                ("step", f"{step:g}"),
            ],
        )
        return bool(data.get("result"))

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result: each series' ``metric`` (labels) and ``value`` ([time, "value"])."""
        return list(self.get("/api/v1/query", [("query", expr)]).get("result", []))

    def active_targets(self) -> list[dict[str, Any]]:
        """``/api/v1/targets``' active targets: labels, scrapeUrl, health, lastError, ..."""
        return list(self.get("/api/v1/targets", [("state", "active")]).get("activeTargets", []))

    def rule_groups(self) -> list[dict[str, Any]]:
        """``/api/v1/rules``' groups: name, file, rules (each with name, health, lastError)."""
        return list(self.get("/api/v1/rules").get("groups", []))

    def firing_alerts(self) -> list[str]:
        """``/api/v1/alerts``: "<alertname> <instance or region>" of every alert firing now."""
        return sorted(
            f"{a['labels'].get('alertname')} {a['labels'].get('instance') or a['labels'].get('region', '')}"
            for a in self.get("/api/v1/alerts").get("alerts", [])
            if a.get("state") == "firing"
        )

    def alertmanagers(self) -> dict[str, list[str]]:
        """``/api/v1/alertmanagers``: the URLs of the active and of the dropped Alertmanagers."""
        data = self.get("/api/v1/alertmanagers")
        return {
            state: sorted(str(a.get("url", "")) for a in data.get(f"{state}Alertmanagers", []))
            for state in ("active", "dropped")
        }
