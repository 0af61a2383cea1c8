"""tools/checks.py counts pytest cases from JUnit XML and everything else as one test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))

import checks


def test_junit_counts_single_suite(tmp_path: Path) -> None:
    xml = tmp_path / "a.xml"
    xml.write_text('<testsuite tests="10" failures="2" errors="1" skipped="3"></testsuite>')
    assert checks.junit_counts(xml) == (4, 3, 3)


def test_junit_counts_nested_suites(tmp_path: Path) -> None:
    xml = tmp_path / "b.xml"
    xml.write_text(
        '<testsuites><testsuite tests="2" failures="0" errors="0" skipped="0"/>'
        '<testsuite tests="3" failures="1" errors="0" skipped="1"/></testsuites>'
    )
    assert checks.junit_counts(xml) == (3, 1, 1)


def test_failed_command_counts_as_one_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "LOGS", tmp_path)
    monkeypatch.setattr(checks, "ROOT", tmp_path)
    tally = checks.Tally()
    checks.run(checks.Check("false", ["false"], cwd=tmp_path), tally)
    checks.run(checks.Check("true", ["true"], cwd=tmp_path), tally)
    assert (tally.passed, tally.failed, tally.failures) == (1, 1, ["false"])


def test_pytest_that_ran_nothing_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "LOGS", tmp_path)
    monkeypatch.setattr(checks, "ROOT", tmp_path)
    junit = tmp_path / "empty.xml"
    (tmp_path / "test_nothing.py").write_text("")
    tally = checks.Tally()
    check = checks.Check(
        "empty",
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            str(tmp_path),
        ],
        junit=junit,
        cwd=tmp_path,
    )
    checks.run(check, tally)
    assert tally.failed == 1
