"""config_backup's runs, listings and restores: Debian's rclone, two encrypted stores on local directories.

The script, monitoring_exporters' textfile helpers and backup_store's rclone
helpers are installed side by side, as the role installs them, and started
with the host's python3 as the unit starts them. rclone's configuration has
backup_store's shape (a crypt remote over a storage remote per store) with
local directories as the storages ("region" and "dr"), so what lands there
is what Azure Blob would hold. Patroni's REST API is the tests' fake
(tests/fixtures/patroni_api.py) answering as a leader or as a replica. The role against Azurite is covered
by the app_tier scenario.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT

from tests.exposition import promtool_ok, samples, value
from tests.fixtures import backup_scripts as scripts
from tests.fixtures.patroni_api import PatroniApi
from tests.probes.ciphertext import rclone_problems

FILES = ROOT / "roles" / "config_backup" / "files"
KEY_TEXT = b"WG-PRIVATE-KEY-unit-test-only+0123456789abcdef="
PATRONI_CONFIG = {"ttl": 20, "loop_wait": 5, "synchronous_mode": True, "postgresql": {"parameters": {}}}


def script_module() -> ModuleType:
    """The script, imported as the unit runs it (its helpers beside it)."""
    sys.path[:0] = [str(FILES), str(scripts.TEXTFILE.parent), str(scripts.HELPERS.parent)]
    try:
        spec = importlib.util.spec_from_file_location(
            "retailops_config_backup", FILES / "retailops_config_backup.py"
        )
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        del sys.path[:3]


SCRIPT = script_module()


class Rig:
    """A host's state (a key directory, a rendered file, a link), two local 'storages' under rclone crypt
    remotes, and the script's configuration."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.script = scripts.install(FILES / "retailops_config_backup.py", tmp / "lib")
        self.keys = tmp / "etc" / "wireguard" / "branch_vpn"
        (self.keys / "psk").mkdir(parents=True)
        (self.keys / "private.key").write_bytes(KEY_TEXT + b"\n")
        (self.keys / "private.key").chmod(0o600)
        (self.keys / "psk" / "hub-ams.psk").write_bytes(b"PSK-unit-test-only\n")
        (self.keys / "psk").chmod(0o700)
        self.rendered = tmp / "etc" / "patroni.yml"
        self.rendered.write_text("scope: postgres-ha\nrestapi: {listen: 127.0.0.1:8008}\n")
        (tmp / "etc" / "current.yml").symlink_to("patroni.yml")
        self.collected = tmp / "state" / "collected"
        self.collected.mkdir(parents=True)
        self.storages = {name: tmp / f"storage-{name}" for name in ("region", "dr")}
        for storage in self.storages.values():
            storage.mkdir()
        self.rclone_conf = tmp / "rclone.conf"
        sections = [
            scripts.crypt_remotes(f"{name}-blob", f"{name}-crypt", d) for name, d in self.storages.items()
        ]
        self.rclone_conf.write_text("\n".join(sections))
        self.rclone_conf.chmod(0o600)
        self.settings: dict[str, Any] = {
            "host": "erp-db-1",
            "paths": [str(self.keys), str(self.rendered), str(tmp / "etc" / "current.yml")],
            "collected_dir": str(self.collected),
            "collected_max_age_seconds": 86400,
            "patroni_api": "",
            "rclone": scripts.rclone(),
            "rclone_config": str(self.rclone_conf),
            "ca_file": "",
            "stores": [{"name": "region", "remote": "region-crypt"}, {"name": "dr", "remote": "dr-crypt"}],
            "retention_days": 30,
            "keep_min": 2,
            "interval_seconds": 3600,
            "state": str(tmp / "state" / "state.json"),
            "metrics": str(tmp / "state" / "retailops_config_backup.prom"),
        }
        self.write_config()

    def write_config(self, **changes: Any) -> None:
        self.settings.update(changes)
        self.config = self.tmp / "backup.json"
        self.config.write_text(json.dumps(self.settings))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return scripts.run(self.script, self.config, *args)

    def metrics(self) -> str:
        return Path(self.settings["metrics"]).read_text()

    def raw_files(self, store: str) -> list[Path]:
        return sorted(p for p in self.storages[store].rglob("*") if p.is_file())


def tree(root: Path) -> dict[str, tuple[str, str]]:
    """Relative path -> (sha256 or link target, mode) of everything under root."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = ("-> " + os.readlink(path), "link")
        elif path.is_file():
            found[relative] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                oct(path.stat().st_mode & 0o777),
            )
        else:
            found[relative] = ("dir", oct(path.stat().st_mode & 0o777))
    return found


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_a_run_stores_one_encrypted_snapshot_in_each_store(rig: Rig) -> None:
    (rig.collected / "kubernetes").mkdir()
    (rig.collected / "kubernetes" / "tenant-acme.yaml").write_text("---\nkind: Deployment\n")
    (rig.collected / "collected.json").write_text(json.dumps({"timestamp": 1765000000.5}))
    done = rig.run("backup")
    assert done.returncode == 0, done.stderr
    assert "in region (1 kept), dr (1 kept)" in done.stdout
    for store in ("region", "dr"):
        raw = rig.raw_files(store)
        assert len(raw) == 1
        # names and contents encrypted: neither the host nor the stamp nor the key shows
        assert "erp-db-1" not in str(raw[0])
        assert ".tar.gz" not in str(raw[0])
        assert rclone_problems(raw[0].read_bytes(), (KEY_TEXT, b"MANIFEST.json", b"erp-db-1", b"ustar")) == []
    found = samples(rig.metrics())
    promtool_ok(rig.metrics())
    assert value(found, "retailops_config_backup_last_run_success") == 1
    started = value(found, "retailops_config_backup_last_run_timestamp_seconds")
    for store in ("region", "dr"):
        assert value(found, "retailops_config_backup_last_success_timestamp_seconds", store=store) == started
        assert value(found, "retailops_config_backup_snapshots", store=store) == 1
    # the key, its PSK, the rendered file, the collected manifest and its stamp (links and directories
    # are not files)
    assert value(found, "retailops_config_backup_files") == 5
    assert value(found, "retailops_config_backup_collected_timestamp_seconds") == 1765000000.5
    assert value(found, "retailops_config_backup_collected_max_age_seconds") == 86400
    assert value(found, "retailops_config_backup_interval_seconds") == 3600
    assert "retailops_config_backup_patroni_leader" not in rig.metrics()


def test_a_restore_brings_the_snapshot_back_file_for_file(rig: Rig, tmp_path: Path) -> None:
    assert rig.run("backup").returncode == 0
    target = tmp_path / "restore"
    done = rig.run("restore", "--target", str(target), "--store", "dr")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["store"] == "dr"
    assert result["host"] == "erp-db-1"
    assert result["files"] == 3
    assert result["patroni"] is False
    assert result["collected"] is False
    host = target / "host" / str(rig.tmp).strip("/")
    assert tree(host / "etc" / "wireguard" / "branch_vpn") == tree(rig.keys)
    assert oct((host / "etc" / "wireguard" / "branch_vpn" / "private.key").stat().st_mode & 0o777) == "0o600"
    assert (host / "etc" / "patroni.yml").read_bytes() == rig.rendered.read_bytes()
    assert os.readlink(host / "etc" / "current.yml") == "patroni.yml"
    manifest = json.loads((target / "MANIFEST.json").read_text())
    key_entry = manifest["files"]["host/" + str(rig.keys).strip("/") + "/private.key"]
    assert key_entry["sha256"] == hashlib.sha256(KEY_TEXT + b"\n").hexdigest()
    assert key_entry["mode"] == "0600"


def test_a_chosen_snapshot_comes_back_not_the_newest(rig: Rig, tmp_path: Path) -> None:
    module = SCRIPT
    config = module.load_config(str(rig.config))
    assert module.backup(config, datetime(2026, 12, 7, 3, 0, tzinfo=UTC)) == 0
    rig.rendered.write_text("scope: postgres-ha\nchanged: true\n")
    assert module.backup(config, datetime(2026, 12, 7, 4, 0, tzinfo=UTC)) == 0
    listed = rig.run("list", "--store", "region")
    assert json.loads(listed.stdout)["snapshots"] == ["20261207T030000Z", "20261207T040000Z"]
    target = tmp_path / "first"
    done = rig.run("restore", "--target", str(target), "--snapshot", "20261207T030000Z")
    assert done.returncode == 0, done.stderr
    restored = target / "host" / str(rig.rendered).strip("/")
    assert restored.read_text() == "scope: postgres-ha\nrestapi: {listen: 127.0.0.1:8008}\n"
    missing = rig.run("restore", "--target", str(tmp_path / "none"), "--snapshot", "20250101T000000Z")
    assert missing.returncode == 1
    assert "holds no snapshot 20250101T000000Z" in missing.stderr


def test_old_snapshots_are_pruned_but_the_newest_kept(rig: Rig) -> None:
    module = SCRIPT
    config = module.load_config(str(rig.config))
    for day in (1, 2, 3):
        assert module.backup(config, datetime(2026, 1, day, tzinfo=UTC)) == 0
    # 30 days' retention, two kept whatever their age: a run on 2026-03-01 keeps 01-03 and itself
    assert module.backup(config, datetime(2026, 3, 1, tzinfo=UTC)) == 0
    listed = json.loads(rig.run("list", "--store", "dr").stdout)["snapshots"]
    assert listed == ["20260103T000000Z", "20260301T000000Z"]
    assert module.expired(
        ["20260101T000000Z", "20260102T000000Z"], datetime(2026, 1, 5, tzinfo=UTC), 1, 1
    ) == ["20260101T000000Z"]


def test_patroni_s_dynamic_configuration_comes_from_the_leader_only(
    rig: Rig, patroni_api: PatroniApi, tmp_path: Path
) -> None:
    patroni_api.config = PATRONI_CONFIG
    rig.write_config(patroni_api=patroni_api.url)
    assert rig.run("backup").returncode == 0
    assert value(samples(rig.metrics()), "retailops_config_backup_patroni_leader") == 1
    target = tmp_path / "leader"
    result = json.loads(rig.run("restore", "--target", str(target)).stdout)
    assert result["patroni"] is True
    assert json.loads((target / "patroni" / "dynamic-config.json").read_text()) == PATRONI_CONFIG
    patroni_api.leader = False
    assert rig.run("backup").returncode == 0
    assert value(samples(rig.metrics()), "retailops_config_backup_patroni_leader") == 0
    result = json.loads(rig.run("restore", "--target", str(tmp_path / "replica")).stdout)
    assert result["patroni"] is False


def test_patroni_not_answering_fails_the_run_and_keeps_the_last_success(rig: Rig) -> None:
    assert rig.run("backup").returncode == 0
    before = value(
        samples(rig.metrics()), "retailops_config_backup_last_success_timestamp_seconds", store="region"
    )
    rig.write_config(patroni_api="http://127.0.0.1:9")  # discard: nothing listens
    done = rig.run("backup")
    assert done.returncode == 1
    assert "Patroni's API http://127.0.0.1:9 does not answer" in done.stderr
    found = samples(rig.metrics())
    assert value(found, "retailops_config_backup_last_run_success") == 0
    assert value(found, "retailops_config_backup_last_success_timestamp_seconds", store="region") == before


def test_a_store_that_fails_fails_the_run_and_its_metric_only(rig: Rig) -> None:
    assert rig.run("backup").returncode == 0
    first = value(
        samples(rig.metrics()), "retailops_config_backup_last_success_timestamp_seconds", store="dr"
    )
    # the DR storage is now a file: nothing can be written under it
    shutil.rmtree(rig.storages["dr"])
    rig.storages["dr"].write_text("not a directory")
    done = rig.run("backup")
    assert done.returncode == 1
    assert "store dr: rclone rcat exited" in done.stderr
    assert "not stored in dr" in done.stderr
    found = samples(rig.metrics())
    assert value(found, "retailops_config_backup_last_run_success") == 0
    assert value(found, "retailops_config_backup_last_success_timestamp_seconds", store="dr") == first
    assert value(found, "retailops_config_backup_last_success_timestamp_seconds", store="region") > first
    assert value(found, "retailops_config_backup_snapshots", store="region") == 2


def test_a_missing_path_fails_the_run_naming_it(rig: Rig) -> None:
    rig.write_config(paths=[*rig.settings["paths"], "/nonexistent/etc/keys"])
    done = rig.run("backup")
    assert done.returncode == 1
    assert "/nonexistent/etc/keys does not exist" in done.stderr
    assert rig.raw_files("region") == []


def test_restores_refuse_the_root_backed_up_paths_and_a_directory_that_is_not_empty(
    rig: Rig, tmp_path: Path
) -> None:
    assert rig.run("backup").returncode == 0
    for target in ("/", str(rig.keys), str(rig.keys / "psk"), str(rig.tmp / "etc"), str(rig.collected)):
        done = rig.run("restore", "--target", target)
        assert done.returncode == 2, target
        assert "backed-up path" in done.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep").write_text("x")
    done = rig.run("restore", "--target", str(full))
    assert done.returncode == 2
    assert "not empty" in done.stderr
    assert rig.run("restore", "--target", str(full), "--force").returncode == 0
    assert (full / "keep").read_text() == "x"
    bad = rig.run("restore", "--target", str(tmp_path / "x"), "--snapshot", "../../etc")
    assert bad.returncode == 2
    assert "--snapshot takes a stamp" in bad.stderr


def tar_with(members: dict[str, bytes], manifest: dict[str, Any] | None) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        contents = dict(members)
        if manifest is not None:
            contents["MANIFEST.json"] = json.dumps(manifest).encode()
        for name, data in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_snapshot_that_climbs_out_or_differs_from_its_manifest_is_refused(tmp_path: Path) -> None:
    good = {"host/etc/a": {"sha256": hashlib.sha256(b"a").hexdigest(), "size": 1, "mode": "0644"}}
    cases = {
        "climbs": (tar_with({"../outside": b"x"}, {"files": {}}), "not a relative path"),
        "absolute": (tar_with({"/etc/passwd": b"x"}, {"files": {}}), "not a relative path"),
        "tampered": (tar_with({"host/etc/a": b"b"}, {"files": good}), "not the content the manifest records"),
        "incomplete": (tar_with({}, {"files": good}), "the snapshot lacks host/etc/a"),
        "no manifest": (tar_with({"host/etc/a": b"a"}, None), "no MANIFEST.json"),
    }
    for name, (content, message) in cases.items():
        with pytest.raises(SCRIPT.BackupError, match=message):
            SCRIPT.extract(content, str(tmp_path / name))
    assert not (tmp_path / "outside").exists()
