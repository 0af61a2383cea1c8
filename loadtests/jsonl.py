"""Appending JSON lines to a file that several processes write: one ``write`` under an exclusive flock.

The ledger and the samples files are written this way by the local runner,
by local workers and by the master on behalf of remote workers
(``loadtests.distributed``); a reader skips a torn last line.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Sequence
from pathlib import Path


def append_lines(path: str | Path, lines: Sequence[str]) -> None:
    """Append ``lines`` (without their newline) in one write, under the file's lock."""
    if not lines:
        return
    data = ("\n".join(lines) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)


class LineSink:
    """Where a writer's lines go: appended to a file, or handed to ``send`` (a remote worker's master)."""

    def __init__(self, path: str | Path | None, send: Callable[[list[str]], None] | None) -> None:
        if (path is None) == (send is None):
            raise ValueError("lines go to a path or to send, one of the two")
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.send = send

    def write(self, lines: list[str]) -> None:
        if self.send is not None:
            self.send(lines)
        elif self.path is not None:
            append_lines(self.path, lines)
