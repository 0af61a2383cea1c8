"""The probes' command lines: NAME=VALUE options, and the report each one prints and writes.

Every probe's ``main`` ends the same way: the report as JSON on stdout (and in ``--out``), exit 1
when it lists problems.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def pairs(items: Iterable[str], option: str, parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """NAME=VALUE options as pairs; anything else stops the command line."""
    found: list[tuple[str, str]] = []
    for item in items:
        name, sign, value = item.partition("=")
        if not (name and sign and value):
            parser.error(f"{option} takes NAME=VALUE (got {item!r})")
        found.append((name, value))
    return found


def emit(report: Mapping[str, Any], out: Path | None) -> int:
    """Print `report` (and write it to `out`); 1 when it has problems, else 0."""
    text = json.dumps(report, indent=2, sort_keys=True)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 1 if report["problems"] else 0
