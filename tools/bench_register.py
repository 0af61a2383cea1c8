"""Benchmark the branch register: parse + validate + compute for 10, 100, 500 and 2000 branches.

    python tools/bench_register.py [--repeat 7] [--out results/bench_register.txt]

All sizes are measured in the same run, side by side, so the figures compare
sizes with each other (per-branch cost, ratio to the 10-branch register)
rather than promise a wall-clock time on some other machine. Each figure is
the best of --repeat runs. Phases:

  read      YAML file -> Python data (PyYAML safe loading, duplicate keys refused)
  validate  data -> Register: every check plus tunnel address allocation
  inventory hosts, groups and hostvars (what the inventory plugin adds)
  allow     Traefik allow lists per branch group (collapsed CIDRs) and the
            load harness's branch list
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from loadtests.branchctl import generate
from loadtests.collection import build_register, read_yaml

ROOT = Path(__file__).resolve().parent.parent

SIZES = (10, 100, 500, 2000)


def best_of(repeat: int, func: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _round in range(repeat):
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure(size: int, repeat: int, workdir: Path) -> dict[str, Any]:
    path = workdir / f"bench-{size}.yml"
    path.write_text(yaml.safe_dump(generate(size), sort_keys=False))
    read_s, data = best_of(repeat, lambda: read_yaml(str(path)))
    validate_s, register = best_of(repeat, lambda: build_register([(str(path), data)]))
    if register.problems:
        raise SystemExit(f"generated register of {size} branches is invalid: {register.problems[:3]}")

    inventory_s = best_of(repeat, register.inventory)[0]
    allow_s = best_of(repeat, lambda: (register.allow_lists(), register.branch_list()))[0]
    return {
        "branches": size,
        "read_s": read_s,
        "validate_s": validate_s,
        "inventory_s": inventory_s,
        "allow_s": allow_s,
        "total_s": read_s + validate_s + inventory_s + allow_s,
    }


def render(rows: list[dict[str, Any]], repeat: int) -> str:
    base = rows[0]
    lines = [
        f"branch register benchmark, best of {repeat}, Python {sys.version.split()[0]}",
        "",
        f"{'branches':>8} {'read ms':>9} {'valid ms':>9} {'inv ms':>9} {'allow ms':>9} {'total ms':>9} "
        f"{'us/branch':>10} {'x vs ' + str(base['branches']):>9}",
    ]
    for row in rows:
        lines.append(
            f"{row['branches']:>8} {row['read_s'] * 1e3:>9.1f} {row['validate_s'] * 1e3:>9.1f} "
            f"{row['inventory_s'] * 1e3:>9.1f} {row['allow_s'] * 1e3:>9.1f} {row['total_s'] * 1e3:>9.1f} "
            f"{row['total_s'] / row['branches'] * 1e6:>10.1f} {row['total_s'] / base['total_s']:>9.1f}"
        )
    five = next((r for r in rows if r["branches"] == 500), None)
    if five:
        parse = five["read_s"] + five["validate_s"]
        lines += [
            "",
            f"500 branches: parse + validate = {parse * 1e3:.0f} ms; "
            f"+ inventory = {(parse + five['inventory_s']) * 1e3:.0f} ms; "
            f"everything = {five['total_s'] * 1e3:.0f} ms",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_register.txt")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(size, args.repeat, Path(tmp)) for size in SIZES]
    text = render(rows, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    sys.stdout.write(text)
    print(f"written to {args.out} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
