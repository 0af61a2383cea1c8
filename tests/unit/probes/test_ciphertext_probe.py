"""The ciphertext probe's judgement of repository files, on files pgBackRest 2.45 wrote.

``data/pgbackrest-backup.info.aes-256-cbc`` is a stanza's backup.info from a repository with
``repo1-cipher-type=aes-256-cbc``, ``data/pgbackrest-backup.info.plain`` the same stanza's from a
repository without encryption (a throw-away cluster; no secret in either). The rest is made here:
random blocks behind the header, and plaintext shapes the probe must refuse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.probes import ciphertext as probe

DATA = Path(__file__).parent / "data"
ENCRYPTED = (DATA / "pgbackrest-backup.info.aes-256-cbc").read_bytes()
PLAIN = (DATA / "pgbackrest-backup.info.plain").read_bytes()


def salted(blocks: int) -> bytes:
    return probe.SALTED + os.urandom(8) + os.urandom(16 * blocks)


def test_pgbackrest_ciphertext_passes() -> None:
    assert ENCRYPTED.startswith(b"Salted__")
    assert probe.file_problems(ENCRYPTED) == []
    # A small file (archive.info, a compressed PG_VERSION): no entropy judgement below 1 KiB.
    assert probe.file_problems(salted(3)) == []
    assert probe.file_problems(salted(4096)) == []


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (PLAIN, "plaintext '[backrest]'"),
        (PLAIN, "does not start with Salted__"),
        (b"\x28\xb5\x2f\xfd" + os.urandom(4000), "zstd magic"),
        (b"\x10\xd1\x02\x00" + bytes(8188), "PostgreSQL WAL page magic"),
        # the header pasted on plaintext: the text gives it away
        (probe.SALTED + os.urandom(8) + PLAIN[: len(PLAIN) // 16 * 16], "plaintext 'db-id'"),
        (probe.SALTED + os.urandom(8) + b"A" * 2048, "entropy"),
        (salted(10)[:-1], "not a 16-byte header and whole 16-byte blocks"),
        (probe.SALTED, "not a 16-byte header"),
    ],
    ids=[
        "plain-info",
        "plain-header",
        "zstd",
        "wal",
        "salted-text",
        "salted-low-entropy",
        "truncated",
        "empty",
    ],
)
def test_plaintext_shapes_are_refused(data: bytes, why: str) -> None:
    assert any(why in problem for problem in probe.file_problems(data)), probe.file_problems(data)


def test_check_reports_each_file_and_fails_on_any(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "backup.info"
    good.write_bytes(ENCRYPTED)
    bad = tmp_path / "archive.info"
    bad.write_bytes(PLAIN)
    out = tmp_path / "report.json"
    assert probe.main(["check", str(good), "--out", str(out)]) == 0
    assert probe.main(["check", str(good), str(bad), str(tmp_path / "missing")]) == 1
    report = json.loads(capsys.readouterr().out.split("\n}\n", 1)[1])
    assert report["files"][str(good)]["head"].startswith(b"Salted__".hex())
    assert report["files"][str(good)]["problems"] == []
    assert any(p.startswith("archive.info: plaintext") for p in report["problems"])
    assert any("missing" in p for p in report["problems"])
    assert json.loads(out.read_text())["problems"] == []
    assert probe.main(["check"]) == 1
