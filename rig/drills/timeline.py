"""What one drill measured, from its raw observations: the write gap, its phases, the ledger.

Pure functions over wall-clock times (``time.time()``): the probes record, this module
judges; the unit tests feed it made-up timelines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtests.analysis import percentile
from loadtests.ledger import KindResult, LedgerEntry, Outcome, reconcile_kind


@dataclass(frozen=True)
class Attempt:
    """One write of a probe writer: when it was sent and answered, and by which server."""

    writer: str
    key: str
    sent: float
    answered: float
    ok: bool
    server: str = ""  # the PostgreSQL address that acknowledged it (inet_server_addr())
    error: str = ""
    definite: bool = False  # failed for certain (nothing sent, or refused); else it may have landed


def longest_gap(acked: Sequence[float], since: float) -> float | None:
    """The longest time between consecutive acknowledged writes, from the last one before ``since``.

    None when there was no acknowledged write before ``since`` or none after it: the gap
    is then not measured (the writer was not running, or the service never came back).
    """
    ordered = sorted(acked)
    before = [t for t in ordered if t < since]
    after = [t for t in ordered if t >= since]
    if not before or not after:
        return None
    return max(b - a for a, b in itertools.pairwise([before[-1], *after]))


def gap_end(acked: Sequence[float], since: float) -> float | None:
    """The acknowledgement that closed the longest gap from ``since`` (see longest_gap)."""
    ordered = sorted(acked)
    before = [t for t in ordered if t < since]
    after = [t for t in ordered if t >= since]
    if not before or not after:
        return None
    pairs = list(itertools.pairwise([before[-1], *after]))
    return max(pairs, key=lambda ab: ab[1] - ab[0])[1]


def writing_again(attempts: Sequence[Attempt], since: float, now: float, settle: float = 1.0) -> bool:
    """Acknowledged writes again: one sent ``settle`` s after ``since`` and answered within the last
    ``settle`` s (a writer whose call hangs, or that was answered before the fault took effect, is not)."""
    return any(a.ok and a.sent >= since + settle and a.answered >= now - settle for a in attempts)


@dataclass(frozen=True)
class Phases:
    """The write gap of a PostgreSQL failover split at the moments an observer saw.

    ``lock`` the new leader held Patroni's leader lock (the old lease expired, or was
    released); ``promoted`` it left recovery (pg_is_in_recovery() false); ``routed`` the
    first HAProxy marked it UP; ``first_write`` a probe write through PgBouncer and HAProxy
    was acknowledged. Each is seconds after the fault; None when it was not seen.
    """

    lock: float | None
    promoted: float | None
    routed: float | None
    first_write: float | None

    def parts(self) -> dict[str, float | None]:
        """The gap's parts, each the time from the previous moment to its own."""
        out: dict[str, float | None] = {}
        previous: float | None = 0.0
        for name, at in (
            ("lease", self.lock),
            ("promotion", self.promoted),
            ("routing", self.routed),
            ("client", self.first_write),
        ):
            out[name] = None if at is None or previous is None else round(max(0.0, at - previous), 3)
            previous = at if at is not None else previous
        return out


def phases(
    fault_at: float,
    lock_at: float | None,
    promoted_at: float | None,
    routed_at: float | None,
    first_write_at: float | None,
) -> Phases:
    def rel(t: float | None) -> float | None:
        return None if t is None else round(t - fault_at, 3)

    return Phases(rel(lock_at), rel(promoted_at), rel(routed_at), rel(first_write_at))


KIND = "failover_probe"


@dataclass(frozen=True)
class Ledger:
    """The writers' attempts reconciled with what the cluster holds once it is whole again, by the
    harness's own check (loadtests.ledger.reconcile_kind: lost, unexpected, duplicated, recovered)."""

    result: KindResult
    acked_by: Mapping[str, int]  # server address -> writes it acknowledged
    only_on_isolated: tuple[str, ...] = ()  # acknowledged by the isolated node after the promotion, lost

    @property
    def ok(self) -> bool:
        return self.result.valid

    @property
    def lost(self) -> tuple[str, ...]:
        return self.result.lost

    def summary(self) -> dict[str, Any]:
        r = self.result
        return {
            "acked": len(r.acked),
            "lost": len(r.lost),
            "unexpected": len(r.unexpected),
            "duplicated": len(r.duplicated),
            "indeterminate": len(r.indeterminate),
            "recovered": len(r.recovered),
            "lost_keys": list(r.lost[:20]),
            "acked_only_by_isolated_after_promotion": len(self.only_on_isolated),
        }


def entries(attempts: Sequence[Attempt]) -> dict[str, LedgerEntry]:
    """The attempts as the harness's ledger entries (one try each)."""
    out: dict[str, LedgerEntry] = {}
    for a in attempts:
        outcome = Outcome.OK if a.ok else Outcome.FAILED if a.definite else Outcome.UNKNOWN
        out[a.key] = LedgerEntry(
            KIND, a.key, 1, [outcome], first_attempt_at=a.sent, acked_at=a.answered if a.ok else None
        )
    return out


def ledger(
    attempts: Sequence[Attempt],
    scanned: Mapping[str, int],
    isolated: str = "",
    promoted_at: float | None = None,
) -> Ledger:
    """``scanned``: every probe key of the drill the cluster holds, with its count. With ``isolated``
    (a partition drill's old leader) and ``promoted_at``, the writes that node acknowledged after the
    new leader was promoted and that the cluster does not hold: a split brain."""
    book = entries(attempts)
    result = reconcile_kind(KIND, book, {k: scanned.get(k, 0) for k in book}, scanned)
    by: dict[str, int] = {}
    for a in attempts:
        if a.ok:
            by[a.server] = by.get(a.server, 0) + 1
    split: tuple[str, ...] = ()
    if isolated and promoted_at is not None:
        split = tuple(
            sorted(
                a.key
                for a in attempts
                if a.ok and a.server == isolated and a.answered >= promoted_at and not scanned.get(a.key)
            )
        )
    return Ledger(result, dict(sorted(by.items())), split)


@dataclass
class Figures:
    """median, p95 (nearest rank: of 5 values, the largest) and max of one measure."""

    n: int
    median: float | None
    p95: float | None
    max: float | None
    values: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median": self.median, "p95": self.p95, "max": self.max, "values": self.values}


def figures(values: Iterable[float | None]) -> Figures:
    measured = sorted(round(v, 3) for v in values if v is not None)
    if not measured:
        return Figures(0, None, None, None, [])
    return Figures(
        len(measured),
        round(percentile(measured, 50), 3),
        round(percentile(measured, 95), 3),
        measured[-1],
        measured,
    )


def ratio(fast: float | None, slow: float | None) -> float | None:
    """``fast / slow`` (below 1: the first is quicker), None when either is missing or zero."""
    if not fast or not slow:
        return None
    return round(fast / slow, 2)
