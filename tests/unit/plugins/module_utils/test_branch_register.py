"""Validation rules, address allocation and computed views of the branch register."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.allocation import (
    allocate,
    home_index,
    usable_range,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.files import (
    load_register,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    Branch,
    RegisterError,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.register import (
    Register,
    build_register,
)
from conftest import EXAMPLE_REGISTER

from loadtests import branchctl

Doc = dict[str, Any]


def build(*docs: Doc, names: tuple[str, ...] = ()) -> Register:
    sources = names or tuple(f"region{i}.yml" for i in range(len(docs)))
    return build_register(zip(sources, docs, strict=True))


def branch(doc: Doc, code: str) -> Doc:
    return next(b for b in doc["branches"] if b["code"] == code)


def problems_of(reg: Register) -> list[tuple[str, str]]:
    return [(p.subject, p.field) for p in reg.problems]


def test_base_region_and_example_register_are_valid(region: Doc) -> None:
    assert build(region).problems == []
    example = load_register([str(EXAMPLE_REGISTER)])
    assert example.problems == []
    assert len(example.branches) == 5
    assert [b.code for b in example.retired] == ["UTR-003"]


# --- every rule: a failing and a passing variant ---------------------------


def change(doc: Doc, spec: str | Callable[[Doc], None]) -> None:
    """``"S-003 kind: shop"`` sets (YAML) on the branch or hub so named, ``"S-003 -country"`` drops."""
    if callable(spec):
        spec(doc)
        return
    target, what = spec.split(" ", 1)
    entries = {**{h["name"]: h for h in doc["hubs"]}, **{b["code"]: b for b in doc["branches"]}}
    if what.startswith("-"):
        del entries[target][what[1:]]
    else:
        entries[target].update(yaml.safe_load(what))


def _copy(new_code: str, **changes: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        clone = copy.deepcopy(doc["branches"][2])
        clone.update({"code": new_code, "lan_subnets": ["10.101.9.0/24"], **changes})
        doc["branches"].append(clone)

    return mutate


def _small_pool(branches: int) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        doc["hubs"][1]["tunnel_pool"] = "10.99.1.0/29"  # 6 usable, 1 for the hub
        for i in range(branches - 2):  # S-001 (second hub) and S-003 already use hub-b
            _copy(f"X-{i}", lan_subnets=[f"10.102.{i}.0/24"])(doc)

    return mutate


LAN = "lan_subnets"
# id, bad change, passing change, "subject field" of the one problem, message fragment
RULES: list[tuple[str, str | Callable[[Doc], None], str | Callable[[Doc], None], str, str]] = [
    ("duplicate-code", _copy("s-001"), _copy("S-004"), "branch s-001 code", "duplicate code"),
    ("overlap-branches", f"S-002 {LAN}: [10.101.1.128/25]", f"S-002 {LAN}: [10.101.4.0/25]",
     f"branch S-002 {LAN}[0]", "overlaps branch S-001"),
    ("overlap-own-subnets", f"S-002 {LAN}: [10.101.2.0/24, 10.101.2.0/25]",
     f"S-002 {LAN}: [10.101.2.0/24, 10.101.5.0/25]", f"branch S-002 {LAN}[1]", "overlaps branch S-002"),
    ("overlap-platform", f"S-003 {LAN}: [10.20.5.0/24]", f"S-003 {LAN}: [10.21.5.0/24]",
     f"branch S-003 {LAN}[0]", "overlaps platform network"),
    ("overlap-pool", f"S-003 {LAN}: [10.99.1.128/25]", f"S-003 {LAN}: [10.98.0.0/16]",
     f"branch S-003 {LAN}[0]", "overlaps tunnel pool"),
    ("pool-exhausted", _small_pool(6), _small_pool(5), "hub hub-b tunnel_pool", "exhausted"),
    ("unknown-hub", "S-003 hub: hub-z", "S-003 hub: hub-a", "branch S-003 hub", "unknown hub 'hub-z'"),
    ("unknown-tier", "S-003 tier: gold", "S-003 tier: standard", "branch S-003 tier", "unknown tier 'gold'"),
    ("cidr-host-bits", f"S-003 {LAN}: [10.101.3.1/24]", f"S-003 {LAN}: [10.101.3.0/24]",
     f"branch S-003 {LAN}[0]", "did you mean 10.101.3.0/24"),
    ("cidr-garbage", f"S-003 {LAN}: [10.101.300.0/24]", f"S-003 {LAN}: [10.101.30.0/24]",
     f"branch S-003 {LAN}[0]", "not a valid CIDR"),
    ("bad-kind", "S-003 kind: shop", "S-003 kind: dark_store", "branch S-003 kind", "unknown kind 'shop'"),
    ("bad-link", "S-003 link: dsl", "S-003 link: broadband", "branch S-003 link", "unknown link 'dsl'"),
    ("second-hub-tier", "S-003 second_hub: hub-a", _copy("S-004", tier="critical", second_hub="hub-a"),
     "branch S-003 second_hub", "may not have a second hub"),
    ("second-hub-same", "S-001 second_hub: hub-a", "S-001 second_hub: hub-b", "branch S-001 second_hub",
     "same hub"),
    ("missing-field", "S-003 -country", "S-003 country: DE", "branch S-003 country", "field is missing"),
    ("unknown-field", "S-003 contry: DE", "S-003 notes: DE", "branch S-003 contry", "unknown field"),
    ("country-boolean", "S-003 country: NO", 'S-003 country: "NO"', "branch S-003 country", "quote the"),
    ("endpoint-and-roaming", "S-003 roaming: true", "S-003 roaming: false", "branch S-003 endpoint",
     "roaming branch"),
    ("no-endpoint", "S-003 -endpoint", 'S-003 endpoint: "[2001:db8::1]:51820"', "branch S-003 endpoint",
     "required unless roaming"),
    ("bad-endpoint", 'S-003 endpoint: "203.0.113.9"', 'S-003 endpoint: "203.0.113.9:443"',
     "branch S-003 endpoint", "host:port"),
    ("pin-outside-pool", "S-003 tunnel_address: 10.99.0.9", "S-003 tunnel_address: 10.99.1.9",
     "branch S-003 tunnel_address", "not a usable address"),
    ("pin-on-hub", "S-003 tunnel_address: 10.99.1.1", "S-003 tunnel_address: 10.99.1.2",
     "branch S-003 tunnel_address", "taken by a hub"),
    ("bad-integration", 'S-003 integrations: [{endpoint: "10.30.0.1:99999"}]',
     'S-003 integrations: [{endpoint: "10.30.0.1:9999"}]', "branch S-003 integrations[0].endpoint",
     "not 1-65535"),
    ("bad-integration-protocol", 'S-003 integrations: [{endpoint: "h:1", protocol: sctp}]',
     'S-003 integrations: ["h:1", {endpoint: "h:2", protocol: udp}]', "branch S-003 integrations[0].protocol",
     "unknown protocol 'sctp'; expected one of: tcp, udp"),
    ("bad-hub-port", "hub-a listen_port: 0", "hub-a listen_port: 51821", "hub hub-a listen_port",
     "port number"),
    ("reserved-var", "S-003 vars: {branch_hub: x}", "S-003 vars: {ansible_host: 10.101.3.1}",
     "branch S-003 vars.branch_hub", "reserved"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "good", "where", "fragment"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_rule(
    region: Doc,
    bad: str | Callable[[Doc], None],
    good: str | Callable[[Doc], None],
    where: str,
    fragment: str,
) -> None:
    failing = copy.deepcopy(region)
    change(failing, bad)
    reg = build(failing)
    assert [f"{p.subject} {p.field}" for p in reg.problems] == [where], reg.problems
    assert fragment in reg.problems[0].message
    assert reg.problems[0].source == "region0.yml"
    with pytest.raises(RegisterError):
        reg.inventory()
    change(region, good)
    assert build(region).problems == []


def test_region_level_rules(region: Doc) -> None:
    other = copy.deepcopy(region)
    other["hubs"] = [{"name": "hub-c", "endpoint": "198.51.100.3:51820"}]  # no pool anywhere
    other["branches"] = []
    other["tiers"] = {"gold": {"second_hub": "yes"}}
    other["colour"] = "blue"
    reg = build(region, other)
    assert sorted(problems_of(reg)) == sorted(
        [
            ("region test-west", "region"),
            ("hub hub-c", "tunnel_pool"),
            ("region test-west", "tiers.gold.second_hub"),
            ("region test-west", "colour"),
        ]
    )


def test_shared_region_pool_needs_hub_addresses(region: Doc) -> None:
    region["tunnel_pool"] = "10.99.0.0/23"
    for hub in region["hubs"]:
        del hub["tunnel_pool"]
    assert problems_of(build(region)) == [("hub hub-a", "tunnel_address"), ("hub hub-b", "tunnel_address")]
    region["hubs"][0]["tunnel_address"] = "10.99.0.1"
    region["hubs"][1]["tunnel_address"] = "10.99.0.2"
    reg = build(region)
    assert reg.problems == []
    s1 = reg.branch("S-001")  # both hubs draw from one pool: one address for both tunnels
    assert s1.tunnel_addresses["hub-a"] == s1.tunnel_addresses["hub-b"]


def test_ten_planted_errors_all_reported_at_once(region: Doc) -> None:
    for i in range(4, 12):
        _copy(f"S-{i:03d}", lan_subnets=[f"10.110.{i}.0/24"])(region)
    planted = [
        ("S-001", "country", "Netherlands"),
        ("S-002", "kind", "kiosk"),
        ("S-003", "hub", "hub-x"),
        ("S-004", "tier", "platinum"),
        ("S-005", "link", "satellite"),
        ("S-006", "lan_subnets", ["10.110.6.0/33"]),
        ("S-007", "lan_subnets", ["10.101.1.0/24"]),  # overlaps S-001
        ("S-008", "second_hub", "hub-a"),  # basic tier
        ("S-009", "code", "S-010"),  # duplicate; reported under the duplicate's code
        ("S-011", "endpoint", "nowhere"),
    ]
    for code, key, value in planted:
        branch(region, code)[key] = value
    reg = build(region, names=("eu-west.yml",))
    expected = [
        ("branch S-001", "country"),
        ("branch S-002", "kind"),
        ("branch S-003", "hub"),
        ("branch S-004", "tier"),
        ("branch S-005", "link"),
        ("branch S-006", "lan_subnets[0]"),
        ("branch S-010", "code"),
        ("branch S-011", "endpoint"),
        ("branch S-008", "second_hub"),
        ("branch S-007", "lan_subnets[0]"),
    ]
    assert sorted(problems_of(reg)) == sorted(expected)
    message = str(RegisterError(reg.problems))
    assert "10 problem(s)" in message
    for subject, fld in expected:
        assert f"eu-west.yml: {subject}, field {fld}:" in message


# --- tunnel addresses --------------------------------------------------------


def addresses(reg: Register) -> dict[tuple[str, str], ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return {
        (b.code, hub): a for r in reg.regions for b in r.branches for hub, a in b.tunnel_addresses.items()
    }


def crowded(n: int) -> Doc:
    """n branches in one /24 pool per hub: crowded enough for many probe collisions."""
    doc = branchctl.generate(n, hubs=2)
    doc["hubs"][0]["tunnel_pool"] = "10.96.0.0/24"
    doc["hubs"][1]["tunnel_pool"] = "10.96.1.0/24"
    return doc


def test_addresses_unique_inside_pool_and_not_the_hub() -> None:
    reg = build(crowded(300))
    assert reg.problems == []
    for hub in reg.hubs:
        assert hub.tunnel_pool is not None
        mine = [b.tunnel_addresses[hub.name] for b in reg.branches if hub.name in b.tunnel_addresses]
        assert len(mine) == len(set(mine))
        assert hub.tunnel_address not in mine
        assert all(a in hub.tunnel_pool and a not in (hub.tunnel_pool[0], hub.tunnel_pool[-1]) for a in mine)
    displaced = [b for b in reg.branches if b.hub and b.tunnel_addresses[b.hub] != home(reg, b)]
    assert displaced, "the crowded pool should force some probing, or the stability tests prove nothing"


def home(reg: Register, b: Branch) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    pool = reg.hub(b.hub).tunnel_pool
    first, count = usable_range(pool)
    return ipaddress.ip_address(first + home_index(b.code, count))


def test_appending_branches_moves_nobody() -> None:
    before = addresses(build(crowded(200)))
    after = addresses(build(crowded(300)))  # same first 200, then 100 more
    assert all(after[key] == value for key, value in before.items())


def test_retiring_a_branch_moves_nobody_and_keeps_its_address_reserved() -> None:
    doc = crowded(300)
    before = addresses(build(doc))
    for victim in (0, 17, 150, 299):
        changed = copy.deepcopy(doc)
        changed["branches"][victim]["retired"] = True
        reg = build(changed)
        assert reg.problems == []
        assert addresses(reg) == before
        code = changed["branches"][victim]["code"]
        assert code not in {b["code"] for b in reg.branch_list()}
        assert code in reg.inventory()["groups"]["retired_branches"]


def test_deleting_a_branch_moves_only_branches_displaced_from_home() -> None:
    doc = crowded(120)
    reg = build(doc)
    before = addresses(reg)
    at_home = {b.code for b in reg.branches if b.hub and b.tunnel_addresses[b.hub] == home(reg, b)}
    for victim in range(0, 120, 7):
        changed = copy.deepcopy(doc)
        del changed["branches"][victim]
        after = addresses(build(changed))
        moved = {key[0] for key, value in after.items() if before[key] != value}
        assert not moved & at_home
    # and deleting the last branch moves nobody at all
    changed = copy.deepcopy(doc)
    changed["branches"].pop()
    assert all(before[k] == v for k, v in addresses(build(changed)).items())


def test_pinned_address_is_honoured_and_checked(region: Doc) -> None:
    branch(region, "S-003")["tunnel_address"] = "10.99.1.77"
    assert build(region).branch("S-003").tunnel_addresses["hub-b"] == ipaddress.ip_address("10.99.1.77")
    _copy("S-004", tunnel_address="10.99.1.77")(region)
    assert [str(p) for p in build(region).problems] == [
        "region0.yml: branch S-004, field tunnel_address: 10.99.1.77 is already taken by branch S-003"
    ]


def test_allocate_ipv6_and_small_pools() -> None:
    pool = ipaddress.ip_network("fd00:99::/64")
    got = allocate(pool, [("A", None), ("B", None)], [pool[1]])
    assert len(set(got.addresses.values())) == 2
    assert all(a in pool for a in got.addresses.values())
    tiny = allocate(ipaddress.ip_network("10.0.0.0/30"), [("A", None), ("B", None), ("C", None)])
    assert len(tiny.addresses) == 2
    assert tiny.unplaced == ["C"]
    assert usable_range(ipaddress.ip_network("10.0.0.0/31")) == (int(ipaddress.ip_address("10.0.0.0")), 2)


# --- views -------------------------------------------------------------------


def test_inventory_groups_and_hostvars(region: Doc) -> None:
    region["branches"][2]["vars"] = {"ansible_host": "10.101.3.1"}
    view = build(region).inventory(prefix="br_")
    groups = view["groups"]
    assert groups["br_branches"] == ["S-001", "S-002", "S-003"]
    assert groups["br_region_test_west"] == ["S-001", "S-002", "S-003", "hub-a", "hub-b"]
    assert groups["br_hub_hub_b"] == ["S-001", "S-003"]
    assert groups["br_tier_critical"] == ["S-001"]
    assert groups["br_kind_warehouse"] == ["S-002"]
    assert groups["br_link_lte"] == ["S-002"]
    assert groups["br_hubs"] == ["hub-a", "hub-b"]
    s1 = view["hosts"]["S-001"]
    assert s1["branch_tunnel_address"] == s1["branch_tunnels"][0]["address"]
    assert [t["hub"] for t in s1["branch_tunnels"]] == ["hub-a", "hub-b"]
    assert s1["branch_tunnels"][0]["hub_address"] == "10.99.0.1"
    assert view["hosts"]["S-003"]["ansible_host"] == "10.101.3.1"
    assert view["hosts"]["S-002"]["branch_endpoint"] is None
    peers = view["hosts"]["hub-b"]["hub_peers"]
    assert [(p["code"], p["primary"]) for p in peers] == [("S-001", False), ("S-003", True)]
    assert peers[1]["allowed_ips"] == [peers[1]["tunnel_address"] + "/32", "10.101.3.0/24"]
    assert "hub-a" not in build(region).inventory(add_hubs=False)["hosts"]


def test_allow_lists_and_branch_list(region: Doc) -> None:
    reg = build(region)
    lists = reg.allow_lists()
    s1 = reg.branch("S-001")
    tunnels = sorted(str(a) + "/32" for a in s1.tunnel_addresses.values())
    assert lists["tier_critical"] == [*tunnels, "10.101.1.0/24"]
    # S-002 and S-003 (10.101.2.0/24, 10.101.3.0/24) collapse into one /23
    assert lists["branches"][-2:] == ["10.101.1.0/24", "10.101.2.0/23"]
    branches = reg.branch_list()
    assert [b["code"] for b in branches] == ["S-001", "S-002", "S-003"]
    assert branches[0]["tunnel_address"] == str(s1.tunnel_addresses["hub-a"])


def test_files_directories_and_read_errors(tmp_path: Any, region: Doc) -> None:
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump(region))
    dup = tmp_path / "dup.yml"
    dup.write_text("region: a\nregion: b\n")
    broken = tmp_path / "broken.yml"
    broken.write_text("region: [unclosed\n")
    reg = load_register([str(tmp_path), str(tmp_path / "missing")])
    found = {(p.source.rsplit("/", 1)[-1], p.field): p.message for p in reg.problems}
    assert set(found) == {("dup.yml", "(file)"), ("broken.yml", "(file)"), ("missing", "(path)")}
    assert "duplicate key 'region'" in found[("dup.yml", "(file)")]
    assert len(reg.branches) == 3


def test_generated_500_branch_register_is_valid() -> None:
    reg = build(branchctl.generate(500))
    assert reg.problems == []
    view = reg.inventory()
    assert len(view["groups"]["branches"]) == 500
    assert len({h["branch_tunnel_address"] for h in view["hosts"].values() if "branch_code" in h}) == 500
