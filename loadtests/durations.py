"""Durations written as ``90``, ``90s``, ``2m``, ``1h30m``, ``1.5s``, ``500ms`` or ``2d`` (``d`` and
``w`` as Prometheus writes them: an alert rule's ``for`` and ``detection_window``).

Locust's own ``locust.util.timespan.parse_timespan`` reads ``90s``, ``2m`` and
``1h30m`` but is no fit for the command line: importing anything from the
``locust`` package monkey-patches the whole process with gevent (the
command line runs the drills in threads, Locust in a subprocess, and the
preflight on ``requests``), and it reads neither fractions nor ``ms``, which
scenarios and gates accept.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")


def parse_duration(value: object) -> float:
    """Seconds as a float; raise ValueError with a readable reason."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 90s, 2m or 1h30m")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("duration must not be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like 90s, 2m or 1h30m")
    text = value.strip().replace(" ", "")
    if not text:
        raise ValueError("empty duration")
    pos = 0
    total = 0.0
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * scale[match.group(2)]
        pos = match.end()
    if pos != len(text):
        try:
            return parse_duration(float(text))
        except ValueError:
            raise ValueError(f"cannot read duration {value!r}; use e.g. 90s, 2m or 1h30m") from None
    return total


def format_duration(seconds: float) -> str:
    """Locust's ``-t`` form: whole seconds with an ``s`` suffix."""
    return f"{max(1, round(seconds))}s"
