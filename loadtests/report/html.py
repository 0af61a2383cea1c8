"""One self-contained HTML page from the typed report: Jinja2 templates, inline CSS and SVG, no scripts.

The first screen is for a store-operations manager (``model.summarise``):
the verdict, each failed gate in plain words, the worst outage per tier and
what the stores felt, the ledger, whether operators would be paged for each
drill, the Odoo and platform under test. The full gate table, the coverage
table, the charts (the platform's SLIs next to the harness's) and every
breakdown follow.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from loadtests.ledger import TOTALS
from loadtests.report.charts import bar_chart, sli_chart, tier_chart
from loadtests.report.model import Group, Report, tier_name

TEMPLATES = Path(__file__).resolve().parent / "templates"


def num(v: float | int | None, digits: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def counts(values: dict[str, int]) -> str:
    return ", ".join(f"{k}: {n}" for k, n in values.items()) or "0"


def breakdown(groups: dict[str, Group], label: str) -> Markup:
    return Markup(_ENV.get_template("breakdown.html.j2").render(groups=groups, label=label))


_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["num"] = num
_ENV.filters["counts"] = counts
_ENV.globals.update(
    tier_chart=tier_chart,
    sli_chart=sli_chart,
    bar_chart=bar_chart,
    breakdown=breakdown,
    ledger_columns=TOTALS,
    tier_name=tier_name,
)


def render_html(report: Report) -> str:
    return _ENV.get_template("report.html.j2").render(r=report)
