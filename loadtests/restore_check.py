"""The restore drill against the ledger: is the restored database the one of its point in time?

A drill with ``restore: {file: ...}`` (scenario) ran ``playbooks/backup_restore_drill.yml``,
which restored the database and the filestore to a point in time on a scratch node, left the
restored PostgreSQL listening there and wrote what it did to ``file``. After the run the
harness reads the run's writes back from that database (``SqlReader``: the same queries the
reconciliation sends Odoo) and sorts them by the target (``ledger.point_in_time``): every
write acknowledged before it must be there, none first sent after it; and the playbook's own
check says whether every attachment row opened from the restored filestore.

libpq's environment gives the login (PGUSER, PGPASSWORD): the pilot passes the Odoo
database login, never on a command line.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from loadtests.ledger import PointInTimeKind, point_in_time, read_ledger
from loadtests.reconcile import Reader, SqlReader, reconcile

ATTACHMENT_KIND = "ir.attachment"


class AttachmentCheck(BaseModel):
    """The playbook's filestore check (odoo_filestore_verify): None = not checked."""

    model_config = ConfigDict(extra="ignore")

    checked: int | None = None
    bytes: int | None = None
    missing: int | None = None
    mismatched: int | None = None
    examples: list[str] = []


class RestoreDrillFile(BaseModel):
    """What backup_restore_drill.yml writes (the keys the check needs)."""

    model_config = ConfigDict(extra="ignore")

    scratch_node: str
    listen_address: str
    port: int
    odoo_database: str
    target_time: str
    target_epoch: float
    restore_started_at: float
    database_restore_s: float
    total_restore_s: float
    filestore_restored: bool
    attachments: AttachmentCheck = AttachmentCheck()


class RestoreSummary(BaseModel):
    """One restore drill checked (report.json ``restore``)."""

    model_config = ConfigDict(extra="forbid")

    drill: str
    checked: bool
    error: str = ""
    target_time: str = ""
    target_epoch: float | None = None
    scratch_node: str = ""
    database_restore_s: float | None = None
    total_restore_s: float | None = None
    filestore_restored: bool = False
    kinds: list[PointInTimeKind] = []
    unexpected: int = 0  # keys of the run in the restored database that the ledger never sent
    duplicated: int = 0
    attachments: AttachmentCheck = AttachmentCheck()
    attachments_acked_before: int = 0

    def total(self, attr: str) -> int:
        return sum(int(getattr(k, attr)) for k in self.kinds)

    @property
    def attachments_unreadable(self) -> int | None:
        a = self.attachments
        if a.missing is None or a.mismatched is None:
            return None
        return a.missing + a.mismatched


def newest(pattern: str) -> Path | None:
    matches = sorted(glob.glob(pattern), key=lambda p: Path(p).stat().st_mtime)
    return Path(matches[-1]) if matches else None


def check_restore(
    drill: str,
    file_pattern: str,
    ledger_paths: Iterable[str | Path],
    run_id: str,
    connect: Callable[[RestoreDrillFile], Reader] | None = None,
) -> RestoreSummary:
    """Read the drill's file, then the run's writes from the restored database, and sort them."""
    path = newest(file_pattern)
    if path is None:
        return RestoreSummary(drill=drill, checked=False, error=f"no restore results at {file_pattern}")
    try:
        info = RestoreDrillFile.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        return RestoreSummary(drill=drill, checked=False, error=f"{path}: {exc}")
    base = RestoreSummary(
        drill=drill,
        checked=False,
        target_time=info.target_time,
        target_epoch=info.target_epoch,
        scratch_node=info.scratch_node,
        database_restore_s=info.database_restore_s,
        total_restore_s=info.total_restore_s,
        filestore_restored=info.filestore_restored,
        attachments=info.attachments,
    )
    if not info.listen_address or not info.odoo_database:
        return base.model_copy(
            update={
                "error": "the drill left no restored database to read (listen_address or odoo_database empty)"
            }
        )
    paths = list(ledger_paths)
    reader: Reader | None = None
    try:
        reader = (connect or _connect)(info)
        ledger = reconcile(paths, reader, run_id)
    except Exception as exc:  # any failure to read is reported, not raised
        return base.model_copy(update={"error": f"could not read the restored database: {exc}"})
    finally:
        close = getattr(reader, "close", None)
        if callable(close):
            close()
    entries = read_ledger(paths)
    kinds = [point_in_time(k.kind, entries[k.kind], k.present, info.target_epoch) for k in ledger.kinds]
    attachments = next((k for k in kinds if k.kind == ATTACHMENT_KIND), None)
    return base.model_copy(
        update={
            "checked": True,
            "kinds": kinds,
            "unexpected": ledger.total("unexpected"),
            "duplicated": ledger.total("duplicated"),
            "attachments_acked_before": attachments.before if attachments else 0,
        }
    )


def _connect(info: RestoreDrillFile) -> Reader:
    return SqlReader(info.listen_address, info.port, info.odoo_database)
