"""filestore_backup's runs and restores: Debian's rclone, an encrypted remote on a local directory.

The script, monitoring_exporters' textfile helpers and backup_store's
backup helpers are installed side by side, as the role installs them, and
started with the host's python3 as the unit starts them. rclone's
configuration has the role's shape (a crypt remote over a storage remote)
with a local directory as the storage, so what lands there is what Azure
Blob would hold. The role against Azurite is covered by
the app_tier scenario.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from tests.exposition import promtool_ok, samples, value
from tests.fixtures import backup_scripts as scripts

FILES = ROOT / "roles" / "filestore_backup" / "files"
MARKER = b"INVOICE 2026-0042 for ACME Retail, total 1234.56"


def sha_name(content: bytes) -> str:
    sha = hashlib.sha1(content).hexdigest()
    return f"{sha[:2]}/{sha}"


class Rig:
    """A filestore, a local 'storage' under an rclone crypt remote, and the script's configuration."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.script = scripts.install(FILES / "retailops_filestore_backup.py", tmp / "lib")
        self.source = tmp / "filestore"
        (self.source / "retail").mkdir(parents=True)
        self.storage = tmp / "storage"
        self.storage.mkdir()
        self.state_dir = tmp / "state"
        self.state_dir.mkdir()
        self.rclone_conf = tmp / "rclone.conf"
        self.rclone_conf.write_text(scripts.crypt_remotes("store", "crypt", self.storage))
        self.rclone_conf.chmod(0o600)
        self.config = tmp / "backup.json"
        self.write_config()

    def write_config(self, **overrides: object) -> None:
        config: dict[str, object] = {
            "source": str(self.source),
            "rclone": scripts.rclone(),
            "rclone_config": str(self.rclone_conf),
            "ca_file": "",
            "remote": "crypt",
            "interval_seconds": 300,
            "removed_retention_days": 15,
            "state": str(self.state_dir / "state.json"),
            "metrics": str(self.state_dir / "retailops_filestore_backup.prom"),
        }
        config.update(overrides)
        self.config.write_text(json.dumps(config))

    def rclone(self, *args: str) -> str:
        done = subprocess.run(
            [scripts.rclone(), "--config", str(self.rclone_conf), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def add(self, content: bytes) -> str:
        name = sha_name(content)
        path = self.source / "retail" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return name

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return scripts.run(self.script, self.config, *args)

    def metrics(self) -> str:
        return (self.state_dir / "retailops_filestore_backup.prom").read_text()

    def state(self) -> dict[str, object]:
        state: dict[str, object] = json.loads((self.state_dir / "state.json").read_text())
        return state


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def tree(root: Path) -> dict[str, str]:
    """Relative path -> sha1 of every file under root."""
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_run_copies_the_filestore_and_writes_its_metrics(rig: Rig) -> None:
    names = [rig.add(MARKER), rig.add(b"product image bytes"), rig.add(b"x" * 5000)]
    done = rig.run("backup")
    assert done.returncode == 0, done.stderr
    assert sorted(rig.rclone("lsf", "-R", "--files-only", "crypt:current").split()) == sorted(
        f"retail/{n}" for n in names
    )
    text = rig.metrics()
    promtool_ok(text)
    found = samples(text)
    assert value(found, "retailops_filestore_backup_last_run_success") == 1
    assert value(found, "retailops_filestore_backup_files") == 3
    assert value(found, "retailops_filestore_backup_bytes") == len(MARKER) + 19 + 5000
    assert value(found, "retailops_filestore_backup_interval_seconds") == 300
    assert value(found, "retailops_filestore_backup_removed_sets") == 0
    started = value(found, "retailops_filestore_backup_last_run_timestamp_seconds")
    assert value(found, "retailops_filestore_backup_last_success_timestamp_seconds") == started
    assert oct((rig.state_dir / "retailops_filestore_backup.prom").stat().st_mode & 0o777) == "0o644"


def test_the_storage_holds_no_plaintext_name_or_content(rig: Rig) -> None:
    name = rig.add(MARKER)
    assert rig.run("backup").returncode == 0
    stored = [p for p in rig.storage.rglob("*") if p.is_file()]
    assert len(stored) == 1
    listing = "\n".join(str(p.relative_to(rig.storage)) for p in rig.storage.rglob("*"))
    for plain in ("retail", "current", name.split("/")[1], name.split("/")[0] + "/"):
        assert plain not in listing
    assert MARKER not in stored[0].read_bytes()
    # with another password the names do not decrypt: nothing is listed
    other = rig.tmp / "other.conf"
    other.write_text(
        "\n".join(
            f"password = {scripts.obscure('another password')}" if line.startswith("password = ") else line
            for line in rig.rclone_conf.read_text().splitlines()
        )
    )
    listed = subprocess.run(
        [scripts.rclone(), "--config", str(other), "lsf", "-R", "--files-only", "crypt:"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert name.split("/")[1] not in listed.stdout
    assert listed.stdout.strip() == ""


def test_a_deleted_file_is_moved_to_removed_and_restored(rig: Rig) -> None:
    kept = rig.add(b"kept attachment")
    gone = rig.add(MARKER)
    assert rig.run("backup").returncode == 0
    (rig.source / "retail" / gone).unlink()  # Odoo's garbage collector
    added = rig.add(b"a later attachment")
    assert rig.run("backup").returncode == 0
    # rclone lists a directory's entries in no promised order
    assert sorted(rig.rclone("lsf", "-R", "--files-only", "crypt:current").split()) == sorted(
        [f"retail/{kept}", f"retail/{added}"]
    )
    removed = rig.rclone("lsf", "-R", "--files-only", "crypt:removed").split()
    assert len(removed) == 1
    assert removed[0].endswith(f"/retail/{gone}")
    assert value(samples(rig.metrics()), "retailops_filestore_backup_removed_sets") == 1

    target = rig.tmp / "restored"
    done = rig.run("restore", "--target", str(target), "--owner", f"{os.getuid()}:{os.getgid()}")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome == {
        "files": 3,
        "bytes": len(b"kept attachment") + len(MARKER) + len(b"a later attachment"),
        "removed_sets": 1,
        "target": str(target),
    }
    restored = tree(target)
    assert set(restored) == {f"retail/{kept}", f"retail/{gone}", f"retail/{added}"}
    # content-addressed: every file's sha1 is its name
    assert all(path.rsplit("/", 1)[1] == sha for path, sha in restored.items())
    assert oct((target / "retail" / gone).stat().st_mode & 0o777) == "0o640"
    assert oct((target / "retail").stat().st_mode & 0o777) == "0o750"


def test_old_removed_sets_are_pruned(rig: Rig) -> None:
    rig.add(b"one")
    old = rig.tmp / "old"
    old.mkdir()
    (old / "orphan").write_bytes(b"deleted long ago")
    rig.rclone("copy", str(old), "crypt:removed/20200101T000000Z")
    rig.rclone("copy", str(old), "crypt:removed/29991231T000000Z")  # not expired (the future)
    assert rig.run("backup").returncode == 0
    assert rig.rclone("lsf", "--dirs-only", "crypt:removed").split() == ["29991231T000000Z/"]
    assert value(samples(rig.metrics()), "retailops_filestore_backup_removed_sets") == 1


def test_a_failed_run_fails_and_keeps_the_last_success(rig: Rig) -> None:
    rig.add(b"one")
    assert rig.run("backup").returncode == 0
    first = rig.state()["last_success"]
    rig.write_config(remote="nosuchremote")
    done = rig.run("backup")
    assert done.returncode == 1
    assert "filestore backup failed: rclone sync exited" in done.stderr
    found = samples(rig.metrics())
    promtool_ok(rig.metrics())
    assert value(found, "retailops_filestore_backup_last_run_success") == 0
    assert value(found, "retailops_filestore_backup_last_success_timestamp_seconds") == first
    assert value(found, "retailops_filestore_backup_last_run_timestamp_seconds") > float(str(first))
    assert value(found, "retailops_filestore_backup_files") == 1


def test_a_missing_filestore_fails_the_run(rig: Rig) -> None:
    rig.write_config(source=str(rig.tmp / "not-mounted"))
    done = rig.run("backup")
    assert done.returncode == 1
    assert "is not a directory" in done.stderr
    assert value(samples(rig.metrics()), "retailops_filestore_backup_last_success_timestamp_seconds") == 0


def test_restore_refuses_a_non_empty_target_unless_forced(rig: Rig) -> None:
    rig.add(MARKER)
    assert rig.run("backup").returncode == 0
    target = rig.tmp / "busy"
    target.mkdir()
    (target / "keep-me").write_text("x")
    done = rig.run("restore", "--target", str(target))
    assert done.returncode == 2
    assert "is not empty" in done.stderr
    done = rig.run("restore", "--target", str(target), "--force")
    assert done.returncode == 0, done.stderr
    assert (target / "keep-me").read_text() == "x"
    assert json.loads(done.stdout)["files"] == 2


@pytest.mark.parametrize("where", ["/", "source"])
def test_restore_refuses_the_root_and_the_live_filestore(rig: Rig, where: str) -> None:
    target = "/" if where == "/" else str(rig.source) + "/"
    done = rig.run("restore", "--target", target, "--force")
    assert done.returncode == 2
    assert "refusing" in done.stderr


def test_a_dr_region_restores_into_its_empty_live_filestore(rig: Rig) -> None:
    name = rig.add(MARKER)
    assert rig.run("backup").returncode == 0
    live = rig.tmp / "dr-filestore"  # the DR node's live filestore: empty, its Odoo not started
    live.mkdir()
    rig.write_config(source=str(live))
    assert rig.run("restore", "--target", str(live)).returncode == 2  # the live filestore: only with --live
    done = rig.run("restore", "--target", str(live), "--live")
    assert done.returncode == 0, done.stderr
    assert (live / "retail" / name).read_bytes() == MARKER
    assert rig.run("restore", "--target", "/", "--live", "--force").returncode == 2


def test_a_configuration_without_a_key_is_refused_by_name(rig: Rig) -> None:
    config = json.loads(rig.config.read_text())
    del config["remote"]
    rig.config.write_text(json.dumps(config))
    done = rig.run("backup")
    assert done.returncode == 2
    assert "missing remote" in done.stderr
