"""The lane's PostgreSQL 15 on loopback, its template databases and each run's fresh copy.

The cluster is the test fixtures' ``PgCluster`` (initdb as user postgres,
loopback only) kept in ``<cache>/pg`` between runs, with its generated
password in ``pg/pw`` and its port in ``postgresql.conf`` (moved to a free
port when another process took it). A template database is initialised once
per (source fingerprint, module list): ``lane_<fingerprint>_<modules digest>``
with its filestore in ``<cache>/templates/``, and a marker file written only
after a complete initialisation. Each run drops ``retail``, creates it again
with ``CREATE DATABASE ... TEMPLATE`` and copies the template's filestore.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from loadtests.links_setup import free_port
from tests.fixtures.services import PgCluster

KEEP_TEMPLATES = 2  # the newest templates kept; older ones are dropped with their filestore
_PORT_LINE = re.compile(r"^port\s*=\s*(\d+)", re.MULTILINE)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def postmaster_alive(datadir: Path) -> bool:
    pidfile = datadir / "postmaster.pid"
    if not pidfile.is_file():
        return False
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        # a stale pid file's number may have been reused by another process: it must be a postgres
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (ValueError, IndexError, OSError):
        return False
    return b"postgres" in cmdline


# Where the cluster goes when the cache is out of the postgres user's reach.
SHARED_ROOT = Path("/var/tmp/retailops-real-odoo-lane/pg")


def cluster_root(cache: Path) -> Path:
    """The lane's cluster directory: in the cache, unless this runs as root (the server then runs as
    the postgres user) and that user cannot reach the cache, as under a home directory of mode 0700:
    then SHARED_ROOT, kept across runs like the cache."""
    if os.geteuid() != 0:
        return cache / "pg"
    reach = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(cache)], check=False)
    if reach.returncode == 0:
        return cache / "pg"
    SHARED_ROOT.parent.mkdir(parents=True, exist_ok=True)
    SHARED_ROOT.parent.chmod(0o755)
    return SHARED_ROOT


def lane_cluster(root: Path) -> PgCluster:
    """The lane's cluster under ``root``: created on first use, its port and password kept."""
    conf = root / "data" / "postgresql.conf"
    if not conf.is_file():
        if root.exists():
            shutil.rmtree(root)  # a half-made cluster from an interrupted first run
        pg = PgCluster(root, password=secrets.token_urlsafe(18))
        pg.init()
        (root / "pw").chmod(0o600)
        return pg
    ports = _PORT_LINE.findall(conf.read_text())
    pg = PgCluster(root, port=int(ports[-1]), password=(root / "pw").read_text().strip())
    if not postmaster_alive(pg.datadir) and not port_free(pg.port):
        pg.port = free_port()
        with conf.open("a") as handle:
            handle.write(f"port = {pg.port}\n")
    return pg


def start(pg: PgCluster) -> bool:
    """Start the cluster unless it runs already (a run interrupted before it could stop it).

    True when this call started it."""
    if postmaster_alive(pg.datadir):
        return False
    pg.start()
    return True


def modules_digest(modules: list[str]) -> str:
    return hashlib.sha256(",".join(sorted(modules)).encode()).hexdigest()[:8]


def template_name(fingerprint: str, modules: list[str]) -> str:
    return f"lane_{fingerprint[:12]}_{modules_digest(modules)}"


@dataclass
class Templates:
    pg: PgCluster
    root: Path  # <cache>/templates: markers and the init data dir

    @property
    def data_dir(self) -> Path:
        """Odoo's data_dir while initialising templates (filestore/<template name>)."""
        return self.root / "data"

    def filestore(self, name: str) -> Path:
        return self.data_dir / "filestore" / name

    def marker(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.pg.dsn("postgres"), autocommit=True, connect_timeout=10)

    def databases(self) -> set[str]:
        with self.connect() as conn:
            return {str(r[0]) for r in conn.execute("SELECT datname FROM pg_database")}

    def ready(self, name: str) -> dict[str, Any] | None:
        """The marker of a complete template ``name`` whose database exists, else None."""
        marker = self.marker(name)
        if not marker.is_file() or name not in self.databases():
            return None
        data: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
        return data

    def drop(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        shutil.rmtree(self.filestore(name), ignore_errors=True)
        self.marker(name).unlink(missing_ok=True)

    def record(self, name: str, info: dict[str, Any]) -> None:
        self.marker(name).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    def prune(self, keep: str) -> list[str]:
        """Drop all but the newest KEEP_TEMPLATES templates (never ``keep``); their names."""
        markers = sorted(self.root.glob("lane_*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        names = [m.stem for m in markers]
        old = [n for n in names[KEEP_TEMPLATES:] if n != keep]
        orphans = {d for d in self.databases() if d.startswith("lane_")} - set(names)
        for name in [*old, *sorted(orphans)]:
            self.drop(name)
        return [*old, *sorted(orphans)]

    def copy(self, name: str, db: str, data_dir: Path) -> None:
        """``db`` as a fresh copy of template ``name``, its filestore copied into ``data_dir``."""
        with self.connect() as conn:
            ident = sql.Identifier(db)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(ident, sql.Identifier(name)))
        target = data_dir / "filestore" / db
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.filestore(name).is_dir():
            shutil.copytree(self.filestore(name), target)
        else:
            target.mkdir()


def stop(pg: PgCluster) -> None:
    pg.stop("fast")
    deadline = time.monotonic() + 30
    while postmaster_alive(pg.datadir) and time.monotonic() < deadline:
        time.sleep(0.2)
    if postmaster_alive(pg.datadir):
        pid = int((pg.datadir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown
