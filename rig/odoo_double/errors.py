"""Odoo's exceptions and their JSON-RPC / XML-RPC serialisation (odoo/http.py, rpc.py)."""

from __future__ import annotations

import traceback
from typing import Any

import psycopg


class OdooError(Exception):
    """Base of the exceptions the double raises on purpose; name is Odoo's dotted class."""

    name = "odoo.exceptions.UserError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(OdooError):
    name = "odoo.exceptions.UserError"


class ValidationError(UserError):
    name = "odoo.exceptions.ValidationError"


class MissingError(UserError):
    name = "odoo.exceptions.MissingError"


class AccessError(UserError):
    name = "odoo.exceptions.AccessError"


class AccessDenied(UserError):
    name = "odoo.exceptions.AccessDenied"

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class SessionExpired(OdooError):
    name = "odoo.http.SessionExpiredException"

    def __init__(self, message: str = "Session expired") -> None:
        super().__init__(message)


class NotFound(OdooError):
    name = "werkzeug.exceptions.NotFound"

    def __init__(self, message: str = "404: Not Found") -> None:
        super().__init__(message)


class MethodMissing(OdooError):
    """Odoo raises a plain AttributeError for a missing model method."""

    name = "builtins.AttributeError"


class BadJson(OdooError):
    name = "json.decoder.JSONDecodeError"


# XML-RPC fault codes (odoo/addons/base/controllers/rpc.py).
RPC_FAULT_CODE_APPLICATION_ERROR = 1
RPC_FAULT_CODE_WARNING = 2
RPC_FAULT_CODE_ACCESS_DENIED = 3
RPC_FAULT_CODE_ACCESS_ERROR = 4


def exception_name(exc: BaseException) -> str:
    """data.name as Odoo (psycopg2-based) would print it."""
    if isinstance(exc, OdooError):
        return exc.name
    if isinstance(exc, psycopg.Error):
        cls = type(exc)
        if (
            cls.__module__ == "psycopg.errors"
            and getattr(exc, "sqlstate", None)
            and cls.__name__
            not in {
                "OperationalError",
                "InterfaceError",
                "DatabaseError",
                "IntegrityError",
                "ProgrammingError",
                "InternalError",
                "DataError",
            }
        ):
            return f"psycopg2.errors.{cls.__name__}"
        return f"psycopg2.{cls.__name__}"
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def exception_message(exc: BaseException) -> str:
    """Odoo's exception_to_unicode: the arguments one per line (a KeyError reads ``access_token``)."""
    if isinstance(exc, OdooError):
        return exc.message
    if exc.args:
        return "\n".join(str(a) for a in exc.args)
    return str(exc)


def serialize_exception(exc: BaseException) -> dict[str, Any]:
    """Odoo's serialize_exception: {name, debug, message, arguments, context}."""
    message = exception_message(exc)
    return {
        "name": exception_name(exc),
        "debug": "".join(traceback.format_exception(exc)),
        "message": message,
        "arguments": [message] if isinstance(exc, OdooError) else [str(a) for a in exc.args],
        "context": {},
    }


def error_envelope(exc: BaseException, request_id: Any) -> dict[str, Any]:
    """The JSON-RPC error member: 100 for an expired session, 404 before dispatch, 200 otherwise."""
    if isinstance(exc, SessionExpired):
        code, message, request_id = 100, "Odoo Session Expired", None
    elif isinstance(exc, NotFound):
        code, message, request_id = 404, "404: Not Found", None
    else:
        code, message = 200, "Odoo Server Error"
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": code, "message": message, "data": serialize_exception(exc)},
    }


def xmlrpc_fault_code(exc: BaseException) -> int:
    if isinstance(exc, AccessError):
        return RPC_FAULT_CODE_ACCESS_ERROR
    if isinstance(exc, AccessDenied):
        return RPC_FAULT_CODE_ACCESS_DENIED
    if isinstance(exc, UserError):
        return RPC_FAULT_CODE_WARNING
    return RPC_FAULT_CODE_APPLICATION_ERROR


def xmlrpc_fault_string(exc: BaseException) -> str:
    if xmlrpc_fault_code(exc) == RPC_FAULT_CODE_APPLICATION_ERROR:
        return "".join(traceback.format_exception(exc))
    return exception_message(exc)
