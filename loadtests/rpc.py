"""A fast Odoo 18 JSON-RPC client on Locust's FastHttpSession.

* ``call_kw`` posts ``/web/dataset/call_kw/<model>/<method>`` with the
  session cookie, checks the JSON error envelope (Odoo answers HTTP 200 on
  errors), logs in again on code 100 (session expired) and retries once.
* ``execute_kw`` goes through ``/jsonrpc`` (``object.execute_kw``), the
  integration path that sends the password on every call and has no cookie.
* Every call becomes a Locust request event named ``model.method`` with the
  service tier as its request type, and a context carrying the branch,
  region, link class, tier and the outcome (ok / failed / unknown).

Outcomes (odoo-protocol.md §2, §7; ha-and-validation-facts.md §4): a JSON
``result`` is ok; a JSON ``error`` is failed (Odoo rolled back); a timeout, a
reset, an unreadable body, a non-JSON 500 or a 502/503/504 during a write is
unknown: the write may or may not have been committed.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loadtests.ledger import LedgerWriter, Outcome
from loadtests.odoo_client import envelope

SESSION_EXPIRED = 100
GATEWAY_CODES = frozenset({502, 503, 504})
_LOST_CONNECTION = ("OperationalError", "InterfaceError", "ConnectionFailure", "AdminShutdown")


@dataclass(frozen=True)
class Classified:
    outcome: Outcome
    detail: str
    result: Any = None
    error_code: int | None = None
    error_name: str = ""


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
        if write and any(n in name for n in _LOST_CONNECTION):
            # the database connection broke during the call: the COMMIT may have landed
            return Classified(
                Outcome.UNKNOWN,
                f"{code} {name}: {message}".strip(),
                None,
                code if isinstance(code, int) else None,
                name,
            )
        return Classified(
            Outcome.FAILED,
            f"{code} {name}: {message}".strip(),
            None,
            code if isinstance(code, int) else None,
            name,
        )
    if status != 200:
        return Classified(Outcome.FAILED, f"HTTP {status}")
    if "jsonrpc" not in payload:
        return Classified(Outcome.UNKNOWN if write else Outcome.FAILED, "reply is not a JSON-RPC envelope")
    # a None return omits "result" (odoo-protocol.md §1)
    return Classified(Outcome.OK, "", payload.get("result"))


class RpcError(Exception):
    def __init__(self, c: Classified) -> None:
        super().__init__(c.detail)
        self.classified = c


@dataclass
class CallTags:
    branch: str = ""
    region: str = ""
    link: str = ""


@dataclass
class OdooSession:
    """Logs in once, keeps the newest session cookie (FastHttpSession's jar)."""

    client: Any  # locust.contrib.fasthttp.FastHttpSession
    db: str
    login: str
    password: str
    tags: CallTags = field(default_factory=CallTags)
    ledger: LedgerWriter | None = None
    uid: int | None = None
    user_context: dict[str, Any] = field(default_factory=dict)

    # ---- low level -------------------------------------------------------
    def _post(self, path: str, params: dict[str, Any], *, tier: str, name: str, write: bool) -> Classified:
        body = envelope(params)
        ctx = {"tier": tier, "branch": self.tags.branch, "region": self.tags.region, "link": self.tags.link}
        with self.client.request(
            "POST", path, name=name, json=body, catch_response=True, context=ctx
        ) as resp:
            err = resp.request_meta.get("exception") or getattr(resp, "error", None)
            try:
                content = resp.content
            except Exception as exc:  # body cut off mid-read
                content, err = None, exc
            status = int(getattr(resp, "status_code", 0) or 0)
            c = classify(status, content, err, write)
            resp.request_meta["request_type"] = tier
            resp.request_meta["context"] = {**ctx, "outcome": str(c.outcome)}
            if c.outcome is Outcome.OK:
                resp.success()
            else:
                resp.failure(f"{c.outcome}: {c.detail}")
        return c

    # ---- sessions ----------------------------------------------------------
    def authenticate(self) -> bool:
        c = self._post(
            "/web/session/authenticate",
            {"db": self.db, "login": self.login, "password": self.password},
            tier="auth",
            name="web.session.authenticate",
            write=False,
        )
        if c.outcome is not Outcome.OK or not isinstance(c.result, dict) or not c.result.get("uid"):
            self.uid = None
            return False
        self.uid = int(c.result["uid"])
        self.user_context = dict(c.result.get("user_context") or {})
        return True

    # ---- calls ---------------------------------------------------------------
    def call_kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        write: bool = False,
        ledger_kind: str = "",
        ledger_key: str = "",
        context: dict[str, Any] | None = None,
    ) -> Classified:
        """One ORM call; a session expiry (code 100) logs in again and retries once.

        With ``ledger_key`` the write is logged as an attempt before it is sent
        and its outcome after; the retry after code 100 is safe because the
        expired call was refused before dispatch.
        """
        kw = dict(kwargs or {})
        kw["context"] = {**self.user_context, **(context or {})}
        params: dict[str, Any] = {"model": model, "method": method, "args": args, "kwargs": kw}
        name = f"{model}.{method}"
        if self.uid is None and not self.authenticate():
            return Classified(Outcome.FAILED, "login failed")
        path = f"/web/dataset/call_kw/{model}/{method}"

        def send() -> Classified:
            c = self._post(path, params, tier=tier, name=name, write=write)
            if c.error_code == SESSION_EXPIRED and self.authenticate():
                params["kwargs"]["context"] = {**self.user_context, **(context or {})}
                c = self._post(path, params, tier=tier, name=name, write=write)
            return c

        return self.ledgered(ledger_kind or model, ledger_key, tier, send)

    def execute_kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        write: bool = False,
        ledger_kind: str = "",
        ledger_key: str = "",
    ) -> Classified:
        """``object.execute_kw`` through /jsonrpc: no cookie, password on every call."""
        if self.uid is None:
            c = self._post(
                "/jsonrpc",
                {"service": "common", "method": "login", "args": [self.db, self.login, self.password]},
                tier="auth",
                name="common.login",
                write=False,
            )
            if c.outcome is not Outcome.OK or not c.result:
                return Classified(Outcome.FAILED, "login failed")
            self.uid = int(c.result)
        params = {
            "service": "object",
            "method": "execute_kw",
            "args": [self.db, self.uid, self.password, model, method, args, kwargs or {}],
        }
        name = f"{model}.{method} (jsonrpc)"
        return self.ledgered(
            ledger_kind or model,
            ledger_key,
            tier,
            lambda: self._post("/jsonrpc", params, tier=tier, name=name, write=write),
        )

    def ledgered(self, kind: str, key: str, tier: str, send: Callable[[], Classified]) -> Classified:
        """Log a write as an attempt (tagged with branch, region, link), send it, log its outcome.

        Without a ledger or a key the write is only sent.
        """
        if self.ledger is None or not key:
            return send()
        tags = self.tags
        self.ledger.attempt(kind, key, tier=tier, branch=tags.branch, region=tags.region, link=tags.link)
        c = send()
        self.ledger.outcome(kind, key, c.outcome, c.detail)
        return c
