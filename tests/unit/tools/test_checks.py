"""tools/checks.py counts pytest cases from JUnit XML and everything else as one test; the unit suite
runs on pytest-xdist workers."""

from __future__ import annotations

import os
import subprocess
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


def test_failure_excerpt_shows_failed_tasks_not_ignored_ones() -> None:
    log = "\n".join(
        [
            "TASK [ok task] ***",
            "ok: [a]",
            "TASK [ignored] ***",
            "fatal: [a]: FAILED! => {'msg': 'ignored'}",
            "...ignoring",
            "TASK [Read pg_stat_replication on the leader] ***",
            "\x1b[31mfatal: [pg-node-1]: FAILED! => {\x1b[0m",
            '    "stdout": "pg-node-2 streaming sync"',
            "}",
            "PLAY RECAP ***",
            "pg-node-1 : ok=3 failed=1",
            "destroy: Executed: Successful",
        ]
    )
    excerpt = checks.failure_excerpt(log)
    assert excerpt == [
        "  ...",
        "fatal: [pg-node-1]: FAILED! => {",
        '    "stdout": "pg-node-2 streaming sync"',
        "}",
    ]


def test_failed_check_prints_the_failed_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(checks, "LOGS", tmp_path)
    monkeypatch.setattr(checks, "ROOT", tmp_path)
    lines = ["TASK [probe] ***", "fatal: [h]: FAILED! => {'msg': 'the cause'}"] + [
        f"line {n}" for n in range(40)
    ]
    output = tmp_path / "output.txt"
    output.write_text("\n".join(lines) + "\n")
    checks.run(
        checks.Check("scenario", ["bash", "-c", f"cat {output}; exit 2"], cwd=tmp_path), checks.Tally()
    )
    out = capsys.readouterr().out
    assert "fatal: [h]: FAILED! => {'msg': 'the cause'}" in out
    assert out.index("the cause") < out.index("--- end of the log:")


def test_real_odoo_lane_is_named_never_run() -> None:
    assert "skipped  ODOO_SRC/ODOO_IMAGE not set" in checks.real_odoo_line({})
    assert "ODOO_IMAGE is set" in checks.real_odoo_line({"ODOO_IMAGE": "odoo:18.0"})


GOOD_RULES = """groups:
  - name: g
    rules:
      - alert: A
        expr: up == 0
"""
GOOD_TEST = """rule_files: [../roles/r/files/rules/a.yml]
tests:
  - interval: 1m
    input_series:
      - series: up{job="x"}
        values: 0x5
    alert_rule_test:
      - eval_time: 2m
        alertname: A
        exp_alerts:
          - exp_labels: {job: x}
"""


def run_promtool_check(name: str, repo: Path) -> int:
    """Run the named promtool check of lint (by its argv) in a scratch git repository."""
    (check,) = [c for c in checks.lint_checks() if c.name == name]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return subprocess.run(check.argv, cwd=repo, capture_output=True, check=False).returncode


@pytest.mark.parametrize(
    ("rules", "test", "check_rc", "test_rc"),
    [
        pytest.param(GOOD_RULES, GOOD_TEST, 0, 0, id="valid"),
        pytest.param(GOOD_RULES.replace("up == 0", "up =="), GOOD_TEST, 1, 1, id="rule file does not parse"),
        pytest.param(GOOD_RULES, GOOD_TEST.replace("{job: x}", "{job: y}"), 0, 1, id="alert test fails"),
        pytest.param(None, None, 1, 1, id="no files at all"),
    ],
)
def test_promtool_checks_fail_when_they_should(
    tmp_path: Path, rules: str | None, test: str | None, check_rc: int, test_rc: int
) -> None:
    if rules is not None and test is not None:
        (tmp_path / "roles" / "r" / "files" / "rules").mkdir(parents=True)
        (tmp_path / "roles" / "r" / "files" / "rules" / "a.yml").write_text(rules)
        (tmp_path / "tests" / "promtool").mkdir(parents=True)
        (tmp_path / "tests" / "promtool" / "a_test.yml").write_text(test.replace("../roles", "../../roles"))
    assert (run_promtool_check("promtool-check-rules", tmp_path) != 0) == bool(check_rc)
    assert (run_promtool_check("promtool-test-rules", tmp_path) != 0) == bool(test_rc)


def test_unit_workers_come_from_the_environment_else_the_cpus() -> None:
    assert checks.unit_workers({"RETAILOPS_UNIT_WORKERS": "3"}) == 3
    assert checks.unit_workers({"RETAILOPS_UNIT_WORKERS": "0"}) == 1
    assert checks.unit_workers({}) == max(1, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize(("workers", "expect"), [("2", ["-n", "2"]), ("1", [])])
def test_unit_check_runs_pytest_on_the_workers(
    workers: str, expect: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAILOPS_UNIT_WORKERS", workers)
    (check,) = checks.unit_checks()
    assert check.argv[:4] == [sys.executable, "-m", "pytest", "-q"]
    assert check.argv[4:-1] == expect
    assert check.argv[-1] == f"--junitxml={check.junit}"
