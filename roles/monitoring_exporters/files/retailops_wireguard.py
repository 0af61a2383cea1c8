"""WireGuard health per branch peer of a hub, for node_exporter's textfile collector.

Reads ``wg show <interface> dump`` and the hub's branch peers (from the
branch register's ``hub_peers``, written by the monitoring_exporters role as
JSON), matches each WireGuard peer to a branch by its tunnel address in the
peer's allowed IPs, and writes, per branch peer:

- retailops_wireguard_peer_latest_handshake_timestamp_seconds (0 = never)
- retailops_wireguard_peer_receive_bytes_total
- retailops_wireguard_peer_transmit_bytes_total

with the labels hub, branch, tier, link, kind and interface, and
retailops_wireguard_collector_success (1, or 0 with no peer series when wg
failed or its output did not parse). Peers that are not register branches
are left out. The dump's first line holds the interface's private key: it
is skipped and never printed.

    python3 retailops_wireguard.py --config wireguard.json --output dir/retailops_wireguard.prom
"""

from __future__ import annotations

import ipaddress
import json
import sys
from dataclasses import dataclass
from typing import Any

from retailops_textfile import CommandError, Family, arguments, publish, run, warn

PEER_FIELDS = 8  # public-key, preshared-key, endpoint, allowed-ips, latest-handshake, rx, tx, keepalive


@dataclass
class Peer:
    allowed_ips: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    latest_handshake: int
    receive_bytes: int
    transmit_bytes: int


class DumpError(Exception):
    """Output of ``wg show dump`` this collector does not understand."""


def parse_dump(text: str) -> list[Peer]:
    """The peers of a ``wg show <interface> dump`` (the interface line first, then one line per peer)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DumpError("empty output (no interface line)")
    peers = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != PEER_FIELDS:
            raise DumpError(f"line {number}: {len(fields)} fields, expected {PEER_FIELDS}")
        allowed = [] if fields[3] == "(none)" else fields[3].split(",")
        try:
            peers.append(
                Peer(
                    allowed_ips=[ipaddress.ip_network(a.strip(), strict=False) for a in allowed],
                    latest_handshake=int(fields[4]),
                    receive_bytes=int(fields[5]),
                    transmit_bytes=int(fields[6]),
                )
            )
        except ValueError as error:
            raise DumpError(f"line {number}: {error}") from error
    return peers


def collect(config: dict[str, Any], dump: str) -> list[Family]:
    handshake = Family(
        "retailops_wireguard_peer_latest_handshake_timestamp_seconds",
        "Unix time of the latest handshake with the branch peer (0 = never).",
    )
    receive = Family(
        "retailops_wireguard_peer_receive_bytes_total", "Bytes received from the branch peer.", "counter"
    )
    transmit = Family(
        "retailops_wireguard_peer_transmit_bytes_total", "Bytes sent to the branch peer.", "counter"
    )
    branches = {
        ipaddress.ip_network(branch["tunnel_address"], strict=False): branch for branch in config["peers"]
    }
    for peer in parse_dump(dump):
        matched = [branches[n] for n in peer.allowed_ips if n in branches]
        if not matched:
            continue
        branch = matched[0]
        labels = {
            "hub": config["hub"],
            "branch": branch["branch"],
            "tier": branch["tier"],
            "link": branch["link"],
            "kind": branch["kind"],
            "interface": config["interface"],
        }
        handshake.add(peer.latest_handshake, **labels)
        receive.add(peer.receive_bytes, **labels)
        transmit.add(peer.transmit_bytes, **labels)
    return [handshake, receive, transmit]


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument(
        "--config", required=True, help="JSON: hub, interface, peers [{branch, tunnel_address, ...}]"
    )
    parser.add_argument("--wg", default="wg", help="the wg command")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds wg may take")
    args = parser.parse_args(argv)

    success = Family(
        "retailops_wireguard_collector_success", "1 when wg show dump was read and parsed, else 0."
    )
    families: list[Family] = []
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
        dump = run([args.wg, "show", config["interface"], "dump"], timeout=args.timeout)
        families = collect(config, dump)
        success.add(1)
    except (OSError, ValueError, KeyError, TypeError, CommandError, DumpError) as error:
        warn(f"retailops_wireguard: {type(error).__name__}: {error}")
        families = []
        success.add(0)
    return publish("retailops_wireguard", args.output, [*families, success])


if __name__ == "__main__":
    sys.exit(main())
