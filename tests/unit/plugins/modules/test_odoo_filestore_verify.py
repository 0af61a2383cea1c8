"""odoo_filestore_verify against a filestore laid out as Odoo lays it out (<sha1[:2]>/<sha1>)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ansible_collections.retailops.odoo_platform.plugins.modules import odoo_filestore_verify

from tests.fixtures.ansible_module import ModuleResult, run_module


def store(root: Path, content: bytes) -> dict[str, str]:
    sha = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    fname = f"{sha[:2]}/{sha}"
    (root / sha[:2]).mkdir(parents=True, exist_ok=True)
    (root / fname).write_bytes(content)
    return {"store_fname": fname, "checksum": sha}


def run(path: Path, attachments: list[dict[str, str]], **args: object) -> ModuleResult:
    return run_module(
        odoo_filestore_verify.main, {"path": str(path), "attachments": attachments, **args}, check_mode=True
    )


def test_every_file_present_with_its_content(tmp_path: Path) -> None:
    rows = [store(tmp_path, f"receipt {i}".encode()) for i in range(5)]
    result = run(tmp_path, rows)
    assert not result.failed, result.msg
    assert not result.changed
    assert (result["checked"], result["missing_count"], result["mismatched_count"]) == (5, 0, 0)
    assert result["bytes"] == sum(len(f"receipt {i}") for i in range(5))


def test_missing_and_rewritten_files_are_counted(tmp_path: Path) -> None:
    rows = [store(tmp_path, f"receipt {i}".encode()) for i in range(4)]
    (tmp_path / rows[0]["store_fname"]).unlink()
    (tmp_path / rows[1]["store_fname"]).write_bytes(b"other content")
    absent = {"store_fname": "ab/" + "ab" * 20, "checksum": "ab" * 20}
    result = run(tmp_path, [*rows, absent], examples=1)
    assert not result.failed, result.msg
    assert (result["checked"], result["missing_count"], result["mismatched_count"]) == (5, 2, 1)
    assert result["missing"] == [rows[0]["store_fname"]]
    assert result["mismatched"] == [rows[1]["store_fname"]]


def test_a_name_outside_the_filestore_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"x")
    inner = tmp_path / "filestore"
    inner.mkdir()
    sha = hashlib.sha1(b"x", usedforsecurity=False).hexdigest()
    result = run(inner, [{"store_fname": "../secret", "checksum": sha}, {"store_fname": "", "checksum": sha}])
    assert (result["missing_count"], result["bytes"]) == (2, 0)


def test_no_filestore_directory_fails_clearly(tmp_path: Path) -> None:
    result = run(tmp_path / "absent", [])
    assert result.failed
    assert "is not a directory" in result.msg
