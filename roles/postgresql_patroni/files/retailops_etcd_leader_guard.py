"""Keep etcd's leader off the host of PostgreSQL's primary (etcd on the PostgreSQL members).

When etcd's leader changes, the new leader gives every lease its whole TTL again (etcd's lessor
Promote). A host lost with both leaders on it therefore keeps Patroni's leader lock alive for
another ttl plus etcd's election: the failover waits that much longer. This guard, one per member,
asks its own Patroni whether it runs the primary and its own etcd member whether it leads; when
both hold, it hands etcd's leadership to a healthy other member (MoveLeader). Only the v3 JSON
gateway of etcd and Patroni's REST API, standard library only; a line in the journal per move.

    python3 retailops_etcd_leader_guard.py --patroni http://127.0.0.1:8008 \\
        --etcd http://10.0.0.21:2379 [--interval 2] [--once]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Post = Callable[[str, dict[str, Any]], dict[str, Any]]
TIMEOUT = 2.0


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


def runs_primary(patroni: str) -> bool:
    """Patroni's GET /primary: 200 on the member that holds the leader lock and runs as primary."""
    try:
        with urllib.request.urlopen(f"{patroni}/primary", timeout=TIMEOUT) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def choose(etcd: str, call: Post = post) -> tuple[str, str] | None:
    """When the member at ``etcd`` leads: (its id, the id of a healthy other member to lead), else None."""
    status = call(f"{etcd}/v3/maintenance/status", {})
    me, leader = str(status.get("header", {}).get("member_id", "")), str(status.get("leader", ""))
    if not me or me != leader:
        return None
    for member in call(f"{etcd}/v3/cluster/member/list", {}).get("members", []):
        mid = str(member.get("ID", ""))
        if not mid or mid == me or member.get("isLearner"):
            continue
        for url in member.get("clientURLs", []):
            try:
                call(f"{url}/v3/maintenance/status", {})
            except (urllib.error.URLError, TimeoutError, OSError, ValueError):
                continue
            return me, mid
    return None


def guard_once(
    patroni: str, etcd: str, call: Post = post, primary: Callable[[str], bool] = runs_primary
) -> str:
    """One look; what was done, for the journal ('' when nothing)."""
    if not primary(patroni):
        return ""
    move = choose(etcd, call)
    if move is None:
        return ""
    me, target = move
    call(f"{etcd}/v3/maintenance/transfer-leadership", {"targetID": target})
    return f"etcd's leadership moved from member {me} to {target}: PostgreSQL's primary runs on this host"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--patroni", required=True, help="this member's Patroni REST API")
    ap.add_argument("--etcd", required=True, help="this host's etcd client URL")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--once", action="store_true")
    args = ap.parse_args(argv)
    last_error = ""
    while True:
        try:
            said = guard_once(args.patroni.rstrip("/"), args.etcd.rstrip("/"))
            last_error = ""
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            # said once, not every interval, while etcd stays unreachable
            error = f"etcd did not answer ({exc}); looking again every {args.interval:g} s"
            said, last_error = (error if error != last_error else ""), error
        if said:
            print(said, flush=True)
        if args.once:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
