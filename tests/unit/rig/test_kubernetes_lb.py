"""The Kubernetes rig's load balancer (lb.py): frontends, health probes and routes, without a cluster."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

IPV4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"


@pytest.fixture(scope="module")
def lb(rig_script: Callable[[str], ModuleType]) -> ModuleType:
    return rig_script("kubernetes/lb.py")


def service(
    name: str, *, asked: str = "", policy: str = "Local", hc: int = 32000, ip: str = ""
) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ingress", "name": name, "annotations": {IPV4: asked} if asked else {}},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": policy, "healthCheckNodePort": hc},
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]} if ip else {}},
    }


def ecmp(*nodes: str) -> tuple[str, ...]:
    """The route lb.py writes in the control plane's namespace for the frontend 10.213.20.50."""
    hops = [w for node in nodes for w in ("nexthop", "via", node)]
    return ("-n", "k8srig", "route", "replace", "10.213.20.50/32", *hops)


class Fake:
    """kubectl and ip as the balancer calls them; the nodes' health probes by address."""

    def __init__(self, services: list[dict[str, Any]], healthy: set[str]) -> None:
        self.services, self.healthy = services, healthy
        self.ip_calls: list[tuple[str, ...]] = []
        self.patches: list[tuple[str, ...]] = []

    def kubectl(self, *args: str) -> str:
        if args[:2] == ("get", "services"):
            return json.dumps({"items": self.services})
        if args[:2] == ("get", "nodes"):
            nodes = [
                {
                    "status": {
                        "addresses": [{"type": "InternalIP", "address": a}],
                        "conditions": [{"type": "Ready", "status": "True"}],
                    }
                }
                for a in ("10.254.1.11", "10.254.1.12", "10.254.1.13")
            ]
            return json.dumps({"items": nodes})
        self.patches.append(args)
        return ""

    def ip(self, *args: str, check: bool = True) -> str:
        self.ip_calls.append(args)
        if args[:3] == ("-j", "-4", "addr"):
            return json.dumps(
                [{"ifname": "br-platform", "addr_info": [{"local": "10.213.20.1", "prefixlen": 24}]}]
            )
        return ""


@pytest.fixture
def balancer(lb: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(services: list[dict[str, Any]], healthy: set[str]) -> tuple[Any, Fake]:
        fake = Fake(services, healthy)
        b = lb.Balancer(
            "kubeconfig",
            ipaddress.IPv4Network("10.213.20.48/29"),
            "k8srig",
            "10.254.0.2",
            "k8srig-h",
            tmp_path / "proxy-arp",
        )
        monkeypatch.setattr(b, "kubectl", fake.kubectl)
        monkeypatch.setattr(lb, "ip", fake.ip)
        monkeypatch.setattr(b, "probe", lambda address, port: address in fake.healthy)
        return b, fake

    return make


def test_the_annotated_address_routed_to_the_nodes_with_a_local_endpoint(balancer: Any, tmp_path: Path):
    b, fake = balancer([service("traefik", asked="10.213.20.50")], {"10.254.1.13"})
    b.once()
    assert b.frontends["ingress/traefik"].address == "10.213.20.50"
    status = json.loads(fake.patches[0][fake.patches[0].index("-p") + 1])
    assert status == {"status": {"loadBalancer": {"ingress": [{"ip": "10.213.20.50"}]}}}
    assert ecmp("10.254.1.13") in fake.ip_calls
    # the host routes it into the cluster from its own address there, and answers ARP for it
    assert (
        "route",
        "replace",
        "10.213.20.50/32",
        "via",
        "10.254.0.2",
        "dev",
        "k8srig-h",
        "src",
        "10.213.20.1",
    ) in fake.ip_calls
    assert ("neigh", "replace", "proxy", "10.213.20.50", "dev", "br-platform") in fake.ip_calls
    assert (tmp_path / "proxy-arp").read_text() == "10.213.20.50 br-platform\n"  # for cluster.sh down

    fake.ip_calls.clear()
    fake.services[0]["status"] = {"loadBalancer": {"ingress": [{"ip": "10.213.20.50"}]}}
    b.once()  # nothing changed: no call, no patch
    assert fake.ip_calls == []
    assert len(fake.patches) == 1

    fake.healthy = {"10.254.1.12", "10.254.1.13"}
    b.once()
    assert fake.ip_calls == [ecmp("10.254.1.12", "10.254.1.13")]
    fake.healthy = set()
    b.once()
    assert fake.ip_calls[-1] == ("-n", "k8srig", "route", "replace", "blackhole", "10.213.20.50/32")


def test_cluster_policy_uses_every_ready_node_and_a_service_without_an_address_gets_the_first_free(
    balancer: Any,
):
    b = balancer([service("a", asked="10.213.20.49"), service("b", policy="Cluster")], set())[0]
    b.once()
    addresses = (b.frontends["ingress/a"].address, b.frontends["ingress/b"].address)
    assert addresses == ("10.213.20.49", "10.213.20.50")
    assert b.frontends["ingress/b"].backends == ("10.254.1.11", "10.254.1.12", "10.254.1.13")


@pytest.mark.parametrize(
    ("asked", "why"),
    [("10.213.21.50", "is not a free address of the pool"), ("erp", "is not an IPv4 address")],
)
def test_an_address_outside_the_pool_gets_no_frontend(balancer: Any, capsys: Any, asked: str, why: str):
    b, fake = balancer([service("traefik", asked=asked)], {"10.254.1.13"})
    b.once()
    assert b.frontends == {}
    assert fake.patches == []
    assert why in capsys.readouterr().out


def test_a_deleted_service_is_withdrawn(balancer: Any):
    b, fake = balancer([service("traefik", asked="10.213.20.50")], {"10.254.1.13"})
    b.once()
    fake.services.clear()
    b.once()
    assert b.frontends == {}
    assert ("neigh", "del", "proxy", "10.213.20.50", "dev", "br-platform") in fake.ip_calls
