"""The operator CLI: exit codes and the JSON views it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE_REGISTER

from loadtests import branchctl


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert branchctl.main(["validate", str(EXAMPLE_REGISTER.parent)]) == 0
    # The directory: the example region (5 live, 1 retired) and the local pilot (3 live).
    assert "ok: 2 region(s), 3 hub(s), 8 live branch(es), 1 retired" in capsys.readouterr().out


def test_validate_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = yaml.safe_load(EXAMPLE_REGISTER.read_text())
    doc["branches"][0]["tier"] = "gold"
    doc["branches"][2]["code"] = "AMS-001"
    bad = tmp_path / "eu-west.yml"
    bad.write_text(yaml.safe_dump(doc))
    assert branchctl.main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "branch AMS-001, field tier: unknown tier 'gold'" in err
    assert "branch AMS-001, field code: duplicate code" in err
    assert branchctl.main(["validate", "--json", str(bad)]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert [(p["subject"], p["field"]) for p in listed] == [
        ("branch AMS-001", "tier"),
        ("branch AMS-001", "code"),
    ]
    assert branchctl.main(["json", str(bad)]) == 1


def test_json_views(capsys: pytest.CaptureFixture[str]) -> None:
    assert branchctl.main(["json", str(EXAMPLE_REGISTER), "--view", "all"]) == 0
    views = json.loads(capsys.readouterr().out)
    assert set(views) == {"inventory", "allow-lists", "branches", "hub-peers"}
    assert [b["code"] for b in views["branches"]] == ["AMS-001", "AMS-WH1", "RTM-002", "BRU-001", "CGN-DS1"]
    assert "10.103.1.0/24" in views["allow-lists"]["kind_dark_store"]
    assert len(views["hub-peers"]["hub-ams"]) == 3


def test_generate_writes_a_valid_register(tmp_path: Path) -> None:
    out = tmp_path / "gen.yml"
    assert branchctl.main(["generate", "--branches", "40", "-o", str(out)]) == 0
    assert branchctl.main(["validate", str(out)]) == 0
    assert len(yaml.safe_load(out.read_text())["branches"]) == 40
