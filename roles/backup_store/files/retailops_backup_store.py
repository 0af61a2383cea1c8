"""Shared by the backup scripts (filestore_backup, config_backup): rclone with the role's configuration,
the runs' stamps and their retention, and a run's frame (run_backup: its start, its outcome, its
state file and its metrics).

Installed beside each script (as monitoring_exporters' retailops_textfile.py
is, which this module uses too), which imports it from its own directory.
rclone's messages pass through to the journal (standard error); a step that
must succeed raises BackupError (RcloneError for rclone's own).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import Field, asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar

from retailops_textfile import Family, publish, warn, write_atomically

# rclone's exit status when the directory listed does not exist.
RCLONE_DIR_NOT_FOUND = 3
# A run's UTC second names what it writes (a snapshot, a removed set).
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_PATTERN = r"[0-9]{8}T[0-9]{6}Z"


class BackupError(Exception):
    """A step that failed: said on standard error, the run fails."""


class RcloneError(BackupError):
    """An rclone step that failed or could not run."""


@dataclass(frozen=True)
class Rclone:
    """rclone, its configuration file, and the storages' CA (empty: the system CAs)."""

    binary: str
    config: str
    ca_file: str = ""

    def argv(self, *args: str) -> list[str]:
        argv = [self.binary, "--config", self.config]
        if self.ca_file:
            argv += ["--ca-cert", self.ca_file]
        return argv + list(args)

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run rclone; its standard output is returned, its messages go to the journal."""
        try:
            return subprocess.run(self.argv(*args), input=stdin, stdout=subprocess.PIPE, check=False)
        except OSError as error:
            raise RcloneError(f"cannot run {self.binary}: {error}") from error

    def checked(self, *args: str, stdin: bytes | None = None) -> bytes:
        """Run rclone; a non-zero exit raises RcloneError naming the subcommand."""
        done = self.run(*args, stdin=stdin)
        if done.returncode != 0:
            raise RcloneError(f"rclone {args[0]} exited {done.returncode}")
        return done.stdout

    def text(self, *args: str) -> str:
        return self.checked(*args).decode("utf-8")

    def list_dir(self, path: str, dirs_only: bool = False) -> list[str]:
        """The names in a remote directory (directories without their slash); [] when it does not exist."""
        done = self.run("lsf", *(["--dirs-only"] if dirs_only else ["--files-only"]), path)
        if done.returncode == RCLONE_DIR_NOT_FOUND:
            return []
        if done.returncode != 0:
            raise RcloneError(f"rclone lsf {path} exited {done.returncode}")
        return [line.rstrip("/") for line in done.stdout.decode("utf-8").splitlines() if line.strip()]


def expired(stamps: Iterable[str], now: datetime, retention_days: int, keep_min: int = 0) -> list[str]:
    """The stamps older than the retention, oldest first; the newest ``keep_min`` always kept."""
    ordered = sorted(stamps)
    limit = now - timedelta(days=retention_days)
    candidates = ordered[: max(0, len(ordered) - keep_min)]
    return [s for s in candidates if datetime.strptime(s, STAMP_FORMAT).replace(tzinfo=UTC) < limit]


def run_start(last_run: float, now: datetime | None = None) -> datetime:
    """When a run starts: now, or the next second when the last run started in this one (what a
    run writes is named by its second: a backup started by hand right after the timer's would
    overwrite or merge into the last one's)."""
    if now is not None:
        return now
    started = datetime.now(UTC)
    if int(last_run) == int(started.timestamp()):
        time.sleep(1.0 - started.timestamp() % 1.0)
        started = datetime.now(UTC)
    return started


def read_config(path: str, required: Sequence[str]) -> dict[str, Any]:
    """The role's JSON configuration, its required keys checked (BackupError naming what is missing)."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as error:
        raise BackupError(f"cannot read the configuration {path}: {error}") from error
    missing = [key for key in required if key not in raw]
    if missing:
        raise BackupError(f"{path}: missing {', '.join(missing)}")
    return {key: raw[key] for key in required}


class RunState(Protocol):
    """A script's state: a dataclass with defaults, holding what run_backup keeps of every run."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    last_run: float
    last_run_success: bool
    last_run_duration: float


StateT = TypeVar("StateT", bound=RunState)


def load_state(path: str, kind: type[StateT], label: str) -> StateT:
    """The state the last runs left (a dataclass with defaults); a fresh one when there is none or it
    cannot be read (said on standard error)."""
    known = {f.name for f in fields(kind)}
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        return kind(**{key: value for key, value in raw.items() if key in known})
    except FileNotFoundError:
        return kind()
    except (OSError, ValueError, TypeError, AttributeError) as error:
        warn(f"{label}: ignoring the unreadable state {path}: {error}")
        return kind()


def gauge(name: str, help_text: str, value: float) -> Family:
    """A metric family with one unlabelled sample."""
    family = Family(name, help_text)
    family.add(value)
    return family


def _record(label: str, state: RunState, state_path: str, metrics_path: str, families: list[Family]) -> bool:
    """Keep the run's state and publish its metrics; False when either could not be written."""
    ok = True
    try:
        write_atomically(state_path, json.dumps(asdict(state)) + "\n")
    except OSError as error:
        warn(f"{label}: cannot write {state_path}: {error}")
        ok = False
    return publish(label, metrics_path, families) == 0 and ok


def run_backup(
    label: str,
    work: Callable[[StateT, datetime], None],
    *,
    state_type: type[StateT],
    state_path: str,
    metrics_path: str,
    families: Callable[[StateT], list[Family]],
    now: datetime | None = None,
) -> int:
    """One run of a backup script (``label``: its words in its messages): the last runs' state
    (a dataclass with last_run, last_run_success and last_run_duration), the run's start
    (run_start), ``work(state, started)`` (which raises BackupError when the run fails), then the
    outcome and duration kept with the state and published as metrics. 0 when the work and its
    record succeeded."""
    state = load_state(state_path, state_type, label)
    started = run_start(state.last_run, now)
    clock = time.monotonic()
    state.last_run = started.timestamp()
    ok = False
    try:
        work(state, started)
        ok = True
    except BackupError as error:
        warn(f"{label} failed: {error}")
    state.last_run_success = ok
    state.last_run_duration = round(time.monotonic() - clock, 3)
    recorded = _record(label, state, state_path, metrics_path, families(state))
    return 0 if ok and recorded else 1
