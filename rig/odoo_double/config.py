"""odoo.conf in Odoo's INI format, validated like a server that refuses bad input.

Odoo keeps every option of ``[options]``; unknown keys are accepted and ignored
here too. Known keys are type-checked and a bad value stops the start with a
message naming the option. String options take ``False`` for "unset", as Odoo
writes them. The official image's environment (HOST, PORT, USER, PASSWORD with
their PG*/POSTGRES_* fallbacks) fills db_* options absent from the file.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration value the double refuses to start with."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass
class Config:
    db_host: str | None = None
    db_port: int | None = None
    db_user: str | None = None
    db_password: str | None = None
    db_name: str | None = None
    db_sslmode: str = "prefer"
    db_maxconn: int = 64
    dbfilter: str = ""
    list_db: bool = True
    proxy_mode: bool = False
    workers: int = 0
    max_cron_threads: int = 2
    http_interface: str = ""
    http_port: int = 8069
    gevent_port: int = 8072
    http_enable: bool = True
    limit_time_real: int = 120
    limit_time_cpu: int = 60
    limit_request: int = 65536
    limit_memory_soft: int = 2048 * 1024 * 1024
    limit_memory_hard: int = 2560 * 1024 * 1024
    data_dir: str = "/var/lib/odoo"
    admin_passwd: str = "admin"
    log_level: str = "info"
    logfile: str | None = None
    addons_path: str | None = None
    # Session store (camptocamp session_redis names, see README).
    session_redis: bool = False
    session_redis_host: str = "localhost"
    session_redis_port: int = 6379
    session_redis_password: str | None = None
    session_redis_url: str | None = None
    session_redis_sentinel_host: str | None = None
    session_redis_sentinel_port: int = 26379
    session_redis_sentinel_master_name: str | None = None
    session_redis_prefix: str | None = None
    session_redis_expiration: int = 7 * 24 * 3600
    session_redis_expiration_anonymous: int = 3 * 3600
    # Behaviour switches of the double itself (never Odoo options).
    double_pos_uuid_unique: bool = False
    double_drop_acked_orders: float = 0.0
    double_retry_backoff: float = 1.0
    double_password_rounds: int = 600_000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sessions_dir(self) -> Path:
        return Path(self.data_dir) / "sessions"

    def dsn_kwargs(self, dbname: str | None = None) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect, like Odoo's connection_info_for."""
        kwargs: dict[str, Any] = {"dbname": dbname or self.db_name or "postgres", "sslmode": self.db_sslmode}
        for key, value in (
            ("host", self.db_host),
            ("port", self.db_port),
            ("user", self.db_user),
            ("password", self.db_password),
        ):
            if value is not None:
                kwargs[key] = value
        kwargs["application_name"] = f"odoo-{os.getpid()}"
        return kwargs

    def db_filter(self, names: list[str], host: str = "") -> list[str]:
        """Odoo's db_filter: dbfilter regex (with %h/%d), else db_name as allow-list."""
        if self.dbfilter:
            domain = host.partition(":")[0]
            sub = domain.partition(".")[0]
            sub = "www" if sub == "www" and "." in domain else sub
            pattern = self.dbfilter.replace("%h", re.escape(domain)).replace("%d", re.escape(sub))
            return [n for n in names if re.match(pattern, n)]
        if self.db_name:
            allowed = {n.strip() for n in self.db_name.split(",") if n.strip()}
            return [n for n in names if n in allowed]
        return names


_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Config) if f.name != "extra"}


def _convert(option: str, raw: str, source: str) -> Any:  # noqa: PLR0911
    kind = _FIELD_TYPES[option]
    value = raw.strip()
    if "str" in kind:
        if "None" in kind:
            return None if value in {"", "False"} else value
        return "" if value == "False" else value
    if "bool" in kind:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE or value == "":
            return False
        raise ConfigError(f"{source}: option {option!r} must be a boolean (True/False), got {raw!r}")
    if "float" in kind:
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{source}: option {option!r} must be a number, got {raw!r}") from None
    if "int" in kind:
        if value in {"", "False"} and "None" in kind:
            return None
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{source}: option {option!r} must be an integer, got {raw!r}") from None
    raise AssertionError(f"unhandled option type {kind} for {option}")


def _check(cfg: Config, source: str) -> None:  # noqa: PLR0912
    def bad(option: str, why: str) -> ConfigError:
        return ConfigError(f"{source}: option {option!r} {why}, got {getattr(cfg, option)!r}")

    for port_option in ("http_port", "gevent_port"):
        if not 0 < getattr(cfg, port_option) < 65536:
            raise bad(port_option, "must be a TCP port between 1 and 65535")
    if cfg.db_port is not None and not 0 < cfg.db_port < 65536:
        raise bad("db_port", "must be a TCP port between 1 and 65535")
    if cfg.http_port == cfg.gevent_port:
        raise bad("gevent_port", f"must differ from http_port ({cfg.http_port})")
    for positive in ("limit_time_real", "limit_time_cpu", "limit_request", "db_maxconn"):
        if getattr(cfg, positive) <= 0:
            raise bad(positive, "must be positive")
    for non_negative in ("workers", "max_cron_threads"):
        if getattr(cfg, non_negative) < 0:
            raise bad(non_negative, "must be zero or positive")
    if cfg.db_sslmode not in {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}:
        raise bad("db_sslmode", "must be a libpq sslmode")
    if cfg.dbfilter:
        try:
            re.compile(cfg.dbfilter.replace("%h", "h").replace("%d", "d"))
        except re.error as exc:
            raise bad("dbfilter", f"must be a regular expression ({exc})") from None
    if not 0.0 <= cfg.double_drop_acked_orders <= 1.0:
        raise bad("double_drop_acked_orders", "must be a fraction between 0 and 1")
    if cfg.double_retry_backoff < 0:
        raise bad("double_retry_backoff", "must be zero or positive")
    if cfg.double_password_rounds < 1000:
        raise bad("double_password_rounds", "must be at least 1000")
    if not cfg.data_dir:
        raise bad("data_dir", "must be a directory path")
    if cfg.session_redis and cfg.session_redis_sentinel_host and not cfg.session_redis_sentinel_master_name:
        raise bad("session_redis_sentinel_master_name", "must be set when session_redis_sentinel_host is")


# The official image's entrypoint: HOST <- PGHOST <- db, and so on
# (odoo/docker 18.0/entrypoint.sh). Only for options absent from the file.
_IMAGE_ENV: dict[str, tuple[tuple[str, ...], str]] = {
    "db_host": (("HOST", "PGHOST"), "db"),
    "db_port": (("PORT", "PGPORT"), "5432"),
    "db_user": (("USER", "POSTGRES_USER", "PGUSER"), "odoo"),
    "db_password": (("PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD"), "odoo"),
}

# camptocamp session_redis environment variables override the file.
_REDIS_ENV = {
    "ODOO_SESSION_REDIS": "session_redis",
    "ODOO_SESSION_REDIS_HOST": "session_redis_host",
    "ODOO_SESSION_REDIS_PORT": "session_redis_port",
    "ODOO_SESSION_REDIS_PASSWORD": "session_redis_password",
    "ODOO_SESSION_REDIS_URL": "session_redis_url",
    "ODOO_SESSION_REDIS_SENTINEL_HOST": "session_redis_sentinel_host",
    "ODOO_SESSION_REDIS_SENTINEL_PORT": "session_redis_sentinel_port",
    "ODOO_SESSION_REDIS_SENTINEL_MASTER_NAME": "session_redis_sentinel_master_name",
    "ODOO_SESSION_REDIS_PREFIX": "session_redis_prefix",
    "ODOO_SESSION_REDIS_EXPIRATION": "session_redis_expiration",
    "ODOO_SESSION_REDIS_EXPIRATION_ANONYMOUS": "session_redis_expiration_anonymous",
    # The fault switch of the double can also come from the environment.
    "ODOO_DOUBLE_DROP_ACKED_ORDERS": "double_drop_acked_orders",
}


def load_config(  # noqa: PLR0912
    path: str | os.PathLike[str] | None,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    image_env: bool = False,
) -> Config:
    """Read odoo.conf, then environment, then command-line overrides; validate."""
    env = os.environ if environ is None else environ
    raw: dict[str, tuple[str, str]] = {}
    if path is not None:
        parser = configparser.RawConfigParser()
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
        except configparser.Error as exc:
            raise ConfigError(f"{path}: not an INI file ({exc.message})") from None
        if not parser.has_section("options"):
            raise ConfigError(f"{path}: no [options] section")
        source = Path(path).name
        for key, value in parser.items("options"):
            raw[key] = (value, source)
    if image_env:
        for option, (names, default) in _IMAGE_ENV.items():
            if option not in raw:
                value = next((env[n] for n in names if env.get(n)), default)
                raw[option] = (value, "environment")
    for var, option in _REDIS_ENV.items():
        if var in env:
            raw[option] = (env[var], f"environment variable {var}")
    for key, value in (overrides or {}).items():
        raw[key] = (value, "command line")

    cfg = Config()
    for key, (value, source) in raw.items():
        if key in _FIELD_TYPES:
            setattr(cfg, key, _convert(key, value, source))
        else:
            cfg.extra[key] = value
    _check(cfg, Path(path).name if path is not None else "configuration")
    return cfg


def write_config(path: str | os.PathLike[str], options: Mapping[str, object]) -> None:
    """Write an odoo.conf (used by tests, the seed command and the image)."""
    lines = ["[options]"]
    for key, value in options.items():
        lines.append(f"{key} = {value}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
