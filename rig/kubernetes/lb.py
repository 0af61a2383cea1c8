"""The rig's load balancer for Services of type LoadBalancer (`cluster.sh lb`).

What a cloud's internal load balancer does for a cluster, on this machine:

* gives each LoadBalancer Service a frontend address from a pool (the
  address in its ``service.beta.kubernetes.io/azure-load-balancer-ipv4``
  annotation, as on AKS, or ``spec.loadBalancerIP``, or the first free one)
  and writes it to the Service's status, where kube-proxy picks it up;
* probes every node's ``healthCheckNodePort`` (kube-proxy answers 200 where
  the Service has a ready local endpoint: ``externalTrafficPolicy: Local``),
  or every Ready node for ``Cluster``, each second (Azure: every 5 s);
* routes the frontend address from the control plane's namespace to the
  healthy nodes (one ECMP route, hashed per connection), or drops it when
  none is healthy; the host routes it into the cluster, with the host's own
  address on that network as the source, and answers ARP for it on the
  network whose subnet holds it, so containers there reach it like a
  neighbour, as VMs in a VNet reach an internal load balancer.

Client addresses are kept (no NAT), which the ingress's allow lists need.
Each change of the backend set is a line on standard output (the rig's log).
The proxy-ARP entries are listed in ``--state``; ``cluster.sh down`` removes
them (the routes go with the namespace and the veth). Standard library only:
it runs with the host's python3 and ``kubectl``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AZURE_IPV4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"


@dataclass
class Frontend:
    address: str
    backends: tuple[str, ...] | None = None  # None: no route written yet
    proxy_dev: str = ""


@dataclass
class Balancer:
    kubeconfig: str
    pool: ipaddress.IPv4Network
    cp_netns: str
    cp_address: str
    host_dev: str
    state: Path
    frontends: dict[str, Frontend] = field(default_factory=dict)  # namespace/name -> frontend
    refused: set[str] = field(default_factory=set)

    def kubectl(self, *args: str) -> str:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])}: {done.stderr.strip()[-300:]}")
        return done.stdout

    def wanted_address(self, key: str, svc: dict[str, Any]) -> str | None:
        meta, spec = svc["metadata"], svc["spec"]
        asked = (meta.get("annotations") or {}).get(AZURE_IPV4) or spec.get("loadBalancerIP") or ""
        if key in self.frontends and (not asked or asked == self.frontends[key].address):
            return self.frontends[key].address
        taken = {f.address for k, f in self.frontends.items() if k != key}
        if asked:
            try:
                address = ipaddress.IPv4Address(asked)
            except ValueError:
                self.refuse(key, f"{AZURE_IPV4} or loadBalancerIP {asked!r} is not an IPv4 address")
                return None
            if address not in self.pool or str(address) in taken:
                self.refuse(key, f"{asked} is not a free address of the pool {self.pool}")
                return None
            return str(address)
        for address in self.pool.hosts():
            if str(address) not in taken:
                return str(address)
        self.refuse(key, f"the pool {self.pool} is exhausted")
        return None

    def refuse(self, key: str, why: str) -> None:
        if key not in self.refused:
            say(f"{key}: no frontend: {why}")
            self.refused.add(key)

    def healthy(self, svc: dict[str, Any], nodes: dict[str, bool]) -> tuple[str, ...]:
        port = svc["spec"].get("healthCheckNodePort")
        if svc["spec"].get("externalTrafficPolicy") != "Local" or not port:
            return tuple(sorted(a for a, ready in nodes.items() if ready))

        with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
            answers = dict(zip(nodes, pool.map(lambda a: self.probe(a, int(port)), nodes), strict=True))
        return tuple(sorted(a for a, ok in answers.items() if ok))

    @staticmethod
    def probe(address: str, port: int) -> bool:
        """kube-proxy's health check of a Local Service: 200 where it has a ready local endpoint."""
        try:
            with urllib.request.urlopen(f"http://{address}:{port}/healthz", timeout=0.8) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def route(self, key: str, frontend: Frontend, backends: tuple[str, ...]) -> None:
        if frontend.backends == backends:
            return
        target = f"{frontend.address}/32"
        if backends:
            hops = [w for b in backends for w in ("nexthop", "via", b)]
            ip("-n", self.cp_netns, "route", "replace", target, *hops)
        else:
            ip("-n", self.cp_netns, "route", "replace", "blackhole", target)
        if frontend.backends is None:
            self.expose(frontend)
        say(f"{key} {frontend.address}: backends {', '.join(backends) or 'none (dropped)'}")
        frontend.backends = backends

    def expose(self, frontend: Frontend) -> None:
        """The host routes the frontend into the cluster and answers ARP for it on its own network."""
        address = ipaddress.IPv4Address(frontend.address)
        source = []
        for entry in json.loads(ip("-j", "-4", "addr", "show")):
            for a in entry.get("addr_info", []):
                if address in ipaddress.IPv4Interface(f"{a['local']}/{a['prefixlen']}").network:
                    frontend.proxy_dev, source = entry["ifname"], ["src", a["local"]]
        ip("route", "replace", f"{address}/32", "via", self.cp_address, "dev", self.host_dev, *source)
        if frontend.proxy_dev:
            ip("neigh", "replace", "proxy", str(address), "dev", frontend.proxy_dev)
            with self.state.open("a") as state:
                state.write(f"{address} {frontend.proxy_dev}\n")

    def withdraw(self, key: str) -> None:
        frontend = self.frontends.pop(key)
        ip("-n", self.cp_netns, "route", "del", f"{frontend.address}/32", check=False)
        ip("route", "del", f"{frontend.address}/32", check=False)
        if frontend.proxy_dev:
            ip("neigh", "del", "proxy", frontend.address, "dev", frontend.proxy_dev, check=False)
        say(f"{key} {frontend.address}: withdrawn")

    def status(self, svc: dict[str, Any], address: str) -> None:
        current = [i.get("ip") for i in (svc.get("status", {}).get("loadBalancer", {}).get("ingress") or [])]
        if current != [address]:
            meta = svc["metadata"]
            patch = json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": address}]}}})
            self.kubectl(
                "-n",
                meta["namespace"],
                "patch",
                "service",
                meta["name"],
                "--subresource=status",
                "--type=merge",
                "-p",
                patch,
            )

    def once(self) -> None:
        services = json.loads(self.kubectl("get", "services", "--all-namespaces", "-o", "json"))["items"]
        nodes: dict[str, bool] = {}
        for node in json.loads(self.kubectl("get", "nodes", "-o", "json"))["items"]:
            address = next(
                (a["address"] for a in node["status"].get("addresses", []) if a["type"] == "InternalIP"), None
            )
            ready = any(
                c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", [])
            )
            if address:
                nodes[address] = ready
        seen = set()
        for svc in services:
            if svc["spec"].get("type") != "LoadBalancer":
                continue
            key = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
            seen.add(key)
            address = self.wanted_address(key, svc)
            if address is None:
                continue
            self.refused.discard(key)
            if key in self.frontends and self.frontends[key].address != address:
                self.withdraw(key)
            frontend = self.frontends.setdefault(key, Frontend(address))
            self.status(svc, address)
            self.route(key, frontend, self.healthy(svc, nodes))
        for key in set(self.frontends) - seen:
            self.withdraw(key)


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--pool", required=True, type=ipaddress.IPv4Network, help="frontend addresses (CIDR)")
    p.add_argument("--cp-netns", required=True, help="the control plane's network namespace")
    p.add_argument("--cp-address", required=True, help="its address seen from the host")
    p.add_argument("--host-dev", required=True, help="the host's end of the veth into it")
    p.add_argument("--state", required=True, type=Path, help="where the proxy-ARP entries are listed")
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args()
    balancer = Balancer(args.kubeconfig, args.pool, args.cp_netns, args.cp_address, args.host_dev, args.state)
    # Per-connection hashing across the healthy nodes (the default hashes addresses only).
    ip("netns", "exec", args.cp_netns, "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1")
    say(f"load balancer for LoadBalancer Services, frontends from {args.pool}")
    while True:  # until cluster.sh down kills the cluster's processes
        try:
            balancer.once()
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
            say(f"error (retrying): {error}")
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
