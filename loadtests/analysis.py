"""Turn samples and drill records into the figures the gates and reports use."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtests.gates import TierStats
from loadtests.samples import Sample


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted list; 0 when empty.

    The gates need this definition: at least q % of the calls took at most
    the value, which is a latency a call really had. ``statistics.quantiles``
    interpolates between neighbours, so with fewer than 100 calls (a tier
    in a quiet run, a bucket of the time series) its p99 lies below the
    slowest call that 1 % of the calls took: 49 calls of 100 ms and one of
    1000 ms have a nearest-rank p99 of 1000 ms, an interpolated one of 559 ms.
    """
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


@dataclass(frozen=True)
class ErrorWindow:
    start: float  # first failure
    end: float  # first success after it (or the last sample when still failing)
    failures: int
    closed: bool

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def error_windows(samples: Sequence[Sample]) -> list[ErrorWindow]:
    """Windows from a first failure to the next success, samples in time order."""
    windows: list[ErrorWindow] = []
    start: float | None = None
    count = 0
    last_t = 0.0
    for s in samples:
        last_t = s.t
        if not s.ok:
            if start is None:
                start, count = s.t, 0
            count += 1
        elif start is not None:
            windows.append(ErrorWindow(start, s.t, count, True))
            start = None
    if start is not None:
        windows.append(ErrorWindow(start, last_t, count, False))
    return windows


def _overlaps(s: Sample, spans: Sequence[tuple[float, float]]) -> bool:
    """Whether the call (from its send, ``t - ms``, to its reply ``t``) overlaps a span."""
    sent = s.t - s.ms / 1000.0
    return any(sent <= end and s.t >= start for start, end in spans)


def tier_stats(
    samples: Sequence[Sample], drill_spans: Sequence[tuple[float, float]] = ()
) -> dict[str, TierStats]:
    """Requests, failures and error windows over every call; latency percentiles
    over the successful calls that did not overlap a drill span."""
    by_tier: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_tier[s.tier].append(s)
    out: dict[str, TierStats] = {}
    for tier, items in by_tier.items():
        ok = [s for s in items if s.ok]
        lat = sorted(s.ms for s in ok if not _overlaps(s, drill_spans))
        windows = error_windows(items)
        out[tier] = TierStats(
            tier=tier,
            requests=len(items),
            failures=len(items) - len(ok),
            p50_ms=percentile(lat, 50),
            p95_ms=percentile(lat, 95),
            p99_ms=percentile(lat, 99),
            longest_error_window_s=max((w.seconds for w in windows), default=0.0),
            latency_excluded=len(ok) - len(lat),
        )
    return out


def split_offline(
    samples: Sequence[Sample], drills: Sequence[DrillRecord]
) -> tuple[list[Sample], dict[str, list[Sample]]]:
    """The calls the drills took offline by design, apart from the others.

    A call is offline when its branch's link class is one a drill takes offline
    (``DrillRecord.offline_links``, a tunnel cut) and it was sent while that
    drill's action ran: the branch had no ERP, as planned. Returns the other
    calls (what the tiers are judged on) and each such drill's offline calls."""
    spans = [(d, d.started, d.finished or d.started) for d in drills if d.offline_links and d.started]
    offline: dict[str, list[Sample]] = {span[0].name: [] for span in spans}
    counted: list[Sample] = []
    for s in samples:
        sent = s.t - s.ms / 1000.0
        owner = next(
            (d for d, start, end in spans if s.link in d.offline_links and start <= sent <= end), None
        )
        if owner is None:
            counted.append(s)
        else:
            offline[owner.name].append(s)
    return counted, offline


def drill_spans(
    drills: Sequence[Mapping[str, Any]], run_start: float, end: float
) -> list[tuple[float, float]]:
    """Epoch spans the drills disturb (``drills`` as in report.json): from the
    action's start to its recovery or the action's end, whichever is later; to
    ``end`` for a drill that did not recover. A drill that takes branches offline
    recovers from the action's end (analyse_drill): its span runs to the action's
    end plus its recovery. A drill that injects no fault disturbs nothing: the
    calls during it are the service's own."""
    spans = []
    for d in drills:
        if d.get("started_s") is None or not d.get("injects_fault", True):
            continue
        start = run_start + float(d["started_s"])
        if not d.get("recovered", True):
            spans.append((start, end))
            continue
        action, recovery = float(d.get("action_s") or 0.0), float(d.get("time_to_recovery_s") or 0.0)
        lasted = action + recovery if d.get("offline_links") else max(action, recovery)
        spans.append((start, start + lasted))
    return spans


def breakdown(samples: Sequence[Sample], key: Callable[[Sample], str]) -> dict[str, dict[str, Any]]:
    """Requests, failures, unknowns and latency percentiles grouped by ``key``."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[key(s)].append(s)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(groups):
        items = groups[name]
        lat = sorted(s.ms for s in items if s.ok)
        failed = sum(1 for s in items if s.outcome == "failed")
        unknown = sum(1 for s in items if s.outcome == "unknown")
        out[name] = {
            "requests": len(items),
            "failed": failed,
            "unknown": unknown,
            "error_rate": (failed + unknown) / len(items),
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "p99_ms": percentile(lat, 99),
        }
    return out


def time_series(samples: Sequence[Sample], start: float, end: float, buckets: int = 60) -> dict[str, Any]:
    """Latency bands per tier over time: p50, p95 and max per bucket, plus failures."""
    span = max(end - start, 1.0)
    width = max(1.0, math.ceil(span / buckets))
    n = math.ceil(span / width)
    per: dict[str, list[list[Sample]]] = defaultdict(lambda: [[] for _i in range(n)])
    for s in samples:
        i = int((s.t - start) // width)
        if 0 <= i < n:
            per[s.tier][i].append(s)
    series: dict[str, list[dict[str, float]]] = {}
    for tier in sorted(per):
        rows = []
        for i, bucket in enumerate(per[tier]):
            lat = sorted(s.ms for s in bucket if s.ok)
            rows.append(
                {
                    "t": round(i * width, 1),
                    "count": len(bucket),
                    "failures": sum(1 for s in bucket if not s.ok),
                    "p50": percentile(lat, 50),
                    "p95": percentile(lat, 95),
                    "max": lat[-1] if lat else 0.0,
                }
            )
        series[tier] = rows
    return {"bucket_s": width, "tiers": series}


@dataclass
class DrillRecord:
    name: str
    executor: str
    action: str
    target: str
    at: float  # planned offset
    started: float = 0.0  # epoch
    finished: float = 0.0
    ok: bool = False
    error: str = ""
    observe: float = 60.0
    offline_links: tuple[str, ...] = ()  # link classes the drill takes offline (DrillSpec)
    # False for a drill that injects no fault into the serving path (a restore on a scratch node,
    # DrillSpec.injects_fault): it does not end another drill's window, its span is not taken
    # out of the latency figures, and failures in it belong to the faults around it.
    injects_fault: bool = True


@dataclass
class DrillOutcome:
    record: DrillRecord
    # The longest of the tiers' windows: per tier, its first failure in the drill's span to the
    # first success of that tier after it (another tier answering says nothing about this one's
    # stores). None when calls failed and no failed tier answered again before ``until``.
    error_window_s: float | None = None
    error_window_tier: str = ""
    error_window_by_tier: dict[str, float] = field(default_factory=dict)
    first_failure: float | None = None
    first_success_after: float | None = None
    # The end of the span this analysis read (epoch): the drill's observe time, the next drill's
    # start or the run's end, whichever came first. A failure from the drill's start to here is
    # the drill's.
    until: float | None = None
    time_to_recovery_s: float | None = None  # action start to steady success
    recovered: bool = True
    failed_by_tier: dict[str, int] = field(default_factory=dict)
    unknown_by_tier: dict[str, int] = field(default_factory=dict)
    # Calls of the branches the drill took offline, sent while it ran (split_offline).
    offline_calls: int = 0
    offline_failed: int = 0

    def as_dict(self, run_start: float) -> dict[str, Any]:
        r = self.record
        return {
            "name": r.name,
            "executor": r.executor,
            "action": r.action,
            "target": r.target,
            "planned_at_s": r.at,
            "started_s": round(r.started - run_start, 2) if r.started else None,
            "action_s": round(r.finished - r.started, 2) if r.started else None,
            "action_ok": r.ok,
            "action_error": r.error,
            "error_window_s": _r(self.error_window_s),
            "error_window_tier": self.error_window_tier,
            "error_window_by_tier": {
                tier: round(v, 2) for tier, v in sorted(self.error_window_by_tier.items())
            },
            "first_failure_s": _r(self.first_failure - run_start if self.first_failure else None),
            "first_success_s": _r(self.first_success_after - run_start if self.first_success_after else None),
            "observed_until_s": _r(self.until - run_start if self.until else None),
            "time_to_recovery_s": _r(self.time_to_recovery_s),
            "recovered": self.recovered,
            "failed_by_tier": self.failed_by_tier,
            "unknown_by_tier": self.unknown_by_tier,
            "offline_links": list(r.offline_links),
            "offline_calls": self.offline_calls,
            "offline_failed": self.offline_failed,
            "injects_fault": r.injects_fault,
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def analyse_drill(
    record: DrillRecord, samples: Sequence[Sample], until: float, offline: Sequence[Sample] = ()
) -> DrillOutcome:
    """Error window and recovery of one drill, over samples from its start to ``until``.

    ``offline``: the calls the drill took offline by design (split_offline), left out of
    ``samples`` and only counted; such a drill's recovery counts from its action's end,
    when the branches have their link back."""
    out = DrillOutcome(record, until=until if record.started else None)
    out.offline_calls = len(offline)
    out.offline_failed = sum(1 for s in offline if not s.ok)
    if not record.started:
        out.recovered = False
        return out
    recovery_from = record.finished if record.offline_links and record.finished else record.started
    window = [s for s in samples if record.started <= s.t <= until]
    failures = [s for s in window if not s.ok]
    if not failures:
        out.error_window_s = 0.0
        out.time_to_recovery_s = 0.0
        return out
    first = failures[0]
    out.first_failure = first.t
    after = next((s for s in window if s.ok and s.t > first.t), None)
    if after is not None:
        out.first_success_after = after.t
    for tier in dict.fromkeys(s.tier for s in failures):
        tier_first = next(s for s in failures if s.tier == tier)
        answered = next((s for s in window if s.tier == tier and s.ok and s.t > tier_first.t), None)
        if answered is not None:
            out.error_window_by_tier[tier] = answered.t - tier_first.t
    if out.error_window_by_tier:
        out.error_window_tier, out.error_window_s = max(
            out.error_window_by_tier.items(), key=lambda kv: kv[1]
        )
    last_fail = failures[-1]
    steady = next((s for s in window if s.ok and s.t > last_fail.t), None)
    if steady is None:
        out.recovered = False
        end = until
    else:
        out.time_to_recovery_s = max(0.0, steady.t - recovery_from)
        end = steady.t
    for s in failures:
        if s.t <= end:
            bucket = out.failed_by_tier if s.outcome == "failed" else out.unknown_by_tier
            bucket[s.tier] = bucket.get(s.tier, 0) + 1
    return out
