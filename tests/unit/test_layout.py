"""README's layout table matches the tree: every top-level entry is in it, every path it names exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _named_paths() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| ")]
    return [name for cell in first_cells for name in re.findall(r"`([^`]+)`", cell)]


def test_the_table_names_paths() -> None:
    assert len(_named_paths()) > 10


def test_every_named_path_exists() -> None:
    assert [p for p in _named_paths() if not (ROOT / p).exists()] == []


def test_every_top_level_entry_is_named() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True)
    top_level = {path.split("/", 1)[0] for path in tracked.stdout.splitlines()}
    named = {p.rstrip("/").split("/", 1)[0] for p in _named_paths()}
    assert sorted(top_level - named) == []
