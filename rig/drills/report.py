"""The campaign's verdict against issue 19's goals, and a report for people: the verdict and what a
failed goal means for the stores first, the figures after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_DRILLS = 5


@dataclass(frozen=True)
class Goal:
    fault: str
    preset: str
    measure: str  # gap_s, rejoin, ledger, split
    stat: str  # median, p95, max, count
    limit: float
    title: str
    stores: str  # what a miss means at the till


GOALS = (
    Goal(
        "pg-container-kill",
        "project",
        "gap_s",
        "median",
        15.0,
        "PostgreSQL node crash: median write gap at most 15 s",
        "a till waits longer than 15 s for its order to be saved when a database server dies",
    ),
    Goal(
        "pg-container-kill",
        "project",
        "ledger",
        "count",
        0.0,
        "PostgreSQL node crash: no acknowledged write lost",
        "an order a till was told is saved can disappear when a database server dies",
    ),
    Goal(
        "pg-switchover",
        "project",
        "gap_s",
        "median",
        3.0,
        "planned switchover: median write gap at most 3 s",
        "day-2 maintenance of the database is felt at the tills for more than 3 s",
    ),
    Goal(
        "redis-kill",
        "project",
        "gap_s",
        "p95",
        5.0,
        "Redis primary kill: p95 write gap at most 5 s",
        "logins and carts stall for more than 5 s when the session server dies",
    ),
    Goal(
        "pg-partition",
        "project",
        "split",
        "count",
        0.0,
        "partition: no write acknowledged only by the isolated node after the promotion",
        "split brain: orders saved on a cut-off server vanish when it rejoins",
    ),
    Goal(
        "pg-container-kill",
        "project",
        "rejoin",
        "max",
        60.0,
        "rejoin after a crash on an idle cluster within 60 s, every time",
        "a crashed server stays out of the cluster on a quiet night: the next failure has no standby",
    ),
)


def _entry(doc: dict[str, Any], fault: str, preset: str) -> dict[str, Any] | None:
    entry: dict[str, Any] | None = doc.get("summary", {}).get(fault, {}).get(preset)
    return entry


def check(doc: dict[str, Any], goal: Goal) -> dict[str, Any]:
    entry = _entry(doc, goal.fault, goal.preset)
    if entry is None:
        return {"goal": goal.title, "status": "not run", "value": None, "n": 0}
    n = int(entry["drills"])
    if goal.measure == "ledger":
        value: float | None = float(entry["lost_writes"])
    elif goal.measure == "split":
        value = float(entry.get("acked_only_by_isolated_after_promotion", 0)) + float(entry["lost_writes"])
    elif goal.measure == "rejoin":
        over = int(entry["rejoin_over_goal"])
        value = entry["rejoin_s"]["max"] if over == 0 else float("inf")
    else:
        value = entry[goal.measure][goal.stat]
    failed = int(entry["failed"])
    if failed:
        status = "fail"  # a drill the stores never came back from (or one that went wrong) is not a pass
    elif value is None or n < MIN_DRILLS:
        status = "too few"
    else:
        status = "pass" if value <= goal.limit else "fail"
    return {
        "goal": goal.title,
        "status": status,
        "value": value,
        "n": n,
        "failed_drills": int(entry["failed"]),
    }


def verdict(doc: dict[str, Any]) -> dict[str, Any]:
    checks = [check(doc, g) for g in GOALS]
    failed = [c for c, g in zip(checks, GOALS, strict=True) if c["status"] == "fail"]
    return {
        "pass": not failed and all(c["status"] == "pass" for c in checks),
        "checks": checks,
        "failed": [c["goal"] for c in failed],
    }


def _f(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return "inf" if v == float("inf") else f"{v:.1f}"
    return str(v)


def render(doc: dict[str, Any]) -> str:
    v = doc["verdict"]
    lines = [
        f"FAILOVER DRILLS: {'PASS' if v['pass'] else 'NOT PASSED'} ({len(doc['drills'])} drills, "
        f"{doc['seconds'] / 60:.0f} min, run {doc['run_id']})",
        "",
    ]
    by_title = {g.title: g for g in GOALS}
    for c in v["checks"]:
        mark = {"pass": "ok  ", "fail": "FAIL", "not run": "----", "too few": "n<5 "}[c["status"]]
        lines.append(f"  {mark} {c['goal']}: {_f(c['value'])} (n={c['n']})")
        if c["status"] == "fail":
            lines.append(f"       for the stores: {by_title[c['goal']].stores}")
    lines += ["", "Write gap, first write and rejoin per fault and preset (seconds; median / p95 / max, n):"]
    for fault, by_preset in doc["summary"].items():
        lines.append(f"  {fault}")
        for preset, e in by_preset.items():
            if preset == "ratios_to_patroni_default":
                continue
            g, fw, rj = e["gap_s"], e["first_write_s"], e["rejoin_s"]
            parts = e["parts_median_s"]
            lines.append(
                f"    {preset:16} gap {_f(g['median'])} / {_f(g['p95'])} / {_f(g['max'])} (n={g['n']}); "
                f"first write {_f(fw['median'])}; "
                f"rejoin {_f(rj['median'])} / {_f(rj['p95'])} / {_f(rj['max'])}; "
                f"lost {e['lost_writes']} of {e['acked_writes']}; failed drills {e['failed']}"
            )
            if any(x is not None for x in parts.values()):
                lines.append(
                    "      median parts: "
                    + ", ".join(f"{k} {_f(x)}" for k, x in parts.items())
                    + f"; etcd leader on the old leader in {e['etcd_leader_on_old']} of {e['drills']}"
                    + f"; rejoined through pg_rewind {e.get('rewound', 0)} of {e['drills']}"
                )
            if "fence_s" in e:
                lines.append(
                    "      fenced (the isolated node out of the primary role) after "
                    f"{_f(e['fence_s']['median'])} s median, "
                    f"{_f(e['fence_s']['max'])} max; acknowledged only by it after the promotion: "
                    f"{e['acked_only_by_isolated_after_promotion']}"
                )
        ratios = by_preset.get("ratios_to_patroni_default")
        if ratios:
            lines.append(
                "    median gap against Patroni's defaults: "
                + ", ".join(f"{p} x{r:.2f}" if r is not None else f"{p} -" for p, r in ratios.items())
            )
    failed = [d for d in doc["drills"] if not d["ok"]]
    if failed:
        lines += ["", "Drills that failed:"]
        lines += [f"  {d['fault']} #{d['number']} ({d['preset']}): {d['error']}" for d in failed]
    lines += ["", "Presets:"]
    lines += [f"  {name}: {p.get('description', '')}" for name, p in doc["presets"].items()]
    return "\n".join(lines) + "\n"
