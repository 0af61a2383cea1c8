"""The Kubernetes rig's image writer: a directory becomes an OCI archive containerd can import."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def oci_image(rig_script: Callable[[str], ModuleType]) -> ModuleType:
    return rig_script("kubernetes/oci_image.py")


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "bin" / "alias").symlink_to("tool")
    return root


def blob(archive: tarfile.TarFile, digest: str) -> bytes:
    member = archive.extractfile(f"blobs/sha256/{digest.removeprefix('sha256:')}")
    assert member is not None
    data = member.read()
    assert f"sha256:{hashlib.sha256(data).hexdigest()}" == digest, "blob content does not match its digest"
    return data


def test_archive_names_the_image_and_every_digest_matches(
    oci_image: ModuleType, rootfs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tool.tar"
    oci_image.write_image(rootfs, "rig.local/tool:1.0", out, ["/bin/tool"], None)
    with tarfile.open(out) as archive:
        index = json.load(archive.extractfile("index.json"))  # type: ignore[arg-type]
        (entry,) = index["manifests"]
        assert entry["annotations"]["io.containerd.image.name"] == "rig.local/tool:1.0"
        manifest = json.loads(blob(archive, entry["digest"]))
        config = json.loads(blob(archive, manifest["config"]["digest"]))
        assert config["config"]["Entrypoint"] == ["/bin/tool"]
        assert "Cmd" not in config["config"]
        (layer,) = manifest["layers"]
        assert config["rootfs"]["diff_ids"] == [layer["digest"]]
        data = blob(archive, layer["digest"])
        assert layer["size"] == len(data)
    layer_path = tmp_path / "layer.tar"
    layer_path.write_bytes(data)
    with tarfile.open(layer_path) as files:
        members = {m.name: m for m in files.getmembers()}
    assert set(members) == {"bin", "bin/tool", "bin/alias"}
    assert members["bin/alias"].issym()
    assert members["bin/alias"].linkname == "tool"
    assert members["bin/tool"].mode & 0o777 == 0o755
    assert all(m.mtime == 0 for m in members.values())


def test_the_same_tree_gives_the_same_archive(oci_image: ModuleType, rootfs: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    oci_image.write_image(rootfs, "rig.local/tool:1.0", first, None, ["/bin/tool"])
    oci_image.write_image(rootfs, "rig.local/tool:1.0", second, None, ["/bin/tool"])
    assert first.read_bytes() == second.read_bytes()


def test_a_reference_without_tag_is_refused(oci_image: ModuleType, rootfs: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="has no tag"):
        oci_image.write_image(rootfs, "rig.local:5000/tool", tmp_path / "x.tar", None, None)
    assert not (tmp_path / "x.tar").exists()
