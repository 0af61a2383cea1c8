"""Shared by the backup scripts (filestore_backup, config_backup): rclone with the role's configuration.

Installed beside each script (as monitoring_exporters' retailops_textfile.py
is), which imports it from its own directory. rclone's messages pass through
to the journal (standard error); a step that must succeed raises RcloneError.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

# rclone's exit status when the directory listed does not exist.
RCLONE_DIR_NOT_FOUND = 3


class RcloneError(Exception):
    """An rclone step that failed or could not run: said on standard error, the run fails."""


@dataclass(frozen=True)
class Rclone:
    """rclone, its configuration file, and the storages' CA (empty: the system CAs)."""

    binary: str
    config: str
    ca_file: str = ""

    def argv(self, *args: str) -> list[str]:
        argv = [self.binary, "--config", self.config]
        if self.ca_file:
            argv += ["--ca-cert", self.ca_file]
        return argv + list(args)

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run rclone; its standard output is returned, its messages go to the journal."""
        try:
            return subprocess.run(self.argv(*args), input=stdin, stdout=subprocess.PIPE, check=False)
        except OSError as error:
            raise RcloneError(f"cannot run {self.binary}: {error}") from error

    def checked(self, *args: str, stdin: bytes | None = None) -> bytes:
        """Run rclone; a non-zero exit raises RcloneError naming the subcommand."""
        done = self.run(*args, stdin=stdin)
        if done.returncode != 0:
            raise RcloneError(f"rclone {args[0]} exited {done.returncode}")
        return done.stdout

    def text(self, *args: str) -> str:
        return self.checked(*args).decode("utf-8")

    def list_dir(self, path: str, dirs_only: bool = False) -> list[str]:
        """The names in a remote directory (directories without their slash); [] when it does not exist."""
        done = self.run("lsf", *(["--dirs-only"] if dirs_only else ["--files-only"]), path)
        if done.returncode == RCLONE_DIR_NOT_FOUND:
            return []
        if done.returncode != 0:
            raise RcloneError(f"rclone lsf {path} exited {done.returncode}")
        return [line.rstrip("/") for line in done.stdout.decode("utf-8").splitlines() if line.strip()]
