"""Are these pgBackRest repository files ciphertext? Their raw bytes say, never pgBackRest.

    python -m tests.probes.ciphertext check FILE... [--out FILE]

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


def check(paths: list[Path]) -> dict[str, Any]:
    files: dict[str, Any] = {}
    problems: list[str] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append(f"{path}: {error.strerror}")
            continue
        found = file_problems(data)
        files[str(path)] = {
            "bytes": len(data),
            "head": data[:HEADER].hex(),
            "entropy": round(entropy(data[HEADER:]), 3),
            "problems": found,
        }
        problems += [f"{path.name}: {problem}" for problem in found]
    if not paths:
        problems.append("no file given")
    return {"files": files, "problems": problems}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="each file is pgBackRest ciphertext")
    checking.add_argument("files", nargs="*", type=Path)
    checking.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    return emit(check(args.files), args.out)


if __name__ == "__main__":
    sys.exit(main())
