"""Whatever address a branch connects to, its requests name the ERP of --host (Host header and TLS SNI).

A loopback server stands in for Traefik and records the Host header and the
server name it is asked for; the branch reaches it through a real Toxiproxy
proxy (the rig's toxiproxy-server) or directly by IP, as through a relay.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests.links import DEFAULT_PROFILES
from loadtests.links_setup import LinkRig, Route, create_links, start_toxiproxy
from loadtests.plan import PlanBranch, RunPlan
from loadtests.tests.recorder import Recorder
from tests.fixtures.pki import self_signed

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def toxiproxy(tmp_path):
    rig = start_toxiproxy("auto", tmp_path / "toxiproxy.log")
    yield rig
    rig.close()


def one_call(
    tmp_path: Path, host: str, url: str, upstream: str, proxy: str = "", *, erp_name: str = ""
) -> dict[str, Any]:
    branch = PlanBranch("B1", "Store", "pilot", "store", "standard", "lte", url, upstream, proxy)
    plan = RunPlan(
        "abcd1234",
        host,
        "retail",
        "admin",
        "admin",
        {"pos_cashier": 1},
        [branch],
        str(tmp_path / "ledger.jsonl"),
        str(tmp_path / "samples.jsonl"),
        network_timeout=10,
        erp_name=erp_name,
    )
    plan.dump(tmp_path / "plan.json")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.tests.one_call",
            str(tmp_path / "plan.json"),
            "/web/webclient/version_info",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_https_through_a_toxiproxy_proxy_names_the_erp(tmp_path, toxiproxy: LinkRig):
    tls = self_signed(tmp_path, "erp.pilot.test")
    with Recorder(tls=tls) as rec:
        relay = rec.url  # the branch's erp_url: a relay addressed by IP
        create_links(toxiproxy, {Route("lte", relay)}, dict(DEFAULT_PROFILES), "abcd1234")
        proxy = toxiproxy.proxies[Route("lte", relay)]
        assert proxy.url.startswith("https://127.0.0.1:")
        assert proxy.url != relay
        result = one_call(tmp_path, "https://erp.pilot.test", proxy.url, relay, proxy.name)
    assert result["outcome"] == "ok", result
    assert result["url"] == proxy.url
    assert [(s.host, s.server_name, s.path) for s in rec.seen] == [
        ("erp.pilot.test", "erp.pilot.test", "/web/webclient/version_info")
    ]


def test_a_non_default_port_stays_in_the_host_header_not_in_sni(tmp_path):
    tls = self_signed(tmp_path, "erp.pilot.test")
    with Recorder(tls=tls) as rec:
        result = one_call(tmp_path, "https://erp.pilot.test:8443/", rec.url, rec.url)
    assert result["outcome"] == "ok", result
    assert [(s.host, s.server_name) for s in rec.seen] == [("erp.pilot.test:8443", "erp.pilot.test")]


def test_plain_http_to_a_relay_by_ip_sends_the_erp_host_header(tmp_path):
    with Recorder() as rec:
        result = one_call(tmp_path, "http://erp.pilot.test:8069", rec.url, rec.url)
    assert result["outcome"] == "ok", result
    assert [(s.host, s.server_name) for s in rec.seen] == [("erp.pilot.test:8069", None)]


def test_an_erp_name_replaces_the_host_of_host_in_the_header_and_sni(tmp_path):
    """A region with a DR region: --host is the primary's address, the calls carry the name a failover
    moves (both regions' Traefik route it; the DR region's would refuse the primary's address)."""
    tls = self_signed(tmp_path, "erp.pilot.test")
    with Recorder(tls=tls) as rec:
        result = one_call(tmp_path, "https://10.213.50.11:8443", rec.url, rec.url, erp_name="erp.pilot.test")
    assert result["outcome"] == "ok", result
    assert [(s.host, s.server_name) for s in rec.seen] == [("erp.pilot.test:8443", "erp.pilot.test")]
