"""Odoo 18 JSON-RPC, written once: the envelope, the routes, what a reply means, a plain client.

Everything that talks JSON-RPC to Odoo goes through here: the envelope and
the parameters of each route (``call_kw``, ``/jsonrpc`` ``execute_kw`` and
``common.login``, ``/web/session/authenticate``), and :func:`classify`, what
one exchange's reply means. The simulated users send through Locust's
FastHttpSession and the preflight through :class:`OdooClient`, both behind
``loadtests.rpc.Caller``; the harness's own calls outside the load
(discovering the target's ids, reading the writes back, the version probe)
use :class:`OdooClient` directly.

Outcomes (odoo-protocol.md §2, §7; ha-and-validation-facts.md §4): a JSON
``result`` is ok; a JSON ``error`` is failed (Odoo rolled back); a timeout, a
reset, an unreadable body, a non-JSON 500 or a 502/503/504 during a write is
unknown: the write may or may not have been committed. Odoo answers errors
with HTTP 200 and an ``error`` member; :meth:`OdooClient.call` raises them as
:class:`OdooRpcError` with the code, the exception's dotted name and its
message. Transport problems stay ``requests`` exceptions (an HTTP status
without a JSON-RPC reply is :class:`OdooHttpError`): the caller decides
whether to retry.
"""

from __future__ import annotations

import itertools
import json
import socket
from dataclasses import dataclass
from typing import Any

import requests

from loadtests.ledger import Outcome

SESSION_EXPIRED = 100
GATEWAY_CODES = frozenset({502, 503, 504})
_LOST_CONNECTION = ("OperationalError", "InterfaceError", "ConnectionFailure", "AdminShutdown")
AUTHENTICATE = "/web/session/authenticate"
JSONRPC = "/jsonrpc"

_ids = itertools.count(1)


def envelope(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON-RPC 2.0 request body Odoo's ``type='json'`` routes take (``method`` is ignored: "call")."""
    return {"jsonrpc": "2.0", "method": "call", "params": params, "id": next(_ids)}


def call_kw_route(
    model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None, context: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """``/web/dataset/call_kw/<model>/<method>``: the web client's ORM call (session cookie)."""
    params = {
        "model": model,
        "method": method,
        "args": args,
        "kwargs": {**(kwargs or {}), "context": context},
    }
    return f"/web/dataset/call_kw/{model}/{method}", params


def execute_kw_route(
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None,
    *,
    db: str,
    uid: int,
    password: str,
) -> tuple[str, dict[str, Any]]:
    """``object.execute_kw`` through /jsonrpc: the integration path (no cookie, the password each call)."""
    return JSONRPC, {
        "service": "object",
        "method": "execute_kw",
        "args": [db, uid, password, model, method, args, kwargs or {}],
    }


def login_route(db: str, login: str, password: str) -> tuple[str, dict[str, Any]]:
    """``common.login`` through /jsonrpc: the uid, or False when refused."""
    return JSONRPC, {"service": "common", "method": "login", "args": [db, login, password]}


def authenticate_route(db: str, login: str, password: str) -> tuple[str, dict[str, Any]]:
    """``/web/session/authenticate``: a session cookie and Odoo's session_info."""
    return AUTHENTICATE, {"db": db, "login": login, "password": password}


@dataclass(frozen=True)
class Classified:
    """What one exchange means; ``error`` is the JSON-RPC ``error`` member when Odoo sent one."""

    outcome: Outcome
    detail: str
    result: Any = None
    error_code: int | None = None
    error_name: str = ""
    error: dict[str, Any] | None = None


def _is_timeout(err: BaseException) -> bool:
    names = {c.__name__ for c in type(err).__mro__}
    return bool(names & {"Timeout", "TimeoutError", "timeout", "ConnectionTimeout"}) or isinstance(
        err, socket.timeout
    )


def classify(  # noqa: PLR0911 - one return per protocol case
    status: int, body: bytes | None, error: BaseException | None, write: bool
) -> Classified:
    """Pure classification of one JSON-RPC exchange (unit-tested without a server)."""
    if error is not None and status == 0:
        if isinstance(error, ConnectionRefusedError):
            # nothing reached the server: the write certainly did not happen
            return Classified(Outcome.FAILED, f"connection refused: {error}")
        kind = "timeout" if _is_timeout(error) else type(error).__name__
        return Classified(Outcome.UNKNOWN if write else Outcome.FAILED, f"{kind}: {error}")
    if status in GATEWAY_CODES:
        return Classified(Outcome.UNKNOWN if write else Outcome.FAILED, f"HTTP {status} from the proxy")
    payload: Any = None
    if body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
    if not isinstance(payload, dict):
        if status >= 500 or status == 200 or error is not None:
            reason = f"HTTP {status} without a JSON-RPC body"
            return Classified(Outcome.UNKNOWN if write else Outcome.FAILED, reason)
        return Classified(Outcome.FAILED, f"HTTP {status}")
    if "error" in payload:
        err = payload.get("error") or {}
        data = err.get("data") or {}
        code = err.get("code")
        name = str(data.get("name", ""))
        message = str(data.get("message") or err.get("message") or "")
        # the database connection broke during a write: the COMMIT may have landed
        lost = write and any(n in name for n in _LOST_CONNECTION)
        return Classified(
            Outcome.UNKNOWN if lost else Outcome.FAILED,
            f"{code} {name}: {message}".strip(),
            None,
            code if isinstance(code, int) else None,
            name,
            err,
        )
    if status != 200:
        return Classified(Outcome.FAILED, f"HTTP {status}")
    if "jsonrpc" not in payload:
        return Classified(Outcome.UNKNOWN if write else Outcome.FAILED, "reply is not a JSON-RPC envelope")
    # a None return omits "result" (odoo-protocol.md §1)
    return Classified(Outcome.OK, "", payload.get("result"))


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


class OdooHttpError(requests.HTTPError):
    """A reply that is not a JSON-RPC result nor error (a proxy's 502, an HTML page); ``response`` has it."""


class OdooClient:
    """Logs in through ``/web/session/authenticate``, calls models through ``call_kw``; on ``requests``."""

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

    def exchange(self, path: str, params: dict[str, Any], *, write: bool = False) -> Classified:
        """One call, classified: never raises (a transport error is a failed or unknown outcome)."""
        try:
            resp = self.post(path, params)
        except requests.RequestException as exc:
            return classify(0, None, exc, write)
        return classify(resp.status_code, resp.content, None, write)

    def call(self, path: str, params: dict[str, Any]) -> Any:
        """The ``result`` of one JSON-RPC call (None when Odoo returned None and omitted it)."""
        resp = self.post(path, params)
        c = classify(resp.status_code, resp.content, None, write=False)
        if c.outcome is Outcome.OK:
            return c.result
        if c.error is not None:
            raise OdooRpcError(path, c.error)
        raise OdooHttpError(f"{path}: {c.detail}: {resp.text.strip()[:200]!r}", response=resp)

    def authenticate(self, login: str, password: str) -> dict[str, Any]:
        """Log in; returns Odoo's session_info (uid, user_context, user_companies, ...)."""
        info = self.call(*authenticate_route(self.db, login, password))
        if not isinstance(info, dict) or not info.get("uid"):
            raise OdooRpcError(AUTHENTICATE, {"message": f"login {login!r} was not accepted"})
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
        return self.call(
            *call_kw_route(model, method, args or [], kwargs, {**self.context, **(context or {})})
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
