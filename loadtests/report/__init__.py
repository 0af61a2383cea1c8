"""Reports of a run: JSON for machines, JUnit XML for CI, one self-contained HTML page."""

from loadtests.report.html import render_html
from loadtests.report.junit import render_junit

__all__ = ["render_html", "render_junit"]
