"""Odoo itself: the venv it runs in, its odoo.conf, and the server as a process or a container.

``Source`` runs ``odoo-bin`` of a source tree with the lane's venv (Python
3.11, ``requirements/odoo18-py311.txt``, cached by a digest of the pin files
and rebuilt when missing). ``Image`` runs an Odoo 18 image with Docker on the
host network (the lane's PostgreSQL and the server are on loopback), as root
in the container so it can write the lane's data directory, with the
``odoo`` command of the image as entrypoint (the official image's layout).
Both get the same odoo.conf; the image's own addons path is used.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import requests

from rig.odoo_double.config import write_config

ROOT = Path(__file__).resolve().parents[2]
PINS = ROOT / "requirements" / "odoo18-py311.txt"
BUILD_CONSTRAINTS = ROOT / "requirements" / "odoo18-build-constraints.txt"


class LaneError(RuntimeError):
    """Something the lane needs is missing or failed; the message says what and where."""


class InputError(LaneError):
    """A setting is wrong; the message names the variable."""


# ---------------------------------------------------------------- venv
def pins_digest() -> str:
    return hashlib.sha256(PINS.read_bytes() + b"\0" + BUILD_CONSTRAINTS.read_bytes()).hexdigest()[:12]


def ensure_venv(cache: Path, python: str, log: Path, say: Callable[[str], None]) -> Path:
    """The Odoo venv for the current pins: ``<cache>/venv-<pins digest>``, built when missing."""
    venv = cache / f"venv-{pins_digest()}"
    done = venv / ".installed"
    if done.is_file() and (venv / "bin" / "python").exists():
        return venv
    found = shutil.which(python)
    if found is None:
        raise InputError(f"LANE_PYTHON={python}: not found on PATH (the pins are for Python 3.11)")
    version = subprocess.run(
        [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if version != "3.11":
        raise InputError(f"LANE_PYTHON={python} is Python {version or '?'}; the Odoo 18 pins need 3.11")
    say(f"building the Odoo venv {venv} (pip, a few minutes; log {log})")
    shutil.rmtree(venv, ignore_errors=True)
    env = {**os.environ, "PIP_CONSTRAINT": str(BUILD_CONSTRAINTS), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    with log.open("ab") as out:
        for argv in (
            [found, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(PINS)],
        ):
            if subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode:
                raise LaneError(f"{' '.join(argv[:4])} failed; see {log}")
    done.write_text(pins_digest() + "\n")
    return venv


# ---------------------------------------------------------------- odoo.conf
def odoo_passwd_hash(password: str) -> str:
    """Odoo's master password hash (pbkdf2-sha512), from the collection's own filter plugin."""
    path = ROOT / "plugins" / "filter" / "odoo_passwd_hash.py"
    spec = importlib.util.spec_from_file_location("retailops_odoo_passwd_hash", path)
    if spec is None or spec.loader is None:
        raise LaneError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.odoo_passwd_hash(password))


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_conf(path: Path, options: Mapping[str, object]) -> None:
    """odoo.conf readable by its owner only: it holds the database password and the master hash."""
    write_private(path, "")
    write_config(path, options)


def master_password(path: Path) -> str:
    """A new master password, kept in ``path`` (mode 0600) for the operator; never printed."""
    password = secrets.token_urlsafe(24)
    write_private(path, password + "\n")
    return password


# ---------------------------------------------------------------- runtimes
class Runtime(Protocol):
    kind: str  # "source" or "image"
    fingerprint: str

    @property
    def label(self) -> str: ...  # for the report: what runs

    def argv(self, conf: Path, extra: list[str], name: str) -> list[str]: ...

    def conf_options(self) -> dict[str, object]: ...

    def cleanup(self, name: str) -> None: ...


@dataclass
class Source:
    root: Path
    venv: Path
    addons: list[Path]
    fingerprint: str
    kind: str = "source"

    @property
    def label(self) -> str:
        return f"Odoo source tree {self.root} (fingerprint {self.fingerprint})"

    def argv(self, conf: Path, extra: list[str], name: str) -> list[str]:
        return [str(self.venv / "bin" / "python"), str(self.root / "odoo-bin"), "-c", str(conf), *extra]

    def conf_options(self) -> dict[str, object]:
        return {"addons_path": ",".join(str(p) for p in self.addons)}

    def cleanup(self, name: str) -> None:
        return None


@dataclass
class Image:
    image: str
    fingerprint: str  # the image ID
    mounts: list[Path] = field(default_factory=list)  # host paths the container sees at the same place
    kind: str = "image"

    @property
    def label(self) -> str:
        return f"Odoo image {self.image} ({self.fingerprint[:19]})"

    def argv(self, conf: Path, extra: list[str], name: str) -> list[str]:
        volumes: list[str] = []
        for path in self.mounts:
            volumes += ["-v", f"{path}:{path}"]
        return [
            "docker",
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "host",
            "--user",
            "0",
            *volumes,
            "--entrypoint",
            "odoo",
            self.image,
            "-c",
            str(conf),
            *extra,
        ]

    def conf_options(self) -> dict[str, object]:
        return {}

    def cleanup(self, name: str) -> None:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False, timeout=60)


def docker_image(image: str) -> Image:
    """``ODOO_IMAGE`` checked: a Docker engine answers, the image is there and says Odoo 18."""
    if shutil.which("docker") is None:
        raise InputError(f"ODOO_IMAGE={image}: no docker command on this machine")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False, timeout=60)
    if info.returncode:
        raise LaneError(
            f"ODOO_IMAGE={image}: no Docker engine answers ({(info.stderr or info.stdout).strip()[:200]}); "
            "start one with: bash rig/engine.sh"
        )
    inspect = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", image],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if inspect.returncode:
        raise InputError(f"ODOO_IMAGE={image}: no such image on this engine ({inspect.stderr.strip()[:200]})")
    version = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "odoo", image, "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    said = (version.stdout + version.stderr).strip()
    if version.returncode or "18.0" not in said:
        raise InputError(f"ODOO_IMAGE={image}: `odoo --version` in the image says {said[:200]!r}, not 18.0")
    return Image(image, inspect.stdout.strip())


# ---------------------------------------------------------------- processes
def kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group of ``proc`` (a new session), SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def run_step(argv: list[str], log: Path, env: Mapping[str, str], timeout: float, cwd: Path = ROOT) -> int:
    """Run a lane step to completion in its own process group, output in ``log``.

    On a timeout or an interruption (Ctrl-C, SIGTERM) the whole group is
    stopped (the harness's Locust processes with it) and the exception goes on."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return proc.wait(timeout)
        except BaseException:
            kill_group(proc, 30)
            raise


@dataclass
class Server:
    runtime: Runtime
    conf: Path
    url: str
    log: Path
    name: str = "retailops-real-odoo-lane"
    proc: subprocess.Popen[bytes] | None = None
    _out: IO[bytes] | None = None

    def start(self, timeout: float = 240) -> float:
        """Start Odoo and wait for /web/health; the seconds it took."""
        started = time.monotonic()
        self.runtime.cleanup(self.name)
        self._out = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.runtime.argv(self.conf, [], self.name),
            cwd=ROOT,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise LaneError(f"Odoo exited with {self.proc.returncode} before answering; see {self.log}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/web/health", timeout=5).status_code == 200:
                    return time.monotonic() - started
            time.sleep(1)
        raise LaneError(f"Odoo did not answer {self.url}/web/health within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc, 60)
            self.proc = None
        self.runtime.cleanup(self.name)
        if self._out is not None:
            self._out.close()
            self._out = None
