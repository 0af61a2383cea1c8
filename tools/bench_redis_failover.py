"""Benchmark the client-visible write gap of a Redis failover: the Odoo double's session store before
and after its failover handling, side by side, under the same faults in one run.

    python tools/bench_redis_failover.py [--repeat 5] [--faults kill hang planned]
        [--down-after-ms MS] [--redis-setting DIRECTIVE ...] [--out results/bench_redis_failover.json]

A loopback rig of the shared test fixtures (tests/fixtures/services.py, SentinelGroup): a primary,
two replicas and three Sentinels on 127.0.0.1 with the pilot's settings (down-after-milliseconds
2000, failover-timeout 10000, quorum 2, min-replicas-to-write 1, repl-diskless-sync-delay 0); the
settings before this benchmark were ``--down-after-ms 3000 --redis-setting "repl-diskless-sync-delay 5"``
(Redis's default, the last line of redis.conf wins). The redis-py of the run is the one imported
(PYTHONPATH=<Debian 12's python3-redis> measures the double's image's 4.3.4). Per cycle
every side writes a new session key through its own client every 75 ms (a thread each, all at the
same time); then one fault hits the primary Sentinel names:

  kill     SIGKILL; restarted once the cycle is over (it rejoins as a replica)
  hang     SIGSTOP (a hung primary: its port accepts connections, nothing answers); SIGCONT 2 s
           after Sentinel switched the primary
  planned  SENTINEL FAILOVER (the old primary keeps its clients' connections)

The writers go on until 12 s after Sentinel's +switch-master (40 s at most). The gap of a side is the
longest time between two consecutive acknowledged writes around the fault; a write acknowledged but
missing from the primary once the Sentinels agree again is lost. Sentinel's own events (+sdown,
+odown, +switch-master) are taken from the Sentinels' Pub/Sub, to split the gap into detection
(down-after), election and promotion, and the client's part. The sides:

  before   the store as it was: one Sentinel address, 5 s socket timeouts, redis-py's master_for
           without a retry (the call fails, the next one asks Sentinel)
  retry    the store's failover retry with the old 5 s socket timeouts
  after    the store as it is (rig/odoo_double/sessions.py: retry and 0.5 s socket timeouts)

Figures (per fault and side: n, median, p95, max of the gap, failed calls, the longest call, lost
writes) go to --out and a .txt beside it; the percentiles are the gates' (nearest rank,
loadtests.analysis.percentile): a p95 of 5 faults is the largest of them. Compare the sides of one
run with each other: the machine and its load shape the absolute figures. Stops by itself; every
process is stopped and the rig's directory removed at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loadtests.analysis import percentile  # noqa: E402
from rig.drills.probes import CallWriter  # noqa: E402
from rig.drills.timeline import longest_gap  # noqa: E402
from rig.odoo_double.config import Config  # noqa: E402
from rig.odoo_double.sessions import RedisSessionStore, sentinel_client  # noqa: E402
from tests.fixtures.services import SentinelGroup, new_tempdir  # noqa: E402

FAULTS = ("kill", "hang", "planned")
SIDES = ("before", "retry", "after")
INTERVAL = 0.075
EVENTS = ("+sdown", "+odown", "+switch-master")

Write = Callable[[str], None]


def session_config(group: SentinelGroup) -> Config:
    return Config(
        session_redis=True,
        session_redis_sentinel_host="127.0.0.1",
        session_redis_sentinel_port=group.sentinel_addresses[0][1],
        session_redis_sentinel_master_name=group.name,
        session_redis_password=group.password,
        session_redis_prefix="bench",
    )


def before_writer(cfg: Config) -> Write:
    """The store's write as it was: its client (5 s socket timeouts, no retry) and its SET."""
    client = sentinel_client(cfg, socket_timeout=5)
    prefix = f"session:{cfg.session_redis_prefix}:"

    def write(sid: str) -> None:
        client.set(prefix + sid, json.dumps({"uid": 1, "sid": sid}), ex=3600)

    return write


def store_writer(store: RedisSessionStore) -> Write:
    return lambda sid: store.save(sid, {"uid": 1, "sid": sid})


def acknowledged(write: Write) -> Callable[[str], str]:
    """A side's write as the campaign's writer calls it (what it returns: no server to name here)."""

    def call(sid: str) -> str:
        write(sid)
        return ""

    return call


def writers(cfg: Config) -> dict[str, Write]:
    return {
        "before": before_writer(cfg),
        "retry": store_writer(RedisSessionStore(cfg, client=sentinel_client(cfg, socket_timeout=5))),
        "after": store_writer(RedisSessionStore(cfg)),
    }


class SentinelEvents(threading.Thread):
    """The first time after ``since`` each Sentinel event of EVENTS about the master was published."""

    def __init__(self, group: SentinelGroup) -> None:
        super().__init__(daemon=True, name="sentinel-events")
        self.first: dict[str, float] = {}
        self.since = float("inf")
        self.done = threading.Event()
        self.pubsubs: list[Any] = []
        for watcher in group.watchers:
            client = watcher.client(group.password)
            pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            pubsub.subscribe(*EVENTS)
            self.pubsubs.append(pubsub)

    def run(self) -> None:
        while not self.done.is_set():
            for pubsub in self.pubsubs:
                message = pubsub.get_message(timeout=0.01)
                if message is None:
                    continue
                now, channel = time.time(), str(message["channel"])
                about_master = channel == "+switch-master" or str(message["data"]).startswith("master ")
                if now >= self.since and about_master and channel not in self.first:
                    self.first[channel] = now

    def close(self) -> None:
        self.done.set()
        self.join(5)
        for pubsub in self.pubsubs:
            pubsub.close()


def missing_keys(group: SentinelGroup, keys: list[str]) -> int:
    primary = group.primary().client(group.password)
    pipe = primary.pipeline(transaction=False)
    for key in keys:
        pipe.exists(key)
    return sum(1 for present in pipe.execute() if not present)


def cycle(group: SentinelGroup, fault: str, number: int) -> dict[str, Any]:
    if not group.wait_stable(90):
        raise RuntimeError(f"the rig is not stable before {fault} #{number}")
    old = group.primary()
    events = SentinelEvents(group)
    events.start()
    cfg = session_config(group)
    running = [
        CallWriter(side, acknowledged(write), f"{fault}{number}-", (redis.RedisError,), INTERVAL)
        for side, write in writers(cfg).items()
    ]
    for writer in running:
        writer.start()
    time.sleep(1.5 + random.random() * 0.1)  # the fault anywhere in a write interval
    events.since = fault_at = time.time()
    if fault == "kill":
        group.kill(old)
    elif fault == "hang":
        group.pause(old)
    else:
        group.failover()
    deadline = fault_at + 40
    while "+switch-master" not in events.first and time.time() < deadline:
        time.sleep(0.05)
    switched = events.first.get("+switch-master")
    if fault == "hang":
        time.sleep(max(0.0, (switched or deadline) + 2 - time.time()))
        group.resume(old)
    time.sleep(max(0.0, min((switched or deadline) + 12, deadline) - time.time()))
    for writer in running:
        writer.stop()
    for writer in running:
        writer.join(30)
    events.close()
    if fault == "kill":
        old.start()
    stable = group.wait_stable(90)
    result: dict[str, Any] = {
        "fault": fault,
        "old_primary": old.port,
        "new_primary": group.primary().port if stable else None,
        "sentinel_s": {name: round(at - fault_at, 3) for name, at in sorted(events.first.items())},
        "stable_after": stable,
        "sides": {},
    }
    for writer in running:
        acked = [a for a in writer.attempts if a.ok]
        gap = longest_gap([a.answered for a in acked], fault_at)
        acked_keys = [f"session:{cfg.session_redis_prefix}:{a.key}" for a in acked]
        result["sides"][writer.label] = {
            "gap_s": None if gap is None else round(gap, 3),
            "acked": len(acked),
            "failed_calls": len(writer.attempts) - len(acked),
            "longest_call_s": round(max((a.answered - a.sent for a in writer.attempts), default=0.0), 3),
            "lost": missing_keys(group, acked_keys) if stable else None,
        }
    return result


def summary(cycles: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fault in dict.fromkeys(c["fault"] for c in cycles):
        mine = [c for c in cycles if c["fault"] == fault]
        per_side: dict[str, Any] = {}
        for side in SIDES:
            gaps = sorted(c["sides"][side]["gap_s"] for c in mine if c["sides"][side]["gap_s"] is not None)
            per_side[side] = {
                "n": len(gaps),
                "gap_median_s": round(percentile(gaps, 50), 3) if gaps else None,
                "gap_p95_s": round(percentile(gaps, 95), 3) if gaps else None,
                "gap_max_s": round(max(gaps), 3) if gaps else None,
                "failed_calls": sum(c["sides"][side]["failed_calls"] for c in mine),
                "longest_call_s": max(c["sides"][side]["longest_call_s"] for c in mine),
                "lost": sum(c["sides"][side]["lost"] or 0 for c in mine),
            }
        sentinel = {
            name: round(percentile(vals, 50), 3)
            for name in EVENTS
            if (vals := sorted(c["sentinel_s"][name] for c in mine if name in c["sentinel_s"]))
        }
        out[fault] = {"sides": per_side, "sentinel_median_s": sentinel}
    return out


def render_text(doc: dict[str, Any]) -> str:
    lines = [
        "Client-visible write gap of a Redis failover (seconds between two acknowledged session writes)",
        f"redis-py {doc['redis_py']}, {doc['settings']}",
        "",
        f"{'fault':8} {'side':7} {'n':>2} {'median':>7} {'p95':>7} {'max':>7} {'failed':>6} "
        f"{'call max':>8} {'lost':>4}",
    ]
    for fault, figures in doc["summary"].items():
        for side, f in figures["sides"].items():
            lines.append(
                f"{fault:8} {side:7} {f['n']:>2} {f['gap_median_s']!s:>7} {f['gap_p95_s']!s:>7} "
                f"{f['gap_max_s']!s:>7} {f['failed_calls']:>6} {f['longest_call_s']:>8} {f['lost']:>4}"
            )
        lines.append(f"{'':8} Sentinel after the fault (median s): {figures['sentinel_median_s']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="cycles per fault")
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench_redis_failover.json")
    parser.add_argument(
        "--down-after-ms",
        type=int,
        help="Sentinel's down-after-milliseconds (default: the rig's, the pilot's)",
    )
    parser.add_argument(
        "--redis-setting",
        action="append",
        default=[],
        metavar="DIRECTIVE",
        help="one more line of redis.conf",
    )
    args = parser.parse_args()
    root = new_tempdir("bench-redis-failover-")
    group = SentinelGroup(root)
    group.down_after_ms = args.down_after_ms or group.down_after_ms
    group.settings += args.redis_setting
    cycles: list[dict[str, Any]] = []
    try:
        group.start()
        for fault in args.faults:
            for number in range(args.repeat):
                cycles.append(cycle(group, fault, number))
                print(json.dumps(cycles[-1]), flush=True)
    finally:
        group.stop()
        shutil.rmtree(root, ignore_errors=True)
    doc = {
        "redis_py": redis.__version__,
        "settings": (
            f"down-after-milliseconds {group.down_after_ms}, failover-timeout {group.failover_timeout_ms}, "
            f"quorum {group.quorum}, Redis {'; '.join(group.settings)}, "
            f"a write every {INTERVAL * 1000:.0f} ms per side"
        ),
        "summary": summary(cycles),
        "cycles": cycles,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    text = render_text(doc)
    args.out.with_suffix(".txt").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
