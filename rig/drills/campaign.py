"""The failover drill campaign on the pilot region (``make drills``): each fault several times under
steady writes, each PostgreSQL crash under several presets side by side, statistics to a results
file and a report.

    python -m rig.drills [--inventory inventories/pilot-local/] [--rounds 5]
        [--presets patroni-default,pigsty-fast,project,project-etcd-colocated]
        [--crash-faults pg-container-kill,pg-process-kill]
        [--faults pg-switchover,redis-kill,pg-partition] [--async-partitions 2] [--out DIR]

Rounds interleave the presets (their order turns each round), so a slow moment of the machine
falls on every preset alike: compare the presets' figures as ratios. The project's own settings
are applied again at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from loadtests.drills import ansible_playbook
from rig.drills import probes
from rig.drills.drill import GAP_TIMEOUT, HEALTHY_TIMEOUT, REJOIN_GOAL, REJOIN_TIMEOUT, Drill, perform
from rig.drills.faults import (
    ContainerKill,
    FaultError,
    Partition,
    PatroniHang,
    ProcessKill,
    etcd_leader,
    move_etcd_leader,
    run_playbook,
)
from rig.drills.redis_drill import redis_drill
from rig.drills.region import Region, RegionError, load
from rig.drills.timeline import Attempt, figures, gap_end, ledger, longest_gap, phases, ratio, writing_again

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CRASH_FAULTS = ("pg-container-kill", "pg-process-kill")
OTHER_FAULTS = ("pg-switchover", "redis-kill", "pg-partition", "pg-patroni-hang")
# faults whose old leader stays reachable to clients: a writer goes to it directly (the split-brain probe)
ISOLATING = ("pg-partition", "pg-patroni-hang")


class CampaignError(RuntimeError):
    pass


def load_presets(path: Path = HERE / "presets.yml") -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CampaignError(f"{path}: a mapping of presets is expected")
    return data


class Campaign:
    def __init__(self, region: Region, out: Path, log: Callable[[str], None] = print) -> None:
        self.region = region
        self.out = out
        self.log = log
        self.client = probes.docker_client()
        self.run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.drills: list[Drill] = []
        self.presets = load_presets()
        self.applied = ""

    # -- presets ---------------------------------------------------------------------------
    def apply(self, preset: str) -> None:
        if preset == self.applied:
            return
        spec = self.presets[preset]
        vars_file = self.out / f"preset-{preset}.json"
        vars_file.write_text(json.dumps(spec.get("vars") or {}), encoding="utf-8")
        self.log(f"[drills] preset {preset}: {spec.get('description', '')}")
        argv = [
            ansible_playbook(),
            "-i",
            self.region.inventory,
            str(HERE / "preset.yml"),
            "-e",
            f"@{vars_file}",
        ]
        run_playbook(argv, self.out / f"preset-{preset}.log", timeout=600)
        self.applied = preset
        ok = probes.wait_until(lambda: probes.healthy(self.region)[0], HEALTHY_TIMEOUT, 1.0)
        if ok is None:
            raise CampaignError(f"after preset {preset}: {probes.healthy(self.region)[1]}")

    # -- one PostgreSQL drill ----------------------------------------------------------------
    def pg_drill(self, fault: str, preset: str, number: int) -> Drill:
        drill = Drill(fault, preset, number, started=time.time())
        if probes.wait_until(lambda: probes.healthy(self.region)[0], HEALTHY_TIMEOUT, 1.0) is None:
            drill.error = f"not healthy before the drill: {probes.healthy(self.region)[1]}"
            return drill
        return perform(drill, PgRun(self, drill, probes.leader(self.region)))

    def switchover(self, drill: Drill) -> None:
        argv = [
            ansible_playbook(),
            "-i",
            self.region.inventory,
            str(ROOT / "playbooks/postgresql_switchover.yml"),
        ]
        log = self.out / f"switchover-{drill.preset}-{drill.number}.log"
        thread_error: list[BaseException] = []

        def run() -> None:
            try:
                run_playbook(argv, log, timeout=600)
            except BaseException as exc:  # carried to the drill
                thread_error.append(exc)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join(600)
        if thread_error:
            raise thread_error[0]

    # -- the campaign ------------------------------------------------------------------------
    def keep(self, drill: Drill, rows: list[dict[str, Any]], fault_at: float, kind: str = "") -> None:
        """A drill's raw observations, their times (``at``, ``sent``, ``answered``) relative to the fault:
        attempts/<fault>-<preset>-<n>[.<kind>].jsonl (every write; ``watch``: what the cluster watch saw)."""
        folder = self.out / "attempts"
        folder.mkdir(exist_ok=True)
        name = f"{drill.fault}-{drill.preset}-{drill.number}{'.' + kind if kind else ''}.jsonl"
        with (folder / name).open("w", encoding="utf-8") as fh:
            for row in rows:
                timed = {k: round(v - fault_at, 3) for k, v in row.items() if k in {"at", "sent", "answered"}}
                fh.write(json.dumps({**row, **timed}, sort_keys=True) + "\n")

    def record(self, drill: Drill) -> None:
        self.drills.append(drill)
        with (self.out / "drills.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(drill), sort_keys=True) + "\n")
        verdict = "ok" if drill.ok else f"FAILED: {drill.error}"
        self.log(
            f"[drills] {drill.fault} #{drill.number} ({drill.preset}): gap {drill.gap_s} s, "
            f"first write {drill.first_write_s} s, rejoin {drill.rejoin_s} s, parts {drill.parts}, "
            f"lost {drill.ledger.get('lost')}; {verdict}"
        )


class PgRun:
    """One PostgreSQL drill: writers through every app node (and, for a partition, one straight to
    the leader), the cluster watched, the fault, the gap and its parts, the rejoin on an idle
    cluster, the ledger once the cluster is whole."""

    def __init__(self, campaign: Campaign, drill: Drill, leader_name: str) -> None:
        self.c, self.drill, self.region = campaign, drill, campaign.region
        self.old = self.region.db_node(leader_name)
        drill.old = leader_name
        self.prefix = f"{campaign.run_id}-{drill.fault}-{drill.preset}-{drill.number}-"
        self.app = [probes.sql_writer(n.name, self.region.app_dsn(n), self.prefix) for n in self.region.app]
        self.writers = list(self.app)
        peers = [n.address for n in self.region.db if n.name != leader_name]
        self.injector: ContainerKill | ProcessKill | Partition | PatroniHang | None = None
        if drill.fault == "pg-container-kill":
            self.injector = ContainerKill(campaign.client)
        elif drill.fault == "pg-process-kill":
            self.injector = ProcessKill(campaign.client)
        elif drill.fault == "pg-partition":
            self.injector = Partition(campaign.client, peers)
        elif drill.fault == "pg-patroni-hang":
            self.injector = PatroniHang(campaign.client)
        if drill.fault in ISOLATING:
            # a client that still reaches the old leader directly
            direct = self.region.direct_dsn(self.old)
            self.writers.append(probes.sql_writer("direct", direct, self.prefix))
        self.watch = probes.ClusterWatch(self.region)
        self.fault_at = 0.0
        self.promoted_at: float | None = None
        self.new = ""
        self.restored = False
        self.back = False
        self.stopped = 0.0

    def fault(self) -> None:
        if self.c.presets[self.drill.preset].get("etcd_leader") == "primary":
            move_etcd_leader(self.c.client, self.region.db, self.old)
        etcd = etcd_leader(self.c.client, self.region.db)
        self.drill.etcd_leader_on_old = etcd == self.old.name if etcd else None
        self.watch.start()
        for w in self.writers:
            w.start()
        # the fault anywhere in Patroni's loop: the lease's age at the crash is part of the gap
        time.sleep(3 + random.random() * 5)
        self.fault_at = time.time()
        if self.injector is not None:
            self.injector.inject(self.old)
        else:
            self.c.switchover(self.drill)
        back = probes.wait_until(
            lambda: all(writing_again(w.attempts, self.fault_at, time.time()) for w in self.app),
            GAP_TIMEOUT,
            0.2,
        )
        self.back = back is not None
        if back is None:
            self.drill.notes.append(f"a writer had no acknowledged write {GAP_TIMEOUT:.0f} s after the fault")
        if self.drill.fault == "pg-partition":
            # the isolated node fenced: out of the primary role (demoted or restarting)
            probes.wait_until(lambda: self.fenced() is not None, GAP_TIMEOUT, 0.5)
        if self.drill.fault == "pg-patroni-hang":
            time.sleep(5)  # the direct writer goes on to the hung leader after the promotion
        time.sleep(2)
        for w in self.writers:
            w.stop()
        self.stopped = time.time()
        for w in self.writers:
            w.join(15)
        attempts = sorted((a for w in self.writers for a in w.attempts), key=lambda a: a.sent)
        self.c.keep(self.drill, [asdict(a) for a in attempts], self.fault_at)

    def fenced(self) -> float | None:
        """When the isolated member stopped taking writes: first seen in recovery or not answering."""
        for o in sorted(self.watch.observations, key=lambda x: x.at):
            if o.at >= self.fault_at and o.member == self.old.name and o.in_recovery is not False:
                return o.at
        return None

    def measure(self) -> None:
        d, fault_at = self.drill, self.fault_at
        self.c.keep(d, [asdict(o) for o in self.watch.transitions()], fault_at, "watch")
        moved = self.watch.lock_moved(self.old.name, fault_at)
        self.new = moved[0] if moved else probes.leader(self.region, exclude=[self.old.name])
        d.new = self.new
        self.promoted_at = self.watch.left_recovery(self.new, fault_at) if self.new else None
        routed = probes.routed(self.c.client, self.region, self.new, fault_at) if self.new else {}
        routed_at = max(routed.values()) if len(routed) == len(self.region.app) else None
        # the first write of each writer after its outage: the acknowledgement that closed its longest gap
        ends = [gap_end(w.acked_until(self.stopped), fault_at) for w in self.app]
        first_at = max(t for t in ends if t is not None) if None not in ends else None
        gaps = {w.label: longest_gap(w.acked_until(self.stopped), fault_at) for w in self.app}
        # a planned switch is measured from the last write acknowledged before it
        reference = gap_start(self.app, fault_at) if d.fault == "pg-switchover" else fault_at
        p = phases(reference, moved[1] if moved else None, self.promoted_at, routed_at, first_at)
        d.phases, d.parts = asdict(p), p.parts()
        measured = [g for g in gaps.values() if g is not None]
        # writers that never wrote again: the gap is open, not measured
        d.gap_s = round(max(measured), 3) if self.back and len(measured) == len(gaps) else None
        d.first_write_s = None if first_at is None else round(first_at - reference, 3)
        for w in self.writers:
            failed = [a for a in w.attempts if not a.ok]
            d.writers[w.label] = {
                "acked": sum(1 for a in w.attempts if a.ok),
                "failed": len(failed),
                "gap_s": gaps.get(w.label),
                "errors": sorted({a.error for a in failed})[:5],
            }

    def rejoin(self) -> None:
        """The old leader back, the cluster idle (the writers are stopped): until it streams."""
        restore_at = time.time()
        if self.injector is not None:
            self.injector.restore(self.old)
        self.restored = True
        if not self.new or self.drill.fault == "pg-switchover":
            return  # a switchover's playbook waits for the former leader to stream itself
        old, new = self.old.name, self.new
        rejoined = probes.wait_until(
            lambda: probes.streaming(self.region, new).get(old, "").startswith("streaming/"),
            REJOIN_TIMEOUT,
            0.25,
        )
        self.drill.rejoin_s = None if rejoined is None else round(rejoined - restore_at, 3)
        # whether the old leader had to be rewound (its Patroni's journal since it came back)
        said = probes.journal(self.c.client, old, "patroni", restore_at)
        self.drill.rewound = any("pg_rewind exit code=0" in line for _at, line in said)
        if rejoined is None:
            self.drill.notes.append(
                f"{old} did not stream from {new} {REJOIN_TIMEOUT:.0f} s after it came back"
            )
            self.drill.notes.append(json.dumps(probes.cluster_view(self.region)))

    def settle(self) -> None:
        d = self.drill
        whole = probes.wait_until(lambda: probes.healthy(self.region)[0], HEALTHY_TIMEOUT, 1.0)
        leader_now = probes.leader(self.region)
        not_whole = (
            "" if whole else f"the cluster is not whole after the drill: {probes.healthy(self.region)[1]}"
        )
        if not leader_now:
            d.error = not_whole or "no leader after the drill"
            return
        # the ledger against the leader there is, whole or not: what the stores' writes became
        if d.fault in ISOLATING:  # a hung leader is fenced only once Patroni runs again
            fence = self.fenced()
            d.fence_s = None if fence is None else round(fence - self.fault_at, 3)
        dsn = self.region.direct_dsn(self.region.db_node(leader_now))
        scanned = probes.scanned_keys(dsn, self.prefix)
        attempts: list[Attempt] = [a for w in self.writers for a in w.attempts]
        isolated = self.old.address if d.fault in ISOLATING else ""
        book = ledger(attempts, scanned, isolated, self.promoted_at)
        d.ledger = {
            **book.summary(),
            "acked_by": {self.region.by_address(k): v for k, v in book.acked_by.items()},
        }
        rejoin_ok = d.fault == "pg-switchover" or d.rejoin_s is not None
        problems = [
            why
            for why, bad in (
                (not_whole, bool(not_whole)),
                ("write gap not measured", d.gap_s is None),
                ("no rejoin", not rejoin_ok),
                (f"the ledger check failed: {book.summary()}", not book.ok),
            )
            if bad
        ]
        d.ok = not problems
        d.error = "; ".join(problems)

    def cleanup(self) -> None:
        for w in self.writers:
            w.stop()
        self.watch.stop()
        if not self.restored and self.injector is not None:
            try:
                self.injector.restore(self.old)
            except Exception as exc:
                self.drill.notes.append(f"restore failed: {exc}")
        self.watch.join(5)


def gap_start(writers: list[probes.CallWriter], since: float) -> float:
    """The start of the longest gap of any writer after ``since``: a planned switch's first moment."""
    best = (0.0, since)
    for w in writers:
        acked = sorted(a.answered for a in w.attempts if a.ok)
        for a, b in itertools.pairwise(acked):
            if b >= since and b - a > best[0]:
                best = (b - a, a)
    return best[1]


def summarize(drills: list[Drill]) -> dict[str, Any]:
    """Per fault and preset: n, median, p95 and max of the gap, first write, rejoin and phase parts."""
    groups: dict[str, dict[str, list[Drill]]] = {}
    for d in drills:
        groups.setdefault(d.fault, {}).setdefault(d.preset, []).append(d)
    out: dict[str, Any] = {}
    for fault, by_preset in groups.items():
        out[fault] = {}
        for preset, ds in by_preset.items():
            entry: dict[str, Any] = {
                "drills": len(ds),
                "failed": sum(1 for d in ds if not d.ok),
                "gap_s": figures(d.gap_s for d in ds).as_dict(),
                "first_write_s": figures(d.first_write_s for d in ds).as_dict(),
                "rejoin_s": figures(d.rejoin_s for d in ds).as_dict(),
                "rejoin_over_goal": sum(1 for d in ds if d.rejoin_s is None or d.rejoin_s > REJOIN_GOAL),
                "rewound": sum(1 for d in ds if d.rewound),
                "lost_writes": sum(int(d.ledger.get("lost", 0)) for d in ds),
                "acked_writes": sum(int(d.ledger.get("acked", 0)) for d in ds),
                "parts_median_s": {
                    part: figures(d.parts.get(part) for d in ds).median
                    for part in ("lease", "promotion", "routing", "client")
                },
                "etcd_leader_on_old": sum(1 for d in ds if d.etcd_leader_on_old),
            }
            if fault in ISOLATING:
                entry["fence_s"] = figures(d.fence_s for d in ds).as_dict()
                entry["acked_only_by_isolated_after_promotion"] = sum(
                    int(d.ledger.get("acked_only_by_isolated_after_promotion", 0)) for d in ds
                )
            out[fault][preset] = entry
        if "patroni-default" in by_preset:
            base = out[fault]["patroni-default"]["gap_s"]["median"]
            out[fault]["ratios_to_patroni_default"] = {
                p: ratio(out[fault][p]["gap_s"]["median"], base) for p in by_preset if p != "patroni-default"
            }
    return out


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m rig.drills", description=__doc__.split("\n\n", maxsplit=1)[0]
    )
    ap.add_argument("--inventory", default="inventories/pilot-local/")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--presets", default="patroni-default,pigsty-fast,project,project-etcd-colocated")
    ap.add_argument("--crash-faults", default=",".join(CRASH_FAULTS))
    ap.add_argument("--faults", default=",".join(OTHER_FAULTS))
    ap.add_argument("--async-partitions", type=int, default=2)
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    presets = load_presets()
    for name in _names(args.presets):
        if name not in presets:
            ap.error(f"--presets: unknown preset {name!r} (known: {', '.join(presets)})")
    for name in _names(args.crash_faults):
        if name not in CRASH_FAULTS:
            ap.error(f"--crash-faults: unknown fault {name!r} (known: {', '.join(CRASH_FAULTS)})")
    for name in _names(args.faults):
        if name not in OTHER_FAULTS:
            ap.error(f"--faults: unknown fault {name!r} (known: {', '.join(OTHER_FAULTS)})")
    if args.rounds < 1:
        ap.error("--rounds: at least 1")
    if args.async_partitions < 0:
        ap.error("--async-partitions: 0 or more")
    return args


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def run_all(campaign: Campaign, args: argparse.Namespace) -> None:
    """The crash faults round by round under every preset (their order turning), then the other
    faults under the project's settings, then the partitions with synchronous mode off."""
    presets, crash, other = _names(args.presets), _names(args.crash_faults), _names(args.faults)
    for number in range(1, args.rounds + 1):
        turn = (number - 1) % max(1, len(presets))
        for preset in presets[turn:] + presets[:turn]:
            campaign.apply(preset)
            for fault in campaign.presets[preset].get("faults") or crash:
                if fault in crash:
                    campaign.record(campaign.pg_drill(fault, preset, number))
    if other:
        campaign.apply("project")
        for number in range(1, args.rounds + 1):
            for fault in other:
                drill = (
                    redis_drill(campaign, number)
                    if fault == "redis-kill"
                    else campaign.pg_drill(fault, "project", number)
                )
                campaign.record(drill)
    isolating = [f for f in other if f in ISOLATING]
    if args.async_partitions and isolating:
        campaign.apply("project-async")
        for number in range(1, args.async_partitions + 1):
            for fault in isolating:
                campaign.record(campaign.pg_drill(fault, "project-async", number))


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    out = Path(args.out or f"results/drills/{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    out.mkdir(parents=True, exist_ok=True)
    try:
        region = load(args.inventory)
    except RegionError as exc:
        print(f"[drills] error: {exc}", file=sys.stderr)
        return 2
    campaign = Campaign(region, out)
    presets = _names(args.presets)
    started = time.time()
    probes.ensure_probe_table(region.app_dsn(region.app[0]))
    try:
        run_all(campaign, args)
    except (CampaignError, FaultError) as exc:
        print(f"[drills] stopped: {exc}", file=sys.stderr)
    finally:
        try:
            campaign.apply("project")
        except Exception as exc:  # said; the results are still written
            print(f"[drills] the project's settings could not be applied again: {exc}", file=sys.stderr)
    from rig.drills.report import render, verdict  # noqa: PLC0415

    doc = {
        "run_id": campaign.run_id,
        "inventory": args.inventory,
        "started": started,
        "seconds": round(time.time() - started, 1),
        "presets": {p: campaign.presets[p] for p in dict.fromkeys([*presets, "project"])},
        "summary": summarize(campaign.drills),
        "drills": [asdict(d) for d in campaign.drills],
    }
    doc["verdict"] = verdict(doc)
    (out / "campaign.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    text = render(doc)
    (out / "report.txt").write_text(text, encoding="utf-8")
    print(text)
    return 0 if doc["verdict"]["pass"] else 1
