"""The contract tests' JSON-RPC client (requests, with the cookie jar), in the harness's envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from loadtests import capture
from loadtests.odoo_client import envelope


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("data", {}).get("message"))
        self.error = error
        self.code = error.get("code")
        self.name = error.get("data", {}).get("name")
        self.message = error.get("data", {}).get("message")


@dataclass
class Client:
    url: str
    db: str
    timeout: float = 60
    http: requests.Session = field(default_factory=requests.Session)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # LOADTESTS_CAPTURE (or capture.enable) records this client's exchanges,
        # labelled with the running test: tests/captures/ and the drift test use them.
        capture.attach(self.http)

    def post(self, path: str, params: dict[str, Any], request_id: int | None = None) -> requests.Response:
        """One JSON-RPC call in the harness's envelope; ``request_id`` fixes the echoed id."""
        body = envelope(params)
        if request_id is not None:
            body["id"] = request_id
        return self.http.post(self.url + path, json=body, timeout=self.timeout, headers=self.headers)

    def call(self, path: str, params: dict[str, Any]) -> Any:
        resp = self.post(path, params)
        assert resp.status_code == 200, resp.text[:500]
        payload = resp.json()
        if "error" in payload:
            raise RpcError(payload["error"])
        return payload.get("result")

    def authenticate(self, login: str, password: str) -> dict[str, Any]:
        result = self.call("/web/session/authenticate", {"db": self.db, "login": login, "password": password})
        assert isinstance(result, dict)
        return result

    def kw_list(self, model: str, method: str, args: list[Any] | None = None, **kwargs: Any) -> list[Any]:
        result = self.kw(model, method, args, **kwargs)
        assert isinstance(result, list)
        return result

    def kw(self, model: str, method: str, args: list[Any] | None = None, **kwargs: Any) -> Any:
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args or [], "kwargs": kwargs},
        )
