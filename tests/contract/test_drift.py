"""The double against real Odoo 18: its exchanges in the contract tests, by shape (tests/contract/drift.py).

The contract tests of this session record the double's exchanges (the
conftest enables ``loadtests.capture`` for the session; these tests run
last). A committed capture whose test did not run in this session (``-k``,
one file) is recorded by running its file once more against a double, in a
subprocess. One test per contract test with a committed capture from a real
Odoo (``tests/captures/odoo-18.0/``, written by ``make real-odoo-captures``),
for the test's own calls, and one for the fixtures' calls (the login of the
``admin`` fixture...), compared once for all tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests import capture
from tests.contract import drift

pytestmark = pytest.mark.double_only

REGENERATE = "make real-odoo-captures ODOO_SRC=/path/to/odoo"

# Drift known and being worked on (issue 13): strict, so a fix shows up as
# XPASS and fails until its line here goes.
KNOWN_DRIFT: dict[str, str] = {}

COMMITTED = drift.committed()


def _params() -> list[Any]:
    if not COMMITTED:
        return [
            pytest.param(
                "",
                marks=pytest.mark.skip(reason=f"no captures committed in {drift.CAPTURES}; {REGENERATE}"),
                id="no-captures",
            )
        ]
    params = [pytest.param(drift.FIXTURES, id="fixtures")]
    for label in sorted(COMMITTED):
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_DRIFT[label])] if label in KNOWN_DRIFT else []
        params.append(pytest.param(label, marks=marks, id=label.split("::", 1)[1]))
    return params


def _record_missing(missing: set[str], tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the contract test files of ``missing`` against a double in a subprocess, recording."""
    files = sorted({label.split("::", 1)[0] for label in missing})
    files = [f for f in files if (drift.ROOT / f).is_file()]
    if not files:
        return {}
    raw = tmp / "capture.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ODOO_")}
    env[capture.ENV] = str(raw)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=drift.ROOT,
        env=env,
        capture_output=True,
        check=False,
        timeout=900,
    )
    return drift.recorded(raw)


@pytest.fixture(scope="session")
def double_exchanges(
    tmp_path_factory: pytest.TempPathFactory, contract_capture: Path | None
) -> dict[str, list[dict[str, Any]]]:
    seen = drift.recorded(contract_capture) if contract_capture else {}
    missing = set(COMMITTED) - set(seen)
    if missing:
        seen.update(_record_missing(missing, tmp_path_factory.mktemp("drift")))
    return seen


@pytest.mark.parametrize("label", _params())
def test_no_shape_drift(label: str, double_exchanges: dict[str, list[dict[str, Any]]]):
    if label == drift.FIXTURES:
        ran = sorted(set(COMMITTED) & set(double_exchanges))
        report = drift.compare_fixtures(COMMITTED, double_exchanges, ran)
    elif label not in double_exchanges:
        pytest.skip(f"{label} is not in the contract suite any more (captured from real Odoo); {REGENERATE}")
    else:
        report = drift.compare(label, COMMITTED[label], double_exchanges[label])
    print(report.text())
    assert not report.drift, "the double drifts from real Odoo 18:\n" + report.text()


def test_contract_tests_have_captures(double_exchanges: dict[str, list[dict[str, Any]]]):
    if not COMMITTED:
        pytest.skip(f"no captures committed in {drift.CAPTURES}; {REGENERATE}")
    skipped = drift.skipped_on_real()
    uncaptured = sorted(
        label
        for label in double_exchanges
        if label.startswith(drift.CONTRACT_PREFIX) and label not in COMMITTED and label not in skipped
    )
    if uncaptured:
        pytest.skip(
            f"{len(uncaptured)} contract tests have no capture from real Odoo, so no drift check: "
            + ", ".join(uncaptured)
            + f"; {REGENERATE}"
        )
