"""Traffic mixes as YAML scenarios (normal_day, promotion_peak, ...).

A scenario names the persona weights, the number of users, the spawn rate,
the duration, the link-class shares of branches, the share of LTE branches
whose link flaps, and the drill timeline. ``load_scenario`` validates it and
raises ConfigError naming the file, the key and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from loadtests import operations
from loadtests.collection import LINK_CLASSES
from loadtests.durations import parse_duration
from loadtests.errors import (
    ConfigError,
    ConfigErrors,
    bundled,
    check_names,
    load_yaml_mapping,
    validate_model,
)
from loadtests.links import FLAPPING, LinkProfile

PERSONAS = tuple(operations.PERSONAS)
EXECUTORS = ("docker", "ansible", "patroni", "process", "toxiproxy", "kubernetes")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ALERT_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")  # Prometheus refuses any other alert name
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class AlertExpectation(_Strict):
    """An alert the drill must raise (observability coverage, issue 17).

    ``labels``: labels the alert must carry with these values (``{job: node}``).
    ``each``: a label whose values over the fired alerts must be exactly the
    drill's targets, no fewer and no more: ``values`` when given, else the
    branch codes of the run's branches on link class ``link``, else (a
    ``toxiproxy`` drill) the branches its target cuts.
    """

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    each: str | None = None
    link: str | None = None
    values: tuple[str, ...] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not ALERT_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not an alert name (letters, digits, '_' and ':')")
        return v

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in v if not LABEL_NAME.fullmatch(k))
        if bad:
            raise ValueError(f"{bad[0]!r} is not a label name")
        return v

    @field_validator("each")
    @classmethod
    def _each(cls, v: str | None) -> str | None:
        if v is not None and not LABEL_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not a label name")
        return v

    @field_validator("link")
    @classmethod
    def _link(cls, v: str | None) -> str | None:
        if v is not None:
            check_names({v: 0}, (*LINK_CLASSES, FLAPPING), "link class")
        return v

    @field_validator("values")
    @classmethod
    def _values(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is not None and not v:
            raise ValueError("values must name at least one value (or leave it out)")
        return v

    def describe(self) -> str:
        """``BranchTunnelDown each branch``, ``ScrapeTargetDown {job=node}``."""
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return self.name + (f" {{{labels}}}" if labels else "") + (f" each {self.each}" if self.each else "")


class FaultTimes(_Strict):
    """Where the fault's own start and end are (epoch seconds), when the action is longer than the fault.

    A playbook drill (the PostgreSQL failover drill) spends time before the kill
    (facts, finding the leader) and after it (the rejoin): ``file`` is the JSON it
    writes (the newest match when it is a glob), ``start`` and ``end`` its keys.
    """

    file: str = Field(min_length=1)
    start: str = Field(min_length=1)
    end: str = Field(min_length=1)


class RestoreResults(_Strict):
    """A drill that restores the database to a point in time (playbooks/backup_restore_drill.yml):
    ``file`` is the JSON it writes (the newest match when it is a glob). After the run the harness
    reads the run's writes from the restored database (loadtests.restore_check)."""

    file: str = Field(min_length=1)


class RegionLoss(_Strict):
    """A drill that takes a whole region away (every container of it killed, the playbook or the
    script that does it). After the run the harness measures per tier, from the drill's start: the
    recovery time (to the first acknowledged write of the tier, or the first answered call of a
    tier that writes nothing) and the recovery point as the ledger sees it (acknowledged writes
    missing from the database that took over, and how old the oldest of them was at the loss: the
    point the DR region came back to),
    against the region's recovery objectives (loadtests.region_loss)."""

    region: str = Field(min_length=1)  # the region lost, for the report


class DrillSpec(_Strict):
    """One fault action on the timeline, ``at`` seconds after the run starts."""

    name: str = Field(min_length=1)
    at: float
    executor: Literal["docker", "ansible", "patroni", "process", "toxiproxy", "kubernetes"]
    action: str = Field(min_length=1)
    target: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    observe: float = 60.0  # how long after the action the drill's window stays open
    # Link classes whose branches the drill takes offline (a tunnel cut): their calls sent
    # during the action are its planned effect, reported apart and not counted against the
    # tiers, and the drill's recovery counts from the action's end (the link's return).
    offline_links: tuple[str, ...] = ()
    # What the drill does, in words for store operations ("the LTE stores lose their link").
    summary: str = ""
    # The alerts it must raise; [] = none (planned work that must not page); unset = not said,
    # which fails the coverage gate of a run that measures coverage.
    alerts: tuple[AlertExpectation, ...] | None = None
    fault: FaultTimes | None = None  # the fault's own times, when the action's span is not the fault
    restore: RestoreResults | None = None  # a point-in-time restore: checked against the ledger
    region_loss: RegionLoss | None = None  # a whole region lost: recovery time and point measured
    # false: the drill does nothing to the serving path (a restore on a scratch node, the failover
    # after a region loss): it ends no other drill's window and no recovery of its own is judged.
    # Default: true, false for a restore.
    injects_fault: bool = True

    @model_validator(mode="before")
    @classmethod
    def _injects_fault(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("restore") is not None and "injects_fault" not in data:
            return {**data, "injects_fault": False}
        return data

    @model_validator(mode="after")
    def _fault_kinds(self) -> DrillSpec:
        if self.region_loss is not None and self.restore is not None:
            raise ValueError("region_loss: a drill is a restore or a region loss, not both")
        if self.restore is not None and self.injects_fault:
            raise ValueError("injects_fault: a restore drill injects no fault (leave injects_fault out)")
        if self.region_loss is not None and not self.injects_fault:
            raise ValueError("injects_fault: a region loss is a fault (leave injects_fault out)")
        return self

    @field_validator("at", "observe", mode="before")
    @classmethod
    def _duration(cls, v: object) -> float:
        return parse_duration(v)

    @field_validator("offline_links")
    @classmethod
    def _offline_links(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        check_names(dict.fromkeys(v), LINK_CLASSES, "link class")
        return v

    @field_validator("alerts")
    @classmethod
    def _alerts(
        cls, v: tuple[AlertExpectation, ...] | None, info: ValidationInfo
    ) -> tuple[AlertExpectation, ...] | None:
        if v is None:
            return v
        seen = [(a.name, tuple(sorted(a.labels.items()))) for a in v]
        dupes = sorted({a[0] for a in seen if seen.count(a) > 1})
        if dupes:
            raise ValueError(f"alert {dupes[0]!r} is expected twice with the same labels")
        for i, a in enumerate(v):
            if (a.link is not None or a.values is not None) and a.each is None:
                raise ValueError(f"[{i}]: link and values name the targets of `each`: give each: <label>")
            if a.link is not None and a.values is not None:
                raise ValueError(f"[{i}]: give link or values, not both")
            known = a.link is not None or a.values is not None or info.data.get("executor") == "toxiproxy"
            if a.each is not None and not known:
                raise ValueError(
                    f"[{i}].each: the harness knows a drill's targets only for toxiproxy drills: "
                    "give link: <link class> (its branches) or values: [...]"
                )
        return v


class LinkMix(_Strict):
    """Shares of branches per link class, and the share of LTE branches that flap.

    Branches whose register entry has a link keep its class; the shares deal
    out the others. Empty shares (``{}``, the default) take every class from
    the register.
    """

    shares: dict[str, float] = Field(default_factory=dict)
    flapping_share: float = Field(default=0.0, ge=0.0, le=1.0)
    flap_period: float = 30.0
    flap_down: float = 5.0
    profiles: dict[str, LinkProfile] = Field(default_factory=dict)

    @field_validator("flap_period", "flap_down", mode="before")
    @classmethod
    def _duration(cls, v: object) -> float:
        return parse_duration(v)

    @field_validator("shares")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        check_names(v, LINK_CLASSES, "link class", "shares")
        total = sum(v.values())
        if v and abs(total - 1.0) > 0.001:  # {}: link classes from the register only
            raise ValueError(f"shares must add up to 1.0, got {total:g}")
        return v

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, v: dict[str, LinkProfile]) -> dict[str, LinkProfile]:
        unknown = sorted(set(v) - {*LINK_CLASSES, FLAPPING})
        if unknown:
            raise ValueError(f"unknown link class {unknown[0]!r}")
        return v

    @field_validator("flapping_share")
    @classmethod
    def _flapping(cls, v: float, info: ValidationInfo) -> float:
        if v > 0 and info.data.get("shares", {}).get("lte", 0.0) <= 0:
            raise ValueError("flapping_share needs LTE branches (shares.lte > 0)")
        return v

    @field_validator("flap_down")
    @classmethod
    def _flap_down(cls, v: float, info: ValidationInfo) -> float:
        period = info.data.get("flap_period")
        if period is not None and v >= period:
            raise ValueError(f"flap_down ({v:g}s) must be shorter than flap_period ({period:g}s)")
        return v


class Scenario(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    users: int = Field(ge=1, le=10000)
    spawn_rate: float = Field(gt=0)
    duration: float
    think_time_scale: float = Field(default=1.0, gt=0)
    personas: dict[str, float]
    month_end: bool = False  # finance persona posts more (month-end close)
    # the share of the cashiers' acknowledged orders they attach a receipt to (ir.attachment, 1-4 KB)
    pos_receipt_share: float = Field(default=0.25, ge=0.0, le=1.0)
    links: LinkMix = Field(default_factory=LinkMix)
    drills: tuple[DrillSpec, ...] = ()
    max_requests_per_user: int = Field(default=100000, ge=1)  # bound on every user's loop

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: object) -> float:
        seconds = parse_duration(v)
        if seconds <= 0:
            raise ValueError("duration must be positive")
        return seconds

    @field_validator("personas")
    @classmethod
    def _personas(cls, v: dict[str, float]) -> dict[str, float]:
        check_names(v, PERSONAS, "persona", "persona weights")
        if sum(v.values()) <= 0:
            raise ValueError("at least one persona needs a positive weight")
        return v

    @field_validator("drills")
    @classmethod
    def _drills(cls, v: tuple[DrillSpec, ...], info: ValidationInfo) -> tuple[DrillSpec, ...]:
        names = [d.name for d in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate drill name {dupes[0]!r}")
        duration = info.data.get("duration")
        for i, drill in enumerate(v):
            if duration is not None and drill.at >= duration:
                raise ValueError(f"[{i}].at {drill.at:g}s is not inside the run ({duration:g}s)")
        return v

    def persona_weights(self) -> dict[str, int]:
        """Locust weights: integers, keeping the ratios to 1 %."""
        total = sum(self.personas.values())
        return {p: max(1, round(100 * w / total)) for p, w in self.personas.items() if w > 0}


def load_scenario(path: str | Path) -> Scenario:
    """A scenario file, or the name of one the harness ships (``normal_day``, ``pilot_validation``...)."""
    path = bundled(path, "scenarios")
    data = load_yaml_mapping(path)
    return validate_model(Scenario, data, path)


def load_drills(path: str | Path) -> tuple[DrillSpec, ...]:
    """A drill timeline kept apart from the traffic mix (``drills:`` list)."""
    data = load_yaml_mapping(path)
    return validate_model(_DrillFile, data, path).drills


class _DrillFile(_Strict):
    drills: tuple[DrillSpec, ...]


PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_vars(items: list[str]) -> dict[str, str]:
    """``--var KEY=VALUE`` options; KEY is a placeholder name (letters, digits, underscores)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not VAR_NAME.fullmatch(key):
            raise ConfigError(
                "--var", item, "expected KEY=VALUE, KEY made of letters, digits and underscores"
            )
        out[key] = value
    return out


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")


def fill_placeholders(
    drills: tuple[DrillSpec, ...], variables: dict[str, str], file: str | Path
) -> tuple[DrillSpec, ...]:
    """Replace ``${KEY}`` in drill targets, params, fault and restore files and expected alerts by
    ``--var KEY=VALUE``.

    Values are inserted as they are (a value holding ``${...}`` is not
    expanded again). A placeholder left without a value is an error naming
    the file, the drill's key and the placeholder; all of them are reported.
    """
    errors = [
        ConfigError(file, path, f"placeholder ${{{name}}} has no value: pass --var {name}=VALUE")
        for i, d in enumerate(drills)
        for path, text in _strings(_fillable(d), f"drills[{i}]")
        for name in dict.fromkeys(PLACEHOLDER.findall(text))
        if name not in variables
    ]
    if errors:
        raise ConfigErrors(errors)
    return tuple(
        DrillSpec.model_validate({**d.model_dump(), **_fill(_fillable(d), variables)}) for d in drills
    )


def _fillable(d: DrillSpec) -> dict[str, Any]:
    """The parts of a drill that may hold placeholders, as plain data."""
    out: dict[str, Any] = {"target": d.target, "params": d.params}
    if d.fault is not None:
        out["fault"] = d.fault.model_dump(mode="json")
    if d.restore is not None:
        out["restore"] = d.restore.model_dump(mode="json")
    if d.alerts:
        out["alerts"] = [a.model_dump(mode="json", exclude_none=True) for a in d.alerts]
    return out
