"""Back a host's configuration state up to the region's encrypted stores, list it, and restore a snapshot.

    retailops_config_backup.py backup --config /etc/retailops-config-backup/backup.json
    retailops_config_backup.py list --config ... [--store NAME] [--host HOST]
    retailops_config_backup.py restore --config ... --target DIR [--snapshot STAMP|latest]
                                       [--store NAME] [--host HOST] [--force]

backup (the systemd service, every interval, as root: key files are root's)
builds one snapshot, a gzip'd tar held in memory (configuration state is
small), of:

- host/<path>: the files and directories of ``paths`` (rendered
  configuration, key material generated on the host), with their modes,
  owners and times; a configured path that is missing fails the run;
- patroni/dynamic-config.json: Patroni's dynamic configuration (``GET
  /config``), when ``patroni_api`` is set and this member is the leader
  (``GET /leader`` answers 200; 503 is a replica, which adds nothing);
- collected/...: what a controller playbook dropped into ``collected_dir``
  (a Kubernetes region's manifests), with collected/collected.json saying
  when it was collected;
- MANIFEST.json: the host, the time, and every file's sha256, size and mode.

and uploads it with ``rclone rcat`` to every store's crypt remote as
``<host>/<UTC stamp>.tar.gz`` (names and contents encrypted), then deletes
the host's snapshots older than ``retention_days`` there, always keeping the
newest ``keep_min``. Each run writes its outcome for node_exporter's
textfile collector (atomically) and keeps it in a state file:

- retailops_config_backup_last_run_success: 1 when the last run worked in every store, else 0
- retailops_config_backup_last_run_timestamp_seconds, ..._last_run_duration_seconds
- retailops_config_backup_last_success_timestamp_seconds{store}: when the
  last snapshot that reached that store was taken (0: never)
- retailops_config_backup_snapshots{store}: the host's snapshots kept there
- retailops_config_backup_files, retailops_config_backup_bytes: the last
  snapshot's files and its compressed size
- retailops_config_backup_interval_seconds: the timer's interval
- retailops_config_backup_patroni_leader: 1 when the last snapshot holds
  Patroni's dynamic configuration (only with ``patroni_api``)
- retailops_config_backup_collected_timestamp_seconds and
  ..._collected_max_age_seconds: when the controller last collected, and
  how old that may be (only when something was collected)

The exit status is 0 only when the run worked in every store (a failed run
fails the unit).

restore (run as root by the role's restore entry point) downloads one
snapshot (the newest, or ``--snapshot``) of ``--host`` (this host by
default) from ``--store`` (the first store by default), checks every file
against MANIFEST.json, and writes it under ``--target`` (never /, never a
backed-up path; not empty only with ``--force``), modes, owners and times
kept, symbolic links made last; prints {"snapshot", "store", "host",
"files", "bytes", "target", "patroni", "collected"} as JSON.

The configuration (JSON, written by the role; no secret in it, they are in
rclone's own configuration): see REQUIRED.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import stat
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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

SNAPSHOT = re.compile(f"^({STAMP_PATTERN})\\.tar\\.gz$")
MANIFEST = "MANIFEST.json"
COLLECTED_STAMP = "collected.json"
REQUIRED = (
    "host",
    "paths",
    "collected_dir",
    "collected_max_age_seconds",
    "patroni_api",
    "rclone",
    "rclone_config",
    "ca_file",
    "stores",
    "retention_days",
    "keep_min",
    "interval_seconds",
    "state",
    "metrics",
)


@dataclass
class Config:
    host: str
    paths: list[str]
    collected_dir: str
    collected_max_age_seconds: int
    patroni_api: str
    rclone: str
    rclone_config: str
    ca_file: str
    stores: list[dict[str, str]]
    retention_days: int
    keep_min: int
    interval_seconds: int
    state: str
    metrics: str

    def rclone_runner(self) -> Rclone:
        return Rclone(self.rclone, self.rclone_config, self.ca_file)

    def store(self, name: str | None) -> dict[str, str]:
        if name is None:
            return self.stores[0]
        for store in self.stores:
            if store["name"] == name:
                return store
        known = ", ".join(s["name"] for s in self.stores)
        raise BackupError(f"no store {name!r} (stores: {known})")


@dataclass
class State:
    """What the last runs did; kept between runs (each store's last success survives failed runs)."""

    last_run: float = 0.0
    last_run_success: bool = False
    last_run_duration: float = 0.0
    files: int = 0
    bytes: int = 0
    patroni_leader: bool = False
    collected: float = 0.0
    stores: dict[str, dict[str, float]] = field(default_factory=dict)


def load_config(path: str) -> Config:
    config = Config(**read_config(path, REQUIRED))
    if not config.stores:
        raise BackupError(f"{path}: no store")
    return config


# --- the snapshot ---------------------------------------------------------------------------------


class Snapshot:
    """A gzip'd tar built in memory, with the manifest of what it holds."""

    def __init__(self, host: str, created: datetime) -> None:
        self.buffer = io.BytesIO()
        # mtime 0 in the gzip header: the same content gives the same bytes
        self.gzip = gzip.GzipFile(fileobj=self.buffer, mode="wb", mtime=0)
        # closed by close(), which returns the bytes
        self.tar = tarfile.open(fileobj=self.gzip, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.manifest: dict[str, Any] = {
            "format": 1,
            "host": host,
            "created": created.strftime(STAMP_FORMAT),
            "created_timestamp": created.timestamp(),
            "sources": {},
            "files": {},
        }

    def add_bytes(self, name: str, content: bytes, mode: int = 0o600) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mode = mode
        info.mtime = int(self.manifest["created_timestamp"])
        self.tar.addfile(info, io.BytesIO(content))
        self._record(name, content, mode, 0, 0)

    def _record(self, name: str, content: bytes, mode: int, uid: int, gid: int) -> None:
        self.manifest["files"][name] = {
            "sha256": hashlib.sha256(content).hexdigest(),
            "size": len(content),
            "mode": f"{mode & 0o7777:04o}",
            "uid": uid,
            "gid": gid,
        }

    def add_tree(self, source: str, prefix: str) -> None:
        """``source`` (a file, a link or a directory, recursively) under ``prefix``, as found."""
        if not os.path.lexists(source):
            raise BackupError(f"{source} does not exist")
        for path in walk(source):
            relative = os.path.relpath(path, source)
            name = prefix if relative == "." else f"{prefix}/{relative}"
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                try:
                    with open(path, "rb") as handle:
                        content = handle.read()
                except OSError as error:
                    raise BackupError(f"cannot read {path}: {error}") from error
                member = self.tar.gettarinfo(path, arcname=name)
                member.size = len(content)  # as read: the file may have changed since lstat
                self.tar.addfile(member, io.BytesIO(content))
                self._record(name, content, info.st_mode, info.st_uid, info.st_gid)
            elif stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode):
                self.tar.add(path, arcname=name, recursive=False)
            else:
                warn(f"config backup: skipping {path}: not a file, directory or link")

    def close(self) -> bytes:
        content = json.dumps(self.manifest, indent=2, sort_keys=True).encode() + b"\n"
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(content)
        info.mode = 0o644
        info.mtime = int(self.manifest["created_timestamp"])
        self.tar.addfile(info, io.BytesIO(content))
        self.tar.close()
        self.gzip.close()
        return self.buffer.getvalue()


def walk(top: str) -> list[str]:
    """``top`` and everything under it, sorted, not following links."""
    if not os.path.isdir(top) or os.path.islink(top):
        return [top]
    found = [top]
    for directory, dirs, names in os.walk(top):
        dirs.sort()
        for name in sorted(dirs) + sorted(names):
            path = os.path.join(directory, name)
            found.append(path)
    return sorted(set(found), key=lambda p: (p.count(os.sep), p))


def patroni_dynamic_config(api: str, timeout: float = 10.0) -> bytes | None:
    """Patroni's dynamic configuration when this member is the leader; None on a replica."""
    try:
        with urllib.request.urlopen(f"{api}/leader", timeout=timeout):
            pass
    except urllib.error.HTTPError as error:
        if error.code == 503:  # a replica (or no leader lock): the leader's run keeps the copy
            return None
        raise BackupError(f"Patroni's API {api}/leader answered {error.code}") from error
    except (OSError, ValueError) as error:
        raise BackupError(f"Patroni's API {api} does not answer: {error}") from error
    try:
        with urllib.request.urlopen(f"{api}/config", timeout=timeout) as response:
            dynamic = json.load(response)
    except (OSError, ValueError) as error:
        raise BackupError(f"cannot read Patroni's dynamic configuration {api}/config: {error}") from error
    if not isinstance(dynamic, dict):
        raise BackupError(f"Patroni's {api}/config is not a JSON object")
    return json.dumps(dynamic, indent=2, sort_keys=True).encode() + b"\n"


def collected_time(collected_dir: str) -> float:
    """When the controller last collected (collected/collected.json), 0 when nothing was."""
    try:
        with open(os.path.join(collected_dir, COLLECTED_STAMP), encoding="utf-8") as handle:
            return float(json.load(handle)["timestamp"])
    except FileNotFoundError:
        return 0.0
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"unreadable {collected_dir}/{COLLECTED_STAMP}: {error}") from error


def build(config: Config, started: datetime) -> tuple[bytes, Snapshot, bool, float]:
    """The snapshot's bytes, the snapshot (its manifest), whether Patroni's config is in it, and the
    collection time (0: nothing collected)."""
    snapshot = Snapshot(config.host, started)
    for path in config.paths:
        snapshot.add_tree(path, "host/" + path.strip("/"))
    snapshot.manifest["sources"]["paths"] = config.paths
    leader = False
    if config.patroni_api:
        dynamic = patroni_dynamic_config(config.patroni_api)
        leader = dynamic is not None
        if dynamic is not None:
            snapshot.add_bytes("patroni/dynamic-config.json", dynamic)
        snapshot.manifest["sources"]["patroni"] = "leader" if leader else "replica"
    collected = 0.0
    if config.collected_dir and os.path.isdir(config.collected_dir) and os.listdir(config.collected_dir):
        collected = collected_time(config.collected_dir)
        snapshot.add_tree(config.collected_dir, "collected")
        snapshot.manifest["sources"]["collected"] = collected
    return snapshot.close(), snapshot, leader, collected


# --- the stores -----------------------------------------------------------------------------------


def snapshots(rclone: Rclone, remote: str, host: str) -> list[str]:
    """The host's snapshot stamps in a store, oldest first."""
    names = rclone.list_dir(f"{remote}:{host}")
    return sorted(m.group(1) for m in map(SNAPSHOT.match, names) if m)


def upload(config: Config, store: dict[str, str], stamp: str, content: bytes, now: datetime) -> int:
    """Put the snapshot into one store, check its size there, prune; the snapshots kept there."""
    rclone = config.rclone_runner()
    remote, name = store["remote"], f"{stamp}.tar.gz"
    try:
        rclone.checked("rcat", f"{remote}:{config.host}/{name}", stdin=content)
        listing = rclone.text("lsf", "--format", "sp", "--files-only", f"{remote}:{config.host}")
        sizes = {
            path: size for size, path in (line.split(";", 1) for line in listing.splitlines() if ";" in line)
        }
        if sizes.get(name) != str(len(content)):
            raise BackupError(
                f"store {store['name']}: {name} holds {sizes.get(name)} bytes, not {len(content)}"
            )
        kept = snapshots(rclone, remote, config.host)
        for old in expired(kept, now, config.retention_days, config.keep_min):
            rclone.checked("deletefile", f"{remote}:{config.host}/{old}.tar.gz")
            kept.remove(old)
    except BackupError as error:
        raise BackupError(f"store {store['name']}: {error}") from error
    return len(kept)


def families(config: Config, state: State) -> list[Family]:
    def single(name: str, help_text: str, value: float) -> Family:
        return gauge(f"retailops_config_backup_{name}", help_text, value)

    out = [
        single(
            "last_run_success",
            "1 when the last configuration backup run reached every store, else 0.",
            int(state.last_run_success),
        ),
        single(
            "last_run_timestamp_seconds", "When the last configuration backup run started.", state.last_run
        ),
        single(
            "last_run_duration_seconds",
            "How long the last configuration backup run took.",
            state.last_run_duration,
        ),
    ]
    success = Family(
        "retailops_config_backup_last_success_timestamp_seconds",
        "When the last configuration snapshot that reached the store was taken (0: never).",
    )
    kept = Family(
        "retailops_config_backup_snapshots", "The host's configuration snapshots kept in the store."
    )
    for store in config.stores:
        outcome = state.stores.get(store["name"], {})
        success.add(outcome.get("last_success", 0.0), store=store["name"])
        kept.add(outcome.get("snapshots", 0), store=store["name"])
    out += [
        success,
        kept,
        single("files", "Files in the last configuration snapshot.", state.files),
        single("bytes", "Compressed bytes of the last configuration snapshot.", state.bytes),
        single(
            "interval_seconds",
            "Seconds between two configuration backup runs (the timer).",
            config.interval_seconds,
        ),
    ]
    if config.patroni_api:
        out.append(
            single(
                "patroni_leader",
                "1 when the last snapshot holds Patroni's dynamic configuration (this member led).",
                int(state.patroni_leader),
            )
        )
    if state.collected:
        out += [
            single(
                "collected_timestamp_seconds",
                "When the controller last collected the state in the snapshot (Kubernetes manifests).",
                state.collected,
            ),
            single(
                "collected_max_age_seconds",
                "How old the collected state may be before it counts as late.",
                config.collected_max_age_seconds,
            ),
        ]
    return out


def backup(config: Config, now: datetime | None = None) -> int:
    """One run: snapshot, upload to every store, prune, metrics. 0 when it worked in every store."""
    return run_backup(
        "config backup",
        lambda state, started: snapshot_everywhere(config, state, started),
        state_type=State,
        state_path=config.state,
        metrics_path=config.metrics,
        families=lambda state: families(config, state),
        now=now,
    )


def snapshot_everywhere(config: Config, state: State, started: datetime) -> None:
    """The run's work: one snapshot, into every store (BackupError naming those it missed)."""
    content, snapshot, leader, collected = build(config, started)
    state.files, state.bytes = len(snapshot.manifest["files"]), len(content)
    state.patroni_leader, state.collected = leader, collected
    stamp = started.strftime(STAMP_FORMAT)
    failed = []
    for store in config.stores:
        outcome = state.stores.setdefault(store["name"], {"last_success": 0.0, "snapshots": 0})
        try:
            outcome["snapshots"] = upload(config, store, stamp, content, started)
            outcome["last_success"] = started.timestamp()
        except BackupError as error:
            warn(f"config backup failed: {error}")
            failed.append(store["name"])
    if failed:
        raise BackupError(f"not stored in {', '.join(failed)}")
    print(
        f"config backup: snapshot {stamp}, {state.files} files, {len(content)} bytes, in "
        + ", ".join(f"{s['name']} ({state.stores[s['name']]['snapshots']} kept)" for s in config.stores),
        flush=True,
    )


# --- restore --------------------------------------------------------------------------------------


def member_path(target: str, name: str) -> str:
    """Where a member goes under target; refuses absolute names and names that climb out."""
    if name.startswith("/") or ".." in name.split("/") or not name:
        raise BackupError(f"refusing the member {name!r}: not a relative path inside the snapshot")
    return os.path.join(target, name)


def write_member(path: str, data: bytes, member: tarfile.TarInfo, as_root: bool) -> None:
    """A regular file, never through a link, with the member's owner (as root), mode and time."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    if as_root:
        os.chown(path, member.uid, member.gid)
    os.chmod(path, member.mode & 0o7777)
    os.utime(path, (member.mtime, member.mtime))


def finish(links: list[tuple[str, tarfile.TarInfo]], directories: list[tuple[str, tarfile.TarInfo]]) -> None:
    """The links, then the directories' owners, modes and times (deepest first: a parent's mode may
    forbid writes below it)."""
    as_root = os.geteuid() == 0
    for path, member in links:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(member.linkname, path)
        if as_root:
            os.lchown(path, member.uid, member.gid)
    for path, member in reversed(directories):
        if as_root:
            os.chown(path, member.uid, member.gid)
        os.chmod(path, member.mode & 0o7777)
        os.utime(path, (member.mtime, member.mtime))


def extract(content: bytes, target: str) -> dict[str, Any]:
    """Write the snapshot under target (links last, so no member is written through one), each file
    checked against the manifest; returns the manifest."""
    as_root = os.geteuid() == 0
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as tar:
        members = tar.getmembers()
        manifest_member = next((m for m in members if m.name == MANIFEST), None)
        handle = tar.extractfile(manifest_member) if manifest_member is not None else None
        if handle is None:
            raise BackupError("the snapshot has no MANIFEST.json")
        manifest: dict[str, Any] = json.load(handle)
        expected = manifest.get("files", {})
        seen = set()
        links: list[tuple[str, tarfile.TarInfo]] = []
        directories: list[tuple[str, tarfile.TarInfo]] = []
        for member in members:
            path = member_path(target, member.name)
            if member.isdir():
                os.makedirs(path, exist_ok=True)
                directories.append((path, member))
            elif member.issym():
                links.append((path, member))
            elif not member.isfile():
                raise BackupError(f"refusing the member {member.name!r}: not a file, directory or link")
            else:
                data = (tar.extractfile(member) or io.BytesIO()).read()
                if member.name != MANIFEST:
                    want = expected.get(member.name)
                    if want is None or hashlib.sha256(data).hexdigest() != want["sha256"]:
                        raise BackupError(f"{member.name}: not the content the manifest records")
                    seen.add(member.name)
                write_member(path, data, member, as_root)
        missing = sorted(set(expected) - seen)
        if missing:
            raise BackupError(f"the snapshot lacks {', '.join(missing)}")
        finish(links, directories)
    return manifest


def inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def restore(
    config: Config,
    target: str,
    *,
    snapshot: str = "latest",
    store_name: str | None = None,
    host: str | None = None,
    force: bool = False,
) -> int:
    """Restore one snapshot into ``target``."""
    real = os.path.realpath(target)
    protected = [os.path.realpath(p) for p in config.paths] + [os.path.realpath(config.collected_dir)]
    if real == "/" or any(inside(real, p) or inside(p, real) for p in protected if p != "/"):
        warn(f"config restore: refusing {target}: it is /, or holds or is inside a backed-up path")
        return 2
    if os.path.isdir(real) and os.listdir(real) and not force:
        warn(f"config restore: {target} is not empty (force to restore into it anyway)")
        return 2
    source_host = host or config.host
    try:
        store = config.store(store_name)
        rclone = config.rclone_runner()
        stamps = snapshots(rclone, store["remote"], source_host)
        if not stamps:
            raise BackupError(f"store {store['name']} holds no snapshot of {source_host}")
        chosen = stamps[-1] if snapshot == "latest" else snapshot
        if chosen not in stamps:
            raise BackupError(
                f"store {store['name']} holds no snapshot {chosen} of {source_host}"
                f" (it has {', '.join(stamps)})"
            )
        content = rclone.checked("cat", f"{store['remote']}:{source_host}/{chosen}.tar.gz")
        os.makedirs(real, mode=0o700, exist_ok=True)
        manifest = extract(content, real)
    except (BackupError, OSError, tarfile.TarError, ValueError) as error:
        warn(f"config restore failed: {error}")
        return 1
    files = manifest.get("files", {})
    print(
        json.dumps(
            {
                "snapshot": chosen,
                "store": store["name"],
                "host": source_host,
                "files": len(files),
                "bytes": sum(f["size"] for f in files.values()),
                "target": real,
                "patroni": "patroni/dynamic-config.json" in files,
                "collected": "collected" in manifest.get("sources", {}),
            }
        )
    )
    return 0


def list_snapshots(config: Config, store_name: str | None, host: str | None) -> int:
    try:
        store = config.store(store_name)
        stamps = snapshots(config.rclone_runner(), store["remote"], host or config.host)
    except BackupError as error:
        warn(f"config list failed: {error}")
        return 1
    print(json.dumps({"store": store["name"], "host": host or config.host, "snapshots": stamps}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["backup", "list", "restore"])
    parser.add_argument("--config", required=True, help="the role's JSON configuration")
    parser.add_argument("--target", help="restore: the directory to restore into")
    parser.add_argument("--snapshot", default="latest", help="restore: a snapshot's stamp, or latest")
    parser.add_argument("--store", help="list, restore: the store to read (the first by default)")
    parser.add_argument("--host", help="list, restore: whose snapshots (this host by default)")
    parser.add_argument("--force", action="store_true", help="restore: into a non-empty directory")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except BackupError as error:
        warn(f"config {args.command}: {error}")
        return 2
    if args.command == "backup":
        return backup(config)
    if args.command == "list":
        return list_snapshots(config, args.store, args.host)
    if not args.target:
        parser.error("restore needs --target")
    if args.snapshot != "latest" and not re.fullmatch(STAMP_PATTERN, args.snapshot):
        parser.error(f"--snapshot takes a stamp such as 20261207T031425Z, or latest: got {args.snapshot!r}")
    return restore(
        config, args.target, snapshot=args.snapshot, store_name=args.store, host=args.host, force=args.force
    )


if __name__ == "__main__":
    sys.exit(main())
