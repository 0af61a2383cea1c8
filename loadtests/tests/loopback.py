"""A loopback rig for the acceptance tests: a private PostgreSQL and the Odoo double.

PostgreSQL runs from a fresh initdb in a temporary directory (as the
postgres user when the tests run as root); the double (issue 5,
``tests/odoo_double``) runs as its own process. Everything listens on
127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOUBLE_ROOT = Path(os.environ.get("LOADTESTS_DOUBLE_ROOT", str(REPO)))


def double_available() -> bool:
    return (DOUBLE_ROOT / "tests" / "odoo_double" / "__main__.py").exists() and shutil.which(
        "pg_ctl"
    ) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_pg(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class LocalPostgres:
    def __init__(self) -> None:
        # not under pytest's tmp_path: the postgres user must be able to reach it
        self.base = Path(tempfile.mkdtemp(prefix="lt-pg-"))
        self.base.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
        self.data = self.base / "data"
        self.port = free_port()
        subprocess.run(
            _as_pg(["initdb", "-D", str(self.data), "-U", "odoo", "--auth=trust"]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def ctl(self, *args: str) -> list[str]:
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        return _as_pg(["pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.base / "log"), "-w", *args])

    def start(self) -> None:
        subprocess.run(self.ctl("start"), check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        subprocess.run(self.ctl("stop", "-m", "fast"), check=False, capture_output=True, timeout=60)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


class OdooDouble:
    def __init__(self, base: Path, pg: LocalPostgres, branches: list[str], drop_acked: float = 0.0) -> None:
        self.port = free_port()
        self.conf = base / "odoo.conf"
        self.conf.write_text(
            "[options]\n"
            f"db_host = 127.0.0.1\ndb_port = {pg.port}\ndb_user = odoo\ndb_password = x\ndb_name = retail\n"
            f"http_interface = 127.0.0.1\nhttp_port = {self.port}\ngevent_port = {free_port()}\nworkers = 2\n"
            f"data_dir = {base / 'data'}\ndouble_password_rounds = 1000\n"
            f"double_drop_acked_orders = {drop_acked}\n"
        )
        self.log = (base / "double.log").open("ab")
        self.branches = branches
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tests.odoo_double", *args, "-c", str(self.conf)]

    def seed(self) -> None:
        subprocess.run(
            self._cmd("seed", "--branches", ",".join(self.branches), "--products", "60"),
            cwd=DOUBLE_ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self._cmd("server"), cwd=DOUBLE_ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/web/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the Odoo double did not answer /web/health")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
