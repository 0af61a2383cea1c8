"""The faults of the campaign, on the pilot's containers through the Docker API.

Each fault has an ``inject`` (the moment the drill measures from) and a ``restore`` (the moment
the rejoin is measured from); every one is bounded and undone by ``restore`` even when the
drill failed in between.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.drills.region import Node

DRILL_TABLE = "retailops_drill"


class FaultError(RuntimeError):
    pass


def _exec(client: Any, container: str, argv: Sequence[str], stdin: str | None = None) -> str:
    found = client.containers.get(container)
    if stdin is None:
        code, out = found.exec_run(list(argv))
        text = (out or b"").decode("utf-8", "replace")
    else:
        # exec_run cannot feed stdin; the text goes as an argument to sh (no secret in it).
        code, out = found.exec_run(["sh", "-c", f"printf '%s' \"$1\" | {' '.join(argv)}", "sh", stdin])
        text = (out or b"").decode("utf-8", "replace")
    if code != 0:
        raise FaultError(f"{container}: {' '.join(argv)} exited {code}: {text.strip()[-300:]}")
    return text


@dataclass
class ContainerKill:
    """The whole host of the leader lost at once (SIGKILL to the container: PostgreSQL, Patroni and
    the node's etcd member die together, its address stops answering)."""

    client: Any

    def inject(self, node: Node) -> None:
        self.client.containers.get(node.name).kill()

    def restore(self, node: Node) -> None:
        container = self.client.containers.get(node.name)
        if container.status != "running":
            container.start()


@dataclass
class ProcessKill:
    """Patroni and PostgreSQL SIGKILLed on the leader, the host and its etcd member up. Patroni's
    unit is masked meanwhile so systemd cannot restart it while its lock is still held: the member
    stays dead as after a crash, and its address refuses connections at once."""

    client: Any

    def inject(self, node: Node) -> None:
        _exec(
            self.client,
            node.name,
            [
                "sh",
                "-c",
                "systemctl mask --runtime patroni.service && systemctl kill --signal=SIGKILL patroni.service",
            ],
        )

    def restore(self, node: Node) -> None:
        _exec(self.client, node.name, ["systemctl", "unmask", "--runtime", "patroni.service"])
        _exec(self.client, node.name, ["systemctl", "start", "patroni.service"])


@dataclass
class PatroniHang:
    """Patroni hung on the leader (SIGSTOP to its main process only), PostgreSQL still running and
    reachable: the case a watchdog exists for. SIGCONT when restored."""

    client: Any

    def _signal(self, node: Node, signal: str) -> None:
        _exec(
            self.client,
            node.name,
            ["systemctl", "kill", "--kill-whom=main", f"--signal={signal}", "patroni.service"],
        )

    def inject(self, node: Node) -> None:
        self._signal(node, "SIGSTOP")

    def restore(self, node: Node) -> None:
        self._signal(node, "SIGCONT")


def partition_ruleset(peers: Sequence[str]) -> str:
    """nftables: drop everything between this node and ``peers`` (etcd, Patroni, replication), both
    ways; clients (the app nodes' HAProxy, the drill's writers) still reach it."""
    if not peers:
        raise FaultError("a partition needs the addresses of the other members")
    addresses = ", ".join(peers)
    return (
        f"table inet {DRILL_TABLE} {{\n"
        f"  set peers {{ type ipv4_addr; elements = {{ {addresses} }} }}\n"
        "  chain input { type filter hook input priority -10; policy accept; ip saddr @peers drop; }\n"
        "  chain output { type filter hook output priority -10; policy accept; ip daddr @peers drop; }\n"
        "}\n"
    )


@dataclass
class Partition:
    """The leader cut off from etcd and from the other members, reachable by clients."""

    client: Any
    peers: Sequence[str]

    def inject(self, node: Node) -> None:
        _exec(self.client, node.name, ["nft", "-f", "-"], stdin=partition_ruleset(self.peers))

    def restore(self, node: Node) -> None:
        listed = _exec(self.client, node.name, ["nft", "-j", "list", "tables"])
        tables = [t["table"]["name"] for t in json.loads(listed).get("nftables", []) if "table" in t]
        if DRILL_TABLE in tables:
            _exec(self.client, node.name, ["nft", "delete", "table", "inet", DRILL_TABLE])


def etcd_leader(client: Any, nodes: Sequence[Node]) -> str:
    """The etcd member that leads now ('' when none answers), asked with etcdctl on a member."""
    for node in nodes:
        try:
            out = _exec(
                client,
                node.name,
                [
                    "etcdctl",
                    f"--endpoints=http://{node.address}:2379",
                    "endpoint",
                    "status",
                    "--cluster",
                    "-w",
                    "json",
                ],
            )
        except Exception:  # a dead member: ask the next
            continue
        try:
            statuses = json.loads(out)
        except ValueError:
            continue
        for status in statuses:
            header = status.get("Status", {}).get("header", {})
            if header.get("member_id") and header.get("member_id") == status.get("Status", {}).get("leader"):
                endpoint = str(status.get("Endpoint", ""))
                return next((n.name for n in nodes if n.address in endpoint), endpoint)
    return ""


def run_playbook(argv: Sequence[str], log: Path, timeout: float) -> None:
    """An ansible-playbook run of the collection (a switchover, a preset), its output into ``log``."""
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    log.write_text(
        f"$ {' '.join(argv)}\n# exit {done.returncode}\n{done.stdout}{done.stderr}", encoding="utf-8"
    )
    if done.returncode != 0:
        raise FaultError(f"{' '.join(argv[:2])} exited {done.returncode} (log: {log})")


def move_etcd_leader(client: Any, nodes: Sequence[Node], target: Node) -> None:
    """etcd's leadership onto ``target``'s member (etcdctl move-leader, asked of the leader)."""
    endpoints = ",".join(f"http://{n.address}:2379" for n in nodes)
    out = _exec(
        client, target.name, ["etcdctl", f"--endpoints={endpoints}", "endpoint", "status", "-w", "json"]
    )
    statuses = json.loads(out)
    leader_url, target_id = "", ""
    for status in statuses:
        header = status.get("Status", {}).get("header", {})
        if header.get("member_id") == status.get("Status", {}).get("leader"):
            leader_url = str(status.get("Endpoint", ""))
        if target.address in str(status.get("Endpoint", "")):
            target_id = f"{int(header.get('member_id')):x}"
    if not leader_url or not target_id:
        raise FaultError(f"etcd: no leader or no member on {target.name} in {out.strip()[:300]}")
    if target.address in leader_url:
        return
    _exec(client, target.name, ["etcdctl", f"--endpoints={leader_url}", "move-leader", target_id])
