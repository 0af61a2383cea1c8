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

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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

    @field_validator("at", "observe", mode="before")
    @classmethod
    def _duration(cls, v: object) -> float:
        return parse_duration(v)

    @field_validator("offline_links")
    @classmethod
    def _offline_links(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        check_names(dict.fromkeys(v), LINK_CLASSES, "link class")
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
    """Replace ``${KEY}`` in drill targets and params by ``--var KEY=VALUE``.

    Values are inserted as they are (a value holding ``${...}`` is not
    expanded again). A placeholder left without a value is an error naming
    the file, the drill's key and the placeholder; all of them are reported.
    """
    errors = [
        ConfigError(file, path, f"placeholder ${{{name}}} has no value: pass --var {name}=VALUE")
        for i, d in enumerate(drills)
        for path, text in _strings({"target": d.target, "params": d.params}, f"drills[{i}]")
        for name in dict.fromkeys(PLACEHOLDER.findall(text))
        if name not in variables
    ]
    if errors:
        raise ConfigErrors(errors)
    return tuple(
        d.model_copy(update={"target": _fill(d.target, variables), "params": _fill(d.params, variables)})
        for d in drills
    )
