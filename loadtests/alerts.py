"""Observability coverage: the alerts the platform raised during a run, and whether each drill raised its own.

* :class:`AlertSink`: a receiver for Alertmanager's webhook (JSON version 4),
  run by the harness for the run's duration (``--alert-sink HOST:PORT``), or
  alone (``alert-sink --listen HOST:PORT``: a test scenario's webhook); each
  alert of each notification becomes one line of ``alerts.jsonl`` in the run's
  results, with the time it was received. A bearer token (a file or
  ``LOADTESTS_ALERT_SINK_TOKEN``) is checked when set and never logged.
* :func:`read_alerts`: the alert instances of that file (one per alert and
  ``startsAt``: Prometheus keeps ``startsAt`` while an alert fires and sends
  ``endsAt`` when it resolves).
* :class:`RuleWindow`: each alert's detection window, from the rules Prometheus
  has loaded (``/api/v1/rules``) or from the rule files; the ``detection_window``
  annotation when the rule has one (a tunnel alert's window is in its
  expression, not its ``for``), else its ``for``.
* :func:`coverage`: per drill and expected alert, covered, missed or below the
  alert's window, with the delay from the fault to the alert and from the
  fault's end to its resolution.
"""

from __future__ import annotations

import glob
import hmac
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from loadtests.analysis import DrillRecord
from loadtests.collection import LINK_CLASSES, collection_root
from loadtests.durations import parse_duration
from loadtests.errors import ConfigError
from loadtests.jsonl import LineSink
from loadtests.links import FLAPPING
from loadtests.plan import PlanBranch
from loadtests.prometheus import Prometheus, PrometheusError
from loadtests.scenario import AlertExpectation, DrillSpec

SINK_FILE = "alerts.jsonl"
TOKEN_ENV = "LOADTESTS_ALERT_SINK_TOKEN"
MAX_BODY = 4 * 1024 * 1024  # Alertmanager's notifications are a few KiB per alert
# An alert that started this long before the fault's start still counts as the drill's (clocks of
# the controller and the monitoring node, NTP-synchronised, differ by less).
EARLY_S = 2.0
# After the fault's end plus the alert's window, how long an alert may still take to start: the
# scrape and evaluation intervals, a keepalive that came just before the cut, the collectors.
LATE_S = 60.0


class SinkError(ValueError):
    """A notification the sink refuses (HTTP 400), with the reason."""


# ------------------------------------------------------------------ the webhook receiver


def parse_notification(body: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An Alertmanager webhook notification (version 4): its envelope and its alerts, checked."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SinkError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SinkError("expected a JSON object (Alertmanager's webhook payload)")
    version = data.get("version")
    if version is not None and str(version) != "4":
        raise SinkError(f"webhook payload version {version!r}, expected 4")
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise SinkError("no alerts list")
    out = []
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise SinkError(f"alerts[{i}] is not an object")
        labels = alert.get("labels")
        if not isinstance(labels, dict) or not isinstance(labels.get("alertname"), str):
            raise SinkError(f"alerts[{i}].labels has no alertname")
        if alert.get("status") not in ("firing", "resolved"):
            raise SinkError(f"alerts[{i}].status is {alert.get('status')!r}, expected firing or resolved")
        if parse_time(alert.get("startsAt")) is None:
            raise SinkError(f"alerts[{i}].startsAt is not a time: {alert.get('startsAt')!r}")
        out.append(
            {
                "status": alert["status"],
                "labels": {str(k): str(v) for k, v in labels.items()},
                "annotations": {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
                "startsAt": alert["startsAt"],
                "endsAt": alert.get("endsAt") or "",
                "fingerprint": str(alert.get("fingerprint") or ""),
            }
        )
    envelope = {k: data.get(k) for k in ("receiver", "status", "groupKey") if k in data}
    return envelope, out


_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(value: object) -> float | None:
    """Epoch seconds of an RFC 3339 time as Alertmanager writes it (nanoseconds, ``Z`` or an offset);
    None for Go's zero time (``0001-01-01T00:00:00Z``: not set) and for anything else."""
    if not isinstance(value, str):
        return None
    m = _TIME.match(value.strip())
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        moment = datetime.fromisoformat(m.group(1) + zone)
    except ValueError:
        return None
    if moment.year <= 1:
        return None
    return moment.timestamp() + float("0." + (m.group(2) or "0"))


def parse_address(text: str, option: str = "--alert-sink") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9099`` for IPv6) of ``--alert-sink`` (``option``, named when refused)."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(option, text, "expected HOST:PORT, e.g. 10.213.30.1:9099")
    return host, int(port)


def sink_token(token_file: str | None, option: str = "--alert-sink-token-file") -> str | None:
    """The sink's bearer token: the file's content (``option``, named when refused), else
    ``LOADTESTS_ALERT_SINK_TOKEN``; None: no token."""
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(option, token_file, f"cannot read: {exc.strerror}") from None
        if not token:
            raise ConfigError(option, token_file, "the file is empty")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


class AlertSink:
    """Alertmanager's webhook receiver for one run: ``start()``, then ``stop()`` when the run ends.

    POST (any path) a version 4 notification: 200, one line per alert appended
    to ``path``; not JSON or not a notification: 400 with the reason; without
    the bearer token when one is set: 401. ``GET /-/healthy``: 200.
    """

    def __init__(
        self,
        host: str,
        port: int,
        path: Path,
        token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.lines = LineSink(path, None)
        self.token = token
        self.clock = clock
        self.received = 0  # alerts written
        self.refused = 0  # requests refused (bad JSON, no token)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2})
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> AlertSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def authorised(self, header: str | None) -> bool:
        if self.token is None:
            return True
        given = (header or "").encode()
        return hmac.compare_digest(given, f"Bearer {self.token}".encode())

    def accept(self, body: bytes) -> int:
        """Write the notification's alerts; the number written. Raises SinkError."""
        envelope, alerts = parse_notification(body)
        now = self.clock()
        lines = [json.dumps({"received": round(now, 3), **envelope, **a}, sort_keys=True) for a in alerts]
        with self._lock:
            self.lines.write(lines)
            self.received += len(lines)
        return len(lines)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 15  # a client that stalls mid-request does not hold a thread for ever

            def reply(self, code: int, text: str = "") -> None:
                body = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if code == 401:
                    self.send_header("WWW-Authenticate", 'Bearer realm="loadtests alert sink"')
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.reply(200, "ok\n") if self.path == "/-/healthy" else self.reply(404, "not found\n")

            def do_POST(self) -> None:
                if not sink.authorised(self.headers.get("Authorization")):
                    sink.refused += 1
                    self.reply(401, "bearer token required\n")
                    return
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    sink.refused += 1
                    self.reply(411, "Content-Length required\n")
                    return
                if int(length) > MAX_BODY:
                    sink.refused += 1
                    self.reply(413, f"more than {MAX_BODY} bytes\n")
                    return
                try:
                    n = sink.accept(self.rfile.read(int(length)))
                except SinkError as exc:
                    sink.refused += 1
                    self.reply(400, f"{exc}\n")
                    return
                self.reply(200, f"{n} alerts\n")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # no request line on the console (and never a header)

        return Handler


# ------------------------------------------------------------------ what was received


@dataclass
class FiredAlert:
    """One alert instance: an alert (its labels) from one ``startsAt`` to its resolution."""

    name: str
    labels: dict[str, str]
    starts_at: float
    ends_at: float | None  # when Prometheus resolved it; None: still firing when the sink stopped
    fingerprint: str
    first_received: float
    resolved_received: float | None = None

    def label_text(self, skip: Sequence[str] = ("alertname",)) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()) if k not in skip)


def read_alerts(path: Path) -> list[FiredAlert]:
    """The alert instances of a sink's file, in the order they started (a torn last line is skipped)."""
    if not path.exists():
        return []
    found: dict[tuple[str, float], FiredAlert] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            labels = dict(row["labels"])
            starts = parse_time(row["startsAt"])
            received = float(row["received"])
        except (ValueError, KeyError, TypeError):
            continue
        if starts is None:
            continue
        key = (row.get("fingerprint") or json.dumps(labels, sort_keys=True), starts)
        alert = found.get(key)
        if alert is None:
            alert = found[key] = FiredAlert(
                str(labels.get("alertname", "")),
                labels,
                starts,
                None,
                str(row.get("fingerprint", "")),
                received,
            )
        alert.first_received = min(alert.first_received, received)
        if row.get("status") == "resolved":
            alert.ends_at = parse_time(row.get("endsAt"))
            alert.resolved_received = received
    return sorted(found.values(), key=lambda a: (a.starts_at, a.name, a.label_text()))


def unresolved_since(path: Path, since: float) -> list[FiredAlert]:
    """The alerts that started at or after ``since`` and have not resolved (yet)."""
    return [a for a in read_alerts(path) if a.starts_at >= since - EARLY_S and a.ends_at is None]


# ------------------------------------------------------------------ detection windows


@dataclass(frozen=True)
class RuleWindow:
    """An alert's detection window: how long a fault must last before the alert can fire."""

    name: str
    window_s: float | None  # the detection_window annotation, else the rule's ``for``
    for_s: float
    description: str = ""


@dataclass(frozen=True)
class Windows:
    """The windows of every alert rule, and where they were read."""

    rules: dict[str, RuleWindow]
    source: str
    error: str = ""


def _window(name: str, for_s: float, annotations: Mapping[str, Any]) -> RuleWindow:
    text = annotations.get("detection_window")
    try:
        window = parse_duration(text) if text is not None else for_s
    except ValueError:
        window = for_s
    return RuleWindow(name, window, for_s, str(annotations.get("description", "")))


def _merge(found: list[RuleWindow]) -> dict[str, RuleWindow]:
    """Several rules of one name (a warning and a critical one): the shortest window, the first text."""
    out: dict[str, RuleWindow] = {}
    for w in found:
        have = out.get(w.name)
        if have is None or (w.window_s or 0.0) < (have.window_s or 0.0):
            out[w.name] = RuleWindow(w.name, w.window_s, w.for_s, have.description if have else w.description)
    return out


def windows_from_api(prometheus: Prometheus) -> Windows:
    """The loaded alerting rules, as Prometheus holds them (``duration`` is the ``for``, in seconds)."""
    try:
        rules = prometheus.alerting_rules()
    except PrometheusError as exc:
        return Windows({}, f"Prometheus rules API at {prometheus.base_url}", str(exc))
    found = [
        _window(str(r["name"]), float(r.get("duration") or 0.0), r.get("annotations") or {}) for r in rules
    ]
    return Windows(_merge(found), f"Prometheus rules API at {prometheus.base_url}")


def default_rule_files() -> list[Path]:
    """The platform's rule files: ``roles/prometheus/files/rules/*.yml`` of the installed collection."""
    return sorted((collection_root() / "roles" / "prometheus" / "files" / "rules").glob("*.yml"))


def rule_files(given: Sequence[str]) -> list[Path]:
    """``--alert-rules`` (files or directories of ``*.yml``), else the collection's own rule files."""
    if not given:
        return default_rule_files()
    paths: list[Path] = []
    for item in given:
        p = Path(item)
        if p.is_dir():
            paths += sorted([*p.glob("*.yml"), *p.glob("*.yaml")])
        elif p.exists():
            paths.append(p)
        else:
            raise ConfigError("--alert-rules", item, "no such file or directory")
    return paths


def windows_from_files(paths: Sequence[Path]) -> Windows:
    """The alerting rules of Prometheus rule files (``groups[].rules[]`` with ``alert``)."""
    found: list[RuleWindow] = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(path, "", f"not a rule file: {exc}") from None
        for group in data.get("groups") or [] if isinstance(data, dict) else []:
            for rule in group.get("rules") or []:
                if "alert" not in rule:
                    continue
                try:
                    for_s = parse_duration(rule.get("for", 0))
                except ValueError:
                    for_s = 0.0
                found.append(_window(str(rule["alert"]), for_s, rule.get("annotations") or {}))
    where = ", ".join(sorted({str(p.parent) for p in paths})) or "(none)"
    return Windows(_merge(found), f"rule files in {where}")


def unknown_alerts(drills: Sequence[DrillSpec], windows: Windows, file: str | Path) -> list[ConfigError]:
    """Expected alerts that no rule defines (a typo would be reported as missed at every run)."""
    return [
        ConfigError(
            file,
            f"drills[{i}].alerts[{j}].name",
            f"no alert rule named {a.name!r} in the {windows.source} "
            f"(known: {', '.join(sorted(windows.rules))})",
        )
        for i, d in enumerate(drills)
        for j, a in enumerate(d.alerts or ())
        if a.name not in windows.rules
    ]


# ------------------------------------------------------------------ the fault of each drill


@dataclass(frozen=True)
class Fault:
    start: float
    end: float
    source: str  # "action" (the drill's action, start to end) or the file its times came from
    note: str = ""  # why the file's times were not used

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def fault_of(spec: DrillSpec | None, record: DrillRecord) -> Fault:
    """The fault's span: the drill's ``fault`` file when it names one (and it can be read), else the
    action's span (a ``down_for`` drill's action is the outage: down, wait, back)."""
    action = Fault(record.started, max(record.finished, record.started), "action")
    if spec is None or spec.fault is None:
        return action
    ft = spec.fault
    matches = [Path(p) for p in glob.glob(ft.file)]
    fresh = [p for p in matches if p.stat().st_mtime >= record.started - EARLY_S]
    if not fresh:
        why = "not written by this drill" if matches else "not found"
        return Fault(action.start, action.end, "action", f"{ft.file}: {why}")
    newest = max(fresh, key=lambda p: p.stat().st_mtime)
    try:
        data = json.loads(newest.read_text(encoding="utf-8"))
        start, end = float(data[ft.start]), float(data[ft.end])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Fault(action.start, action.end, "action", f"{newest}: no {ft.start}/{ft.end} times ({exc})")
    if not record.started - EARLY_S <= start <= end:
        return Fault(
            action.start, action.end, "action", f"{newest}: {ft.start}..{ft.end} is not inside the drill"
        )
    return Fault(start, end, str(newest))


def expected_values(
    expectation: AlertExpectation, spec: DrillSpec, branches: Sequence[PlanBranch]
) -> set[str]:
    """The values ``each`` must take: ``values``, the branches of ``link``, or those the link drill cuts."""
    if expectation.values is not None:
        return set(expectation.values)
    link = expectation.link
    if link is not None:
        return {b.code for b in branches if b.link_class == link}
    if spec.target in (*LINK_CLASSES, FLAPPING):
        return {b.code for b in branches if b.link_class == spec.target}
    return {b.code for b in branches if b.proxy == spec.target}


# ------------------------------------------------------------------ classification

COVERED, MISSED, BELOW, UNSPECIFIED, NONE_EXPECTED, NOT_RUN = (
    "covered",
    "missed",
    "below_window",
    "unspecified",
    "none_expected",
    "not_run",
)
STATUS_TEXT = {
    COVERED: "covered",
    MISSED: "missed",
    BELOW: "below the alert's window",
    UNSPECIFIED: "no alert named",
    NONE_EXPECTED: "no alert expected",
    NOT_RUN: "drill did not run",
}
PASSING = (COVERED, NONE_EXPECTED)


@dataclass
class CoverageRow:
    """One drill and one alert it should raise (or the drill alone when it names none)."""

    drill: str
    summary: str
    expected: str  # "BranchTunnelDown each branch", "" when the drill names none
    status: str
    detail: str
    fault_start_s: float | None = None
    fault_s: float | None = None
    fault_source: str = ""
    window_s: float | None = None
    delay_s: float | None = None  # first matching alert's startsAt - the fault's start
    delay_max_s: float | None = None  # the last one's (several branches)
    resolved_s: float | None = None  # last endsAt - the fault's end; None: not resolved (see resolved)
    resolved: bool = False
    fired: list[dict[str, Any]] = field(default_factory=list)
    expected_values: list[str] = field(default_factory=list)
    missing_values: list[str] = field(default_factory=list)
    extra_values: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # other alerts that started in the drill's span

    @property
    def passed(self) -> bool:
        return self.status in PASSING

    def as_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill,
            "summary": self.summary,
            "expected": self.expected,
            "status": self.status,
            "status_text": STATUS_TEXT[self.status],
            "passed": self.passed,
            "detail": self.detail,
            "fault_start_s": _r(self.fault_start_s),
            "fault_s": _r(self.fault_s),
            "fault_source": self.fault_source,
            "window_s": self.window_s,
            "delay_s": _r(self.delay_s),
            "delay_max_s": _r(self.delay_max_s),
            "resolved_s": _r(self.resolved_s),
            "resolved": self.resolved,
            "fired": self.fired,
            "expected_values": self.expected_values,
            "missing_values": self.missing_values,
            "extra_values": self.extra_values,
            "others": self.others,
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def seconds_words(s: float | None) -> str:
    if s is None:
        return "an unknown time"
    if s >= 3600 and s % 3600 == 0:
        return f"{s / 3600:g} h"
    if s >= 60 and s % 60 == 0:
        return f"{s / 60:g} min"
    return f"{s:.0f} s" if s >= 10 or s == int(s) else f"{s:.1f} s"


def _matches(alert: FiredAlert, e: AlertExpectation) -> bool:
    return alert.name == e.name and all(alert.labels.get(k) == v for k, v in e.labels.items())


@dataclass
class _Slot:
    """A drill's expected alert while the alerts are dealt out."""

    spec: DrillSpec
    record: DrillRecord
    fault: Fault
    expectation: AlertExpectation
    window: RuleWindow | None
    values: set[str] | None
    fired: list[FiredAlert] = field(default_factory=list)

    def horizon(self) -> float:
        window = (self.window.window_s or 0.0) if self.window else 0.0
        return self.fault.end + window + LATE_S

    def takes(self, alert: FiredAlert) -> bool:
        return _matches(alert, self.expectation) and (
            self.fault.start - EARLY_S <= alert.starts_at <= self.horizon()
        )

    def wants(self, alert: FiredAlert) -> bool:
        each = self.expectation.each
        return each is None or self.values is None or alert.labels.get(each) in self.values


def coverage(  # noqa: PLR0917 - the run's pieces, each needed
    specs: Sequence[DrillSpec],
    records: Sequence[DrillRecord],
    alerts: Sequence[FiredAlert],
    windows: Windows,
    branches: Sequence[PlanBranch],
    run_start: float,
) -> list[CoverageRow]:
    """Per drill and expected alert: covered, missed or below the alert's window.

    Each alert instance goes to at most one drill's expectation: one whose
    alert (name and labels) it is and in whose span it started (from the fault's
    start, 2 s early for clocks, to its end plus the alert's window plus 60 s),
    preferring one whose ``each`` values hold its label, then the drill that
    started last. A fault shorter than the alert's window is never covered:
    the platform could not have seen it.
    """
    by_name = {s.name: s for s in specs}
    ran = [r for r in sorted(records, key=lambda r: r.at) if r.started and r.name in by_name]
    faults = {r.name: fault_of(by_name[r.name], r) for r in ran}
    slots = [
        _Slot(
            by_name[r.name],
            r,
            faults[r.name],
            e,
            windows.rules.get(e.name),
            expected_values(e, by_name[r.name], branches) if e.each else None,
        )
        for r in ran
        for e in by_name[r.name].alerts or ()
    ]
    for alert in alerts:
        takers = [s for s in slots if s.takes(alert)]
        if takers:
            best = max(takers, key=lambda s: (s.wants(alert), s.fault.start))
            best.fired.append(alert)
    dealt = {id(a) for s in slots for a in s.fired}
    rows: list[CoverageRow] = []
    for rec in sorted(records, key=lambda r: r.at):
        spec = by_name.get(rec.name)
        summary = (spec.summary if spec else "") or rec.name.replace("_", " ")
        if spec is None or rec.name not in faults:
            expected = ", ".join(e.describe() for e in (spec.alerts or ())) if spec else ""
            rows.append(CoverageRow(rec.name, summary, expected, NOT_RUN, "the drill did not start"))
            continue
        fault = faults[rec.name]
        others = sorted(
            {
                a.name
                for a in alerts
                if id(a) not in dealt and fault.start - EARLY_S <= a.starts_at <= fault.end + LATE_S
            }
        )
        if spec.alerts is None:
            rows.append(
                _with_fault(
                    CoverageRow(
                        rec.name,
                        summary,
                        "",
                        UNSPECIFIED,
                        "the scenario names no alert for this drill (alerts:), so whether operators are "
                        "paged when it happens is unknown",
                    ),
                    fault,
                    run_start,
                    others,
                )
            )
        elif not spec.alerts:
            row = CoverageRow(rec.name, summary, "", NONE_EXPECTED, "planned: the scenario expects no alert")
            rows.append(_with_fault(row, fault, run_start, others))
        else:
            rows += [
                _with_fault(_classify(s, summary, windows, run_start), fault, run_start, others)
                for s in slots
                if s.record is rec
            ]
    return rows


def _with_fault(row: CoverageRow, fault: Fault, run_start: float, others: list[str]) -> CoverageRow:
    row.fault_start_s = fault.start - run_start
    row.fault_s = fault.seconds
    row.fault_source = fault.source + (f" ({fault.note})" if fault.note else "")
    row.others = others
    return row


def _classify(slot: _Slot, summary: str, windows: Windows, run_start: float) -> CoverageRow:
    e, fault, fired = slot.expectation, slot.fault, sorted(slot.fired, key=lambda a: a.starts_at)
    window = slot.window.window_s if slot.window else None
    row = CoverageRow(
        slot.record.name,
        summary,
        e.describe(),
        MISSED,
        "",
        window_s=window,
        fired=[
            {
                "name": a.name,
                "labels": a.label_text(skip=("alertname", "runbook_base_url")),
                "starts_at_s": round(a.starts_at - run_start, 1),
                "ends_at_s": None if a.ends_at is None else round(a.ends_at - run_start, 1),
                "delay_s": round(a.starts_at - fault.start, 1),
            }
            for a in fired
        ],
    )
    if fired:
        row.delay_s = fired[0].starts_at - fault.start
        row.delay_max_s = max(a.starts_at for a in fired) - fault.start
        row.resolved = all(a.ends_at is not None for a in fired)
        if row.resolved:
            row.resolved_s = max(a.ends_at or 0.0 for a in fired) - fault.end
    if slot.values is not None and e.each is not None:
        got = {a.labels.get(e.each, "") for a in fired}
        row.expected_values = sorted(slot.values)
        row.missing_values = sorted(slot.values - got)
        row.extra_values = sorted(got - slot.values)
    lasted = seconds_words(fault.seconds)
    if window is not None and fault.seconds < window:
        row.status = BELOW
        anyway = f"; {e.name} fired anyway" if fired else ""
        row.detail = (
            f"the fault lasted {lasted}, {e.name} needs {seconds_words(window)}: "
            f"the platform could not page for it{anyway}"
        )
    elif slot.values is not None and e.each is not None:
        row.detail = _each_detail(row, e, slot.values)
        row.status = MISSED if row.detail else COVERED
    elif fired:
        row.status = COVERED
    if row.status == COVERED:
        row.detail = f"{e.name} fired {seconds_words(row.delay_s)} after the fault, " + _resolution(row)
    elif not fired and row.status == MISSED:
        known = "" if e.name in windows.rules or not windows.rules else f" (no rule named {e.name} is loaded)"
        row.detail = row.detail or (
            f"{e.name} did not fire although the fault lasted {lasted}"
            + (f" and its window is {seconds_words(window)}" if window is not None else "")
            + known
        )
    return row


def _each_detail(row: CoverageRow, e: AlertExpectation, values: set[str]) -> str:
    """Why the alert's ``each`` label values differ from the drill's targets ("" when they agree)."""
    if not values:
        return f"the drill has no targets for each {e.each} (no branch on its link class)"
    parts = []
    if row.missing_values:
        parts.append(f"no {e.name} for {e.each} {', '.join(row.missing_values)}")
    if row.extra_values:
        extra = ", ".join(row.extra_values)
        parts.append(f"{e.name} also for {e.each} {extra}, which the drill did not cut")
    return "; ".join(parts)


def _resolution(row: CoverageRow) -> str:
    if not row.resolved or row.resolved_s is None:
        return "not resolved by the end of the run"
    if row.resolved_s < 0:
        return f"resolved {seconds_words(-row.resolved_s)} before the fault's end"
    return f"resolved {seconds_words(row.resolved_s)} after the fault's end"
