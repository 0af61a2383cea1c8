"""The Redis primary kill of the campaign, as Odoo's session traffic sees it: the Odoo double's own
session store (rig/odoo_double/sessions.py: the primary through one Sentinel address, its
failover retry) writes a new session every 75 ms while the primary's container is killed."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import redis

from rig.drills import probes
from rig.drills.drill import HEALTHY_TIMEOUT, REJOIN_TIMEOUT, Drill, perform
from rig.drills.region import Node, Region
from rig.drills.timeline import gap_end, ledger, longest_gap, writing_again
from rig.odoo_double.config import Config
from rig.odoo_double.sessions import RedisSessionStore

if TYPE_CHECKING:
    from rig.drills.campaign import Campaign

INTERVAL = 0.075
PREFIX = "drill"


def masters(region: Region) -> set[str]:
    """The primary's address as each Sentinel names it ('?' for one that does not answer)."""
    seen: set[str] = set()
    for n in region.redis:
        try:
            client = redis.Redis(
                n.address, region.sentinel_port, password=region.redis_password, socket_timeout=1
            )
            addr = client.execute_command(  # type: ignore[no-untyped-call]
                "SENTINEL", "get-master-addr-by-name", region.redis_master_name
            )
            seen.add(str(addr[0].decode() if isinstance(addr[0], bytes) else addr[0]) if addr else "?")
        except redis.RedisError:
            seen.add("?")
    return seen


def replication(region: Region, node: Node) -> dict[str, Any]:
    """INFO replication of a node, as the monitoring user reads it ({} when it does not answer)."""
    try:
        info: dict[str, Any] = redis.Redis(
            node.address,
            6379,
            username=region.redis_monitor_user,
            password=region.redis_monitor_password,
            socket_timeout=1,
        ).info("replication")
    except redis.RedisError:
        return {}
    return info


def stable(region: Region) -> bool:
    """Every Sentinel names one primary, which has every other node as an online replica."""
    seen = masters(region)
    if len(seen) != 1 or "?" in seen:
        return False
    primary = (
        next(n for n in region.redis if n.address in seen)
        if any(n.address in seen for n in region.redis)
        else None
    )
    if primary is None:
        return False
    info = replication(region, primary)
    online = sum(
        1
        for k, v in info.items()
        if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
    )
    return info.get("role") == "master" and online == len(region.redis) - 1


class RedisRun:
    """One Redis drill: the session writer, the primary's container killed, Sentinel's switch
    watched, the gap, the old primary started again until it is an online replica, the sessions
    acknowledged checked on the new primary."""

    def __init__(self, campaign: Campaign, drill: Drill, address: str) -> None:
        self.c, self.drill, self.region = campaign, drill, campaign.region
        self.address = address
        self.old = next(n for n in self.region.redis if n.address == address)
        drill.old = self.old.name
        cfg = Config(
            session_redis=True,
            session_redis_sentinel_host=self.region.session_sentinel_host,
            session_redis_sentinel_port=self.region.sentinel_port,
            session_redis_sentinel_master_name=self.region.redis_master_name,
            session_redis_password=self.region.redis_password,
            session_redis_prefix=PREFIX,
        )
        store = RedisSessionStore(cfg)

        def write(sid: str) -> str:
            store.save(sid, {"uid": 1, "sid": sid})
            return ""

        prefix = f"{campaign.run_id}-redis-{drill.number}-"
        self.writer = probes.CallWriter("sessions", write, prefix, (redis.RedisError,), INTERVAL)
        self.switched: list[float] = []
        self._stop = threading.Event()
        self.container = campaign.client.containers.get(self.old.name)
        self.killed = False
        self.back = False
        self.fault_at = 0.0

    def _watch_switch(self) -> None:
        while not self._stop.wait(0.1):
            seen = masters(self.region) - {"?"}  # the killed node's Sentinel does not answer
            if len(seen) == 1 and self.address not in seen and not self.switched:
                self.switched.append(time.time())

    def fault(self) -> None:
        self.writer.start()
        time.sleep(2 + random.random())
        self.fault_at = time.time()
        threading.Thread(target=self._watch_switch, daemon=True).start()
        self.container.kill()
        self.killed = True
        back = probes.wait_until(
            lambda: writing_again(self.writer.attempts, self.fault_at, time.time()), 60, 0.1
        )
        self.back = back is not None
        if back is None:
            self.drill.notes.append("no session write acknowledged 60 s after the kill")
        time.sleep(2)
        self.writer.stop()
        self.writer.join(15)
        self.c.keep(self.drill, [asdict(a) for a in self.writer.attempts], self.fault_at)

    def measure(self) -> None:
        d = self.drill
        acked = [a.answered for a in self.writer.attempts if a.ok]
        gap = longest_gap(acked, self.fault_at)
        first = gap_end(acked, self.fault_at)
        d.gap_s = None if gap is None or not self.back else round(gap, 3)
        d.first_write_s = None if first is None else round(first - self.fault_at, 3)
        d.phases = {"switch_master": round(self.switched[0] - self.fault_at, 3) if self.switched else None}
        failed = [a for a in self.writer.attempts if not a.ok]
        d.writers["sessions"] = {
            "acked": len(acked),
            "failed": len(failed),
            "gap_s": d.gap_s,
            "errors": sorted({a.error for a in failed})[:5],
        }

    def rejoin(self) -> None:
        restore_at = time.time()
        self.container.start()
        self.killed = False
        back = probes.wait_until(lambda: stable(self.region), REJOIN_TIMEOUT, 0.25)
        self.drill.rejoin_s = None if back is None else round(back - restore_at, 3)

    def settle(self) -> None:
        d = self.drill
        new_addr = next(iter(masters(self.region)))
        d.new = self.region.by_address(new_addr)
        primary = redis.Redis(new_addr, 6379, password=self.region.redis_password, socket_timeout=2)
        keys = [a.key for a in self.writer.attempts if a.ok]
        pipe = primary.pipeline(transaction=False)
        for key in keys:
            pipe.exists(f"session:{PREFIX}:{key}")
        scanned = {k: 1 for k, there in zip(keys, pipe.execute(), strict=True) if there}
        book = ledger(self.writer.attempts, scanned)
        d.ledger = book.summary()
        d.ok = d.gap_s is not None and d.rejoin_s is not None
        if not d.ok:
            d.error = "write gap not measured" if d.gap_s is None else "the old primary did not rejoin"
        elif book.lost:
            # Redis replicates asynchronously: a killed primary can take acknowledged writes with it
            d.notes.append(f"{len(book.lost)} acknowledged session write(s) missing on the new primary")

    def cleanup(self) -> None:
        self._stop.set()
        self.writer.stop()
        if self.killed:
            self.container.start()


def redis_drill(campaign: Campaign, number: int) -> Drill:
    region = campaign.region
    drill = Drill("redis-kill", "project", number, started=time.time())
    if probes.wait_until(lambda: stable(region), HEALTHY_TIMEOUT, 1.0) is None:
        drill.error = f"Redis is not stable before the drill (Sentinels name {sorted(masters(region))})"
        return drill
    return perform(drill, RedisRun(campaign, drill, next(iter(masters(region)))))
