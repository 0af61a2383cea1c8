"""Independent probes for the redis_ha scenario.

Talks to Redis and Sentinel over the network with redis-py, the way an Odoo
node would, and prints JSON. It never reads the role's variables: addresses
and user names come from the command line, passwords from the environment
(REDIS_PROBE_ADMIN_PASSWORD, REDIS_PROBE_APP_PASSWORD,
REDIS_PROBE_SENTINEL_PASSWORD; check also REDIS_PROBE_MONITORING_PASSWORD).

    redis_ha.py topology --sentinels 10.213.4.11 ...
    redis_ha.py processes --sentinels ... --nodes ...
    redis_ha.py config --sentinels ... --nodes ...
    redis_ha.py wait-stable --sentinels ... --nodes 3
    redis_ha.py check --sentinels ... --nodes 10.213.4.11 ...
    redis_ha.py write-acked --sentinels ... --keys-file FILE [--count 200 --replicas 2]
    redis_ha.py read-acked --sentinels ... --keys-file FILE

The failover itself is the collection's drill (playbooks/redis_failover_drill.yml);
these only observe: who is the primary per Sentinel, whether replicas stream,
and whether writes acknowledged by every replica before the drill are there after it.
``check`` also scrapes each node's redis_exporter (``--exporter-port``) and tries
the monitoring user's rights.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

TIMEOUT = 0.5
REDIS_PORT = 6379
SENTINEL_PORT = 26379
# What the exporter's user may be refused: the calls redis_exporter 1.45 tolerates
# silently (CONFIG GET * would return masterauth, SLOWLOG GET the arguments of slow
# commands). Any other denial is a command the exporter needs and lacks.
EXPORTER_TOLERATED_DENIALS = frozenset({"config|get", "slowlog|get"})


def secret(name: str) -> str:
    value = os.environ.get(f"REDIS_PROBE_{name}_PASSWORD", "")
    if not value:
        sys.exit(f"set REDIS_PROBE_{name}_PASSWORD")
    return value


def no_retry() -> Retry:
    return Retry(NoBackoff(), 0)


def node(host: str, user: str | None, password: str | None, port: int = REDIS_PORT) -> Any:
    return redis.Redis(
        host=host,
        port=port,
        username=user,
        password=password,
        socket_timeout=2,
        socket_connect_timeout=2,
        decode_responses=True,
        protocol=2,
        retry=no_retry(),
    )


def sentinel_conn(host: str, password: str | None) -> Any:
    return node(host, None, password, SENTINEL_PORT)


def pairs(reply: Any) -> dict[str, str]:
    if isinstance(reply, dict):
        return {str(k): str(v) for k, v in reply.items()}
    items = list(reply)
    return {str(items[i]): str(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def sentinel_view(host: str, name: str) -> dict[str, Any]:
    """What one Sentinel knows about the master: the fields that stay put while nothing happens."""
    conn = sentinel_conn(host, secret("SENTINEL"))
    master = pairs(conn.execute_command("SENTINEL", "MASTER", name))
    replicas = [pairs(r) for r in conn.execute_command("SENTINEL", "REPLICAS", name)]
    sentinels = [pairs(s) for s in conn.execute_command("SENTINEL", "SENTINELS", name)]
    return {
        "master": f"{master['ip']}:{master['port']}",
        "config_epoch": int(master["config-epoch"]),
        "quorum": int(master["quorum"]),
        "master_flags": master["flags"],
        "replicas": sorted(f"{r['ip']}:{r['port']}" for r in replicas),
        "replicas_down": sorted(f"{r['ip']}:{r['port']}" for r in replicas if "down" in r["flags"]),
        "replicas_link_ok": sorted(
            f"{r['ip']}:{r['port']}" for r in replicas if r.get("master-link-status") == "ok"
        ),
        "sentinels": sorted(f"{s['ip']}:{s['port']}:{s['runid']}" for s in sentinels),
        "sentinels_down": sorted(f"{s['ip']}:{s['port']}" for s in sentinels if "down" in s["flags"]),
    }


def topology(args: argparse.Namespace) -> dict[str, Any]:
    return {host: sentinel_view(host, args.name) for host in args.sentinels}


def processes(args: argparse.Namespace) -> dict[str, Any]:
    """The run_id of every Redis and Sentinel process: a restart changes it."""
    return {
        "redis": {h: node(h, args.admin_user, secret("ADMIN")).info("server")["run_id"] for h in args.nodes},
        "sentinel": {
            h: sentinel_conn(h, secret("SENTINEL")).info("server")["run_id"] for h in args.sentinels
        },
    }


def config(args: argparse.Namespace) -> dict[str, Any]:
    """CONFIG GET of the memory and persistence settings on every node."""
    names = ("maxmemory", "maxmemory-policy", "appendonly", "save", "min-replicas-to-write")
    result: dict[str, Any] = {}
    for host in args.nodes:
        admin = node(host, args.admin_user, secret("ADMIN"))
        result[host] = {name: admin.config_get(name)[name] for name in names}
    return result


def stable(view: dict[str, Any], nodes: int) -> bool:
    return (
        "down" not in view["master_flags"]
        and len(view["replicas"]) == nodes - 1
        and view["replicas_link_ok"] == view["replicas"]
        and not view["replicas_down"]
        and len(view["sentinels"]) == nodes - 1
        and not view["sentinels_down"]
    )


def wait_stable(args: argparse.Namespace) -> dict[str, Any]:
    """Wait until every Sentinel agrees on the master and sees every replica and peer up."""
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            last = topology(args)
            views = list(last.values())
            agreed = len({(v["master"], v["config_epoch"]) for v in views}) == 1
            if agreed and all(stable(v, args.node_count) for v in views):
                return {"stable": True, "seconds": round(time.monotonic() - started, 2), "topology": last}
        except redis.RedisError as exc:
            last = {"error": str(exc)}
        time.sleep(0.5)
    return {"stable": False, "topology": last}


def sentinel_client(args: argparse.Namespace) -> Any:
    return Sentinel(  # type: ignore[no-untyped-call]
        [(host, SENTINEL_PORT) for host in args.sentinels],
        sentinel_kwargs={
            "password": secret("SENTINEL"),
            "socket_timeout": TIMEOUT,
            "socket_connect_timeout": TIMEOUT,
            "protocol": 2,
            "retry": no_retry(),
        },
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        username=args.app_user,
        password=secret("APP"),
        decode_responses=True,
        protocol=2,
        retry=no_retry(),
    )


def refused(call: Callable[[], object]) -> str:
    """Run a call that must be refused; return the error, or 'ALLOWED' when it ran."""
    try:
        call()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ALLOWED"


def sample(exposition: str, name: str) -> float | None:
    """The value of the first sample named ``name`` in a Prometheus text exposition (None when absent)."""
    match = re.search(rf"(?m)^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", exposition)
    return float(match[1]) if match else None


def exporter(host: str, port: int, admin: Any, user: str) -> dict[str, Any]:
    """One scrape of the node's redis_exporter (it queries Redis as ``user`` then), and what Redis's
    ACL LOG holds against that user beyond the denials the exporter tolerates: what it lacks."""
    text = requests.get(f"http://{host}:{port}/metrics", timeout=10).text
    return {
        "redis_up": sample(text, "redis_up"),
        "last_scrape_error": sample(text, "redis_exporter_last_scrape_error"),
        "denied_unexpected": sorted(
            {str(e["object"]) for e in admin.acl_log() if e.get("username") == user}
            - EXPORTER_TOLERATED_DENIALS
        ),
    }


def monitoring_rights(host: str, user: str, key: str) -> dict[str, Any]:
    """The monitoring user: INFO works; writes, key reads and reconfiguration are refused. Each refused
    call is harmless if allowed after all (a fresh key, a setting to its default, the primary's REPLICAOF
    NO ONE)."""
    conn = node(host, user, secret("MONITORING"))
    return {
        "info_role": conn.info("replication").get("role"),
        "denied": {
            "SET": refused(lambda: conn.set(f"{key}:monitoring", "x", ex=60)),
            "GET": refused(lambda: conn.get(key)),
            "CONFIG SET": refused(lambda: conn.execute_command("CONFIG", "SET", "slowlog-max-len", "128")),
            "REPLICAOF": refused(lambda: conn.execute_command("REPLICAOF", "NO", "ONE")),
        },
    }


def check(args: argparse.Namespace) -> dict[str, Any]:
    """Replication, authentication, the application and monitoring users' permissions, the exporters."""
    result: dict[str, Any] = {}
    client = sentinel_client(args)
    master_ip = client.discover_master(args.name)[0]
    result["primary"] = master_ip
    primary = client.master_for(args.name, retry=no_retry())
    key, value = f"probe:replication:{uuid.uuid4()}", str(uuid.uuid4())
    primary.set(key, value, ex=600)
    result["replicas"] = {}
    for host in args.nodes:
        if host == master_ip:
            continue
        replica = node(host, args.app_user, secret("APP"))
        deadline, seen = time.monotonic() + 10, None
        while time.monotonic() < deadline and seen != value:
            seen = replica.get(key)
            time.sleep(0.1)
        info = node(host, args.admin_user, secret("ADMIN")).info("replication")
        result["replicas"][host] = {
            "read_back": seen == value,
            "role": info.get("role"),
            "master_host": info.get("master_host"),
            "link": info.get("master_link_status"),
        }
    result["unauthenticated"] = {h: refused(node(h, None, None).ping) for h in args.nodes}
    result["wrong_password"] = {
        h: refused(node(h, args.app_user, "not-the-password").ping) for h in args.nodes
    }
    result["sentinel_unauthenticated"] = {h: refused(sentinel_conn(h, None).ping) for h in args.sentinels}
    result["app_denied"] = {
        "CONFIG GET": refused(lambda: primary.execute_command("CONFIG", "GET", "maxmemory")),
        "CONFIG SET": refused(lambda: primary.execute_command("CONFIG", "SET", "maxmemory", "1")),
        "FLUSHALL": refused(lambda: primary.execute_command("FLUSHALL")),
        "FLUSHDB": refused(lambda: primary.execute_command("FLUSHDB")),
        "SHUTDOWN": refused(lambda: primary.execute_command("SHUTDOWN", "ABORT")),
        "REPLICAOF": refused(lambda: primary.execute_command("REPLICAOF", "NO", "ONE")),
        "ACL": refused(lambda: primary.execute_command("ACL", "LIST")),
    }
    # ACL DRYRUN asks the ACL itself, also for commands another setting blocks
    # too (DEBUG is off by enable-debug-command as well).
    admin = node(master_ip, args.admin_user, secret("ADMIN"))
    result["app_denied_acl"] = {
        " ".join(cmd): str(admin.execute_command("ACL", "DRYRUN", args.app_user, *cmd))
        for cmd in (
            ("CONFIG", "GET", "maxmemory"),
            ("FLUSHALL",),
            ("FLUSHDB",),
            ("DEBUG", "SLEEP", "0"),
            ("SHUTDOWN",),
            ("KEYS", "*"),
            ("MONITOR",),
        )
    }
    result["app_allowed_acl"] = {
        " ".join(cmd): str(admin.execute_command("ACL", "DRYRUN", args.app_user, *cmd))
        for cmd in (("GET", "k"), ("SET", "k", "v"), ("EXPIRE", "k", "1"), ("PUBLISH", "c", "m"))
    }
    # Scraped first: the ACL LOG then holds what the exporter was refused, before the monitoring user's
    # refusals below add theirs.
    result["exporters"] = {
        h: exporter(h, args.exporter_port, node(h, args.admin_user, secret("ADMIN")), args.monitoring_user)
        for h in args.nodes
    }
    result["monitoring"] = monitoring_rights(master_ip, args.monitoring_user, key)
    result["app_allowed"] = {
        "GET": primary.get(key) == value,
        "EXPIRE": bool(primary.expire(key, 60)),
        "DEL": primary.delete(key) == 1,
    }
    result["primary_config"] = {
        name: admin.config_get(name)[name]
        for name in (
            "maxmemory",
            "maxmemory-policy",
            "appendonly",
            "appendfsync",
            "min-replicas-to-write",
            "min-replicas-max-lag",
            "protected-mode",
            "bind",
        )
    }
    return result


def write_acked(args: argparse.Namespace) -> dict[str, Any]:
    """Write keys through a Sentinel client and WAIT until every replica has them; record the keys.

    These are the writes acknowledged before a drill: a failover that
    promotes any replica must keep every one of them (``read-acked``).
    """
    client = sentinel_client(args)
    primary = client.master_for(args.name, retry=no_retry())
    keys = [f"probe:acked:{uuid.uuid4()}" for _i in range(args.count)]
    for key in keys:
        primary.set(key, key, ex=3600)
    replicas = int(primary.execute_command("WAIT", args.replicas, 10000))
    Path(args.keys_file).write_text(json.dumps(keys) + "\n", encoding="utf-8")
    return {
        "primary": client.discover_master(args.name)[0],
        "written": len(keys),
        "replicas_acknowledged": replicas,
    }


def read_acked(args: argparse.Namespace) -> dict[str, Any]:
    """Read the keys of ``write-acked`` from the primary Sentinel names now: which are missing."""
    keys = json.loads(Path(args.keys_file).read_text(encoding="utf-8"))
    client = sentinel_client(args)
    primary = client.master_for(args.name, retry=no_retry())
    missing = [key for key in keys if primary.get(key) != key]
    return {
        "primary": client.discover_master(args.name)[0],
        "expected": len(keys),
        "missing": len(missing),
        "missing_sample": missing[:5],
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command",
        choices=["topology", "processes", "config", "wait-stable", "check", "write-acked", "read-acked"],
    )
    parser.add_argument("--sentinels", nargs="+", required=True, help="Sentinel addresses")
    parser.add_argument("--nodes", nargs="*", default=[], help="Redis addresses (check)")
    parser.add_argument("--node-count", type=int, default=3, help="Redis nodes (wait-stable)")
    parser.add_argument("--name", default="odoo", help="master name")
    parser.add_argument("--app-user", default="odoo")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--monitoring-user", default="monitoring", help="the exporter's user (check)")
    parser.add_argument("--exporter-port", type=int, default=9121, help="redis_exporter's port (check)")
    parser.add_argument("--timeout", type=float, default=90)
    parser.add_argument("--keys-file", help="the keys of write-acked (written by it, read by read-acked)")
    parser.add_argument("--count", type=int, default=200, help="keys to write (write-acked)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas to WAIT for (write-acked)")
    return parser


def main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    if args.command in {"write-acked", "read-acked"} and not args.keys_file:
        parser.error(f"{args.command} needs --keys-file")
    args.nodes = args.nodes or []
    commands: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
        "topology": topology,
        "processes": processes,
        "config": config,
        "wait-stable": wait_stable,
        "check": check,
        "write-acked": write_acked,
        "read-acked": read_acked,
    }
    print(json.dumps(commands[args.command](args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
