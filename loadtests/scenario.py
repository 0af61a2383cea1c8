"""Traffic mixes as YAML scenarios (normal_day, promotion_peak, ...).

A scenario names the persona weights, the number of users, the spawn rate,
the duration, the link-class shares of branches, the share of LTE branches
whose link flaps, and the drill timeline. ``load_scenario`` validates it and
raises ConfigError naming the file, the key and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from loadtests.durations import parse_duration
from loadtests.errors import check_names, load_yaml_mapping, validate_model
from loadtests.links import LINK_CLASSES, LinkProfile

PERSONAS = (
    "pos_cashier",
    "store_manager",
    "warehouse_scanner",
    "finance",
    "reporting",
    "integration_api",
)
EXECUTORS = ("docker", "ansible", "patroni", "process", "toxiproxy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DrillSpec(_Strict):
    """One fault action on the timeline, ``at`` seconds after the run starts."""

    name: str = Field(min_length=1)
    at: float
    executor: Literal["docker", "ansible", "patroni", "process", "toxiproxy"]
    action: str = Field(min_length=1)
    target: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    observe: float = 60.0  # how long after the action the drill's window stays open

    @field_validator("at", "observe", mode="before")
    @classmethod
    def _duration(cls, v: object) -> float:
        return parse_duration(v)


class LinkMix(_Strict):
    """Shares of branches per link class, and the share of LTE branches that flap."""

    shares: dict[str, float] = Field(default_factory=lambda: {"fiber": 1.0})
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
        if abs(total - 1.0) > 0.001:
            raise ValueError(f"shares must add up to 1.0, got {total:g}")
        return v

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, v: dict[str, LinkProfile]) -> dict[str, LinkProfile]:
        unknown = sorted(set(v) - set(LINK_CLASSES) - {"lte_flapping"})
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
    data = load_yaml_mapping(path)
    return validate_model(Scenario, data, path)


def load_drills(path: str | Path) -> tuple[DrillSpec, ...]:
    """A drill timeline kept apart from the traffic mix (``drills:`` list)."""
    data = load_yaml_mapping(path)
    return validate_model(_DrillFile, data, path).drills


class _DrillFile(_Strict):
    drills: tuple[DrillSpec, ...]
