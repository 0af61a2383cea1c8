"""Prometheus text exposition in the tests: checked by promtool, read into samples.

Used wherever a test reads what an exporter or a textfile collector wrote
(``promtool check metrics`` is Prometheus' own parser and linter; the
prometheus_client parser is not in the venv).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

PROMTOOL = shutil.which("promtool")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# (name, labels) -> value of every sample of an exposition.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def promtool_ok(text: str) -> None:
    """The exposition passes ``promtool check metrics`` (a missing promtool fails the test)."""
    if PROMTOOL is None:
        pytest.fail("promtool is needed to check the exposition format (Debian package prometheus)")
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def samples(text: str) -> Samples:
    """Every sample of an exposition: (name, labels) -> value; a duplicate series fails."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        pairs = LABEL.findall(match[2] or "")
        labels = frozenset((k, v.replace('\\"', '"').replace("\\\\", "\\")) for k, v in pairs)
        key = (match[1], labels)
        assert key not in out, f"duplicate series {line!r}"
        out[key] = float(match[3])
    return out


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def names(found: Samples) -> set[str]:
    return {key[0] for key in found}
