"""Figures of one benchmark run: requests per second per generator core, side by side."""

from __future__ import annotations

from typing import Any


def side_figures(probe: dict[str, Any], process_cpu_s: float, exit_code: int) -> dict[str, Any]:
    """Rates over the measuring window, plus the whole process's CPU time (imports and start included)."""
    window = probe.get("window") or {}
    wall = float(window.get("wall_s") or 0.0)
    cpu = float(window.get("cpu_s") or 0.0)
    reqs = int(window.get("requests") or 0)
    return {
        "exit_code": exit_code,
        "requests": int(probe.get("requests", 0)),
        "failures": int(probe.get("failures", 0)),
        "window": window,
        "rps": round(reqs / wall, 1) if wall > 0 else None,
        "cores_used": round(cpu / wall, 3) if wall > 0 else None,
        "rps_per_core": round(reqs / cpu, 1) if cpu > 0 else None,
        "process_cpu_s": round(process_cpu_s, 3),
        "process_rps_per_core": round(int(probe.get("requests", 0)) / process_cpu_s, 1)
        if process_cpu_s > 0
        else None,
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def render_text(doc: dict[str, Any]) -> str:
    lines = [
        "Generator efficiency: requests per second per generator core (CPU time of the generator process)",
        f"target: {doc['target']['url']} ({doc['target']['server']}), "
        f"{doc['settings']['users']} users per generator, both at once, "
        f"at most {doc['settings']['seconds']} s and {doc['settings']['max_requests']} requests each",
        f"task: {doc['settings']['task']}",
        "",
        f"{'generator':<12} {'requests':>9} {'failures':>9} {'window s':>9} {'cpu s':>8} "
        f"{'req/s':>8} {'cores':>6} {'req/s/core':>11} {'proc cpu s':>11}",
    ]
    for name, side in doc["generators"].items():
        w = side["window"]
        lines.append(
            f"{name:<12} {side['requests']:>9} {side['failures']:>9} {w.get('wall_s')!s:>9} "
            f"{w.get('cpu_s')!s:>8} {side['rps']!s:>8} {side['cores_used']!s:>6} "
            f"{side['rps_per_core']!s:>11} {side['process_cpu_s']!s:>11}"
        )
    lines += ["", f"harness / OdooLocust (req/s per core): {doc['ratio_rps_per_core']}"]
    for name, side in doc["generators"].items():
        lines.append(f"{name}: {side['tool']}")
    return "\n".join(lines) + "\n"
