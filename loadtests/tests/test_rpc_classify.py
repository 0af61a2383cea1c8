import json

import pytest

from loadtests.ledger import Outcome
from loadtests.odoo_client import classify


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_result_and_missing_result_are_ok():
    c = classify(200, body({"jsonrpc": "2.0", "id": 1, "result": [1, 2]}), None, write=True)
    assert c.outcome is Outcome.OK
    assert c.result == [1, 2]
    assert classify(200, body({"jsonrpc": "2.0", "id": 7}), None, write=True).outcome is Outcome.OK


def test_error_envelope_on_http_200_is_failed_with_code_and_name():
    err = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": 100,
            "message": "Odoo Session Expired",
            "data": {"name": "odoo.http.SessionExpiredException", "message": "Session expired"},
        },
    }
    c = classify(200, body(err), None, write=True)
    assert c.outcome is Outcome.FAILED
    assert c.error_code == 100
    assert c.error_name == "odoo.http.SessionExpiredException"
    assert "Session expired" in c.detail


@pytest.mark.parametrize("write", [True, False])
def test_lost_db_connection_during_a_write_is_unknown(write):
    err = {
        "jsonrpc": "2.0",
        "id": 3,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": {"name": "psycopg2.OperationalError", "message": "x"},
        },
    }
    expected = Outcome.UNKNOWN if write else Outcome.FAILED
    assert classify(200, body(err), None, write=write).outcome is expected


@pytest.mark.parametrize(
    ("status", "content", "error", "write", "outcome"),
    [
        (0, None, TimeoutError("timed out"), True, Outcome.UNKNOWN),
        (0, None, TimeoutError(), False, Outcome.FAILED),
        (0, None, ConnectionResetError(104, "reset"), True, Outcome.UNKNOWN),
        (0, None, ConnectionRefusedError(111, "refused"), True, Outcome.FAILED),
        (502, b"Bad Gateway", None, True, Outcome.UNKNOWN),
        (504, b"", None, False, Outcome.FAILED),
        (503, b"", None, True, Outcome.UNKNOWN),
        (500, b"<html>Internal Server Error</html>", None, True, Outcome.UNKNOWN),
        (500, b"<html>Internal Server Error</html>", None, False, Outcome.FAILED),
        (404, b"Not Found", None, True, Outcome.FAILED),
        (200, b"not json", None, True, Outcome.UNKNOWN),
        (200, body([1]), None, False, Outcome.FAILED),
        (200, body({"foo": 1}), None, True, Outcome.UNKNOWN),
    ],
)
def test_transport_outcomes(status, content, error, write, outcome):
    assert classify(status, content, error, write).outcome is outcome
