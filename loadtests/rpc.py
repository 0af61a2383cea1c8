"""The one call path of the personas' operations, for the load and the preflight.

:class:`Caller` is what ``loadtests.operations`` calls: ``call_kw`` (through
the web client's route, or with ``jsonrpc`` through /jsonrpc ``execute_kw``,
the integration path; a client key makes it a ledgered write) and
``ledgered``. It builds each route's parameters (``loadtests.odoo_client``),
logs in, logs in again on a session expiry
(code 100) and retries once, and keeps the write ledger: an attempt before
a keyed write is sent, its outcome after. Its :class:`Transport` posts one
envelope, classifies the reply (``odoo_client.classify``) and records the
exchange its way (:meth:`Transport.send`):

* :class:`FastHttpTransport`, the simulated users', on Locust's
  FastHttpSession: every exchange is a Locust request event named
  ``model.method``, with the service tier as its request type and a context
  carrying the branch, region, link class, tier and outcome (the harness's
  samples);
* ``loadtests.preflight.PreflightTransport``, on the plain client
  (``OdooClient``): every exchange is kept for the preflight's verdict.

This module does not import Locust: importing it monkey-patches the process
with gevent, which the command line (preflight, drills) must not get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from loadtests.ledger import LedgerWriter, Outcome
from loadtests.odoo_client import (
    SESSION_EXPIRED,
    Classified,
    authenticate_route,
    call_kw_route,
    classify,
    envelope,
    execute_kw_route,
    login_route,
)


@dataclass(frozen=True)
class CallTags:
    branch: str = ""
    region: str = ""
    link: str = ""


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Request:
    """One JSON-RPC call as a :class:`Caller` sends it, with what a transport records of it."""

    path: str
    params: dict[str, Any]
    tier: str
    name: str  # model.method: Locust's request name
    model: str
    write: bool  # a broken reply is unknown (the write may have landed), not failed
    tags: CallTags


class Transport(Protocol):
    def send(self, request: Request) -> Classified:
        """Post the request's envelope, classify the reply and record the exchange."""


class Caller:
    """A login's calls to Odoo: the web session (``uid``) and the /jsonrpc login (``rpc_uid``)."""

    def __init__(
        self,
        transport: Transport,
        db: str,
        login: str,
        password: str,
        *,
        tags: CallTags | None = None,
        ledger: LedgerWriter | None = None,
        before_call: Callable[[], None] = _nothing,
    ) -> None:
        self.transport = transport
        self.db = db
        self.login = login
        self.password = password
        self.tags = tags or CallTags()
        self.ledger = ledger
        self.before_call = before_call  # a simulated user's request budget
        self.uid: int | None = None
        self.rpc_uid: int | None = None
        self.user_context: dict[str, Any] = {}

    def exchange(
        self, path: str, params: dict[str, Any], *, tier: str, name: str, model: str, write: bool
    ) -> Classified:
        return self.transport.send(Request(path, params, tier, name, model, write, self.tags))

    # ---- sessions ----------------------------------------------------------
    def authenticate(self) -> bool:
        path, params = authenticate_route(self.db, self.login, self.password)
        c = self.exchange(path, params, tier="auth", name="web.session.authenticate", model="", write=False)
        return self.use_session(c.result if c.outcome is Outcome.OK else None)

    def use_session(self, info: Any) -> bool:
        """Take the uid and user context of Odoo's session_info (None or no uid: logged out)."""
        if not isinstance(info, dict) or not info.get("uid"):
            self.uid = None
            return False
        self.uid = int(info["uid"])
        self.user_context = dict(info.get("user_context") or {})
        return True

    def rpc_login(self) -> bool:
        """``common.login`` through /jsonrpc, once: the uid of the integration path."""
        if self.rpc_uid is None:
            path, params = login_route(self.db, self.login, self.password)
            c = self.exchange(path, params, tier="auth", name="common.login", model="", write=False)
            ok = c.outcome is Outcome.OK and isinstance(c.result, int) and not isinstance(c.result, bool)
            self.rpc_uid = int(c.result) if ok and c.result else None
        return self.rpc_uid is not None

    # ---- the operations' calls ---------------------------------------------
    def call_kw(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
        *,
        tier: str,
        write: bool = False,
        kind: str = "",
        key: str = "",
        context: dict[str, Any] | None = None,
        jsonrpc: bool = False,
    ) -> Classified:
        """One ORM call, through the web client's ``call_kw`` (the session cookie) or, with
        ``jsonrpc``, through /jsonrpc ``object.execute_kw`` (the integration path: no cookie, the
        password on every call, ``context`` unused).

        A session expiry (code 100) logs in again and retries once: safe, the
        expired call was refused before dispatch. With ``key`` the write is
        logged in the ledger (as ``kind``, else the model). A broken reply to
        a ``write`` is unknown, to a read failed.
        """
        self.before_call()
        logged_in = self.rpc_login() if jsonrpc else self.uid is not None or self.authenticate()
        if not logged_in:
            via = "common.login" if jsonrpc else "web.session.authenticate"
            return Classified(Outcome.FAILED, f"{via} refused login {self.login!r}")
        name = f"{model}.{method}" + (" (jsonrpc)" if jsonrpc else "")

        def post() -> Classified:  # in the session it is sent in
            if jsonrpc:
                uid = self.rpc_uid or 0
                route = execute_kw_route(
                    model, method, args, kwargs, db=self.db, uid=uid, password=self.password
                )
            else:
                route = call_kw_route(model, method, args, kwargs, {**self.user_context, **(context or {})})
            return self.exchange(*route, tier=tier, name=name, model=model, write=write)

        def send() -> Classified:
            c = post()
            expired = not jsonrpc and c.error_code == SESSION_EXPIRED
            return post() if expired and self.authenticate() else c

        return self.ledgered(kind or model, key, tier, send)

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


class FastHttpTransport:
    """The simulated users' transport: Locust's FastHttpSession, which keeps the newest session cookie."""

    def __init__(self, client: Any) -> None:  # locust.contrib.fasthttp.FastHttpSession
        self.client = client

    def send(self, request: Request) -> Classified:
        tags = request.tags
        ctx = {"tier": request.tier, "branch": tags.branch, "region": tags.region, "link": tags.link}
        with self.client.request(
            "POST",
            request.path,
            name=request.name,
            json=envelope(request.params),
            catch_response=True,
            context=ctx,
        ) as resp:
            err = resp.request_meta.get("exception") or getattr(resp, "error", None)
            try:
                content = resp.content
            except Exception as exc:  # body cut off mid-read
                content, err = None, exc
            status = int(getattr(resp, "status_code", 0) or 0)
            c = classify(status, content, err, request.write)
            resp.request_meta["request_type"] = request.tier
            resp.request_meta["context"] = {**ctx, "outcome": str(c.outcome)}
            if c.outcome is Outcome.OK:
                resp.success()
            else:
                resp.failure(f"{c.outcome}: {c.detail}")
        return c
