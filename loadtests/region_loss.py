"""A region lost, measured by the ledger: how long until each tier worked again, and what it lost.

A drill with ``region_loss: {region: ...}`` (scenario) takes a whole region away; the
disaster-recovery playbook brings the DR region in (another drill, later on the timeline). After
the run, with the ledger reconciled against the database that took over:

* recovery time (RTO) per tier: from the loss (the drill's start) to the first write of the tier
  acknowledged after it, or for a tier the run never writes in, its first answered call;
* recovery point (RPO) per tier: the acknowledged writes of the tier missing from the database
  (``lost``), those acknowledged before the region was gone (by the drill's end: what the DR
  region could not have had) apart from those acknowledged after it (served by the DR region
  and lost there: always a failure), and the recovery point: the loss minus the acknowledgement
  of the oldest missing one (the DR region came back to a state from before it: every write
  acknowledged since is at risk, whatever else arrived); 0 s when nothing is missing. The newest
  missing one says nothing of it: it is always just before the loss. An attachment whose record
  came over without its file (the filestore's copies are taken every few minutes, the database
  streams) is missing data too: counted apart (``files_missing_before``), and in the recovery
  point like a missing write.

The gates compare them with the region's recovery objectives (``region_recovery_targets``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from loadtests.ledger import KeyStatus, LedgerEntry, LedgerResult

if TYPE_CHECKING:  # analysis imports the gates, which import this module
    from loadtests.analysis import DrillRecord
    from loadtests.samples import Sample


class TierRecovery(BaseModel):
    """One tier after the loss (report.json ``region_loss[].tiers``)."""

    model_config = ConfigDict(extra="forbid")

    tier: str
    # the loss to the tier's first acknowledged write (or answered call); None: never again
    rto_s: float | None
    measured_by: str  # "acknowledged write" | "answered call" | "" (no call of the tier after the loss)
    acked_before: int  # writes of the tier acknowledged before the region was gone
    lost_before: int  # of those, missing from the database that took over
    files_missing_before: int = 0  # of those, attachments there whose file does not open
    rpo_s: float | None  # the loss minus the oldest missing one's acknowledgement; 0 when none; None: unknown
    lost_after: int  # acknowledged after the loss (by the DR region), missing or fileless: never allowed
    examples: list[str] = []


class RegionLossSummary(BaseModel):
    """One region-loss drill measured (report.json ``region_loss``)."""

    model_config = ConfigDict(extra="forbid")

    drill: str
    region: str
    measured: bool
    error: str = ""
    lost_at_s: float | None = None  # the drill's start, from the run's start
    gone_at_s: float | None = None  # the drill's end: every container of the region gone
    tiers: list[TierRecovery] = []

    def lost_before(self) -> int:
        return sum(t.lost_before for t in self.tiers)

    def files_missing_before(self) -> int:
        return sum(t.files_missing_before for t in self.tiers)


def _tier_of(entry: LedgerEntry) -> str:
    return str(entry.tags.get("tier", ""))


def measure_region_loss(
    record: DrillRecord,
    region: str,
    *,
    entries: Mapping[str, Mapping[str, LedgerEntry]],
    ledger: LedgerResult,
    samples: Sequence[Sample],
    tiers: Iterable[str],
    run_start: float,
) -> RegionLossSummary:
    """The drill's loss measured per tier (``tiers``: the run's tiers, those with recovery targets
    first among them). ``entries``: the ledger read back (kind -> key -> entry); ``ledger``: its
    reconciliation against the database that took over (the lost keys)."""
    if not record.started or not record.ok:
        why = record.error or "the drill did not run"
        return RegionLossSummary(drill=record.name, region=region, measured=False, error=why)
    if not ledger.checked:
        why = f"the ledger was not reconciled: {ledger.error}"
        return RegionLossSummary(drill=record.name, region=region, measured=False, error=why)
    lost_at, gone_at = record.started, record.finished or record.started
    lost_keys = {(k.kind, key) for k in ledger.kinds for key in k.lost}
    fileless = {(k.kind, key) for k in ledger.kinds for key in k.unreadable}
    out: list[TierRecovery] = []
    for tier in dict.fromkeys(tiers):
        mine = [e for kind in entries.values() for e in kind.values() if _tier_of(e) == tier]
        acked = [e for e in mine if e.status is KeyStatus.ACKED and e.acked_at is not None]
        before = [e for e in acked if (e.acked_at or 0.0) <= gone_at]
        lost_before = [e for e in before if (e.kind, e.key) in lost_keys]
        files_before = [e for e in before if (e.kind, e.key) in fileless]
        missing = sorted([*lost_before, *files_before], key=lambda e: e.acked_at or 0.0)
        gone = lost_keys | fileless
        lost_after = [e for e in acked if (e.acked_at or 0.0) > gone_at and (e.kind, e.key) in gone]
        first_ack = min((e.acked_at or 0.0 for e in acked if (e.acked_at or 0.0) > lost_at), default=None)
        if mine:
            rto = None if first_ack is None else first_ack - lost_at
            how = "acknowledged write" if first_ack is not None else ""
        else:
            answered = next((s.t for s in samples if s.tier == tier and s.ok and s.t > lost_at), None)
            rto = None if answered is None else answered - lost_at
            how = "answered call" if answered is not None else ""
        rpo = max(0.0, lost_at - (missing[0].acked_at or lost_at)) if missing else 0.0
        out.append(
            TierRecovery(
                tier=tier,
                rto_s=None if rto is None else round(rto, 2),
                measured_by=how,
                acked_before=len(before),
                lost_before=len(lost_before),
                files_missing_before=len(files_before),
                rpo_s=round(rpo, 2),
                lost_after=len(lost_after),
                examples=[e.key for e in [*missing[:5], *lost_after[:5]]],
            )
        )
    return RegionLossSummary(
        drill=record.name,
        region=region,
        measured=True,
        lost_at_s=round(lost_at - run_start, 2),
        gone_at_s=round(gone_at - run_start, 2),
        tiers=out,
    )
