"""branch_vpn's interface definitions and wg-quick configs, rendered from the example register.

The Molecule scenario has one hub per region; this covers what it cannot: a
critical branch with a second hub (second interface, route metric, no
endpoint on the second hub's side), DNS endpoints and the example region's
link classes. The example region names a DR region here (eu-central, one
hub): every live branch gets its DR interface, the DR hub serves them.
The role's own templates are rendered by ansible-playbook on localhost.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE_REGISTER, ROOT, playbook_env

ROLE = ROOT / "roles" / "branch_vpn"
HOSTS = ["hub-ams", "hub-fra", "AMS-001", "AMS-WH1", "RTM-002", "BRU-001", "CGN-DS1", "hub-dr"]
# Syntactically valid public keys: 43 base64 characters and "=".
KEYS = {host: (chr(ord("A") + i) * 43) + "=" for i, host in enumerate(HOSTS)}
# The DR region of the example region, for this test only.
DR_REGION = {
    "region": "eu-central",
    "platform_networks": ["10.40.0.0/16"],
    "erp_entrypoints": ["10.40.0.10:443", "10.40.0.11:443"],
    "hubs": [{"name": "hub-dr", "endpoint": "198.51.100.30:51822", "tunnel_pool": "10.97.0.0/24"}],
    "branches": [],
}
# CGN-DS1 renders as if hub-dr had not published its key yet.
NO_DR_KEY = "CGN-DS1"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("render")
    register = tmp / "register"
    register.mkdir()
    (register / "eu-west.yml").write_text(EXAMPLE_REGISTER.read_text() + "\ndr_region: eu-central\n")
    (register / "eu-central.yml").write_text(yaml.safe_dump(DR_REGION))
    config = tmp / "branches.yml"
    config.write_text(
        yaml.safe_dump({"plugin": "retailops.odoo_platform.branches", "register": [str(register)]})
    )
    playbook = tmp / "render.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Render",
                    "hosts": ",".join(HOSTS),
                    "connection": "local",
                    "gather_facts": False,
                    "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
                    "vars": {
                        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        "keys": KEYS,
                        "branch_vpn__published": "{{ keys if inventory_hostname != no_dr_key else keys "
                        "| dict2items | rejectattr('key', 'eq', 'hub-dr') | items2dict }}",
                        "no_dr_key": NO_DR_KEY,
                        "out": str(tmp),
                    },
                    "tasks": [
                        {
                            "name": "Interface definitions",
                            "ansible.builtin.set_fact": {
                                "spec": "{{ lookup('ansible.builtin.template', '%s') | from_yaml }}"
                                % (ROLE / "templates" / "interfaces.yml.j2")
                            },
                        },
                        {
                            "name": "Write them",
                            "ansible.builtin.copy": {
                                "content": "{{ spec | to_json }}",
                                "dest": "{{ out }}/{{ inventory_hostname }}.json",
                                "mode": "0644",
                            },
                        },
                        {
                            "name": "Render the configs",
                            "ansible.builtin.template": {
                                "src": str(ROLE / "templates" / "wg.conf.j2"),
                                "dest": "{{ out }}/{{ inventory_hostname }}-{{ item.iface }}.conf",
                                "mode": "0600",
                            },
                            "loop": "{{ spec }}",
                        },
                    ],
                }
            ]
        )
    )
    env = playbook_env(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true")
    result = subprocess.run(
        # extra vars: the role's defaults come in as vars_files, which beat play vars
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            *("-i", str(config), "-e", "branch_vpn_preshared_keys=true", str(playbook)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {
        host: {
            "spec": json.loads((tmp / f"{host}.json").read_text()),
            "conf": {p.name.split("-")[-1][:-5]: p.read_text() for p in tmp.glob(f"{host}-*.conf")},
        }
        for host in HOSTS
    }


def peer(spec: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(p for p in spec[0]["peers"] if p["name"] == name)


def test_hub_peers_come_from_the_register(rendered: dict[str, Any]) -> None:
    spec = rendered["hub-ams"]["spec"]
    assert [i["iface"] for i in spec] == ["wg0"]
    assert spec[0]["address"] == "10.99.0.1/22"
    assert spec[0]["listen_port"] == 51820
    assert {p["name"] for p in spec[0]["peers"]} == {"AMS-001", "AMS-WH1", "RTM-002"}  # UTR-003 is retired
    assert peer(spec, "AMS-001")["endpoint"] == "203.0.113.11:51820"
    assert peer(spec, "RTM-002")["endpoint"] is None  # roaming: it dials in
    assert peer(spec, "AMS-001")["public_key"] == KEYS["AMS-001"]
    assert peer(spec, "AMS-001")["psk"] == "/etc/wireguard/branch_vpn/psk/AMS-001.psk"
    assert "10.101.16.0/22" in peer(spec, "AMS-WH1")["allowed_ips"]


def test_second_hub_side(rendered: dict[str, Any]) -> None:
    spec = rendered["hub-fra"]["spec"]
    assert spec[0]["listen_port"] == 51821
    second = peer(spec, "AMS-001")
    assert second["endpoint"] is None  # the branch's endpoint port belongs to its primary tunnel
    assert "second hub" in second["comment"]
    assert second["allowed_ips"][0].startswith("10.99.4.")


def test_critical_branch_has_two_interfaces(rendered: dict[str, Any]) -> None:
    spec = rendered["AMS-001"]["spec"]
    assert [i["iface"] for i in spec] == ["wg0", "wg1", "wg2"]
    primary, second, _dr = spec
    assert (primary["metric"], second["metric"]) == (0, 100)
    assert (primary["listen_port"], second["listen_port"]) == (51820, None)
    assert primary["mtu"] == second["mtu"] == 1380  # dual: LTE backup
    assert primary["peers"][0]["endpoint"] == "vpn-ams.example.net:51820"
    assert second["peers"][0]["endpoint"] == "198.51.100.20:51820"
    assert primary["peers"][0]["public_key"] == KEYS["hub-ams"]
    assert second["peers"][0]["psk"] == "/etc/wireguard/branch_vpn/psk/hub-fra.psk"
    routes = primary["peers"][0]["allowed_ips"]
    assert routes[:3] == ["10.99.0.0/22", "10.20.0.0/16", "172.20.0.0/24"]
    assert "10.30.0.5/32" in routes  # region-wide integration
    assert primary["peers"][0]["keepalive"] == 25


def test_link_classes(rendered: dict[str, Any]) -> None:
    rtm = rendered["RTM-002"]["spec"]
    assert [i["iface"] for i in rtm] == ["wg0", "wg2"]
    assert rtm[0]["mtu"] == 1380
    assert rtm[0]["listen_port"] is None
    assert rtm[0]["peers"][0]["keepalive"] == 25
    cgn = rendered["CGN-DS1"]["spec"][0]
    assert cgn["mtu"] == 1420
    assert cgn["peers"][0]["keepalive"] == 0
    assert cgn["address"] == "10.99.4.200/22"
    wh = rendered["AMS-WH1"]["spec"][0]
    assert {"10.30.0.20/32", "10.30.0.21/32"} <= set(wh["peers"][0]["allowed_ips"])


def test_configs_hold_no_secret(rendered: dict[str, Any]) -> None:
    confs = rendered["AMS-001"]["conf"]
    assert set(confs) == {"wg0", "wg1", "wg2"}
    for text in [
        *confs.values(),
        *rendered["hub-ams"]["conf"].values(),
        *rendered["hub-dr"]["conf"].values(),
    ]:
        assert "PrivateKey" not in text
        assert "PresharedKey" not in text
        assert "Table = off" in text
        assert "PostUp = wg set %i private-key /etc/wireguard/branch_vpn/private.key" in text
    assert "PersistentKeepalive = 25" in confs["wg1"]
    assert "ListenPort" not in confs["wg1"]
    assert "Endpoint = 198.51.100.20:51820" in confs["wg1"]


def test_dr_interface_routes_the_dr_region_only(rendered: dict[str, Any]) -> None:
    for host, link_mtu, keepalive in (("AMS-001", 1380, 25), ("RTM-002", 1380, 25), ("BRU-001", 1420, 25)):
        spec = rendered[host]["spec"]
        dr = spec[-1]
        assert dr["iface"] == "wg2"
        assert dr["address"].startswith("10.97.0.")
        assert dr["address"].endswith("/24")
        assert (dr["listen_port"], dr["metric"], dr["mtu"]) == (None, 0, link_mtu)
        (hub,) = dr["peers"]
        assert hub["name"] == "hub-dr"
        assert hub["public_key"] == KEYS["hub-dr"]
        assert hub["endpoint"] == "198.51.100.30:51822"
        assert hub["keepalive"] == keepalive
        assert hub["psk"] == "/etc/wireguard/branch_vpn/psk/hub-dr.psk"
        # the DR hub's address and the DR region's platform networks; nothing of eu-west
        assert hub["allowed_ips"] == ["10.97.0.1/32", "10.40.0.0/16"]
        own = {ip for i in spec[:-1] for p in i["peers"] for ip in p["allowed_ips"]}
        assert not own & set(hub["allowed_ips"])
    conf = rendered["AMS-001"]["conf"]["wg2"]
    assert "AllowedIPs = 10.97.0.1/32, 10.40.0.0/16" in conf
    assert "Endpoint = 198.51.100.30:51822" in conf
    assert "ListenPort" not in conf
    assert "MTU = 1380" in conf
    # fiber without keepalive, as on its own tunnel
    wh = rendered["AMS-WH1"]["spec"]
    assert [i["iface"] for i in wh] == ["wg0", "wg2"]
    assert wh[-1]["peers"][0]["keepalive"] == 0


def test_dr_interface_waits_for_the_dr_hubs_key(rendered: dict[str, Any]) -> None:
    assert [i["iface"] for i in rendered[NO_DR_KEY]["spec"]] == ["wg0"]
    assert set(rendered[NO_DR_KEY]["conf"]) == {"wg0"}


def test_the_dr_hub_serves_the_regions_branches(rendered: dict[str, Any]) -> None:
    spec = rendered["hub-dr"]["spec"]
    assert [i["iface"] for i in spec] == ["wg0"]
    assert spec[0]["address"] == "10.97.0.1/24"
    assert spec[0]["listen_port"] == 51822
    peers = spec[0]["peers"]
    assert [p["name"] for p in peers] == ["AMS-001", "AMS-WH1", "RTM-002", "BRU-001", "CGN-DS1"]
    assert all(p["endpoint"] is None for p in peers)  # the branches dial their DR hub
    assert all("region eu-west: this is its DR hub" in p["comment"] for p in peers)
    ams = peer(spec, "AMS-001")
    assert ams["allowed_ips"][0] == rendered["AMS-001"]["spec"][-1]["address"].replace("/24", "/32")
    assert ams["allowed_ips"][1:] == ["10.101.1.0/24"]
    assert ams["psk"] == "/etc/wireguard/branch_vpn/psk/AMS-001.psk"
