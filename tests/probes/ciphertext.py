"""Are these pgBackRest repository files (or rclone crypt blobs) ciphertext? Their raw bytes say.

    python -m tests.probes.ciphertext check FILE... [--out FILE]
    python -m tests.probes.ciphertext check --format rclone [--marker TEXT]... FILE... [--out FILE]

The files are read as the blob store holds them (``rig/azure_blob.py get``). pgBackRest's
``repo1-cipher-type=aes-256-cbc`` writes every repository file in OpenSSL's salted format: the
8 bytes ``Salted__``, an 8-byte salt, then whole 16-byte AES blocks. A file passes when it has that
shape, none of the plaintext a repository file holds anywhere in it (the info files' and manifests'
sections and keys: ``[backrest]``, ``backrest-format``, ``db-id``, ``[db]``, ``[backup``,
``pg_data``), it does not start with the magic number of a compressed file (zstd, gzip, lz4,
bzip2) or of a PostgreSQL 15 WAL page (XLOG_PAGE_MAGIC 0xD110, little endian), and, from 1 KiB on,
its bytes after the header look random (Shannon entropy at least 7.5 bits a byte: ciphertext of
1 KiB measures about 7.8, the text of an info file or manifest below 6). Prints each file's size,
first 16 bytes (hex), entropy and problems as JSON; exits 1 when a file has one.

With ``--format rclone`` (the backups of roles/backup_store: rclone crypt, NaCl secretbox), a file
passes when it starts with rclone's header ``RCLONE\0\0`` and a 24-byte nonce, its length fits
64 KiB chunks each sealed with a 16-byte tag, no compressed-file magic follows the header (the
configuration snapshots are gzip'd tars: sealed, their magic is gone), none of the ``--marker``
texts is anywhere in it, and from 1 KiB on its bytes after the header look random.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.probes.cli import emit

SALTED = b"Salted__"
HEADER = 16  # "Salted__" and the 8-byte salt
BLOCK = 16  # AES
PLAINTEXT_MARKERS = (b"[backrest]", b"backrest-format", b"db-id", b"[db]", b"[backup", b"pg_data")
MAGIC = {
    "zstd": b"\x28\xb5\x2f\xfd",
    "gzip": b"\x1f\x8b",
    "lz4": b"\x04\x22\x4d\x18",
    "bzip2": b"BZh",
    "PostgreSQL WAL page": b"\x10\xd1",
}
ENTROPY_FROM = 1024
MIN_ENTROPY = 7.5
RCLONE_MAGIC = b"RCLONE\x00\x00"
RCLONE_HEADER = len(RCLONE_MAGIC) + 24  # the magic and the nonce
RCLONE_TAG = 16  # Poly1305
RCLONE_CHUNK = 64 * 1024


def entropy(data: bytes) -> float:
    """Shannon entropy of ``data`` in bits per byte (8.0 for uniformly random bytes)."""
    if not data:
        return 0.0
    total = len(data)
    return -sum(n / total * math.log2(n / total) for n in Counter(data).values())


def file_problems(data: bytes) -> list[str]:
    """Why ``data`` is not a pgBackRest aes-256-cbc file; empty when it looks like one."""
    problems: list[str] = []
    if not data.startswith(SALTED):
        problems.append("does not start with Salted__")
    if len(data) < HEADER + BLOCK or (len(data) - HEADER) % BLOCK:
        problems.append(f"{len(data)} bytes: not a 16-byte header and whole 16-byte blocks")
    problems += [f"plaintext {marker.decode()!r} in it" for marker in PLAINTEXT_MARKERS if marker in data]
    problems += [f"starts with the {kind} magic" for kind, magic in MAGIC.items() if data.startswith(magic)]
    if len(data) >= ENTROPY_FROM:
        bits = entropy(data[HEADER:])
        if bits < MIN_ENTROPY:
            problems.append(f"entropy {bits:.2f} bits a byte, below {MIN_ENTROPY}")
    return problems


def rclone_problems(data: bytes, markers: tuple[bytes, ...] = ()) -> list[str]:
    """Why ``data`` is not an rclone crypt file; empty when it looks like one."""
    problems: list[str] = []
    if not data.startswith(RCLONE_MAGIC):
        problems.append("does not start with rclone's RCLONE\\0\\0 header")
    body = len(data) - RCLONE_HEADER
    last = body % (RCLONE_CHUNK + RCLONE_TAG)
    if body < 0 or (last and last <= RCLONE_TAG):
        problems.append(f"{len(data)} bytes: not a 32-byte header and 64 KiB chunks sealed with 16-byte tags")
    sealed = data[RCLONE_HEADER:]
    problems += [f"starts with the {kind} magic" for kind, magic in MAGIC.items() if sealed.startswith(magic)]
    problems += [f"plaintext {marker.decode()!r} in it" for marker in markers if marker in data]
    if len(data) >= ENTROPY_FROM:
        bits = entropy(sealed)
        if bits < MIN_ENTROPY:
            problems.append(f"entropy {bits:.2f} bits a byte, below {MIN_ENTROPY}")
    return problems


def check(
    paths: list[Path], file_format: str = "pgbackrest", markers: tuple[bytes, ...] = ()
) -> dict[str, Any]:
    files: dict[str, Any] = {}
    problems: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append(f"{path}: {error.strerror}")
            continue
        found = rclone_problems(data, markers) if file_format == "rclone" else file_problems(data)
        header = RCLONE_HEADER if file_format == "rclone" else HEADER
        files[str(path)] = {
            "bytes": len(data),
            "head": data[:HEADER].hex(),
            "entropy": round(entropy(data[header:]), 3),
            "problems": found,
        }
        problems += [f"{path.name}: {problem}" for problem in found]
    if not paths:
        problems.append("no file given")
    return {"files": files, "problems": problems}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="each file is pgBackRest (or rclone crypt) ciphertext")
    checking.add_argument("files", nargs="*", type=Path)
    checking.add_argument("--out", type=Path)
    checking.add_argument(
        "--format", dest="file_format", choices=["pgbackrest", "rclone"], default="pgbackrest"
    )
    checking.add_argument(
        "--marker", action="append", default=[], help="rclone: plaintext that must not be there"
    )
    args = parser.parse_args(argv)
    markers = tuple(marker.encode() for marker in args.marker)
    return emit(check(args.files, args.file_format, markers), args.out)


if __name__ == "__main__":
    sys.exit(main())
