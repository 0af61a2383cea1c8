"""Configuration errors that name the file, the key and the reason."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A bad scenario, gate or register file: ``<file>: <key>: <reason>``."""

    def __init__(self, file: str | Path, key: str, reason: str) -> None:
        self.file = str(file)
        self.key = key
        self.reason = reason
        super().__init__(f"{self.file}: {key or '<top>'}: {reason}")


class ConfigErrors(ConfigError):
    """Several problems in one file; the message lists them all, one a line."""

    def __init__(self, errors: list[ConfigError]) -> None:
        first = errors[0]
        super().__init__(first.file, first.key, first.reason)
        self.errors = errors
        self.args = ("\n".join(f"{e.file}: {e.key or '<top>'}: {e.reason}" for e in errors),)


def check_names(values: Mapping[str, Any], known: tuple[str, ...], what: str, weights: str = "") -> None:
    """A validator's checks of a mapping by name: every name known; with ``weights``, no value negative."""
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; known: {', '.join(known)}")
    if weights and any(w < 0 for w in values.values()):
        raise ValueError(f"{weights} must not be negative")


def key_path(loc: tuple[int | str, ...]) -> str:
    """``('tiers', 'pos_sync', 'p95_ms')`` -> ``tiers.pos_sync.p95_ms``; list items as ``[i]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


PACKAGE = Path(__file__).resolve().parent


def bundled(path: str | Path, folder: str) -> Path:
    """A file given by path, or by the name of one the harness ships (``pilot_validation``
    for ``<package>/scenarios/pilot_validation.yaml``), so an installed harness needs no checkout."""
    given = Path(path)
    if given.exists() or given.suffix or len(given.parts) > 1:
        return given
    shipped = PACKAGE / folder / f"{given.name}.yaml"
    return shipped if shipped.exists() else given


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; errors name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(p, "", f"cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<yaml>"
        raise ConfigError(p, where, f"invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ConfigError(p, "", f"expected a mapping at the top, got {type(data).__name__}")
    return data


def validate_model(model: type[M], data: dict[str, Any], file: str | Path) -> M:
    """Validate ``data`` with a pydantic model; map every error to file/key/reason."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            ConfigError(file, key_path(tuple(err["loc"])), _reason(err))
            for err in exc.errors(include_url=False)
        ]
        raise ConfigErrors(errors) from None


def _reason(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "missing":
        return "required key is missing"
    return msg
