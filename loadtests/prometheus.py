"""Prometheus' HTTP API and Alertmanager's status, read-only: the one client of the harness and the probes.

The harness reads the loaded rules (each alert's ``for`` and its
``detection_window`` annotation) and the SLI recording rules' series over a
run (``query_range``); ``loadtests.dashboards`` resolves dashboard
variables (the label API) and checks that each panel query returns data;
``tests/probes/monitoring.py`` reads the scrape targets, the rule groups, the
Alertmanagers Prometheus sends to, and Alertmanager's own status.
Standard library only: an installed harness needs nothing more.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any


class PrometheusError(RuntimeError):
    """Prometheus did not answer, or answered with an error (its errorType and error)."""


def read_json(base_url: str, path: str, timeout: float, *, errors: bool = False) -> Any:
    """The JSON body of a GET; no answer or no JSON: PrometheusError. ``errors``: an HTTP error whose
    body is a JSON object with an ``error`` (Prometheus' API on 400/422/503) is returned, not raised."""
    where = path.split("?", 1)[0]
    try:
        with urllib.request.urlopen(f"{base_url}{path}", timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = None
        if errors and isinstance(body, dict) and "error" in body:
            return body
        raise PrometheusError(f"{where}: HTTP {exc.code} {exc.reason}") from None
    except (OSError, ValueError) as exc:
        raise PrometheusError(f"{where}: {base_url} did not answer: {exc}") from None


def ready(base_url: str, timeout: float) -> bool:
    """Whether ``/-/ready`` (Prometheus', Alertmanager's) answers 200; its body is text, not JSON."""
    try:
        with urllib.request.urlopen(f"{base_url}/-/ready", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class Prometheus:
    """The few read-only API calls the harness and the probes make."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def ready(self) -> bool:
        """Whether ``/-/ready`` answers 200."""
        return ready(self.base_url, self.timeout)

    def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """The ``data`` of an API answer; no answer, or a ``status`` other than success: PrometheusError."""
        body = read_json(self.base_url, f"{path}?{urllib.parse.urlencode(params)}", self.timeout, errors=True)
        if not isinstance(body, dict):
            raise PrometheusError(f"{path}: {self.base_url} answered {body!r:.80}, not an object")
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

    def has_data(self, expr: str, start: float, end: float, step: float) -> bool:
        """Whether `expr` returns a series at some step from `start` to `end`."""
        return bool(self.query_range(expr, start, end, step))

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's vector: ``[{metric (labels), value ([time, "value"])}]``."""
        return list(self.get("/api/v1/query", [("query", expr)]).get("result") or [])

    def active_targets(self) -> list[dict[str, Any]]:
        """``/api/v1/targets``' active targets: labels, scrapeUrl, health, lastError, ..."""
        return list(self.get("/api/v1/targets", [("state", "active")]).get("activeTargets") or [])

    def rule_groups(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The loaded rule groups (``/api/v1/rules``, only ``kind`` "alert" or "record" when given): name,
        file, rules (each with name, type, health, lastError, ...)."""
        return list(self.get("/api/v1/rules", [("type", kind)] if kind else []).get("groups") or [])

    def alerting_rules(self) -> list[dict[str, Any]]:
        """The loaded alerting rules (``/api/v1/rules?type=alert``): name, duration (``for``, s), labels,
        annotations, as Prometheus holds them."""
        return [
            r for g in self.rule_groups("alert") for r in g.get("rules") or [] if r.get("type") == "alerting"
        ]

    def alerts(self) -> list[dict[str, Any]]:
        """``/api/v1/alerts``: the pending and firing alerts (labels, state, activeAt, ...)."""
        return list(self.get("/api/v1/alerts").get("alerts") or [])

    def alertmanagers(self) -> dict[str, list[str]]:
        """``/api/v1/alertmanagers``: the URLs of the active and of the dropped Alertmanagers."""
        data = self.get("/api/v1/alertmanagers")
        return {
            state: sorted(str(a.get("url", "")) for a in data.get(f"{state}Alertmanagers") or [])
            for state in ("active", "dropped")
        }


class Alertmanager:
    """The read-only calls to Alertmanager (API v2) the probes make; no answer: PrometheusError."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def ready(self) -> bool:
        """Whether ``/-/ready`` answers 200."""
        return ready(self.base_url, self.timeout)

    def status(self) -> dict[str, Any]:
        """``/api/v2/status``: cluster (status, peers), config (original: the YAML it runs), uptime."""
        body = read_json(self.base_url, "/api/v2/status", self.timeout)
        if not isinstance(body, dict):
            raise PrometheusError(f"/api/v2/status: {self.base_url} answered {body!r:.80}, not an object")
        return body
