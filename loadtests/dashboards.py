"""Do the dashboards' panels return data? Every panel query, run against a Prometheus.

Reads the dashboards (the collection's ``roles/grafana_dashboards/files/dashboards/*.json`` by
default), resolves their variables the way Grafana would (``label_values(...)`` through Prometheus'
label API; a row repeated over a variable runs its panels once per value), substitutes Grafana's
own variables (``$__rate_interval``, ``$__interval``, ``$__range``) and runs each target as a range
query over a window, instant targets too: a panel returns data when it has some at any time of that
window (a table of firing alerts has rows only while something fires).

The harness runs it after a monitored run (``run --prometheus``) over the run's own window, so that
a panel with no data is one an operator would have found blank during the drills; the report shows
the result (information, not a gate of the stores' verdict). By hand, against any region:

    python -m loadtests dashboards --prometheus http://10.213.30.10:9090 [--region eu-west]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.collection import collection_root
from loadtests.prometheus import Prometheus, PrometheusError
from loadtests.report.model import Dashboards


def default_directory() -> Path:
    """The platform's dashboards: the installed collection's ``roles/grafana_dashboards/files/dashboards``."""
    return collection_root() / "roles" / "grafana_dashboards" / "files" / "dashboards"


# What Grafana puts in for its own variables; the unit tests use the same values.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__interval_ms": "30000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
REGEX_META = re.compile(r"[\\^$.|?*+()\[\]{}]")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<match>.*\S)\s*,\s*)?(?P<label>\w+)\s*\)\s*$")


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel: where it is and its expression as written in the dashboard."""

    dashboard: str  # the dashboard's uid
    panel_id: int
    title: str
    ref_id: str
    expr: str
    repeat: str | None  # the variable the panel's row repeats over

    def where(self) -> str:
        return f"{self.dashboard} panel {self.panel_id} ({self.title}) target {self.ref_id}"


def load(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """file name -> dashboard, every *.json of `directory` (default: the collection's)."""
    paths = sorted((directory or default_directory()).glob("*.json"))
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in paths}


def panels(dashboard: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every panel, rows' nested panels included, with the variable its row repeats over (or None)."""
    repeat: str | None = None
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            repeat = panel.get("repeat") or None
            yield panel, None
            for nested in panel.get("panels", []):
                yield nested, repeat
        else:
            yield panel, repeat


def queries(dashboard: Mapping[str, Any]) -> list[PanelQuery]:
    """Every target with an expression, in the dashboard's order."""
    found = []
    for panel, repeat in panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append(
                    PanelQuery(
                        dashboard=str(dashboard.get("uid", "?")),
                        panel_id=int(panel.get("id", -1)),
                        title=str(panel.get("title", "")),
                        ref_id=str(target.get("refId", "?")),
                        expr=str(target["expr"]),
                        repeat=repeat,
                    )
                )
    return found


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """`expr` with every ``$name``, ``${name}``, ``${name:format}`` and ``[[name]]`` replaced.

    `values` are the dashboard's variables; Grafana's own (:data:`BUILTINS`) are added. An unknown
    variable raises KeyError: a query that names a variable the dashboard lacks is broken."""
    known = {**BUILTINS, **values}

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return known[name]

    return VARIABLE.sub(one, expr)


def variables(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [v for v in dashboard.get("templating", {}).get("list", []) if v.get("type") == "query"]


def variable_query(variable: Mapping[str, Any]) -> str:
    query = variable.get("query")
    if isinstance(query, dict):
        return str(query.get("query", ""))
    return str(query or variable.get("definition", ""))


def regex_alternatives(values: list[str]) -> str:
    """A multi-value variable in a ``=~`` matcher, as Grafana formats it for Prometheus: regex
    metacharacters escaped with a backslash, itself escaped for PromQL's double-quoted string."""
    return "(" + "|".join(REGEX_META.sub(r"\\\\\g<0>", v) for v in values) + ")" if values else "__none__"


def resolve(
    prometheus: Prometheus, dashboard: Mapping[str, Any], chosen: Mapping[str, str]
) -> dict[str, list[str]]:
    """Each query variable's values: `chosen` when given, else its label_values from Prometheus."""
    resolved: dict[str, list[str]] = {}
    for variable in variables(dashboard):
        name = str(variable["name"])
        if name in chosen:
            resolved[name] = [chosen[name]]
            continue
        parsed = LABEL_VALUES.match(variable_query(variable))
        if not parsed:
            raise ValueError(f"{dashboard.get('uid')}: variable {name}: not a label_values() query")
        single = {k: v[0] for k, v in resolved.items() if v}
        match = substitute(parsed.group("match"), single) if parsed.group("match") else None
        values = prometheus.label_values(parsed.group("label"), match)
        resolved[name] = values if variable.get("multi") or variable.get("includeAll") else values[:1]
    return resolved


@dataclass
class PanelCheck:
    """What :func:`check` found: how many queries ran (a repeated row's once per value) and which
    returned no series, each as "<uid> panel <id> (<title>) target <ref> [<variable>=<value>]"."""

    queries: int = 0
    empty: list[str] = field(default_factory=list)


def check(
    prometheus: Prometheus,
    start: float,
    end: float,
    *,
    directory: Path | None = None,
    chosen: Mapping[str, str] | None = None,
    step: float = 30.0,
) -> PanelCheck:
    """Run every panel query of the dashboards in `directory` from `start` to `end` (epoch seconds).

    `chosen` fixes variables (``{"region": "pilot"}``); the others take every value Prometheus has
    (a variable with no value at all makes its panels count as empty). Prometheus refusing a query
    or not answering raises :class:`~loadtests.prometheus.PrometheusError`."""
    found = PanelCheck()
    for dashboard in load(directory).values():
        resolved = resolve(prometheus, dashboard, chosen or {})
        multi = {str(v["name"]) for v in variables(dashboard) if v.get("multi") or v.get("includeAll")}
        plain = {
            name: (regex_alternatives(values) if name in multi else (values[0] if values else "__none__"))
            for name, values in resolved.items()
        }
        for query in queries(dashboard):
            runs: list[tuple[str, dict[str, str]]] = [("", plain)]
            if query.repeat:
                runs = [
                    (f" [{query.repeat}={v}]", {**plain, query.repeat: v})
                    for v in resolved.get(query.repeat, [])
                ]
                if not runs:
                    found.empty.append(f"{query.where()} [{query.repeat} has no value]")
            for label, values in runs:
                found.queries += 1
                if not prometheus.has_data(substitute(query.expr, values), start, end, step):
                    found.empty.append(query.where() + label)
    return found


def during_run(
    prometheus: Prometheus, start: float, end: float, directory: Path | None = None, region: str = ""
) -> Dashboards:
    """:func:`check` over a run, for the report; what stops the check is reported in ``error``, never
    raised (the stores' verdict does not depend on it)."""
    where = directory or default_directory()
    result = Dashboards(source=prometheus.base_url, directory=str(where), region=region)
    try:
        found = check(prometheus, start, end, directory=where, chosen={"region": region} if region else None)
    except PrometheusError as exc:
        result.error = str(exc)
    except (OSError, ValueError) as exc:
        result.error = f"the dashboards in {where} could not be read: {exc}"
    except KeyError as exc:
        result.error = f"a panel query names the variable {exc}, which its dashboard does not define"
    else:
        result.queries, result.empty = found.queries, found.empty
    return result
