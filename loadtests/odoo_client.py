"""A plain Odoo 18 JSON-RPC client on ``requests`` for the harness's own calls.

The simulated users send through Locust's FastHttpSession (``loadtests.rpc``);
everything the harness asks outside the load (discovering the target's ids,
the preflight, reading the writes back) goes through this client: one
envelope, one error type, the session cookie kept by ``requests``.

Odoo answers errors with HTTP 200 and an ``error`` member
(odoo-protocol.md §2); they become :class:`OdooRpcError` with the code, the
exception's dotted name and its message. Transport problems stay
``requests`` exceptions: the caller decides whether to retry.
"""

from __future__ import annotations

import itertools
from typing import Any

import requests

_ids = itertools.count(1)


def envelope(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON-RPC 2.0 request body Odoo's ``type='json'`` routes take (``method`` is ignored: "call")."""
    return {"jsonrpc": "2.0", "method": "call", "params": params, "id": next(_ids)}


class OdooRpcError(RuntimeError):
    """A JSON-RPC ``error`` reply: ``code`` (100, 200, 404), ``name`` (e.g. odoo.exceptions.UserError)."""

    def __init__(self, path: str, error: dict[str, Any]) -> None:
        data = error.get("data") or {}
        self.path = path
        self.code: int | None = error.get("code") if isinstance(error.get("code"), int) else None
        self.name = str(data.get("name") or "")
        self.message = str(data.get("message") or error.get("message") or "")
        self.error = error
        super().__init__(f"{path}: {self.code} {self.name}: {self.message}".strip())


class OdooClient:
    """Logs in through ``/web/session/authenticate`` and calls models through ``call_kw``."""

    def __init__(
        self,
        host: str,
        db: str,
        *,
        timeout: float = 60.0,
        verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        self.url = host.rstrip("/")
        self.db = db
        self.http = session or requests.Session()
        # Per request, not on the session: requests lets REQUESTS_CA_BUNDLE
        # (set on many machines) override a session's verify.
        self.verify = verify
        self.timeout = timeout
        self.uid: int | None = None
        self.session_info: dict[str, Any] = {}

    def post(self, path: str, params: dict[str, Any]) -> requests.Response:
        return self.http.post(
            self.url + path, json=envelope(params), timeout=self.timeout, verify=self.verify
        )

    def call(self, path: str, params: dict[str, Any]) -> Any:
        """The ``result`` of one JSON-RPC call (None when Odoo returned None and omitted it)."""
        resp = self.post(path, params)
        resp.raise_for_status()
        try:
            data = resp.json()
        except ValueError:
            raise requests.RequestException(
                f"{path}: HTTP {resp.status_code} without a JSON body: {resp.text.strip()[:200]!r}"
            ) from None
        if not isinstance(data, dict):
            raise requests.RequestException(f"{path}: the reply is not a JSON-RPC envelope")
        if "error" in data:
            raise OdooRpcError(path, data["error"] or {})
        return data.get("result")

    def authenticate(self, login: str, password: str) -> dict[str, Any]:
        """Log in; returns Odoo's session_info (uid, user_context, user_companies, ...)."""
        info = self.call("/web/session/authenticate", {"db": self.db, "login": login, "password": password})
        if not isinstance(info, dict) or not info.get("uid"):
            raise OdooRpcError("/web/session/authenticate", {"message": f"login {login!r} was not accepted"})
        self.uid = int(info["uid"])
        self.session_info = info
        return info

    @property
    def context(self) -> dict[str, Any]:
        return dict(self.session_info.get("user_context") or {})

    @property
    def company_id(self) -> int | None:
        companies = self.session_info.get("user_companies") or {}
        current = companies.get("current_company") if isinstance(companies, dict) else None
        return int(current) if isinstance(current, int) else None

    def call_kw(
        self,
        model: str,
        method: str,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> Any:
        kw = dict(kwargs or {})
        kw["context"] = {**self.context, **(context or {})}
        return self.call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args or [], "kwargs": kw},
        )

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        limit: int | None = None,
        order: str = "id asc",
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"domain": domain, "fields": fields, "order": order}
        if limit is not None:
            kwargs["limit"] = limit
        rows = self.call_kw(model, "search_read", [], kwargs, context)
        return list(rows or [])

    def execute_kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        login_uid: int,
        password: str,
    ) -> Any:
        """``object.execute_kw`` through /jsonrpc (the integration path: no cookie, password each call)."""
        return self.call(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [self.db, login_uid, password, model, method, args, kwargs or {}],
            },
        )

    def login_uid(self, login: str, password: str) -> int | None:
        """``common.login`` through /jsonrpc: the uid, or None when refused."""
        uid = self.call(
            "/jsonrpc", {"service": "common", "method": "login", "args": [self.db, login, password]}
        )
        return int(uid) if isinstance(uid, int) and not isinstance(uid, bool) and uid else None
