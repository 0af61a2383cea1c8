"""Benchmark generator efficiency: this harness against OdooLocust, same target, same run.

    python -m loadtests.bench [--seconds 30] [--users 10] [--max-requests 20000] \
        [--double-workers 2] [--out results/bench_generator]

Starts a private PostgreSQL and the Odoo double on 127.0.0.1 (the shared test
fixtures, fast settings), runs one headless Locust process per generator at
the same time against it, each bounded in time and in requests, and measures
each generator process's CPU time. Writes ``<out>.json`` and ``<out>.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from loadtests.bench.figures import ratio, render_text, side_figures
from loadtests.bench.loopback import LoopbackTarget, loopback_double
from loadtests.bench.runner import Generator, run_side_by_side
from loadtests.bench.workload import DOMAIN, FIELDS, LIMIT, MODEL

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SIDES = {
    "harness": HERE / "harness_locustfile.py",
    "odoolocust": HERE / "odoolocust_locustfile.py",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__)
    p.add_argument("--seconds", type=int, default=30, help="run time of each generator (bound)")
    p.add_argument("--users", type=int, default=10, help="Locust users per generator")
    p.add_argument("--max-requests", type=int, default=20000, help="requests per generator (bound)")
    p.add_argument("--double-workers", type=int, default=2, help="worker processes of the Odoo double")
    p.add_argument("--out", default=str(REPO / "results" / "bench_generator"), help="path without suffix")
    return p


def tools() -> dict[str, str]:
    return {
        "harness": f"loadtests FastHttpUser + OdooSession.call_kw (locust {version('locust')})",
        "odoolocust": f"OdooLocust {version('OdooLocust')} OdooLocustUser, protocol jsonrpc "
        f"(odoo-client-lib {version('odoo-client-lib')})",
    }


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = Path(args.out)
    logs = out.parent / f"{out.name}-logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    print(f"starting PostgreSQL and the Odoo double on 127.0.0.1 ({args.double_workers} workers)", flush=True)
    with loopback_double(args.double_workers) as target:
        print(f"target {target.url}; {args.users} users per generator, at most {args.seconds} s", flush=True)
        started = time.time()
        sides = run_side_by_side(
            [Generator(name, path, logs) for name, path in SIDES.items()],
            env=bench_env(target, args.max_requests),
            users=args.users,
            seconds=args.seconds,
            cwd=REPO,
        )
    doc = document(args, target, sides, started)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    text = render_text(doc)
    out.with_suffix(".txt").write_text(text, encoding="utf-8")
    print(text, end="", flush=True)
    print(f"figures: {out.with_suffix('.json')} and {out.with_suffix('.txt')}; logs in {logs}")
    return 0 if all(s["exit_code"] in (0, 1) and s["requests"] > 0 for s in doc["generators"].values()) else 1


def bench_env(target: LoopbackTarget, max_requests: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
        "BENCH_URL": target.url,
        "BENCH_HOST": "127.0.0.1",
        "BENCH_PORT": str(target.port),
        "BENCH_DB": target.db,
        "BENCH_LOGIN": target.login,
        "BENCH_PASSWORD": target.password,
        "BENCH_MAX_REQUESTS": str(max_requests),
    }


def document(
    args: argparse.Namespace, target: LoopbackTarget, sides: dict[str, Any], started: float
) -> dict[str, Any]:
    names = tools()
    generators = {
        name: {"tool": names[name], **side_figures(s.probe, s.cpu_s, s.exit_code)}
        for name, s in sides.items()
    }
    return {
        "benchmark": "generator efficiency: requests per second per generator core",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "host": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "target": {"url": target.url, "server": target.server, "double_workers": args.double_workers},
        "settings": {
            "users": args.users,
            "seconds": args.seconds,
            "max_requests": args.max_requests,
            "side_by_side": True,
            "task": f"{MODEL}.search_read domain={DOMAIN} fields={FIELDS} limit={LIMIT}, no think time "
            "(OdooLocust: search + read, 2 RPCs)",
        },
        "generators": generators,
        "ratio_rps_per_core": ratio(
            generators["harness"]["rps_per_core"], generators["odoolocust"]["rps_per_core"]
        ),
    }


if __name__ == "__main__":
    sys.exit(main())
