"""Shared by the textfile collectors: their command line, Prometheus text exposition, written atomically.

node_exporter's textfile collector reads every ``*.prom`` file of its
directory at each scrape. A collector writes a temporary file in the same
directory (a name node_exporter ignores) and renames it over the old one, so
a scrape never sees half a file.

A collector's main: ``arguments(__doc__)`` (with ``--output``), its own
options, then ``return publish(name, args.output, families)``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


def escape(value: str) -> str:
    """A label value as the text format wants it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


@dataclass
class Family:
    """One metric family: a name, its help and type, and its samples."""

    name: str
    help: str
    type: str = "gauge"
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append((labels, value))

    def render(self) -> str:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.type}"]
        for labels, value in self.samples:
            label_text = ",".join(f'{key}="{escape(str(val))}"' for key, val in labels.items())
            lines.append(
                f"{self.name}{{{label_text}}} {number(value)}"
                if label_text
                else f"{self.name} {number(value)}"
            )
        return "\n".join(lines) + "\n"


def render(families: Iterable[Family]) -> str:
    return "".join(family.render() for family in families)


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A collector's command line: its docstring as help, and ``--output``, the .prom file it replaces."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="the .prom file to replace")
    return parser


def publish(collector: str, output: str, families: Iterable[Family]) -> int:
    """Write the families to ``output``; the exit status: 0, or 1 (said on standard error) when it cannot."""
    try:
        write_atomically(output, render(families))
    except OSError as error:
        warn(f"{collector}: cannot write {output}: {error}")
        return 1
    return 0


class CommandError(Exception):
    """A command that could not run, timed out or exited non-zero."""


def run(argv: Sequence[str], timeout: float, run_as: str = "") -> str:
    """Run a command and return its standard output; any failure raises CommandError.

    With ``run_as`` and when running as root, the command runs as that user
    (runuser, from util-linux).
    """
    command = list(argv)
    if run_as and os.geteuid() == 0:
        command = ["runuser", "-u", run_as, "--", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CommandError(f"{command[0]}: {error}") from error
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise CommandError(
            f"{' '.join(argv)} exited {done.returncode}: {detail[-1] if detail else 'no output'}"
        )
    return done.stdout


def warn(message: str) -> None:
    """One line on standard error (the journal, under systemd)."""
    print(message, file=sys.stderr)
