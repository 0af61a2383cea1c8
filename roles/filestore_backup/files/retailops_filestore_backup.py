"""Back the Odoo filestore up to an rclone crypt remote (Azure Blob underneath), and restore it.

    retailops_filestore_backup.py backup --config /etc/retailops-filestore-backup/backup.json
    retailops_filestore_backup.py restore --config ... --target DIR [--force] [--owner UID:GID]

backup (the systemd service, every interval, as the filestore's owner):

    rclone sync <source> <remote>:current --backup-dir <remote>:removed/<UTC stamp>

so that a file Odoo's garbage collector deleted since the last run is moved
to removed/<stamp>, not lost; then removed/<stamp> sets older than the
retention are purged. Each run writes its outcome for node_exporter's
textfile collector (atomically) and keeps it in a state file:

- retailops_filestore_backup_last_run_success: 1 when the last run worked, else 0
- retailops_filestore_backup_last_run_timestamp_seconds: when the last run started
- retailops_filestore_backup_last_success_timestamp_seconds: when the last
  successful run started (0: never); a restore to a time T is complete when
  a successful run started after T
- retailops_filestore_backup_last_run_duration_seconds
- retailops_filestore_backup_files, retailops_filestore_backup_bytes: the
  source's files and bytes at the last successful run
- retailops_filestore_backup_removed_sets: removed/<stamp> sets kept
- retailops_filestore_backup_interval_seconds: the timer's interval (the
  age alert's threshold is a multiple of it)

The exit status is 0 only when the run worked (a failed run fails the unit).

restore (run as root by the role's restore entry point): copies current,
then every removed/<stamp> (without overwriting: content-addressed files are
the same wherever they come from) into --target, refuses a non-empty target
unless --force, gives every directory (0750) and file (0640) to --owner, and
prints {"files", "bytes", "removed_sets", "target"} as JSON.

The configuration (JSON, written by the role; no secret in it, they are in
rclone's own configuration): source, rclone, rclone_config, ca_file (may be
empty), remote, interval_seconds, removed_retention_days, state, metrics.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from datetime import datetime

from retailops_backup_store import (
    STAMP_FORMAT,
    STAMP_PATTERN,
    BackupError,
    Rclone,
    expired,
    gauge,
    read_config,
    run_backup,
)
from retailops_textfile import Family, warn

STAMP = re.compile(f"^{STAMP_PATTERN}$")
REQUIRED = (
    "source",
    "rclone",
    "rclone_config",
    "ca_file",
    "remote",
    "interval_seconds",
    "removed_retention_days",
    "state",
    "metrics",
)


@dataclass
class Config:
    source: str
    rclone: str
    rclone_config: str
    ca_file: str
    remote: str
    interval_seconds: int
    removed_retention_days: int
    state: str
    metrics: str

    def rclone_runner(self) -> Rclone:
        return Rclone(self.rclone, self.rclone_config, self.ca_file)


@dataclass
class State:
    """What the last runs did; kept between runs (the last success survives failed runs)."""

    last_run: float = 0.0
    last_run_success: bool = False
    last_run_duration: float = 0.0
    last_success: float = 0.0
    files: int = 0
    bytes: int = 0
    removed_sets: int = 0


def load_config(path: str) -> Config:
    return Config(**read_config(path, REQUIRED))


def checked(config: Config, *args: str) -> str:
    """Run rclone with the role's configuration (and CA); a failure raises BackupError."""
    return config.rclone_runner().text(*args)


def count(path: str) -> tuple[int, int]:
    """Regular files under path and their bytes."""
    files = size = 0
    for directory, _dirs, names in os.walk(path):
        for name in names:
            try:
                info = os.lstat(os.path.join(directory, name))
            except FileNotFoundError:  # removed by Odoo's garbage collector meanwhile
                continue
            if stat.S_ISREG(info.st_mode):
                files += 1
                size += info.st_size
    return files, size


def removed_sets(config: Config) -> list[str]:
    """The removed/<stamp> sets in the remote, oldest first (none before the first deletion)."""
    names = config.rclone_runner().list_dir(f"{config.remote}:removed", dirs_only=True)
    return sorted(name for name in names if STAMP.match(name))


def families(config: Config, state: State) -> list[Family]:
    pairs = [
        (
            "last_run_success",
            "1 when the last filestore backup run worked, else 0.",
            int(state.last_run_success),
        ),
        ("last_run_timestamp_seconds", "When the last filestore backup run started.", state.last_run),
        (
            "last_success_timestamp_seconds",
            "When the last successful filestore backup run started (0: never).",
            state.last_success,
        ),
        (
            "last_run_duration_seconds",
            "How long the last filestore backup run took.",
            state.last_run_duration,
        ),
        ("files", "Files in the filestore at the last successful backup run.", state.files),
        ("bytes", "Bytes in the filestore at the last successful backup run.", state.bytes),
        ("removed_sets", "removed/<stamp> sets kept in the backup (deleted files).", state.removed_sets),
        (
            "interval_seconds",
            "Seconds between two filestore backup runs (the timer).",
            config.interval_seconds,
        ),
    ]
    return [gauge(f"retailops_filestore_backup_{name}", help_text, value) for name, help_text, value in pairs]


def backup(config: Config, now: datetime | None = None) -> int:
    """One run: sync, prune, metrics. 0 when it worked."""
    return run_backup(
        "filestore backup",
        lambda state, started: sync(config, state, started),
        state_type=State,
        state_path=config.state,
        metrics_path=config.metrics,
        families=lambda state: families(config, state),
        now=now,
    )


def sync(config: Config, state: State, started: datetime) -> None:
    """The run's work: the filestore synced, the files it replaced or removed kept aside by the run's
    stamp, the sets past their retention purged."""
    if not os.path.isdir(config.source):
        raise BackupError(f"the filestore {config.source} is not a directory")
    files, size = count(config.source)
    stamp = started.strftime(STAMP_FORMAT)
    checked(
        config,
        "sync",
        config.source,
        f"{config.remote}:current",
        "--backup-dir",
        f"{config.remote}:removed/{stamp}",
        "--fast-list",
    )
    kept = removed_sets(config)
    for old in expired(kept, started, config.removed_retention_days):
        checked(config, "purge", f"{config.remote}:removed/{old}")
        kept.remove(old)
    state.files, state.bytes, state.removed_sets = files, size, len(kept)
    state.last_success = started.timestamp()
    print(f"filestore backup: {files} files, {size} bytes; {len(kept)} removed sets kept", flush=True)


def owner(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"([0-9]+):([0-9]+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"--owner takes UID:GID, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def hand_over(target: str, uid: int, gid: int) -> None:
    """Every directory 0750 and file 0640 under target, owned by uid:gid."""
    for directory, dirs, names in os.walk(target):
        os.chown(directory, uid, gid)
        os.chmod(directory, 0o750)
        for name in names:
            path = os.path.join(directory, name)
            os.chown(path, uid, gid, follow_symlinks=False)
            os.chmod(path, 0o640)
        dirs.sort()


def restore(
    config: Config, target: str, force: bool, uid_gid: tuple[int, int] | None, live: bool = False
) -> int:
    """Restore current, then every removed set, into ``target``. ``live``: the target may be the live
    filestore (a DR region's, restored before its Odoo starts); never /."""
    real = os.path.realpath(target)
    if real == "/" or (real == os.path.realpath(config.source) and not live):
        warn(f"filestore restore: refusing {target}: it is / or the live filestore {config.source}")
        return 2
    if os.path.isdir(real) and os.listdir(real) and not force:
        warn(f"filestore restore: {target} is not empty (force to restore into it anyway)")
        return 2
    try:
        os.makedirs(real, exist_ok=True)
        checked(config, "copy", f"{config.remote}:current", real, "--fast-list")
        sets = removed_sets(config)
        for stamp in sets:
            checked(
                config, "copy", f"{config.remote}:removed/{stamp}", real, "--ignore-existing", "--fast-list"
            )
        if uid_gid is not None:
            hand_over(real, *uid_gid)
    except (BackupError, OSError) as error:
        warn(f"filestore restore failed: {error}")
        return 1
    files, size = count(real)
    print(json.dumps({"files": files, "bytes": size, "removed_sets": len(sets), "target": real}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["backup", "restore"])
    parser.add_argument("--config", required=True, help="the role's JSON configuration")
    parser.add_argument("--target", help="restore: the directory to restore into")
    parser.add_argument("--force", action="store_true", help="restore: into a non-empty directory")
    parser.add_argument("--owner", type=owner, help="restore: UID:GID to give the files to")
    parser.add_argument(
        "--live", action="store_true", help="restore: the target may be the live filestore (Odoo stopped)"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except BackupError as error:
        warn(f"filestore {args.command}: {error}")
        return 2
    if args.command == "backup":
        return backup(config)
    if not args.target:
        parser.error("restore needs --target")
    return restore(config, args.target, args.force, args.owner, args.live)


if __name__ == "__main__":
    sys.exit(main())
