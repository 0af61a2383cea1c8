"""The report of a run, typed: what report.json holds and what the HTML and JUnit writers read.

``build_report`` (loadtests.cli) fills a :class:`Report`; ``report.json`` is
its ``model_dump``; the writers take the model, never a dict read by string
keys. :func:`summarise` derives the first screen a store-operations manager
reads: the verdict, each failed gate in plain words, the worst outage per
tier and what the stores felt, the ledger, the Odoo and platform under test.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from loadtests.ledger import LedgerSummary
from loadtests.region_loss import RegionLossSummary
from loadtests.restore_check import RestoreSummary


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OdooUnderTest(_Model):
    label: str
    url: str
    endpoint: str
    server_version: str
    server_version_info: list[Any]
    version_info: dict[str, Any] = {}
    checked_at: str = ""
    text: str


class Route(_Model):
    name: str
    link_class: str
    listen: str
    upstream: str
    url: str
    branches: list[str]
    server: str = ""  # the Toxiproxy API carrying the proxy: "" = the controller's, else a branch node's


class RunInfo(_Model):
    run_id: str
    started: str
    duration_s: float
    host: str
    odoo: str
    users: int
    mode: str
    toxiproxy: str
    links: list[Route]
    platform: str = ""


class ScenarioInfo(_Model):
    name: str
    file: str
    users: int
    spawn_rate: float
    duration_s: float
    personas: dict[str, int]


class VerdictInfo(_Model):
    go: bool
    label: str
    reasons: list[str]


class GateRow(_Model):
    scope: str
    metric: str
    limit: float | None
    actual: float | None
    passed: bool
    reason: str


class GatesInfo(_Model):
    file: str
    results: list[GateRow]


class TierInfo(_Model):
    requests: int
    failures: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    longest_error_window_s: float
    latency_excluded: int


class DrillInfo(_Model):
    name: str
    executor: str
    action: str
    target: str
    planned_at_s: float
    started_s: float | None
    action_s: float | None
    action_ok: bool
    action_error: str
    error_window_s: float | None
    error_window_tier: str = ""
    error_window_by_tier: dict[str, float] = {}
    first_failure_s: float | None
    first_success_s: float | None
    observed_until_s: float | None  # the end of the span the drill's analysis read; None: not started
    time_to_recovery_s: float | None
    recovered: bool
    failed_by_tier: dict[str, int]
    unknown_by_tier: dict[str, int]
    # A drill that takes branches offline (a tunnel cut): their calls during it, apart.
    offline_links: list[str] = []
    offline_calls: int = 0
    offline_failed: int = 0
    injects_fault: bool = True  # False: a restore on a scratch node; no recovery to judge


class ErrorWindow(_Model):
    start_s: float
    end_s: float
    seconds: float
    failures: int
    closed: bool


class Bucket(_Model):
    t: float
    count: int
    failures: int
    p50: float | None
    p95: float | None
    max: float


class TimeSeries(_Model):
    bucket_s: float
    tiers: dict[str, list[Bucket]]


class Group(_Model):
    requests: int
    failed: int
    unknown: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class Outage(_Model):
    """The longest run of failed calls of one tier, and the drill it fell in (if any)."""

    tier: str
    seconds: float
    failures: int
    start_s: float
    drill: str = ""


class FiredAlertInfo(_Model):
    name: str
    labels: str  # the labels that matter, "branch=S003, hub=hub-1, ..."
    starts_at_s: float  # seconds after the run's start
    ends_at_s: float | None  # None: not resolved by the end of the run
    delay_s: float  # startsAt - the fault's start


class CoverageRow(_Model):
    """One drill and one alert it should raise (loadtests.alerts.CoverageRow)."""

    drill: str
    summary: str
    expected: str
    status: str  # covered, missed, below_window, unspecified, none_expected, not_run
    status_text: str
    passed: bool
    detail: str
    fault_start_s: float | None
    fault_s: float | None
    fault_source: str
    window_s: float | None
    delay_s: float | None
    delay_max_s: float | None
    resolved_s: float | None
    resolved: bool
    fired: list[FiredAlertInfo]
    expected_values: list[str]
    missing_values: list[str]
    extra_values: list[str]
    others: list[str]


class Coverage(_Model):
    """Which alert each drill raised. ``measured`` false: the run had no alert source."""

    measured: bool
    source: str = ""  # where the alerts came from (the sink's address)
    windows: str = ""  # where the detection windows came from
    windows_error: str = ""
    received: int = 0  # alert lines the sink received
    refused: int = 0  # requests it refused
    file: str = ""
    rows: list[CoverageRow] = []


class SliSeries(_Model):
    label: str  # the series' labels that tell it apart (region)
    points: list[tuple[float, float]]  # (seconds after the run's start, value)


class SliTier(_Model):
    """One tier: the platform's error ratio and p95 latency next to the harness's own."""

    platform_error_pct: list[SliSeries] = []
    platform_p95_ms: list[SliSeries] = []
    harness_error_pct: list[tuple[float, float]] = []
    harness_p95_ms: list[tuple[float, float]] = []


class Sli(_Model):
    """The platform's SLI recording rules over the run (Prometheus ``query_range``), per tier."""

    source: str
    queries: dict[str, str]
    step_s: float
    error: str = ""
    tiers: dict[str, SliTier] = {}


class Dashboards(_Model):
    """Whether each dashboard panel's query returned data during the run (``loadtests.dashboards``).
    Information for the operators: no gate reads it."""

    source: str  # Prometheus' URL
    directory: str  # the dashboards' JSON files
    region: str = ""  # the region variable given ("": the first region Prometheus knows)
    queries: int = 0  # queries run, a repeated row's once per value
    empty: list[str] = []  # the queries that returned no series
    error: str = ""  # Prometheus not read, or a dashboard not understood: nothing was checked

    @property
    def passed(self) -> bool:
        return not self.error and not self.empty


class Summary(_Model):
    """The first screen, in words for a store-operations manager."""

    headline: str
    failed_gates: list[str]
    outages: list[str]
    ledger: str
    under_test: list[str]
    coverage: list[str] = []  # the drills no alert covered, and what that means for the stores
    restore: list[str] = []  # each restore drill: restored to when, how long, what the ledger found
    region_loss: list[str] = []  # each region lost: per tier, back after how long, what it lost


class Report(_Model):
    odoo_under_test: OdooUnderTest | None
    summary: Summary | None = None
    run: RunInfo
    scenario: ScenarioInfo
    verdict: VerdictInfo
    gates: GatesInfo
    tiers: dict[str, TierInfo]
    drills: list[DrillInfo]
    error_windows: dict[str, list[ErrorWindow]]
    timeseries: TimeSeries
    breakdown: dict[str, dict[str, Group]]
    ledger: LedgerSummary
    branches: list[dict[str, Any]]
    coverage: Coverage = Coverage(measured=False)
    sli: Sli | None = None
    dashboards: Dashboards | None = None
    restore: list[RestoreSummary] = []
    region_loss: list[RegionLossSummary] = []


# ---------------------------------------------------------------- the first screen

TIER_NAMES = {
    "pos_sync": "POS sync (tills)",
    "inventory": "Inventory (stock checks, transfers)",
    "finance": "Finance (invoices)",
    "reporting": "Reporting",
    "integration": "Integrations (API)",
    "auth": "Logins",
}
# what a failed call of a tier is, for a store
TIER_CALLS = {
    "pos_sync": "failed syncs",
    "inventory": "failed stock calls",
    "finance": "failed invoice calls",
    "reporting": "failed reports",
    "integration": "failed API calls",
    "auth": "failed logins",
}
# what the ledger kind of a tier's writes is
TIER_LEDGER = {
    "pos_sync": ("pos.order", "orders"),
    "inventory": ("stock.picking", "transfers"),
    "finance": ("account.move", "invoices"),
    "integration": ("res.partner", "partners"),
}


def tier_name(tier: str) -> str:
    return TIER_NAMES.get(tier, tier)


def duration_words(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


# a failed tier gate in words ({who}: the tier; {actual} and {limit} already formatted)
TIER_GATE_WORDS = {
    "p95": "{who}: 1 call in 20 took longer than {actual} (limit {limit}).",
    "p99": "{who}: 1 call in 100 took longer than {actual} (limit {limit}).",
    "error rate": "{who}: {actual} of calls failed (limit {limit}).",
    "longest error window": "{who}: calls failed for {actual} in a row (limit {limit}).",
}


def plain_gate(g: GateRow) -> str:
    """A failed gate in words: what the limit protects and how far the run was from it."""
    words = TIER_GATE_WORDS.get(g.metric)
    if words and g.scope != "ledger":
        actual, limit = g.actual or 0.0, g.limit or 0.0
        if g.metric in ("p95", "p99"):
            shown = (duration_words(actual), duration_words(limit))
        elif g.metric == "error rate":
            shown = (f"{actual:.1f} %", f"{limit:.1f} %")
        else:
            shown = (f"{actual:.0f} s", f"{limit:.0f} s")
        return words.format(who=tier_name(g.scope), actual=shown[0], limit=shown[1])
    if g.scope == "ledger" and g.metric == "reconciled":
        return "The writes could not be checked against the database: " + g.reason.removeprefix("ledger: ")
    if g.scope == "ledger":
        return "Write ledger: " + g.reason.removeprefix("ledger: ") + "."
    return g.reason


def worst_outages(report: Report) -> list[Outage]:
    """Per tier, the longest error window, attributed to the drill whose span it started in: the
    span the drill's own analysis read (its error windows and recovery in the drills table), so the
    first screen and that table agree."""
    out: list[Outage] = []
    for tier, windows in sorted(report.error_windows.items()):
        if not windows:
            continue
        w = max(windows, key=lambda x: x.seconds)
        drill = ""
        for d in report.drills:
            if d.started_s is None or d.observed_until_s is None or not d.injects_fault:
                continue
            if d.started_s - 2 <= w.start_s <= d.observed_until_s:
                drill = d.name
                break
        out.append(Outage(tier=tier, seconds=w.seconds, failures=w.failures, start_s=w.start_s, drill=drill))
    return out


def _kept(report: Report, tier: str) -> str:
    kind, noun = TIER_LEDGER.get(tier, ("", ""))
    found = next((k for k in report.ledger.kinds if k.kind == kind), None)
    if not report.ledger.checked or found is None:
        return ""
    if found.lost:
        return f"{found.lost} acknowledged {noun} lost"
    return f"all acknowledged {noun} kept"


COVERAGE_SCOPE = "observability coverage"  # loadtests.gates.COVERAGE


def coverage_lines(coverage: Coverage) -> list[str]:
    """The first screen's coverage: what the drills without an alert mean for the stores."""
    if not coverage.measured:
        return [
            "Observability coverage was not measured: the run had no alert source (--alert-sink), so "
            "no gate judged whether the platform's alerts saw the drills."
        ]
    planned = [r.drill for r in coverage.rows if r.status == "none_expected"]
    drills = [d for d in dict.fromkeys(r.drill for r in coverage.rows) if d not in planned]
    bad = list(dict.fromkeys(r.drill for r in coverage.rows if not r.passed))
    lines = [
        f"{len(drills) - len(bad)} of {len(drills)} drills raised the alerts that page the operators"
        + (f"; {len(planned)} planned drills expect none ({', '.join(planned)})." if planned else ".")
    ]
    for r in coverage.rows:
        if r.passed:
            continue
        what = f"{r.summary} (drill {r.drill})"
        if r.status == "unspecified":
            lines.append(f"Nobody knows whether operators are paged when {what}: {r.detail}.")
        elif r.status == "below_window":
            lines.append(
                f"Operators would not be paged when {what}: below the alert's window, {r.detail}; "
                "a drill this short cannot prove coverage, so coverage fails."
            )
        elif r.status == "not_run":
            lines.append(f"Not shown whether operators are paged when {what}: the drill did not run.")
        elif r.fired:
            lines.append(f"Operators would not be paged for every store when {what}: {r.detail}.")
        else:
            lines.append(f"Operators would not be paged when {what}: {r.detail}.")
    return lines


def dashboards_line(dashboards: Dashboards | None) -> list[str]:
    """The first screen's line on the operators' dashboards (none when they were not checked)."""
    if dashboards is None:
        return []
    if dashboards.error:
        return [f"The operators' dashboards were not checked: {dashboards.error}."]
    if not dashboards.empty:
        return [
            f"The operators' dashboards showed data in all {dashboards.queries} panel queries during the run."
        ]
    return [
        f"{len(dashboards.empty)} of {dashboards.queries} panel queries of the operators' dashboards were "
        "blank during the run (listed below): an operator would look at empty panels there."
    ]


def restore_line(r: RestoreSummary) -> str:
    """A restore drill in words: to when, how long, what the restored database and filestore hold."""
    if not r.checked:
        return f"Restore drill {r.drill}: not checked against the writes: {r.error}."
    before, missing = r.total("before"), r.total("missing")
    after, present = r.total("after"), r.total("present_after")
    took = f"{r.total_restore_s:.0f} s" if r.total_restore_s is not None else "an unknown time"
    a = r.attachments
    files = (
        f"; {a.checked} attachments checked, {r.attachments_unreadable} did not open"
        if a.checked is not None
        else "; the filestore was not checked"
    )
    return (
        f"Restore drill {r.drill}: database and filestore restored to {r.target_time} in {took}: "
        f"{before - missing} of {before} writes acknowledged before that point are there, "
        f"{present} of {after} writes sent after it are there (must be none){files}."
    )


def _seconds(v: float) -> str:
    return f"{v:.1f} s" if v < 120 else f"{v / 60:.1f} min"


def region_loss_lines(loss: RegionLossSummary) -> list[str]:
    """A region lost, in words: when, then per tier back after how long and what it lost."""
    if not loss.measured:
        return [f"Region {loss.region} lost ({loss.drill}): not measured: {loss.error}."]
    at = f"{loss.lost_at_s:.0f} s" if loss.lost_at_s is not None else "?"
    lines = [f"Region {loss.region} lost at {at} into the run ({loss.drill}); the DR region took over:"]
    for t in loss.tiers:
        back = (
            f"back after {_seconds(t.rto_s)} (first {t.measured_by})"
            if t.rto_s is not None
            else "not back by the end of the run"
        )
        files = (
            f" and the file of {t.files_missing_before} attachments (not yet in the filestore's copies)"
            if t.files_missing_before
            else ""
        )
        lost = (
            f"{t.lost_before} of {t.acked_before} writes acknowledged before the loss missing{files}, the "
            f"oldest {_seconds(t.rpo_s or 0.0)} old at the loss (recovery point)"
            if t.lost_before or t.files_missing_before
            else f"none of {t.acked_before} writes acknowledged before the loss missing"
        )
        after = f"; {t.lost_after} acknowledged after it missing" if t.lost_after else ""
        lines.append(f"{tier_name(t.tier)}: {back}; {lost}{after}.")
    return lines


def summarise(report: Report) -> Summary:
    verdict = report.verdict
    failed = [g for g in report.gates.results if not g.passed]
    if verdict.go:
        headline = "GO: every gate held; the region can carry the stores as tested."
    else:
        headline = f"NO-GO: {len(failed)} of {len(report.gates.results)} gates failed; fix before go-live."
    outages = []
    for o in worst_outages(report):
        during = f" during the drill {o.drill}" if o.drill else f" at {o.start_s:.0f} s (no drill)"
        kept = _kept(report, o.tier)
        calls = TIER_CALLS.get(o.tier, "failed calls")
        outages.append(
            f"{tier_name(o.tier)}: {o.seconds:.1f} s of {calls}{during}" + (f", {kept}" if kept else "") + "."
        )
    led = report.ledger
    if not led.checked:
        ledger = f"Writes not checked against the database: {led.error}."
    else:
        t = led.totals
        ledger = (
            f"{t.get('acked', 0)} writes acknowledged to the branches: {t.get('lost', 0)} lost, "
            f"{t.get('duplicated', 0)} duplicated, {t.get('unexpected', 0)} unexpected"
            + (f", {t['unsettled']} POS orders not paid in full" if t.get("unsettled") else "")
            + (f", {t['unreadable']} attachments whose file does not open" if t.get("unreadable") else "")
            + (" (every acknowledged write is in the database)." if led.valid else ".")
        )
    under_test = []
    if report.odoo_under_test:
        under_test.append(f"Odoo: {report.odoo_under_test.text}")
    if report.run.platform:
        under_test.append(f"Platform: {report.run.platform}")
    under_test.append(
        f"Traffic: {report.run.users} users of {len(report.branches)} "
        f"branch{'' if len(report.branches) == 1 else 'es'} for "
        f"{report.run.duration_s:.0f} s against {report.run.host}"
    )
    failed_gates = [plain_gate(g) for g in failed if g.scope != COVERAGE_SCOPE]
    uncovered = [g for g in failed if g.scope == COVERAGE_SCOPE]
    if uncovered:
        drills = {r.drill for r in report.coverage.rows if r.status != "none_expected"}
        bad = {r.drill for r in report.coverage.rows if not r.passed}
        failed_gates.append(
            f"Alerting: {len(bad)} of {len(drills)} drills were not seen by the platform's alerts "
            "(below): GO needs every drill covered."
        )
    return Summary(
        headline=headline,
        failed_gates=failed_gates,
        coverage=coverage_lines(report.coverage) + dashboards_line(report.dashboards),
        outages=outages,
        ledger=ledger,
        under_test=under_test,
        restore=[restore_line(r) for r in report.restore],
        region_loss=[line for loss in report.region_loss for line in region_loss_lines(loss)],
    )
