"""The WSGI application: Odoo 18's routes, envelopes, cookies and proxy_mode."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import xmlrpc.client
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import DOUBLE_HEADER, DOUBLE_NAME, DOUBLE_VERSION
from .auth import session_token
from .config import Config
from .db import Cursor, server_alive
from .errors import (
    AccessDenied,
    AccessError,
    BadJson,
    NotFound,
    SessionExpired,
    error_envelope,
    exception_message,
    xmlrpc_fault_code,
    xmlrpc_fault_string,
)
from .models import REGISTRY
from .orm import wire_scalar
from .service import OdooService, version_info
from .sessions import SID_RE, SessionStore, generate_sid, make_store

_logger = logging.getLogger(__name__)

JSON_MIMETYPES = ("application/json", "application/json-rpc")
SESSION_MAX_AGE = 604800
COOKIE_EXPIRES = dt.timedelta(days=365)
StartResponse = Callable[..., Any]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date):
        return wire_scalar(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, default=_json_default)
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


@dataclass
class HttpSession:
    sid: str
    data: dict[str, Any]
    cookie_sid: str | None
    dirty: bool = False
    rotate: bool = False
    old_sids: list[str] = field(default_factory=list)

    @property
    def uid(self) -> int | None:
        uid = self.data.get("uid")
        return uid if isinstance(uid, int) else None

    def logout(self, keep_db: bool = True) -> None:
        db = self.data.get("db") if keep_db else None
        self.data = {"db": db, "uid": None, "login": None, "context": {}, "session_token": None}
        self.dirty = self.rotate = True


class OdooDoubleApp:
    def __init__(self, cfg: Config, store: SessionStore | None = None) -> None:
        self.cfg = cfg
        self.service = OdooService(cfg)
        self.store = store if store is not None else make_store(cfg)
        self.proxy_fix = ProxyFix(self._app, x_for=1, x_proto=1, x_host=1)
        json_routes: list[tuple[str, str]] = [
            ("/web/session/authenticate", "authenticate"),
            ("/web/session/get_session_info", "get_session_info"),
            ("/web/session/check", "check"),
            ("/web/session/destroy", "destroy"),
            ("/web/dataset/call_kw", "call_kw"),
            ("/web/dataset/call_kw/<path:path>", "call_kw"),
            ("/web/dataset/call_button", "call_button"),
            ("/web/dataset/call_button/<path:path>", "call_button"),
            ("/web/webclient/version_info", "version_info"),
            ("/jsonrpc", "jsonrpc"),
            ("/web/database/list", "database_list"),
        ]
        http_routes: list[tuple[str, str]] = [
            ("/web/health", "health"),
            ("/websocket/health", "websocket_health"),
            ("/web/session/logout", "logout"),
            ("/web/login", "login_page"),
            ("/xmlrpc/2/<service>", "xmlrpc2"),
            ("/xmlrpc/<service>", "xmlrpc_legacy"),
            ("/web/database/selector", "database_page"),
            ("/web/database/manager", "database_page"),
        ]
        for action in ("create", "duplicate", "drop", "backup", "restore", "change_password"):
            http_routes.append((f"/web/database/{action}", "database_action"))
        self.json_endpoints = {e for _unused, e in json_routes}
        self.url_map = Map([Rule(path, endpoint=e) for path, e in json_routes + http_routes])

    # ------------------------------------------------------------ WSGI plumbing

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # proxy_mode applies ProxyFix only when X-Forwarded-Host is present (odoo/http.py).
        if self.cfg.proxy_mode and environ.get("HTTP_X_FORWARDED_HOST"):
            return self.proxy_fix(environ, start_response)
        return self._app(environ, start_response)

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match(return_rule=False)
        except Exception:
            response = Response("<h1>Not Found</h1>", status=404, content_type="text/html; charset=utf-8")
        else:
            if endpoint in self.json_endpoints:
                response = self.handle_json(request, str(endpoint), dict(values))
            else:
                response = getattr(self, f"http_{endpoint}")(request, **values)
        response.headers[DOUBLE_HEADER] = f"{DOUBLE_NAME}/{DOUBLE_VERSION}"
        return response(environ, start_response)

    # ------------------------------------------------------------ sessions

    def load_session(self, request: Request) -> HttpSession:
        cookie_sid = request.cookies.get("session_id")
        if cookie_sid and SID_RE.match(cookie_sid):
            data = self.store.get(cookie_sid)
            session = HttpSession(cookie_sid, data or {}, cookie_sid, dirty=data is None)
        else:
            session = HttpSession(generate_sid(), {}, cookie_sid, dirty=True)
        db = session.data.get("db")
        host = request.host or ""
        if not (db and self.service.db_allowed(db, host)):
            try:
                visible = self.service.db_list(host)
            except psycopg.Error:
                visible = []
            chosen = visible[0] if len(visible) == 1 else None
            if db and db != chosen:
                _logger.warning("Logged into database %r, but dbfilter rejects it; logging session out.", db)
                session.logout(keep_db=False)
            if session.data.get("db") != chosen:
                session.data["db"] = chosen
                session.dirty = True
        return session

    def save_session(self, session: HttpSession, response: Response) -> None:
        if session.rotate:
            session.old_sids.append(session.sid)
            session.sid = generate_sid()
        for old in session.old_sids:
            self.store.delete(old)
        if session.dirty or session.rotate:
            self.store.save(session.sid, session.data)
        if session.dirty or session.rotate or session.cookie_sid != session.sid:
            response.set_cookie(
                "session_id",
                session.sid,
                max_age=SESSION_MAX_AGE,
                expires=dt.datetime.now(dt.UTC) + COOKIE_EXPIRES,
                httponly=True,
                path="/",
            )

    def _require_user(self, session: HttpSession) -> tuple[str, int]:
        db, uid = session.data.get("db"), session.uid
        if not db or uid is None:
            raise SessionExpired()
        return str(db), uid

    def _token_check(self, session: HttpSession, uid: int) -> Callable[[Cursor], None]:
        def check(cr: Cursor) -> None:
            if not self.service.check_session_token(cr, uid, session.data.get("session_token")):
                session.logout()
                raise SessionExpired()

        return check

    # ------------------------------------------------------------ JSON-RPC routes

    def handle_json(self, request: Request, endpoint: str, values: dict[str, Any]) -> Response:  # noqa: PLR0911
        if request.method != "POST":
            return Response("Method Not Allowed", status=405, content_type="text/plain")
        if request.mimetype not in JSON_MIMETYPES:
            return Response(
                f"Request inferred type is compatible with ['http'] but {request.path!r} is type='json'.",
                status=400,
                content_type="text/plain",
            )
        early_parse = endpoint in ("call_kw", "call_button")
        try:
            body = json.loads(request.get_data())
        except ValueError as exc:
            if early_parse:
                return json_response(error_envelope(BadJson(str(exc)), None))
            return Response("Invalid JSON data", status=400, content_type="text/plain")
        if not isinstance(body, dict):
            return Response("Invalid JSON-RPC data", status=400, content_type="text/plain")
        request_id = body.get("id")
        params = body.get("params") or {}
        if not isinstance(params, dict):
            return Response("Invalid JSON-RPC data", status=400, content_type="text/plain")
        save = endpoint not in ("jsonrpc", "version_info")
        session = self.load_session(request) if save else None
        try:
            result = getattr(self, f"json_{endpoint}")(request, session, params)
        except Exception as exc:
            if not isinstance(exc, SessionExpired | NotFound | AccessDenied):
                _logger.info("%s %s: %s: %s", request.path, endpoint, type(exc).__name__, exc)
            payload = error_envelope(exc, request_id)
        else:
            payload = {"jsonrpc": "2.0", "id": request_id}
            if result is not None:
                payload["result"] = result
        response = json_response(payload)
        if session is not None:
            self.save_session(session, response)
        return response

    def json_authenticate(self, request: Request, session: HttpSession, params: dict[str, Any]) -> Any:
        db, login, password = params.get("db"), params.get("login"), params.get("password")
        if not isinstance(db, str) or not self.service.db_allowed(db, request.host or ""):
            raise AccessError("Database not found.")
        uid = self.service.authenticate(db, str(login or ""), str(password or ""), request.remote_addr or "")

        def info(cr: Cursor) -> tuple[dict[str, Any], str | None]:
            return self.service.session_info(cr, db, uid), session_token(cr, uid)

        session_info, token = self.service.db(db).retrying(info)
        session.data = {
            "db": db,
            "uid": uid,
            "login": login,
            "context": session_info["user_context"],
            "session_token": token,
        }
        session.dirty = session.rotate = True
        return session_info

    def json_get_session_info(self, request: Request, session: HttpSession, params: dict[str, Any]) -> Any:
        db, uid = self._require_user(session)
        check = self._token_check(session, uid)

        def info(cr: Cursor) -> dict[str, Any]:
            check(cr)
            return self.service.session_info(cr, db, uid)

        result = self.service.db(db).retrying(info)
        session.dirty = True
        return result

    def json_check(self, request: Request, session: HttpSession, params: dict[str, Any]) -> None:
        db, uid = self._require_user(session)
        self.service.db(db).retrying(self._token_check(session, uid))

    def json_destroy(self, request: Request, session: HttpSession, params: dict[str, Any]) -> None:
        self._require_user(session)
        session.logout()

    def _call(self, session: HttpSession, params: dict[str, Any]) -> Any:
        model_name, method, args, kwargs = params["model"], params["method"], params["args"], params["kwargs"]
        db, uid = self._require_user(session)
        model = REGISTRY.get(model_name)
        if model is None:
            raise NotFound()
        result = self.service.call(db, uid, model, method, args, kwargs, pre=self._token_check(session, uid))
        session.dirty = True
        return result

    def json_call_kw(self, request: Request, session: HttpSession, params: dict[str, Any]) -> Any:
        return self._call(session, params)

    def json_call_button(self, request: Request, session: HttpSession, params: dict[str, Any]) -> Any:
        result = self._call(session, params)
        return result if isinstance(result, dict) else False

    def json_version_info(self, request: Request, session: None, params: dict[str, Any]) -> Any:
        return version_info()

    def json_jsonrpc(self, request: Request, session: None, params: dict[str, Any]) -> Any:
        service, method, args = params.get("service"), params.get("method"), params.get("args") or []
        return self.service.dispatch_rpc(str(service), str(method), list(args), request.remote_addr or "")

    def json_database_list(self, request: Request, session: HttpSession, params: dict[str, Any]) -> Any:
        if not self.cfg.list_db:
            raise AccessDenied()
        return self.service.db_list(request.host or "")

    # ------------------------------------------------------------ http routes

    def http_health(self, request: Request) -> Response:
        headers = {"Cache-Control": "no-store"}
        if request.args.get("db_server_status"):
            if server_alive(self.cfg):
                return json_response({"status": "pass", "db_server_status": True}, headers=headers)
            return json_response({"status": "fail", "db_server_status": False}, status=500, headers=headers)
        return json_response({"status": "pass"}, headers=headers)

    def http_websocket_health(self, request: Request) -> Response:
        return json_response({"status": "pass"}, headers={"Cache-Control": "no-store"})

    def http_logout(self, request: Request) -> Response:
        session = self.load_session(request)
        session.logout()
        target = request.args.get("redirect") or "/odoo"
        if not target.startswith("/") or target.startswith("//"):
            target = "/odoo"
        response = Response("", status=303, headers={"Location": target})
        self.save_session(session, response)
        return response

    def http_login_page(self, request: Request) -> Response:
        body = "<!DOCTYPE html><html><head><title>Odoo</title></head><body><form method='post'>"
        body += "<input name='login'/><input name='password' type='password'/></form></body></html>"
        return Response(body, content_type="text/html; charset=utf-8")

    def _xmlrpc(self, request: Request, service: str, legacy: bool) -> Response:
        if request.method != "POST":
            return Response("<h1>Method Not Allowed</h1>", status=405, content_type="text/html")
        try:
            params, method = xmlrpc.client.loads(request.get_data())
            result = self.service.dispatch_rpc(service, str(method), list(params), request.remote_addr or "")
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        except Exception as exc:
            fault = (
                self._legacy_fault(exc)
                if legacy
                else xmlrpc.client.Fault(xmlrpc_fault_code(exc), xmlrpc_fault_string(exc))
            )
            body = xmlrpc.client.dumps(fault, allow_none=False)
        return Response(body, status=200, content_type="text/xml; charset=utf-8")

    @staticmethod
    def _legacy_fault(exc: BaseException) -> xmlrpc.client.Fault:
        """Legacy /xmlrpc string fault codes (rpc.py xmlrpc_handle_exception_string)."""
        message = exception_message(exc)
        if isinstance(exc, AccessError):
            return xmlrpc.client.Fault("warning -- AccessError\n\n" + message, "")  # type: ignore[arg-type]
        if isinstance(exc, AccessDenied):
            return xmlrpc.client.Fault("AccessDenied", message)  # type: ignore[arg-type]
        if xmlrpc_fault_code(exc) == 2:
            return xmlrpc.client.Fault("warning -- Warning\n\n" + message, "")  # type: ignore[arg-type]
        return xmlrpc.client.Fault(message, xmlrpc_fault_string(exc))  # type: ignore[arg-type]

    def http_xmlrpc2(self, request: Request, service: str) -> Response:
        return self._xmlrpc(request, service, legacy=False)

    def http_xmlrpc_legacy(self, request: Request, service: str) -> Response:
        return self._xmlrpc(request, service, legacy=True)

    def http_database_page(self, request: Request) -> Response:
        if not self.cfg.list_db:
            body = "<p>The database manager has been disabled by the administrator</p>"
        else:
            try:
                names = self.service.db_list(request.host or "")
            except psycopg.Error:
                names = []
            body = "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in names) + "</ul>"
        page = f"<!DOCTYPE html><html><head><title>Odoo</title></head><body>{body}</body></html>"
        return Response(page, content_type="text/html; charset=utf-8")

    def http_database_action(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("<h1>Method Not Allowed</h1>", status=405, content_type="text/html")
        action = request.path.rsplit("/", 1)[-1]
        if request.form.get("master_pwd") != self.cfg.admin_passwd or not self.cfg.admin_passwd:
            error = "Access Denied"
        else:
            error = f"The database manager of {DOUBLE_NAME} does not {action.replace('_', ' ')} databases"
        alert = f"<div class='alert alert-danger'>{html.escape(error)}</div>"
        page = f"<!DOCTYPE html><html><body>{alert}</body></html>"
        return Response(page, content_type="text/html; charset=utf-8")


def create_app(cfg: Config) -> OdooDoubleApp:
    return OdooDoubleApp(cfg)
