"""The ledger read-back verifies the ERP's certificate with --ca-file even when
REQUESTS_CA_BUNDLE is set (requests lets that variable override a session's
verify setting, which made a pilot run unable to read its ledger)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from loadtests.reconcile import JsonRpcReader


class Recorded(Exception):
    pass


def test_ca_file_is_used_despite_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    seen: dict[str, Any] = {}

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> None:
        seen.update(kwargs)
        raise Recorded

    monkeypatch.setattr(requests.Session, "send", send)
    with pytest.raises(Recorded):
        JsonRpcReader("https://erp.pilot.test", "db", "admin", "pw", verify="/tmp/pilot-ca.pem")
    assert seen["verify"] == "/tmp/pilot-ca.pem"
