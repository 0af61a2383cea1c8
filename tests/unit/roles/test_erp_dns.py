"""erp_dns against a real DNS server (BIND on loopback, RFC 2136 with a TSIG key): the name's first
version, left alone afterwards, moved by `point`, read by `info`; read back with dnspython, not the role.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
from conftest import JSON_OUTPUT, assert_refused, localhost_playbook, playbook_env, run_playbook

from tests.fixtures.services import DnsServer

PRIMARY = ["10.213.20.11", "10.213.20.12"]
DR = ["10.213.40.11"]


def addresses(server: DnsServer, name: str = "erp") -> list[str]:
    """What the server answers for the name (A and AAAA), asked directly over TCP."""
    found: list[str] = []
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        query = dns.message.make_query(f"{name}.{server.zone}", rdtype)
        reply = dns.query.tcp(query, "127.0.0.1", port=server.port, timeout=5)
        found += [r.to_text() for rrset in reply.answer for r in rrset]
    return sorted(found)


def ttl(server: DnsServer) -> int:
    reply = dns.query.tcp(
        dns.message.make_query(f"erp.{server.zone}", dns.rdatatype.A),
        "127.0.0.1",
        port=server.port,
        timeout=5,
    )
    return int(reply.answer[0].ttl)


def settings(server: DnsServer, **more: Any) -> dict[str, Any]:
    return {
        "erp_dns_server": "127.0.0.1",
        "erp_dns_port": server.port,
        "erp_dns_zone": server.zone.rstrip("."),
        "erp_dns_key_name": server.key_name,
        "erp_dns_key_secret": server.key_secret,
        **more,
    }


def run(
    tmp_path: Path, server: DnsServer, entry: str, *, as_json: bool = True, **more: Any
) -> subprocess.CompletedProcess[str]:
    """The role's entry point on localhost; its output as one JSON document, or as the default callback's."""
    tasks = [
        {
            "name": "ERP name",
            "ansible.builtin.include_role": {
                "name": "retailops.odoo_platform.erp_dns",
                "tasks_from": entry,
                "public": True,
            },
        },
        {"name": "Show", "ansible.builtin.debug": {"var": "erp_dns_current_addresses"}},
        {"name": "Wanted", "ansible.builtin.debug": {"var": "erp_dns_wanted_addresses"}},
    ]
    play = localhost_playbook(tmp_path / f"{entry}.yml", "erp_dns", tasks)
    env = playbook_env(**JSON_OUTPUT) if as_json else playbook_env()
    result: subprocess.CompletedProcess[str] = run_playbook(
        play, settings(server, **more), env=env, timeout=120
    )
    return result


def stats(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    document = json.loads(result.stdout)
    return dict(document["stats"]["localhost"])


SHOWN = {"Show": "erp_dns_current_addresses", "Wanted": "erp_dns_wanted_addresses"}


def shown(result: subprocess.CompletedProcess[str], task_name: str = "Show") -> list[str]:
    """What a debug task printed: Show, the name's addresses; Wanted, erp_dns_addresses in that form."""
    document = json.loads(result.stdout)
    for task in document["plays"][0]["tasks"]:
        if task["task"]["name"] == task_name:
            return list(task["hosts"]["localhost"][SHOWN[task_name]])
    raise AssertionError(f"no {task_name} task")


def test_first_version_then_left_alone_then_moved(tmp_path: Path, dns_server: DnsServer) -> None:
    assert addresses(dns_server) == []
    first = run(tmp_path, dns_server, "main", erp_dns_addresses=PRIMARY, erp_dns_ttl=30)
    assert stats(first)["changed"] == 1  # the A set; no AAAA to remove
    assert addresses(dns_server) == PRIMARY
    assert ttl(dns_server) == 30
    again = run(tmp_path, dns_server, "main", erp_dns_addresses=PRIMARY)
    assert stats(again)["changed"] == 0
    # a converge of the DR region (or of the primary with other entrypoints) never moves the name
    other = run(tmp_path, dns_server, "main", erp_dns_addresses=DR)
    assert stats(other)["changed"] == 0
    assert "left as it is" in other.stdout
    assert addresses(dns_server) == PRIMARY
    moved = run(tmp_path, dns_server, "point", erp_dns_addresses=DR)
    assert stats(moved)["changed"] >= 1
    assert addresses(dns_server) == DR
    assert "now points at 10.213.40.11 (was 10.213.20.11, 10.213.20.12)" in moved.stdout
    assert stats(run(tmp_path, dns_server, "point", erp_dns_addresses=DR))["changed"] == 0
    info = run(tmp_path, dns_server, "info")
    assert stats(info)["changed"] == 0
    assert shown(info) == DR


def test_point_replaces_both_families(tmp_path: Path, dns_server: DnsServer) -> None:
    stats(run(tmp_path, dns_server, "point", erp_dns_addresses=["10.0.0.1", "2001:db8::1"]))
    assert addresses(dns_server) == ["10.0.0.1", "2001:db8::1"]
    stats(run(tmp_path, dns_server, "point", erp_dns_addresses=["10.0.0.2"]))
    assert addresses(dns_server) == ["10.0.0.2"]


def test_entrypoints_with_their_ports_give_their_addresses(tmp_path: Path, dns_server: DnsServer) -> None:
    """As the register and the hubs write them (hub_erp_entrypoints): both families, ports dropped."""
    entrypoints = ["10.213.40.11:443", "[2001:db8::11]:8443", "[2001:db8::12]", "10.213.40.12"]
    stats(run(tmp_path, dns_server, "point", erp_dns_addresses=entrypoints))
    assert addresses(dns_server) == ["10.213.40.11", "10.213.40.12", "2001:db8::11", "2001:db8::12"]
    info = run(tmp_path, dns_server, "info", erp_dns_addresses=entrypoints[:2])
    assert shown(info) == ["10.213.40.11", "10.213.40.12", "2001:db8::11", "2001:db8::12"]
    assert shown(info, "Wanted") == ["10.213.40.11", "2001:db8::11"]


def test_a_wrong_key_is_refused_without_showing_it(tmp_path: Path, dns_server: DnsServer) -> None:
    wrong = "d3Jvbmcta2V5LWZvci10aGUtdGVzdC1vbmx5LTEyMzQ="
    result = run(tmp_path, dns_server, "point", erp_dns_addresses=DR, erp_dns_key_secret=wrong)
    assert result.returncode != 0
    assert addresses(dns_server) == []
    assert wrong not in result.stdout + result.stderr
    assert dns_server.key_secret not in result.stdout + result.stderr


def test_a_name_the_key_may_not_change_is_refused(tmp_path: Path, dns_server: DnsServer) -> None:
    result = run(tmp_path, dns_server, "point", erp_dns_addresses=DR, erp_dns_record="www")
    assert result.returncode != 0
    assert addresses(dns_server, "www") == []


def test_a_server_that_does_not_answer_is_an_error_not_an_empty_name(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    dns_server.stop()
    result = run(tmp_path, dns_server, "info")
    assert result.returncode != 0
    assert "Lookup failed" in result.stdout


def test_bad_input_to_point_changes_nothing(tmp_path: Path, dns_server: DnsServer) -> None:
    """Each refusal's message: test_erp_dns_validate.py. Here: refused before the server is touched."""
    result = run(tmp_path, dns_server, "point", as_json=False, erp_dns_addresses=["erp-dr.pilot.test:443"])
    assert_refused(result, "erp_dns_addresses")
    assert addresses(dns_server) == []
