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

# Drift known and being worked on (issue 13), from the first captures of
# real Odoo 18.0-20250702 (make real-odoo): strict, so a fix shows up as
# XPASS and fails until its line here goes. A test not listed must not drift.
_POS = "tests/contract/test_contract_pos.py::"
_PROTOCOL = "tests/contract/test_contract_protocol.py::"
_SESSION_INFO = (
    "session info (authenticate, get_session_info): real Odoo has current_tour, iap_company_enrich, "
    "max_time_between_keys_in_ms, tour_enabled, storeData Store/res.partner, more user_settings and "
    "view_info keys and hex cache_hashes; the double has has_group_pos_user, is_quick_edit_mode_enabled, "
    "user_id"
)
_SYNC_RESULT = (
    "pos.order.sync_from_ui records: the double lacks most fields of pos.order, pos.order.line and "
    "pos.payment, adds date_order/config_id/display_name to lines, a date as pos.payment display_name"
)
KNOWN_DRIFT: dict[str, str] = {
    drift.FIXTURES: "the admin fixture's login: " + _SESSION_INFO,
    _POS + "test_action_post_allocates_gapless_names": (
        "action_post of an invoice without customer or lines: UserError in real Odoo, posted by the double"
    ),
    _POS + "test_barcode_lookup": (
        "pos.session.find_product_by_barcode: real Odoo returns the POS product fields, the double a few"
    ),
    _POS + "test_draft_order_is_updated_in_place": _SYNC_RESULT,
    _POS + "test_picking_validation_moves_stock_once": (
        "stock.picking.create without picking_type_id: ValidationError in real Odoo, created by the double"
    ),
    _POS + "test_reporting_read_group": (
        "pos.order.line read_group by date_order: ValueError (no such field) in real Odoo, "
        "grouped by the double"
    ),
    _POS + "test_orders_of_a_closing_session_go_to_another_one": (
        "pos.config read: the double also returns current_session_state, which was not asked for"
    ),
    _PROTOCOL + "test_authenticate_sets_and_rotates_the_cookie": _SESSION_INFO,
    _PROTOCOL + "test_call_kw_errors": (
        "call_kw on an unknown model: werkzeug's whole 404 text as data.message in real Odoo, "
        "'404: Not Found' in the double"
    ),
    _PROTOCOL + "test_logout_is_a_303_and_kills_the_session": (
        "the logout's 303 is text/html in real Odoo, text/plain in the double; " + _SESSION_INFO
    ),
    _PROTOCOL + "test_none_result_omits_the_result_member": _SESSION_INFO,
    _PROTOCOL + "test_wrong_password_and_unknown_database": _SESSION_INFO,
}

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
    fixtures_marks = (
        [pytest.mark.xfail(strict=True, reason=KNOWN_DRIFT[drift.FIXTURES])]
        if drift.FIXTURES in KNOWN_DRIFT
        else []
    )
    params = [pytest.param(drift.FIXTURES, marks=fixtures_marks, id="fixtures")]
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
