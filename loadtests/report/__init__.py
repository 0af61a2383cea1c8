"""Reports of a run: the typed model (report.json), JUnit XML for CI, one self-contained HTML page."""

from loadtests.report.html import render_html
from loadtests.report.junit import render_junit
from loadtests.report.model import Report, summarise

__all__ = ["Report", "render_html", "render_junit", "summarise"]
