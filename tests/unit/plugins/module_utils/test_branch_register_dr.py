"""Disaster recovery in the branch register: dr_region / dr_hub, their checks, DR addresses and views."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible_collections.retailops.odoo_platform.plugins.lookup.branch_allow_lists import LookupModule
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    RegisterError,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.register import (
    Register,
    build_register,
)

from loadtests import branchctl

Doc = dict[str, Any]

EAST: Doc = {
    "region": "test-east",
    "platform_networks": ["10.30.0.0/16"],
    "erp_entrypoints": ["10.30.0.10:443", "10.30.0.11:443"],
    "hubs": [
        {"name": "hub-e1", "endpoint": "198.51.100.11:51820", "tunnel_pool": "10.98.0.0/24"},
        {"name": "hub-e2", "endpoint": "198.51.100.12:51821", "tunnel_pool": "10.98.1.0/24"},
    ],
    "integrations": ["10.30.5.5:8443"],
    "branches": [
        {
            "code": "E-001",
            "name": "East store",
            "country": "DE",
            "kind": "store",
            "tier": "standard",
            "link": "fiber",
            "lan_subnets": ["10.102.1.0/24"],
            "endpoint": "203.0.113.50:51820",
            "hub": "hub-e1",
        }
    ],
}


# a third region, for chains
NORTH: Doc = {
    "region": "test-north",
    "platform_networks": ["10.40.0.0/16"],
    "erp_entrypoints": ["10.40.0.10:443"],
    "hubs": [{"name": "hub-n1", "endpoint": "198.51.100.21:51820", "tunnel_pool": "10.97.0.0/24"}],
    "branches": [],
}


@pytest.fixture
def east() -> Doc:
    return copy.deepcopy(EAST)


def build(*docs: Doc) -> Register:
    return build_register((f"{d['region']}.yml", d) for d in docs)


def problems_of(reg: Register) -> list[tuple[str, str]]:
    return [(p.subject, p.field) for p in reg.problems]


def addresses(reg: Register) -> dict[tuple[str, str], Any]:
    return {(b.code, h): a for r in reg.regions for b in r.branches for h, a in b.tunnel_addresses.items()}


# --- a good configuration --------------------------------------------------------


def test_branches_of_a_region_get_a_tunnel_to_its_dr_hub(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    reg = build(region, east)
    assert reg.problems == []
    view = reg.inventory()
    hosts, groups = view["hosts"], view["groups"]
    s1 = hosts["S-001"]
    assert s1["branch_dr_region"] == "test-east"
    assert s1["branch_dr_hub"] == "hub-e1"  # the DR region's first hub by default
    assert ipaddress.ip_address(s1["branch_dr_tunnel_address"]) in ipaddress.ip_network("10.98.0.0/24")
    assert s1["branch_dr_tunnel"] == {
        "hub": "hub-e1",
        "primary": False,
        "address": s1["branch_dr_tunnel_address"],
        "prefix": 24,
        "pool": "10.98.0.0/24",
        "hub_address": "10.98.0.1",
        "hub_endpoint": "198.51.100.11:51820",
        "hub_listen_port": 51820,
    }
    assert s1["branch_dr_erp_entrypoints"] == ["10.30.0.10:443", "10.30.0.11:443"]
    assert s1["branch_dr_platform_networks"] == ["10.30.0.0/16"]
    # the own tunnels are unchanged: the DR tunnel is not one of them
    assert [t["hub"] for t in s1["branch_tunnels"]] == ["hub-a", "hub-b"]
    assert s1["branch_platform_networks"] == ["10.20.0.0/16"]
    # the DR region's own branch has no DR tunnel
    e1 = hosts["E-001"]
    assert (e1["branch_dr_region"], e1["branch_dr_hub"], e1["branch_dr_tunnel_address"]) == (None, None, None)
    assert (e1["branch_dr_tunnel"], e1["branch_dr_erp_entrypoints"], e1["branch_dr_platform_networks"]) == (
        None,
        [],
        [],
    )
    assert groups["dr_region_test_east"] == ["S-001", "S-002", "S-003"]
    assert groups["dr_hub_hub_e1"] == ["S-001", "S-002", "S-003"]
    assert groups["dr_hubs"] == ["hub-e1"]
    assert "dr_hub_hub_e2" not in groups
    assert "dr_region_test_west" not in groups
    assert groups["region_test_east"] == ["E-001", "hub-e1", "hub-e2"]  # DR branches stay in their region
    assert groups["hub_hub_e1"] == ["E-001"]


def test_the_dr_hub_serves_them_after_its_own_without_integrations(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    region["integrations"] = ["10.20.9.9:9000"]
    reg = build(region, east)
    hub = reg.inventory()["hosts"]["hub-e1"]
    peers = hub["hub_peers"]
    assert [(p["code"], p["primary"], p["dr"], p["region"]) for p in peers] == [
        ("E-001", True, False, "test-east"),
        ("S-001", False, True, "test-west"),
        ("S-002", False, True, "test-west"),
        ("S-003", False, True, "test-west"),
    ]
    assert peers[0]["integrations"] != []  # its own branch keeps the region's integrations
    assert all(p["integrations"] == [] for p in peers[1:])  # DR branches reach the ERP entrypoints only
    s3 = reg.branch("S-003")
    assert peers[3]["allowed_ips"] == [str(s3.tunnel_addresses["hub-e1"]) + "/32", "10.101.3.0/24"]
    assert hub["hub_dr_regions"] == ["test-west"]
    assert hub["hub_erp_entrypoints"] == ["10.30.0.10:443", "10.30.0.11:443"]
    assert reg.inventory()["hosts"]["hub-e2"]["hub_dr_regions"] == []
    # the own hubs' peers carry dr: false and nothing else changes for them
    assert [(p["code"], p["dr"]) for p in reg.hub_peers("hub-b")] == [("S-001", False), ("S-003", False)]
    assert reg.hub_peers("hub-b")[1]["integrations"][0]["endpoint"] == "10.20.9.9:9000"


def test_dr_hub_picks_another_hub_of_the_dr_region(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    region["dr_hub"] = "hub-e2"
    reg = build(region, east)
    assert reg.problems == []
    view = reg.inventory()
    assert view["hosts"]["S-002"]["branch_dr_hub"] == "hub-e2"
    assert view["hosts"]["S-002"]["branch_dr_tunnel"]["hub_listen_port"] == 51821
    assert view["groups"]["dr_hub_hub_e2"] == ["S-001", "S-002", "S-003"]
    assert [p["code"] for p in view["hosts"]["hub-e2"]["hub_peers"]] == ["S-001", "S-002", "S-003"]
    assert [p["code"] for p in view["hosts"]["hub-e1"]["hub_peers"]] == ["E-001"]


def test_a_pair_of_regions_may_back_each_other_up(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    east["dr_region"] = "test-west"
    reg = build(region, east)
    assert reg.problems == []
    view = reg.inventory()
    assert view["hosts"]["E-001"]["branch_dr_hub"] == "hub-a"
    assert view["hosts"]["E-001"]["branch_dr_erp_entrypoints"] == ["10.20.0.10:443"]
    assert [(p["code"], p["dr"]) for p in view["hosts"]["hub-a"]["hub_peers"]] == [
        ("S-001", False),
        ("S-002", False),
        ("E-001", True),
    ]
    assert view["groups"]["dr_hubs"] == ["hub-a", "hub-e1"]


def test_retired_branches_keep_their_dr_address_and_are_no_dr_peer(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    before = addresses(build(region, east))
    region["branches"][1]["retired"] = True
    reg = build(region, east)
    assert addresses(reg) == before
    assert [p["code"] for p in reg.hub_peers("hub-e1")] == ["E-001", "S-001", "S-003"]
    assert reg.inventory()["groups"]["dr_region_test_east"] == ["S-001", "S-003"]


def test_views_carry_the_dr_addresses(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    reg = build(region, east)
    s2 = reg.branch("S-002")
    dr = str(s2.tunnel_addresses["hub-e1"])
    lists = reg.allow_lists()
    # the DR region's Traefik sees the branches from their DR tunnel addresses too
    assert dr + "/32" in lists["branches"]
    assert dr + "/32" in lists["dr_region_test_east"]
    assert "10.101.2.0/24" in lists["dr_hub_hub_e1"] or "10.101.2.0/23" in lists["dr_hub_hub_e1"]
    listed = {b["code"]: b for b in reg.branch_list()}
    assert (listed["S-002"]["dr_hub"], listed["S-002"]["dr_tunnel_address"]) == ("hub-e1", dr)
    assert (listed["E-001"]["dr_hub"], listed["E-001"]["dr_tunnel_address"]) == (None, None)


def test_the_lookup_returns_the_dr_groups(tmp_path: Path, region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    for doc in (region, east):
        (tmp_path / f"{doc['region']}.yml").write_text(yaml.safe_dump(doc))
    (result,) = LookupModule().run([str(tmp_path)], variables={})
    assert result == build(region, east).allow_lists()
    assert {"dr_region_test_east", "dr_hub_hub_e1"} <= set(result)
    (prefixed,) = LookupModule().run([str(tmp_path)], variables={}, group_prefix="br_")
    assert "br_dr_region_test_east" in prefixed
    region["dr_region"] = "test-nowhere"
    (tmp_path / "test-west.yml").write_text(yaml.safe_dump(region))
    with pytest.raises(AnsibleLookupError, match="dr_region: unknown region 'test-nowhere'"):
        LookupModule().run([str(tmp_path)], variables={})


# --- refusals: each names its field ---------------------------------------------


def _set(**changes: Any) -> Callable[[Doc, Doc], None]:
    def mutate(west: Doc, _east: Doc) -> None:
        west.update(changes)

    return mutate


def _east(**changes: Any) -> Callable[[Doc, Doc], None]:
    def mutate(west: Doc, east: Doc) -> None:
        west["dr_region"] = "test-east"
        east.update(changes)

    return mutate


# id, change to (west, east), the west's (subject field) problem, message fragment
REFUSALS: list[tuple[str, Callable[[Doc, Doc], None], str, str]] = [
    ("itself", _set(dr_region="test-west"), "dr_region", "is this region itself"),
    ("unknown", _set(dr_region="test-nowhere"), "dr_region",
     "unknown region 'test-nowhere': no loaded register file defines it"),
    ("chain", _east(dr_region="test-north"), "dr_region",
     "region test-east names a DR region of its own, test-north: DR regions do not chain"),
    ("no-entrypoints", _east(erp_entrypoints=[]), "dr_region",
     "region test-east lists no erp_entrypoints"),
    ("platform-overlap", _east(platform_networks=["10.20.128.0/17"]), "dr_region",
     "platform network 10.20.128.0/17 of region test-east overlaps this region's platform_networks[0] "
     "10.20.0.0/16"),
    ("unknown-dr-hub", _set(dr_region="test-east", dr_hub="hub-a"), "dr_hub",
     "unknown hub 'hub-a'; DR region test-east defines: hub-e1, hub-e2"),
    ("dr-hub-alone", _set(dr_hub="hub-e1"), "dr_hub", "dr_region is not set"),
    ("bad-name", _set(dr_region="Test East"), "dr_region", "lower-case letters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "fld", "fragment"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusal(region: Doc, east: Doc, mutate: Callable[[Doc, Doc], None], fld: str, fragment: str) -> None:
    mutate(region, east)
    reg = build(region, east, NORTH)
    assert problems_of(reg) == [("region test-west", fld)], reg.problems
    assert fragment in reg.problems[0].message, reg.problems[0].message
    assert str(reg.problems[0]).startswith(f"test-west.yml: region test-west, field {fld}: ")
    # a refused DR region gives no DR tunnel (and no address on its pools) to anybody
    assert not {"hub-e1", "hub-e2"} & {h for b in reg.branches[:3] for h in b.tunnel_addresses}


def test_dr_region_without_a_hub_is_refused(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    east["hubs"] = []
    east["branches"] = []
    reg = build(region, east)
    assert sorted(problems_of(reg)) == [("region test-east", "hubs"), ("region test-west", "dr_region")]
    assert "region test-east has no hub the branches could dial" in str(reg.problems)


def test_overlaps_with_the_dr_region_are_the_existing_checks(region: Doc, east: Doc) -> None:
    """A branch LAN or pool of the region over the DR region's networks: reported once, by check_overlaps."""
    region["dr_region"] = "test-east"
    region["branches"][2]["lan_subnets"] = ["10.30.7.0/24"]
    reg = build(region, east)
    assert problems_of(reg) == [("branch S-003", "lan_subnets[0]")]
    assert "overlaps platform network 10.30.0.0/16 of region test-east" in reg.problems[0].message
    region["branches"][2]["lan_subnets"] = ["10.101.3.0/24"]
    region["hubs"][1]["tunnel_pool"] = "10.98.1.0/25"
    assert problems_of(build(region, east)) == [("hub hub-b", "tunnel_pool")]


def test_dr_branches_exhausting_the_dr_pool_are_named(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    east["hubs"][0]["tunnel_pool"] = "10.98.0.0/29"  # 6 usable: the hub, E-001, then 3 of 3 DR branches fit
    assert build(region, east).problems == []
    east["hubs"][0]["tunnel_pool"] = "10.98.0.0/30"  # 2 usable: the hub and E-001
    reg = build(region, east)
    assert problems_of(reg) == [("hub hub-e1", "tunnel_pool")]
    message = str(reg.problems[0])
    assert "for 4 branches (3 of other regions, for DR); no address for S-001, S-002, S-003" in message


# --- addresses stay where they were -----------------------------------------------


def crowded(name: str, n: int, pools: tuple[str, str], platform: str, lan_base: int) -> Doc:
    """n branches over two hubs in /24 pools crowded enough to displace many from their first choice."""
    doc = branchctl.generate(n, hubs=2)
    doc["region"] = name
    doc["platform_networks"] = [platform]
    doc["erp_entrypoints"] = [platform.split("/", maxsplit=1)[0].rsplit(".", 1)[0] + ".10:443"]
    for i, hub in enumerate(doc["hubs"]):
        hub["name"] = f"{name}-hub-{i}"
        hub["endpoint"] = f"198.51.100.{lan_base + i}:51820"
        hub["tunnel_pool"] = pools[i]
    for i, b in enumerate(doc["branches"]):
        b["code"] = f"{name}-{i:04d}"
        b["lan_subnets"] = [f"10.{lan_base}.{i // 256}.{i % 256}/32"]
        b["hub"] = f"{name}-hub-{i % 2}"
        b.pop("second_hub", None)
        if b["tier"] == "critical" and i % 3 == 0:
            b["second_hub"] = f"{name}-hub-{(i + 1) % 2}"
    return doc


def west_east(west_n: int = 150, east_n: int = 150) -> tuple[Doc, Doc]:
    west = crowded("west", west_n, ("10.96.0.0/24", "10.96.1.0/24"), "10.20.0.0/16", 110)
    east = crowded("east", east_n, ("10.97.0.0/24", "10.97.1.0/24"), "10.30.0.0/16", 120)
    return west, east


def test_naming_a_dr_region_moves_no_primary_address() -> None:
    west, east = west_east()
    before = build(west, east)
    assert before.problems == []
    west["dr_region"] = "east"
    after = build(west, east)
    assert after.problems == []
    old, new = addresses(before), addresses(after)
    # primary and second-hub addresses, of both regions
    assert all(new[key] == value for key, value in old.items())
    dr = {key: value for key, value in new.items() if key not in old}
    assert {key[1] for key in dr} == {"east-hub-0"}
    assert len(dr) == 150
    own = {value for key, value in new.items() if key[1] == "east-hub-0" and key not in dr}
    assert not own & set(dr.values())  # one address, one peer on the DR hub
    hub = after.hub("east-hub-0")
    assert hub.tunnel_address not in dr.values()
    assert len(after.hub_peers("east-hub-0")) == len(own) + 150


def test_appending_branches_to_either_region_moves_no_primary_address() -> None:
    west, east = west_east(100, 100)
    west["dr_region"] = "east"
    before = addresses(build(west, east))
    bigger_west, bigger_east = west_east(130, 130)  # the same first 100 of each, then 30 more
    bigger_west["dr_region"] = "east"
    after = addresses(build(bigger_west, bigger_east))
    primary = {k: v for k, v in before.items() if not (k[0].startswith("west") and k[1].startswith("east"))}
    assert all(after[k] == v for k, v in primary.items())
    # appending to the protected region moves no DR address either
    west_only = addresses(build(bigger_west, east))
    assert all(west_only[k] == v for k, v in before.items())


# --- an inventory per region ------------------------------------------------------


def test_an_inventory_of_one_region_holds_its_hosts_and_its_branches_dr_hub(region: Doc, east: Doc) -> None:
    region["dr_region"] = "test-east"
    reg = build(region, east)
    west = reg.inventory(regions=["test-west"])
    assert set(west["hosts"]) == {"S-001", "S-002", "S-003", "hub-a", "hub-b", "hub-e1"}
    assert west["groups"]["hubs"] == ["hub-a", "hub-b"]  # no play over hubs converges the DR hub
    assert west["groups"]["dr_hubs"] == ["hub-e1"]
    assert "region_test_east" not in west["groups"]
    assert west["hosts"]["hub-e1"]["hub_region"] == "test-east"
    assert west["hosts"]["S-001"]["branch_dr_hub"] == "hub-e1"
    east_view = reg.inventory(regions=["test-east"])
    assert set(east_view["hosts"]) == {"E-001", "hub-e1", "hub-e2"}
    assert east_view["groups"]["hubs"] == ["hub-e1", "hub-e2"]
    assert east_view["groups"]["dr_hubs"] == ["hub-e1"]
    # its peers are the register's, whoever's inventory it is in
    peers = [p["code"] for p in east_view["hosts"]["hub-e1"]["hub_peers"]]
    assert peers == ["E-001", "S-001", "S-002", "S-003"]
    assert reg.inventory(regions=[]) == reg.inventory()


def test_an_unknown_region_for_the_inventory_is_named(region: Doc, east: Doc) -> None:
    with pytest.raises(RegisterError, match="field regions: test-nowhere: not a region of the register"):
        build(region, east).inventory(regions=["test-west", "test-nowhere"])
