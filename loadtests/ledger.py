"""The write ledger: every write carries a client key and its outcome is logged.

Writers append JSON lines to one file, each line under an exclusive flock,
so Locust workers on the same host can share it. Each write is logged twice:
``attempt`` before it is sent and ``outcome`` (ok / failed / unknown) after.
An attempt without an outcome (a worker killed mid-request) counts as
unknown. After the run ``reconcile`` compares the ledger with what the
database holds (Jepsen's set checker, ha-and-validation-facts.md §4):

* lost       = acknowledged - present            (must be 0)
* unexpected = present - attempted                (must be 0)
* duplicated = keys present more than once        (must be 0)
* recovered  = indeterminate and present          (allowed)
* failed_present = definite errors that are present (reported)
* unsettled  = acknowledged POS orders the database holds as not paid in
  full (must be 0): real Odoo 18 acknowledges an order sent as paid whose
  payments do not cover its total, and keeps it "paid" with the smaller
  amount_paid; a till that sent such an order lost money without an error
* unreadable = acknowledged attachments (ir.attachment) present whose file
  does not open (must be 0): real Odoo 18 reads a file missing from its
  filestore as empty content, without an error, so a restore that brought
  the rows back without their files shows only here
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from loadtests.jsonl import LineSink


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    UNKNOWN = "unknown"


class KeyStatus(StrEnum):
    ACKED = "acked"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


class LedgerWriter:
    """Append-only JSON lines: to a file (flock-protected, safe across processes) or to ``send``.

    A Locust worker on a branch node has no share of the controller's disk: it
    gives ``send`` (each line goes to the master, which appends it to the run's
    ledger, ``loadtests.distributed``) instead of a path.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        source: str = "",
        send: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.sink = LineSink(path, send)
        self.source = source or f"pid{os.getpid()}"

    def _append(self, record: dict[str, Any]) -> None:
        self.sink.write([json.dumps(record, separators=(",", ":"), sort_keys=True)])

    def attempt(self, kind: str, key: str, **tags: Any) -> None:
        self._append(
            {"ev": "attempt", "kind": kind, "key": key, "t": time.time(), "src": self.source, **tags}
        )

    def outcome(self, kind: str, key: str, outcome: Outcome, detail: str = "") -> None:
        rec = {"ev": "outcome", "kind": kind, "key": key, "outcome": str(outcome), "t": time.time()}
        if detail:
            rec["detail"] = detail[:300]
        rec["src"] = self.source
        self._append(rec)


@dataclass
class LedgerEntry:
    kind: str
    key: str
    attempts: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    tags: dict[str, Any] = field(default_factory=dict)
    first_attempt_at: float | None = None  # epoch of the first try
    acked_at: float | None = None  # epoch of the first acknowledgement

    @property
    def status(self) -> KeyStatus:
        """Acked if any try was acknowledged; failed only if every try failed definitely."""
        if Outcome.OK in self.outcomes:
            return KeyStatus.ACKED
        if Outcome.UNKNOWN in self.outcomes or len(self.outcomes) < self.attempts:
            return KeyStatus.INDETERMINATE
        return KeyStatus.FAILED


def read_ledger(paths: Iterable[str | Path]) -> dict[str, dict[str, LedgerEntry]]:
    """kind -> key -> entry, from one or more ledger files (a torn last line is skipped)."""
    out: dict[str, dict[str, LedgerEntry]] = {}
    for path in paths:
        p = Path(path)
        if not p.exists():
            continue
        with p.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                kind, key = str(rec["kind"]), str(rec["key"])
                entry = out.setdefault(kind, {}).setdefault(key, LedgerEntry(kind, key))
                if rec["ev"] == "attempt":
                    entry.attempts += 1
                    if entry.first_attempt_at is None:
                        entry.first_attempt_at = float(rec.get("t", 0.0))
                    for tag in ("branch", "region", "tier", "link"):
                        if tag in rec:
                            entry.tags[tag] = rec[tag]
                elif rec["ev"] == "outcome":
                    entry.outcomes.append(Outcome(rec["outcome"]))
                    if rec["outcome"] == Outcome.OK and entry.acked_at is None:
                        entry.acked_at = float(rec.get("t", 0.0))
    return out


# the counts of a reconciliation, per kind and in total (report.json, the HTML ledger table)
TOTALS = (
    "attempted",
    "acked",
    "failed",
    "indeterminate",
    "present",
    "lost",
    "unexpected",
    "duplicated",
    "recovered",
    "failed_present",
    "unsettled",
    "unreadable",
)


EXAMPLES = (
    "lost",
    "unexpected",
    "duplicated",
    "unsettled",
    "unreadable",
)  # keys listed in the report, ten of each


class KindSummary(BaseModel):
    """One kind of write reconciled, as report.json has it (``ledger.kinds``): counts and example keys."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    attempted: int
    acked: int
    failed: int
    indeterminate: int
    present: int
    lost: int
    unexpected: int
    duplicated: int
    recovered: int
    failed_present: int
    unsettled: int = 0
    unreadable: int = 0
    valid: bool
    examples: dict[str, list[str]]


class LedgerSummary(BaseModel):
    """The reconciliation as report.json has it (``ledger``)."""

    model_config = ConfigDict(extra="forbid")

    checked: bool
    error: str
    valid: bool
    totals: dict[str, int]
    kinds: list[KindSummary]


@dataclass(frozen=True)
class KindResult:
    """One kind of write reconciled: the keys in each set (their counts: :meth:`summary`)."""

    kind: str
    attempted: tuple[str, ...]
    acked: tuple[str, ...]
    failed: tuple[str, ...]
    indeterminate: tuple[str, ...]
    present: tuple[str, ...]
    lost: tuple[str, ...]
    unexpected: tuple[str, ...]
    duplicated: tuple[str, ...]
    recovered: tuple[str, ...]
    failed_present: tuple[str, ...]
    unsettled: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not (self.lost or self.unexpected or self.duplicated or self.unsettled or self.unreadable)

    def summary(self) -> KindSummary:
        examples = {name: list(getattr(self, name)[:10]) for name in EXAMPLES}
        counts = {name: len(getattr(self, name)) for name in TOTALS}
        return KindSummary(kind=self.kind, valid=self.valid, examples=examples, **counts)


def reconcile_kind(
    kind: str,
    entries: Mapping[str, LedgerEntry],
    present: Mapping[str, int],
    scanned: Mapping[str, int] | None = None,
    *,
    unsettled: Iterable[str] = (),
    unreadable: Iterable[str] = (),
) -> KindResult:
    """Compare one kind of write with the database.

    ``present`` maps each ledger key found in the database to how many
    records carry it; ``scanned`` is everything the run's key prefix finds in
    the database (for ``unexpected``). Keys with a zero count are absent.
    ``unsettled`` lists present keys whose record is not settled (POS orders
    not paid in full), ``unreadable`` those whose file does not open
    (attachments); only acknowledged ones count.
    """
    status = {k: e.status for k, e in entries.items()}
    found = {k for k, n in present.items() if n > 0}
    scan = dict(scanned or {})
    for k, n in present.items():
        scan[k] = max(scan.get(k, 0), n)
    acked = {k for k, s in status.items() if s is KeyStatus.ACKED}
    failed = {k for k, s in status.items() if s is KeyStatus.FAILED}
    indet = {k for k, s in status.items() if s is KeyStatus.INDETERMINATE}
    return KindResult(
        kind=kind,
        attempted=tuple(sorted(status)),
        acked=tuple(sorted(acked)),
        failed=tuple(sorted(failed)),
        indeterminate=tuple(sorted(indet)),
        present=tuple(sorted(found)),
        lost=tuple(sorted(acked - found)),
        unexpected=tuple(sorted(k for k, n in scan.items() if n > 0 and k not in status)),
        duplicated=tuple(sorted(k for k, n in scan.items() if n > 1)),
        recovered=tuple(sorted(indet & found)),
        failed_present=tuple(sorted(failed & found)),
        unsettled=tuple(sorted(acked & found & set(unsettled))),
        unreadable=tuple(sorted(acked & found & set(unreadable))),
    )


@dataclass(frozen=True)
class LedgerResult:
    kinds: tuple[KindResult, ...]
    checked: bool = True
    error: str = ""

    def total(self, attr: str) -> int:
        return sum(len(getattr(k, attr)) for k in self.kinds)

    @property
    def valid(self) -> bool:
        return self.checked and all(k.valid for k in self.kinds)

    def summary(self) -> LedgerSummary:
        return LedgerSummary(
            checked=self.checked,
            error=self.error,
            valid=self.valid,
            totals={a: self.total(a) for a in TOTALS},
            kinds=[k.summary() for k in self.kinds],
        )


class PointInTimeKind(BaseModel):
    """One kind of write against a database restored to a point in time (``restore[].kinds``).

    ``before``: acknowledged at or before the target, so committed before it: the restore must
    hold them (``missing`` must be 0). ``after``: first sent after the target, so committed after
    it: the restore must not hold them (``present_after`` must be 0). Writes sent before the
    target and acknowledged after it may or may not be there (``straddling``).
    """

    model_config = ConfigDict(extra="forbid")

    kind: str
    before: int
    missing: int
    after: int
    present_after: int
    straddling: int
    examples: dict[str, list[str]]


def point_in_time(
    kind: str, entries: Mapping[str, LedgerEntry], present: Iterable[str], target: float
) -> PointInTimeKind:
    """Classify one kind's ledger keys by the restore target (epoch seconds) and check the restore.

    The acknowledgement comes after the commit and the first attempt before it, both on the
    clock the database shares with the branches (one machine in the pilot; NTP in a region).
    """
    found = set(present)
    before = {k for k, e in entries.items() if e.status is KeyStatus.ACKED and (e.acked_at or 0.0) <= target}
    after = {k for k, e in entries.items() if e.first_attempt_at is not None and e.first_attempt_at > target}
    missing = sorted(before - found)
    present_after = sorted(after & found)
    return PointInTimeKind(
        kind=kind,
        before=len(before),
        missing=len(missing),
        after=len(after),
        present_after=len(present_after),
        straddling=len(entries) - len(before) - len(after),
        examples={"missing": missing[:10], "present_after": present_after[:10]},
    )
