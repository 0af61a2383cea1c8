"""Per-process server state and the RPC services (common, object, db) behind the routes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import DOUBLE_NAME, SERVER_SERIE, SERVER_VERSION, SERVER_VERSION_INFO, WEBSOCKET_WORKER_VERSION
from .auth import Authenticator, session_token
from .config import Config
from .db import Cursor, Database, list_databases
from .errors import AccessDenied, AccessError, NotFound, UserError
from .models import REGISTRY, describe, resolve_method
from .orm import Env, Model

_logger = logging.getLogger(__name__)


def version_info() -> dict[str, Any]:
    return {
        "server_version": SERVER_VERSION,
        "server_version_info": SERVER_VERSION_INFO,
        "server_serie": SERVER_SERIE,
        "protocol_version": 1,
    }


class OdooService:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.auth = Authenticator()
        self._dbs: dict[str, Database] = {}

    # ------------------------------------------------------------ databases

    def db(self, name: str) -> Database:
        if name not in self._dbs:
            self._dbs[name] = Database(self.cfg, name, describe)
        return self._dbs[name]

    def db_list(self, host: str = "") -> list[str]:
        """Visible databases: db_name is the allow-list when dbfilter is empty (no DB access)."""
        if not self.cfg.dbfilter and self.cfg.db_name:
            return self.cfg.db_filter([n.strip() for n in self.cfg.db_name.split(",") if n.strip()], host)
        return self.cfg.db_filter(list_databases(self.cfg), host)

    def db_allowed(self, name: str, host: str = "") -> bool:
        return bool(name) and bool(self.cfg.db_filter([name], host))

    # ------------------------------------------------------------ auth

    def authenticate(self, dbname: str, login: str, password: str, source: str) -> int:
        return self.db(dbname).retrying(lambda cr: self.auth.login(cr, dbname, login, password, source))

    def session_info(self, cr: Cursor, dbname: str, uid: int) -> dict[str, Any]:
        cr.execute(
            "SELECT u.id, u.login, u.is_admin, u.tz, u.lang, u.partner_id, p.name AS partner_name, "
            "c.id AS company_id, c.name AS company_name FROM res_users u "
            "JOIN res_partner p ON p.id = u.partner_id LEFT JOIN res_company c ON c.id = u.company_id "
            "WHERE u.id = %s",
            (uid,),
        )
        user = cr.fetchone()
        if user is None:
            raise AccessDenied()
        company_id = user["company_id"] or 1
        context = {"lang": user["lang"] or "en_US", "tz": user["tz"] or False, "uid": uid}
        return {
            "uid": uid,
            "is_system": bool(user["is_admin"]),
            "is_admin": bool(user["is_admin"]),
            "is_public": False,
            "is_internal_user": True,
            "user_context": context,
            "db": dbname,
            "user_settings": {"id": uid, "user_id": {"id": uid}},
            "server_version": SERVER_VERSION,
            "server_version_info": SERVER_VERSION_INFO,
            "support_url": "https://www.odoo.com/buy",
            "name": user["partner_name"],
            "username": user["login"],
            "partner_write_date": False,
            "partner_display_name": user["partner_name"],
            "partner_id": user["partner_id"],
            "web.base.url": f"http://localhost:{self.cfg.http_port}",
            "active_ids_limit": 20000,
            "profile_session": None,
            "profile_collectors": None,
            "profile_params": None,
            "max_file_upload_size": 134217728,
            "home_action_id": False,
            "cache_hashes": {"translations": "", "load_menus": ""},
            "currencies": {"1": {"symbol": "€", "position": "after", "digits": [69, 2]}},
            "bundle_params": {"lang": context["lang"]},
            "test_mode": False,
            "view_info": {},
            "user_companies": {
                "current_company": company_id,
                "allowed_companies": {
                    str(company_id): {
                        "id": company_id,
                        "name": user["company_name"] or "",
                        "sequence": 0,
                        "child_ids": [],
                        "parent_id": False,
                    }
                },
                "disallowed_ancestor_companies": {},
            },
            "show_effect": True,
            "display_switch_company_menu": False,
            "user_id": [uid],
            "can_insert_in_spreadsheet": False,
            "websocket_worker_version": WEBSOCKET_WORKER_VERSION,
            "storeData": {},
            "is_quick_edit_mode_enabled": False,
            "has_group_pos_user": True,
        }

    # ------------------------------------------------------------ models

    def call(  # noqa: PLR0917
        self,
        dbname: str,
        uid: int,
        model: Model,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any],
        pre: Callable[[Cursor], None] | None = None,
    ) -> Any:
        func = resolve_method(model, method)
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        if not isinstance(args, list):
            raise TypeError("args must be a list")

        def work(cr: Cursor) -> Any:
            if pre is not None:
                pre(cr)
            env = Env(cr, uid, dict(context), self.cfg, REGISTRY)
            return func(env, model, *args, **kwargs)

        return self.db(dbname).retrying(work)

    def check_session_token(self, cr: Cursor, uid: int, token: str | None) -> bool:
        return token is not None and session_token(cr, uid) == token

    # ------------------------------------------------------------ /jsonrpc and /xmlrpc services

    def dispatch_rpc(self, service: str, method: str, params: list[Any], source: str) -> Any:
        handlers: dict[str, Callable[[str, list[Any], str], Any]] = {
            "common": self._common,
            "object": self._object,
            "db": self._db,
        }
        if service not in handlers:
            raise NotFound()
        return handlers[service](method, list(params or []), source)

    def _common(self, method: str, params: list[Any], source: str) -> Any:
        if method == "version":
            return version_info()
        if method == "about":
            return "See https://openerp.com"
        if method in ("login", "authenticate"):
            db, login, password = params[0], params[1], params[2]
            if not self.db_allowed(db):
                raise AccessError("Database not found.")
            try:
                return self.authenticate(db, login, password, source)
            except AccessDenied:
                return False
        raise NameError(f"Method not available {method}")

    def _object(self, method: str, params: list[Any], source: str) -> Any:
        if method not in ("execute", "execute_kw"):
            raise NameError(f"Method not available {method}")
        db, uid, password, model_name, model_method = params[:5]
        if method == "execute_kw":
            args = params[5] if len(params) > 5 else []
            kwargs = params[6] if len(params) > 6 else {}
        else:
            args, kwargs = list(params[5:]), {}
        if not self.db_allowed(db):
            raise AccessError("Database not found.")
        model = REGISTRY.get(model_name)
        if model is None:
            raise UserError(f"Object {model_name} doesn't exist")

        def check(cr: Cursor) -> None:
            self.auth.check(cr, db, uid, password)

        return self.call(db, uid, model, model_method, list(args or []), dict(kwargs or {}), pre=check)

    def _check_super(self, passwd: Any) -> None:
        if not self.cfg.admin_passwd or passwd != self.cfg.admin_passwd:
            raise AccessDenied()

    def _db(self, method: str, params: list[Any], source: str) -> Any:
        if method == "list":
            if not self.cfg.list_db:
                raise AccessDenied()
            return self.db_list()
        if method == "db_exist":
            return bool(params) and params[0] in list_databases(self.cfg)
        if method == "list_lang":
            return [["en_US", "English (US)"]]
        if method == "list_countries":
            self._check_super(params[0] if params else None)
            return [["be", "Belgium"]]
        if method == "server_version":
            return SERVER_VERSION
        if method in (
            "create_database",
            "duplicate_database",
            "drop",
            "dump",
            "restore",
            "rename",
            "change_admin_password",
            "migrate_databases",
        ):
            self._check_super(params[0] if params else None)
            raise UserError(f"The database manager of {DOUBLE_NAME} does not {method.replace('_', ' ')}.")
        raise NameError(f"Method not available {method}")
