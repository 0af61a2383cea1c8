"""Run the WSGI app under gunicorn like Odoo's server modes.

workers > 0: prefork with that many sync worker processes (one request at a
time each, its own DB connection), both http_port and gevent_port bound.
workers = 0: threaded mode, one process with ODOO_MAX_HTTP_THREADS threads.
limit_time_real is gunicorn's worker timeout: a request running longer gets
its worker killed, as Odoo's limit_time_real does. limit_request recycles a
worker after that many requests.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import psycopg
from gunicorn.app.base import BaseApplication

from .app import OdooDoubleApp
from .config import Config
from .schema import ensure_schema

_logger = logging.getLogger(__name__)


class DoubleServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, cfg: Config) -> None:
        self.odoo_cfg = cfg
        super().__init__()

    def gunicorn_options(self) -> dict[str, Any]:
        cfg = self.odoo_cfg
        iface = cfg.http_interface or "0.0.0.0"
        options: dict[str, Any] = {
            "bind": [f"{iface}:{cfg.http_port}", f"{iface}:{cfg.gevent_port}"],
            "timeout": cfg.limit_time_real,
            "graceful_timeout": 10,
            "max_requests": cfg.limit_request,
            "max_requests_jitter": max(1, cfg.limit_request // 10),
            "accesslog": None,
            "errorlog": cfg.logfile or "-",
            "loglevel": cfg.log_level if cfg.log_level in ("debug", "info", "warning", "error") else "info",
            "proc_name": "odoo-double",
            "preload_app": False,
        }
        if cfg.workers > 0:
            options.update({"workers": cfg.workers, "worker_class": "sync"})
        else:
            threads = int(os.environ.get("ODOO_MAX_HTTP_THREADS", "8"))
            options.update({"workers": 1, "worker_class": "gthread", "threads": max(1, threads)})
        return options

    def load_config(self) -> None:
        for key, value in self.gunicorn_options().items():
            self.cfg.set(key, value)

    def load(self) -> OdooDoubleApp:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
        )
        return OdooDoubleApp(self.odoo_cfg)


def prepare(cfg: Config) -> None:
    """Checks before forking: data_dir usable; schema and uuid mode applied if the DB is up."""
    try:
        cfg.sessions_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"odoo.conf: option 'data_dir' is not usable: {exc}") from None
    if not cfg.db_name:
        return
    dbname = cfg.db_name.split(",")[0].strip()
    try:
        with psycopg.connect(**cfg.dsn_kwargs(dbname), connect_timeout=5) as conn:
            ensure_schema(conn, cfg.double_pos_uuid_unique)
    except psycopg.Error as exc:
        _logger.warning("database %s not ready at start (%s); serving anyway", dbname, str(exc).strip())


def serve(cfg: Config) -> None:
    prepare(cfg)
    DoubleServer(cfg).run()
