"""SLO gates per service tier, read from YAML, giving GO or NO-GO with reasons.

    tiers:
      pos_sync: {p95_ms: 800, p99_ms: 2000, error_rate: 0.02, longest_error_window_s: 30}
    ledger: {max_lost: 0, max_duplicated: 0, max_unexpected: 0}
    drills: {action_ok: true, recovered: true, max_time_to_recovery_s: 120}
    drill:
      rolling_update: {action_ok: true, recovered: true, max_failed: {pos_sync: 0}}

``drills`` gates every drill of the run; ``drill`` gates named drills instead
(a drill named there must have run), and ``max_failed`` limits the calls of a
tier that failed (or got no answer) inside that drill's window. Every limit
is optional; a tier listed in the file must have traffic (``min_requests``,
default 1). Lost acknowledged writes are always gated and a ledger that
could not be reconciled is a breach. Latency percentiles leave out the calls
that overlapped a drill (``latency_outside_drills``).

The observability coverage gate (issue 17) is not in the file: it is there
when the run was given an alert source (``--alert-sink``) and absent
otherwise; it is the only gate that reads the platform's own signals.

``extends: <gates file or shipped name>`` starts from another gates file:
its sections are taken whole unless this file has them, and ``drill``
entries are added to (or replace) its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from loadtests.durations import parse_duration
from loadtests.errors import ConfigError, bundled, check_names, load_yaml_mapping, validate_model
from loadtests.ledger import LedgerResult
from loadtests.region_loss import RegionLossSummary
from loadtests.restore_check import RestoreSummary

TIERS = ("pos_sync", "inventory", "finance", "reporting", "integration")

# A limit in seconds, written like a scenario's durations (45, 45s, 2m), or unset.
OptionalDuration = Annotated[
    float | None, BeforeValidator(lambda v: None if v is None else parse_duration(v))
]


class TierGate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    longest_error_window_s: OptionalDuration = None
    min_requests: int = Field(default=1, ge=0)


class LedgerGate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_lost: int = Field(default=0, ge=0, le=0)  # zero lost acknowledged writes, always
    max_duplicated: int = Field(default=0, ge=0)
    max_unexpected: int = Field(default=0, ge=0)
    max_failed_present: int | None = Field(default=None, ge=0)
    max_unsettled: int = Field(default=0, ge=0)  # acknowledged POS orders not paid in full
    max_unreadable: int = Field(default=0, ge=0)  # acknowledged attachments whose file does not open


class DrillGate(BaseModel):
    """Gates on every drill of the run (off unless set): a drill that did not happen proves nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_ok: bool = False  # the drill's action ran without error
    recovered: bool = False  # calls succeeded again after the drill's last failure, within its window
    max_time_to_recovery_s: OptionalDuration = None  # action start to steady success
    # tier -> the most calls of that tier that may fail (or get no answer) inside the drill's window
    max_failed: dict[str, int] = Field(default_factory=dict)

    @field_validator("max_failed")
    @classmethod
    def _tiers(cls, v: dict[str, int]) -> dict[str, int]:
        check_names(v, TIERS, "tier")
        if any(n < 0 for n in v.values()):
            raise ValueError("a tier's max_failed must be 0 or more")
        return v


class RecoveryTarget(BaseModel):
    """A tier's recovery objectives (the region's ``region_recovery_targets``): how much of its
    acknowledged writes a disaster may cost (rpo) and how long until it works again (rto)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpo: OptionalDuration = None
    rto: OptionalDuration = None


class RestoreGate(BaseModel):
    """Gates on every restore drill (scenario ``restore:``): the restored database must be exactly
    the one of its point in time, the filestore with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_missing_before: int = Field(default=0, ge=0, le=0)  # acknowledged before the target, absent
    max_present_after: int = Field(default=0, ge=0, le=0)  # first sent after the target, present
    max_unreadable_attachments: int = Field(default=0, ge=0, le=0)  # rows whose file is missing or other
    max_restore_s: OptionalDuration = None  # the drill's restore, database and filestore


class Gates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: dict[str, TierGate]
    ledger: LedgerGate = Field(default_factory=LedgerGate)
    drills: DrillGate = Field(default_factory=DrillGate)
    # Gates for named drills, replacing ``drills`` for them; a drill named here must have run.
    drill: dict[str, DrillGate] = Field(default_factory=dict)
    restore: RestoreGate = Field(default_factory=RestoreGate)
    # Per tier, the region's recovery objectives: a restore drill must restore within each rto.
    recovery: dict[str, RecoveryTarget] = Field(default_factory=dict)
    # Latency percentiles judge the calls that did not overlap a drill (its
    # action's start to its recovery): a drill is judged by its error window
    # and recovery, and a call held through a failover that then succeeds
    # would otherwise set p99 by itself. false: every successful call counts.
    latency_outside_drills: bool = True

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: dict[str, TierGate]) -> dict[str, TierGate]:
        check_names(v, TIERS, "tier")
        if not v:
            raise ValueError("at least one tier needs gates")
        return v

    @field_validator("recovery")
    @classmethod
    def _recovery(cls, v: dict[str, RecoveryTarget]) -> dict[str, RecoveryTarget]:
        check_names(v, TIERS, "tier")
        return v


def load_gates(path: str | Path) -> Gates:
    """A gates file, or the name of one the harness ships (``default``, ``pilot``)."""
    path = bundled(path, "gates")
    return validate_model(Gates, _gates_data(path, ()), path)


def _gates_data(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The file's mapping with its ``extends`` chain resolved (relative to the file, or shipped)."""
    data = load_yaml_mapping(path)
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise ConfigError(path, "extends", "must be a gates file or the name of a shipped one")
    given = Path(base)
    if given.suffix or len(given.parts) > 1:  # a file, relative to this one
        base_path = given if given.is_absolute() else path.parent / given
    else:
        base_path = bundled(base, "gates")
    if base_path.resolve() in seen or base_path.resolve() == path.resolve():
        raise ConfigError(path, "extends", f"{base} extends back to this file")
    merged = _gates_data(base_path, (*seen, path.resolve()))
    named = {**merged.get("drill", {}), **data.pop("drill", {})}
    merged.update(data)
    if named:
        merged["drill"] = named
    return merged


@dataclass(frozen=True)
class TierStats:
    """What the gates need from one tier's samples."""

    tier: str
    requests: int
    failures: int  # failed + unknown
    p50_ms: float
    p95_ms: float
    p99_ms: float
    longest_error_window_s: float
    latency_excluded: int = 0  # successful calls left out of the percentiles: they overlapped a drill

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class GateResult:
    scope: str  # tier name or "ledger"
    metric: str
    limit: float
    actual: float
    passed: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    results: tuple[GateResult, ...]

    @property
    def go(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def reasons(self) -> list[str]:
        return [r.reason for r in self.results if not r.passed]

    @property
    def label(self) -> str:
        return "GO" if self.go else "NO-GO"

    def exit_code(self) -> int:
        return 0 if self.go else 3

    def text(self) -> str:
        if self.go:
            return f"GO: {len(self.results)} gates passed"
        return "NO-GO:\n" + "\n".join(f"  - {r}" for r in self.reasons)


def _check(
    scope: str, metric: str, limit: float, actual: float, *, unit: str, fmt: str = ".0f", note: str = ""
) -> GateResult:
    passed = actual <= limit
    rel = "<=" if passed else ">"
    reason = f"{scope}: {metric} {actual:{fmt}}{unit} {rel} limit {limit:{fmt}}{unit}{note}"
    return GateResult(scope, metric, limit, actual, passed, reason)


def _one_drill(gate: DrillGate, d: Mapping[str, Any]) -> list[GateResult]:
    scope = f"drill {d['name']}"
    results: list[GateResult] = []
    if gate.action_ok:
        ok = bool(d["action_ok"])
        error = d.get("action_error")
        why = f"failed: {error}" if error else ("did not start" if d.get("started_s") is None else "failed")
        results.append(
            GateResult(scope, "action ok", 1, int(ok), ok, f"{scope}: action {'ran' if ok else why}")
        )
    if not d.get("injects_fault", True):
        # Nothing to recover from: failures during it are the faults' around it, judged by their
        # drills and by the run's tier gates.
        return results
    if gate.recovered:
        ok = bool(d["recovered"])
        reason = f"{scope}: calls {'recovered' if ok else 'did not recover'} within its window"
        results.append(GateResult(scope, "recovered", 1, int(ok), ok, reason))
    ttr = d.get("time_to_recovery_s")
    if gate.max_time_to_recovery_s is not None and ttr is not None:
        results.append(
            _check(scope, "time to recovery", gate.max_time_to_recovery_s, ttr, unit=" s", fmt=".1f")
        )
    for tier, limit in gate.max_failed.items():
        failed = int(d.get("failed_by_tier", {}).get(tier, 0)) + int(
            d.get("unknown_by_tier", {}).get(tier, 0)
        )
        results.append(_check(scope, f"failed {tier} calls", limit, failed, unit=""))
    return results


def drill_results(
    gate: DrillGate, drills: Sequence[Mapping[str, Any]], named: Mapping[str, DrillGate] | None = None
) -> list[GateResult]:
    """``drills`` as in report.json (analysis.DrillOutcome.as_dict); ``named`` gates replace ``gate``."""
    named = named or {}
    results: list[GateResult] = []
    for d in drills:
        results += _one_drill(named.get(d["name"], gate), d)
    ran = {d["name"] for d in drills}
    for name in sorted(set(named) - ran):
        scope = f"drill {name}"
        results.append(
            GateResult(scope, "ran", 1, 0, False, f"{scope}: gated, but the run had no such drill")
        )
    return results


RESTORE = "restore"


def restore_results(
    gate: RestoreGate,
    restores: Sequence[RestoreSummary],
    recovery: Mapping[str, RecoveryTarget] | None = None,
) -> list[GateResult]:
    """Per restore drill: the restored database read, nothing acknowledged before the target
    missing, nothing sent after it present, the run's keys once and only the ledger's, every
    attachment opening from the restored filestore (at least those acknowledged before the
    target), the restore's duration when gated, and within each tier's recovery time objective
    (a restore brings every tier back at once)."""
    recovery = recovery or {}
    results: list[GateResult] = []
    for r in restores:
        scope = f"{RESTORE} {r.drill}"
        if not r.checked:
            results.append(GateResult(scope, "checked", 1, 0, False, f"{scope}: not checked: {r.error}"))
            continue
        at = f"the restore point {r.target_time}"
        for metric, actual, limit, words in (
            (
                "missing before",
                r.total("missing"),
                gate.max_missing_before,
                f"writes acknowledged before {at} missing from the restored database",
            ),
            (
                "present after",
                r.total("present_after"),
                gate.max_present_after,
                f"writes first sent after {at} present in the restored database",
            ),
            ("unexpected", r.unexpected, 0, "keys of the run in the restored database that no branch sent"),
            ("duplicated", r.duplicated, 0, "keys held twice by the restored database"),
        ):
            examples = [
                e
                for k in r.kinds
                for e in k.examples.get(metric.replace(" before", "").replace(" ", "_"), [])
            ]
            detail = f" (e.g. {', '.join(examples[:3])})" if actual > limit and examples else ""
            results.append(
                GateResult(
                    scope,
                    metric,
                    limit,
                    actual,
                    actual <= limit,
                    f"{scope}: {actual} {words}, limit {limit}{detail}",
                )
            )
        unreadable = r.attachments_unreadable
        checked = r.attachments.checked or 0
        if not r.filestore_restored or unreadable is None:
            results.append(
                GateResult(
                    scope, "attachments", 1, 0, False, f"{scope}: the filestore was not restored and checked"
                )
            )
        else:
            passed = unreadable <= gate.max_unreadable_attachments and checked >= r.attachments_acked_before
            results.append(
                GateResult(
                    scope,
                    "attachments",
                    gate.max_unreadable_attachments,
                    unreadable,
                    passed,
                    f"{scope}: {unreadable} of {checked} attachments of the restored database did not "
                    f"open from the restored filestore ({r.attachments_acked_before} acknowledged before "
                    "the restore point)"
                    + (f", e.g. {', '.join(r.attachments.examples[:3])}" if r.attachments.examples else ""),
                )
            )
        took = r.total_restore_s if r.total_restore_s is not None else float("inf")
        if gate.max_restore_s is not None:
            results.append(
                GateResult(
                    scope,
                    "duration",
                    gate.max_restore_s,
                    took,
                    took <= gate.max_restore_s,
                    f"{scope}: the restore took {took:.0f} s, limit {gate.max_restore_s:.0f} s",
                )
            )
        for tier, target in sorted(recovery.items()):
            if target.rto is None:
                continue
            results.append(
                GateResult(
                    scope,
                    f"rto {tier}",
                    target.rto,
                    took,
                    took <= target.rto,
                    f"{scope}: the restore took {took:.0f} s, {tier}'s recovery time objective is "
                    f"{target.rto:.0f} s",
                )
            )
    return results


REGION_LOSS = "region loss"


def region_loss_results(
    losses: Sequence[RegionLossSummary], recovery: Mapping[str, RecoveryTarget]
) -> list[GateResult]:
    """Per region-loss drill: measured at all; per tier with recovery objectives, back within its
    rto and missing no more than its rpo (the age at the loss of the oldest acknowledged write the
    DR region does not hold: the point it came back to); and, every tier, nothing acknowledged after
    the loss missing (the DR region acknowledged it: a loss no objective allows)."""
    results: list[GateResult] = []
    for loss in losses:
        scope = f"{REGION_LOSS} {loss.drill}"
        if not loss.measured:
            results.append(GateResult(scope, "measured", 1, 0, False, f"{scope}: not measured: {loss.error}"))
            continue
        if not recovery:
            results.append(
                GateResult(
                    scope,
                    "targets",
                    1,
                    0,
                    False,
                    f"{scope}: no recovery objectives to judge it by (region_recovery_targets in the "
                    "region's inventory, the gates' recovery section)",
                )
            )
        for t in loss.tiers:
            target = recovery.get(t.tier)
            if target is not None and target.rto is not None:
                took = t.rto_s if t.rto_s is not None else float("inf")
                back = f"back after {took:.1f} s" if t.rto_s is not None else "not back by the end of the run"
                results.append(
                    GateResult(
                        scope,
                        f"rto {t.tier}",
                        target.rto,
                        took,
                        took <= target.rto,
                        f"{scope}: {t.tier} {back}, recovery time objective {target.rto:.0f} s",
                    )
                )
            if target is not None and target.rpo is not None:
                age = t.rpo_s if t.rpo_s is not None else float("inf")
                files = (
                    f" and the file of {t.files_missing_before} attachments" if t.files_missing_before else ""
                )
                results.append(
                    GateResult(
                        scope,
                        f"rpo {t.tier}",
                        target.rpo,
                        age,
                        age <= target.rpo,
                        f"{scope}: {t.tier} lost {t.lost_before} of {t.acked_before} writes acknowledged "
                        f"before the loss{files}, the oldest {age:.1f} s before it; recovery point "
                        f"objective {target.rpo:.0f} s",
                    )
                )
            if t.lost_after:
                results.append(
                    GateResult(
                        scope,
                        f"lost after {t.tier}",
                        0,
                        t.lost_after,
                        False,
                        f"{scope}: {t.lost_after} {t.tier} writes acknowledged after the loss are missing "
                        f"(e.g. {', '.join(t.examples[-3:])})",
                    )
                )
    return results


COVERAGE = "observability coverage"


def coverage_results(rows: Sequence[Mapping[str, Any]]) -> list[GateResult]:
    """The observability coverage gate: one result per drill and expected alert (``rows`` as in
    report.json's ``coverage.rows``, loadtests.alerts.CoverageRow.as_dict). Covered passes, and so
    does a drill that expects no alert (planned work); missed, below the alert's window, a drill
    that names no alert and a drill that did not run fail: GO needs every drill seen."""
    results = []
    for row in rows:
        metric = f"{row['drill']}: {row['expected']}" if row.get("expected") else str(row["drill"])
        passed = bool(row["passed"])
        reason = f"{COVERAGE}: drill {row['drill']}: {row['status_text']}: {row['detail']}"
        results.append(GateResult(COVERAGE, metric, 1, int(passed), passed, reason))
    return results


def evaluate(
    gates: Gates,
    tiers: dict[str, TierStats],
    ledger: LedgerResult | None,
    drills: Sequence[Mapping[str, Any]] = (),
    coverage: Sequence[Mapping[str, Any]] | None = None,
    *,
    restores: Sequence[RestoreSummary] = (),
    region_losses: Sequence[RegionLossSummary] = (),
) -> Verdict:
    """GO or NO-GO. ``coverage`` (the coverage rows of a run given an alert source) adds the
    observability coverage gate; None: coverage was not measured and the gate is absent.
    ``restores``: the run's restore drills checked against the ledger (restore gates).
    ``region_losses``: the run's region-loss drills measured; the writes acknowledged before a
    region was lost and missing afterwards are judged by the recovery point objective there, not
    by the ledger's ``max_lost``."""
    results: list[GateResult] = []
    for name, gate in gates.tiers.items():
        stats = tiers.get(name)
        n = stats.requests if stats else 0
        if n < gate.min_requests or stats is None:
            results.append(
                GateResult(
                    name,
                    "requests",
                    gate.min_requests,
                    n,
                    False,
                    f"{name}: only {n} requests, gate needs at least {gate.min_requests}",
                )
            )
            continue
        note = f" ({stats.latency_excluded} calls during drills left out)" if stats.latency_excluded else ""
        if gate.p95_ms is not None:
            results.append(_check(name, "p95", gate.p95_ms, stats.p95_ms, unit=" ms", note=note))
        if gate.p99_ms is not None:
            results.append(_check(name, "p99", gate.p99_ms, stats.p99_ms, unit=" ms", note=note))
        if gate.error_rate is not None:
            rate = stats.error_rate * 100
            results.append(_check(name, "error rate", gate.error_rate * 100, rate, unit=" %", fmt=".2f"))
        if gate.longest_error_window_s is not None:
            results.append(
                _check(
                    name,
                    "longest error window",
                    gate.longest_error_window_s,
                    stats.longest_error_window_s,
                    unit=" s",
                    fmt=".1f",
                )
            )
    if ledger is None or not ledger.checked:
        why = ledger.error if ledger is not None and ledger.error else "not reconciled"
        results.append(GateResult("ledger", "reconciled", 1, 0, False, f"ledger: {why}"))
    else:
        lg = gates.ledger
        limits: list[tuple[str, str, int | None]] = [
            ("lost", "lost acknowledged writes", lg.max_lost),
            ("duplicated", "duplicated writes", lg.max_duplicated),
            ("unexpected", "unexpected writes", lg.max_unexpected),
            ("failed_present", "writes that failed but are present", lg.max_failed_present),
            ("unsettled", "acknowledged POS orders not paid in full", lg.max_unsettled),
            ("unreadable", "acknowledged attachments whose file does not open", lg.max_unreadable),
        ]
        # Missing before a region was lost: the region-loss gates judge them by the recovery point.
        measured = [loss for loss in region_losses if loss.measured]
        excused = {
            "lost": sum(loss.lost_before() for loss in measured),
            "unreadable": sum(loss.files_missing_before() for loss in measured),
        }
        for attr, label, limit in limits:
            if limit is None:
                continue
            actual = ledger.total(attr) - excused.get(attr, 0)
            passed = actual <= limit
            examples = [k for kind in ledger.kinds for k in getattr(kind, attr)][:3]
            detail = f" (e.g. {', '.join(examples)})" if examples and not passed else ""
            if excused.get(attr):
                detail += (
                    f" ({excused[attr]} more acknowledged before a region was lost: "
                    "the region-loss gates judge them)"
                )
            results.append(
                GateResult(
                    "ledger", attr, limit, actual, passed, f"ledger: {actual} {label}, limit {limit}{detail}"
                )
            )
    results += drill_results(gates.drills, drills, gates.drill)
    results += restore_results(gates.restore, restores, gates.recovery)
    results += region_loss_results(region_losses, gates.recovery)
    if coverage is not None:
        results += coverage_results(coverage)
    return Verdict(tuple(results))
