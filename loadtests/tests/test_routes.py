"""Per-branch routes: one Toxiproxy proxy per (link class, upstream); link drills act on all of a class."""

import argparse
import time
from pathlib import Path
from typing import Any

import pytest

from loadtests.cli import Run, route_lines, routes_report
from loadtests.collection import build_register
from loadtests.distributed import BranchWorkers
from loadtests.drills import DrillError, Flapper, ToxiproxyExecutor
from loadtests.endpoints import EndpointError, base_url, host_header, host_port, server_name
from loadtests.errors import ConfigError
from loadtests.gates import load_gates
from loadtests.links import DEFAULT_PROFILES, FLAPPING
from loadtests.links_setup import LinkProxy, LinkRig, Route, create_links
from loadtests.register import erp_url, load_branches
from loadtests.scenario import DrillSpec, load_scenario
from loadtests.toxiproxy import Proxy, ToxiproxyError

HERE = Path(__file__).resolve().parent.parent
HOST = "https://erp.pilot.test"


class FakeToxiproxy:
    """Records the API calls the harness makes; ``fail_enable`` makes re-enabling that proxy fail once."""

    def __init__(self, fail_enable: str = "") -> None:
        self.created: dict[str, tuple[str, str]] = {}
        self.toxics: dict[str, list[str]] = {}
        self.calls: list[tuple[str, bool]] = []
        self.fail_enable = fail_enable

    def create(self, name: str, listen: str, upstream: str) -> Proxy:
        if listen.endswith(":0"):  # as Toxiproxy does: port 0 is a port it picks
            listen = f"{listen[:-2]}:{20000 + len(self.created)}"
        self.created[name] = (listen, upstream)
        return Proxy(name, listen, upstream, True)

    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> None:
        self.toxics.setdefault(proxy, []).append(toxic["name"])

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.calls.append((name, enabled))
        if enabled and name == self.fail_enable:
            self.fail_enable = ""
            raise ToxiproxyError(f"POST /proxies/{name}: HTTP 500")

    def delete(self, name: str) -> None:
        self.created.pop(name, None)


def branch(code: str, link: str, url: str = "") -> dict[str, Any]:
    """A register entry: the harness's branches are the register's own."""
    entry = {
        "code": code,
        "name": f"Branch {code}",
        "country": "NL",
        "kind": "store",
        "tier": "standard",
        "link": link,
        "lan_subnets": [f"10.101.{code[1:]}.0/24"],
        "roaming": True,
        "hub": "hub-1",
    }
    return entry | ({"vars": {"erp_url": url}} if url else {})


BRANCHES = (
    build_register(
        [
            (
                "routes.yml",
                {
                    "region": "pilot",
                    "platform_networks": ["10.213.20.0/24"],
                    "hubs": [
                        {"name": "hub-1", "endpoint": "10.213.21.10:51820", "tunnel_pool": "10.99.0.0/24"}
                    ],
                    "branches": [
                        branch("B1", "fiber", "https://10.213.21.2:8443"),
                        branch("B2", "lte", "https://10.213.22.2:8443/"),  # trailing slash: same base URL
                        branch("B3", "lte", "https://10.213.23.2:8443"),
                        branch("B4", "broadband"),  # no erp_url: straight to --host
                        branch("B5", "lte"),
                        branch(
                            "B6", "dual", "https://10.213.21.2:8443"
                        ),  # dual behaves like fiber: B1's route
                    ],
                },
            )
        ]
    )
    .check()
    .branches
)


def run_args(toxiproxy: str = "auto", **more: object) -> argparse.Namespace:
    return argparse.Namespace(
        out="unused",
        password="",
        host=HOST,
        toxiproxy=toxiproxy,
        db="retail",
        login="admin",
        network_timeout=5,
        erp_name="",
        **more,
    )


def make_run(
    branches=BRANCHES,
    toxiproxy: str = "auto",
    args: argparse.Namespace | None = None,
    workers: BranchWorkers | None = None,
) -> Run:
    scenario = load_scenario(HERE / "scenarios" / "normal_day.yaml")
    scenario = scenario.model_copy(
        update={"links": scenario.links.model_copy(update={"flapping_share": 0.0})}
    )
    gates = load_gates(HERE / "gates" / "default.yaml")
    return Run(args or run_args(toxiproxy), scenario, list(branches), gates, workers)


def test_one_proxy_per_link_class_and_upstream_and_each_branch_uses_its_own():
    run = make_run()
    routes = run.routes(run.link_classes())
    assert routes["B2"] == Route("lte", "https://10.213.22.2:8443")
    assert routes["B4"] == Route("broadband", HOST)
    assert routes["B6"] == routes["B1"] == Route("fiber", "https://10.213.21.2:8443")
    api = FakeToxiproxy()
    run.rig = LinkRig({"": api})  # type: ignore[dict-item]
    create_links(run.rig, set(routes.values()), dict(DEFAULT_PROFILES), "abcd1234")
    # five routes: fiber@21.2 (B1, B6), lte@22.2, lte@23.2, lte@host (B5), broadband@host (B4)
    assert len(api.created) == 5
    upstreams = {name: up for name, (_listen, up) in api.created.items()}
    assert upstreams["lt-abcd1234-lte-10.213.22.2-8443"] == "10.213.22.2:8443"
    assert upstreams["lt-abcd1234-broadband-erp.pilot.test-443"] == "erp.pilot.test:443"
    assert set(api.toxics["lt-abcd1234-lte-10.213.23.2-8443"]) >= {"latency_upstream", "bandwidth_downstream"}

    plan = run.plan(routes)
    by_code = {b.code: b for b in plan.branches}
    for b in plan.branches:
        proxy = run.rig.proxies[routes[b.code]]
        assert b.proxy == proxy.name
        assert b.url == proxy.url == f"https://{api.created[proxy.name][0]}"
        assert b.upstream == routes[b.code].upstream
    assert by_code["B1"].proxy == by_code["B6"].proxy == "lt-abcd1234-fiber-10.213.21.2-8443"
    assert by_code["B3"].proxy == "lt-abcd1234-lte-10.213.23.2-8443"
    assert by_code["B5"].proxy == "lt-abcd1234-lte-erp.pilot.test-443"

    assert {k: [p.name for p in v] for k, v in run.rig.links_by_class().items()} == {
        "broadband": ["lt-abcd1234-broadband-erp.pilot.test-443"],
        "fiber": ["lt-abcd1234-fiber-10.213.21.2-8443"],
        "lte": [
            "lt-abcd1234-lte-10.213.22.2-8443",
            "lt-abcd1234-lte-10.213.23.2-8443",
            "lt-abcd1234-lte-erp.pilot.test-443",
        ],
    }
    # the report and the console name the proxy, class and upstream of every branch
    report = {r["name"]: r for r in routes_report(plan.branches, run.rig)}
    assert report["lt-abcd1234-fiber-10.213.21.2-8443"]["branches"] == ["B1", "B6"]
    assert report["lt-abcd1234-fiber-10.213.21.2-8443"]["upstream"] == "https://10.213.21.2:8443"
    assert report["lt-abcd1234-lte-erp.pilot.test-443"]["link_class"] == "lte"
    lines = route_lines(plan.branches)
    assert len(lines) == 5
    assert any(
        line.startswith("route proxy lt-abcd1234-fiber-10.213.21.2-8443 (fiber, https://127.0.0.1:")
        and line.endswith("-> https://10.213.21.2:8443): 2 branches: B1, B6")
        for line in lines
    ), lines


def test_without_toxiproxy_each_branch_goes_straight_to_its_erp_url():
    run = make_run(toxiproxy="off")
    routes = run.routes(run.link_classes())
    plan = run.plan(routes)
    urls = {b.code: (b.url, b.proxy) for b in plan.branches}
    assert urls["B2"] == ("https://10.213.22.2:8443", "")
    assert urls["B4"] == (HOST, "")
    report = routes_report(plan.branches, None)
    assert {
        "name": "",
        "link_class": "fiber",
        "listen": "",
        "upstream": "https://10.213.21.2:8443",
        "url": "https://10.213.21.2:8443",
        "branches": ["B1", "B6"],
    } in report
    assert "route direct (broadband, https://erp.pilot.test): 1 branches: B4" in route_lines(plan.branches)


def drill(target: str, down_for: float = 0.05) -> DrillSpec:
    return DrillSpec(
        name="flap", at=1, executor="toxiproxy", action="down", target=target, params={"down_for": down_for}
    )


def links(api: FakeToxiproxy, names: dict[str, list[str]]) -> dict[str, list[LinkProxy]]:
    return {
        cls: [LinkProxy(n, Route(cls, HOST), "", "", api) for n in ns]  # type: ignore[arg-type]
        for cls, ns in names.items()
    }


def test_link_drill_takes_every_proxy_of_the_class_down_and_back():
    api = FakeToxiproxy()
    ex = ToxiproxyExecutor(links(api, {"lte": ["p-lte-1", "p-lte-2"], "fiber": ["p-fiber"]}))
    ex.run(drill("lte"))
    assert api.calls == [("p-lte-1", False), ("p-lte-2", False), ("p-lte-1", True), ("p-lte-2", True)]
    api.calls.clear()
    ex.run(drill("p-fiber"))  # a single proxy by name
    assert api.calls == [("p-fiber", False), ("p-fiber", True)]


def test_link_drill_brings_every_proxy_back_even_when_one_fails():
    api = FakeToxiproxy(fail_enable="p-lte-1")
    ex = ToxiproxyExecutor(links(api, {"lte": ["p-lte-1", "p-lte-2"]}))
    with pytest.raises(ToxiproxyError):
        ex.run(drill("lte"))
    assert ("p-lte-2", True) in api.calls


def test_link_drill_on_a_class_no_branch_uses_is_a_clear_error():
    ex = ToxiproxyExecutor(links(FakeToxiproxy(), {"fiber": ["p"]}))
    with pytest.raises(DrillError, match="no branch of this run is on link class 'lte'"):
        ex.run(drill("lte"))
    with pytest.raises(DrillError, match="no link class or proxy of this run is named 'p-typo'"):
        ex.run(drill("p-typo"))
    with pytest.raises(DrillError, match="no Toxiproxy"):
        ToxiproxyExecutor(None).run(drill("lte"))


def test_flapper_flaps_every_flapping_proxy():
    api = FakeToxiproxy()
    flapper = Flapper(links(api, {FLAPPING: ["f1", "f2"]})[FLAPPING], period=0.15, down=0.05)
    flapper.start()
    time.sleep(0.4)
    flapper.stop()
    assert flapper.outages
    downs = [n for n, enabled in api.calls if not enabled]
    assert {"f1", "f2"} <= set(downs)
    assert api.calls[-1][1] is True  # left enabled


def test_endpoint_names():
    assert base_url("https://10.213.8.20:8443/") == "https://10.213.8.20:8443"
    assert base_url("http://user:pw@erp.example/odoo/") == "http://erp.example/odoo"
    assert host_port("https://erp.pilot.test") == "erp.pilot.test:443"
    assert host_port("http://[::1]:8069") == "[::1]:8069"
    assert host_header("https://erp.pilot.test:443/") == "erp.pilot.test"
    assert host_header("https://erp.pilot.test:8443") == "erp.pilot.test:8443"
    assert host_header("http://127.0.0.1:8069") == "127.0.0.1:8069"
    assert server_name("https://erp.pilot.test:8443") == "erp.pilot.test"
    assert server_name("https://10.213.21.2:8443") == ""
    for bad in ("10.0.0.1:8443", "ftp://erp", "https://", "https://erp:port"):
        with pytest.raises(EndpointError):
            base_url(bad)


def test_register_erp_url_must_be_a_url(tmp_path):
    reg = tmp_path / "register.yml"
    reg.write_text(
        """region: pilot
platform_networks: [10.20.0.0/16]
hubs:
  - {name: hub-1, endpoint: "198.51.100.1:51820", tunnel_pool: 10.99.0.0/24}
branches:
  - {code: B001, name: Store One, country: FR, kind: store, tier: standard, link: fiber,
     lan_subnets: [10.101.1.0/24], hub: hub-1, endpoint: "203.0.113.1:51820",
     vars: {erp_url: "10.213.21.2:8443"}}
  - {code: B002, name: Store Two, country: FR, kind: store, tier: standard, link: lte,
     lan_subnets: [10.101.2.0/24], hub: hub-1, roaming: true, vars: {erp_url: "https://10.213.22.2:8443"}}
"""
    )
    with pytest.raises(ConfigError) as err:
        load_branches(reg)
    assert "B001.vars.erp_url" in str(err.value)
    assert "is not an http:// or https:// URL" in str(err.value)
    reg.write_text(
        reg.read_text().replace('erp_url: "10.213.21.2:8443"', 'erp_url: "https://10.213.21.2:8443"')
    )
    assert [erp_url(b) for b in load_branches(reg)] == [
        "https://10.213.21.2:8443",
        "https://10.213.22.2:8443",
    ]
