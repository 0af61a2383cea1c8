"""The local pilot region: its inventory is consistent, and rig/pilot/odoo.sh
chooses the Odoo under test the documented way and says so (a fake `docker`
stands in for the engine)."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import COLLECTIONS_PATH, ROOT

INVENTORY = ROOT / "inventories" / "pilot-local"
ODOO_SH = ROOT / "rig" / "pilot" / "odoo.sh"


def list_inventory(path: Path) -> dict[str, Any]:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH), "PILOT_STATE": "/tmp/pilot-state"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    data: dict[str, Any] = json.loads(done.stdout, object_hook=plain)
    return data


@pytest.fixture(scope="module")
def inventory() -> dict[str, Any]:
    return list_inventory(INVENTORY)


def plain(obj: dict[str, Any]) -> Any:
    """Values from the register plugin come marked unsafe: {"__ansible_unsafe": value}."""
    return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj


def hosts(inv: dict[str, Any], group: str) -> set[str]:
    found = set(inv.get(group, {}).get("hosts", []))
    for child in inv.get(group, {}).get("children", []):
        found |= hosts(inv, child)
    return found


def test_topology(inventory: dict[str, Any]) -> None:
    assert hosts(inventory, "hubs") == {"pilot-hub"}
    assert len(hosts(inventory, "odoo_nodes")) == 2
    assert hosts(inventory, "odoo_nodes") == hosts(inventory, "ingress") == hosts(inventory, "app_nodes")
    assert len(hosts(inventory, "postgres_cluster")) == 3
    assert hosts(inventory, "etcd_cluster") == hosts(inventory, "postgres_cluster")
    assert len(hosts(inventory, "redis_servers")) == 3
    branches = hosts(inventory, "branches")
    assert len(branches) >= 3
    meta = inventory["_meta"]["hostvars"]
    assert {meta[b]["branch_link"] for b in branches} == {"fiber", "broadband", "lte"}


def test_every_container_has_addresses_on_pilot_networks(inventory: dict[str, Any]) -> None:
    meta = inventory["_meta"]["hostvars"]
    lab = hosts(inventory, "pilot_lab")
    assert lab == set(meta) - {"localhost"}
    seen: set[str] = set()
    for host in lab:
        networks = {n["name"]: n for n in meta[host]["pilot_networks"]}
        for attach in meta[host]["pilot_container"]["networks"]:
            subnet = ipaddress.ip_network(networks[attach["name"]]["ipam_config"][0]["subnet"])
            address = ipaddress.ip_address(attach["ipv4_address"])
            assert address in subnet, (host, attach)
            assert attach["ipv4_address"] not in seen, f"{host}: address {address} used twice"
            seen.add(attach["ipv4_address"])


def test_branch_relays_listen_on_their_lan(inventory: dict[str, Any]) -> None:
    meta = inventory["_meta"]["hostvars"]
    for branch in hosts(inventory, "branches"):
        url = meta[branch]["erp_url"]
        relay = ipaddress.ip_address(url.split("//")[1].rsplit(":", 1)[0])
        lans = [ipaddress.ip_network(n) for n in meta[branch]["branch_lan_subnets"]]
        assert any(relay in lan for lan in lans), (branch, url)
        addresses = [a["ipv4_address"] for a in meta[branch]["pilot_container"]["networks"]]
        assert str(relay) in addresses, f"{branch}: the relay address is not the container's"


def test_branch_workers_reach_the_master_outside_their_tunnel(inventory: dict[str, Any]) -> None:
    """The load comes from the branch containers: each reaches the master on-link (the controller is
    the gateway of one of its networks, not through the tunnel), and the controller reaches each
    branch's link emulator API on the relay's LAN, whose gateway it is as well."""
    meta = inventory["_meta"]["hostvars"]
    for branch in hosts(inventory, "branches"):
        v = meta[branch]
        assert v["validate_pilot_branch_workers"] is True
        assert "rig/toxiproxy.sh" in v["validate_pilot_toxiproxy_binary"]
        networks = {n["name"]: n["ipam_config"][0] for n in v["pilot_networks"]}
        attached = [networks[a["name"]] for a in v["pilot_container"]["networks"]]
        assert v["validate_pilot_branch_workers_master"] in {n["gateway"] for n in attached}, branch
        relay = ipaddress.ip_address(v["erp_url"].split("//")[1].rsplit(":", 1)[0])
        lan = next(n for n in attached if relay in ipaddress.ip_network(n["subnet"]))
        assert lan["gateway"] != v["validate_pilot_branch_workers_master"]  # a LAN of its own, not the WAN


# -- rig/pilot/odoo.sh --------------------------------------------------------

FAKE_DOCKER = """#!/usr/bin/env bash
# A stand-in engine: images listed in $FAKE_IMAGES exist; pull succeeds when $FAKE_PULL=ok.
case "$1 $2" in
  "image inspect")
    for i in $FAKE_IMAGES; do [[ "${@: -1}" == "$i" ]] && { echo sha256:1; exit 0; }; done
    exit 1 ;;
  "pull --quiet") [[ "${FAKE_PULL:-}" == ok ]] && exit 0; echo "dial tcp: no registry" >&2; exit 1 ;;
  "save -o") : > "$3"; exit 0 ;;
esac
echo "unexpected docker $*" >&2; exit 9
"""


def odoo_sh(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    state = tmp_path / "state"
    full = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PILOT_STATE": str(state),
        "HOME": str(tmp_path),
        **env,
    }
    done = subprocess.run(["bash", str(ODOO_SH)], capture_output=True, text=True, env=full, check=False)
    out = state / "odoo.yml"
    return done, (yaml.safe_load(out.read_text()) if out.exists() else None)


def test_double_when_no_registry_and_says_why(tmp_path: Path) -> None:
    done, chosen = odoo_sh(tmp_path, FAKE_IMAGES="retailops/rig-odoo-double:18.0")
    assert done.returncode == 0, done.stderr
    assert chosen is not None
    assert chosen["pilot_odoo_kind"] == "double"
    assert "not the real Odoo" in chosen["pilot_odoo_label"]
    assert "Odoo under test: the Odoo 18 protocol double" in done.stderr
    assert "no registry" in done.stderr


def test_official_image_when_the_registry_answers(tmp_path: Path) -> None:
    done, chosen = odoo_sh(tmp_path, FAKE_PULL="ok")
    assert done.returncode == 0, done.stderr
    assert chosen is not None
    assert (chosen["pilot_odoo_kind"], chosen["odoo_image_source"], chosen["odoo_image"]) == (
        "official",
        "registry",
        "odoo:18.0",
    )
    assert "Odoo under test: the Odoo image odoo:18.0" in done.stderr


def test_local_image_is_side_loaded(tmp_path: Path) -> None:
    done, chosen = odoo_sh(tmp_path, FAKE_IMAGES="odoo:18.0", PILOT_ODOO_IMAGE="odoo:18.0")
    assert done.returncode == 0, done.stderr
    assert chosen is not None
    assert chosen["odoo_image_source"] == "archive"
    assert chosen["docker_host_image_archives"][0]["images"] == ["odoo:18.0"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PILOT_ODOO": "real"}, "PILOT_ODOO must be auto, double or official, not 'real'"),
        ({"PILOT_ODOO_ARCHIVE": "/nonexistent.tar"}, "PILOT_ODOO_ARCHIVE=/nonexistent.tar is not a readable"),
        ({"PILOT_ODOO": "official"}, "PILOT_ODOO=official but odoo:18.0 cannot be pulled"),
        ({"PILOT_ODOO": "double"}, "retailops/rig-odoo-double:18.0 is missing: run make rig"),
    ],
)
def test_bad_choices_are_refused_naming_the_setting(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    done, chosen = odoo_sh(tmp_path, **env)
    assert done.returncode == 2
    assert message in done.stderr
    assert chosen is None


# -- PILOT_ODOO_SRC: an image built from an Odoo 18 source tree -----------------


def odoo_tree(root: Path, version: str = "18, 0, 0, 'final', 0, ''", *, official: bool = False) -> Path:
    """A stand-in source tree: release.py, odoo-bin and module manifests."""
    (root / "odoo").mkdir(parents=True)
    (root / "odoo" / "release.py").write_text(
        f"version_info = ({version})\nversion = '.'.join(str(s) for s in version_info[:2])\n"
    )
    (root / "odoo-bin").write_text("#!/usr/bin/env python3\n")
    modules = ["base", "web", "bus", "point_of_sale", "stock", "account", "purchase", "sale_management"]
    for module in modules:
        where = root / ("addons" if official and module != "base" else "odoo/addons") / module
        where.mkdir(parents=True)
        (where / "__manifest__.py").write_text("{}\n")
    return root


def bad_tree(tmp_path: Path, case: str) -> Path:
    if case == "missing":
        return tmp_path / "missing"
    if case == "empty":
        (tmp_path / "empty").mkdir()
        return tmp_path / "empty"
    if case == "v17":
        return odoo_tree(tmp_path / "v17", "17, 0, 0, 'final', 0, ''")
    if case == "no-pos":
        root = odoo_tree(tmp_path / "no-pos")
        shutil.rmtree(root / "odoo" / "addons" / "point_of_sale")
        return root
    root = odoo_tree(tmp_path / "twice", official=True)  # case "twice"
    (root / "odoo" / "addons" / "stock").mkdir()
    return root


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "is not an Odoo 18 source tree: no such directory"),
        ("empty", "is not an Odoo 18 source tree: odoo/release.py is missing"),
        ("v17", "odoo/release.py says version 17.0, not 18"),
        ("no-pos", "modules not in odoo/addons: point_of_sale"),
        ("twice", "addons/ and odoo/addons/ both hold: stock"),
    ],
)
def test_a_source_tree_that_is_not_odoo_18_is_refused_naming_pilot_odoo_src(
    tmp_path: Path, case: str, message: str
) -> None:
    tree = bad_tree(tmp_path, case)
    done, chosen = odoo_sh(tmp_path, PILOT_ODOO_SRC=str(tree), RIG_CACHE=str(tmp_path / "rig"))
    assert done.returncode == 2, done.stderr
    assert f"PILOT_ODOO_SRC={tree} " in done.stderr
    assert message in done.stderr
    assert chosen is None


FAKE_PLAYBOOK = """#!/bin/bash
# stands in for ansible-playbook validate_pilot.yml: tasks, and the harness's lines in its log
echo 'TASK [The pilot relay]'
sleep 0.5
mkdir -p "$(dirname "$HARNESS")"
echo '[loadtests 10:00:10]   10s of 480s  users 24/24  calls 12' >> "$HARNESS"
while [ ! -e "$GO_ON" ]; do sleep 0.1; done
echo 'NO-GO: 1 of 24 gates failed' >> "$HARNESS"
exit 3
"""


def test_follow_prints_the_harness_lines_while_the_validation_playbook_runs(tmp_path: Path) -> None:
    """lib.sh's follow() (make pilot's and make pilot-dr's): the harness's lines on the console as they
    come, the playbook's in its log."""
    playbook = tmp_path / "ansible-playbook"
    playbook.write_text(FAKE_PLAYBOOK)
    playbook.chmod(0o755)
    harness, go_on = tmp_path / "out" / "harness.log", tmp_path / "go-on"
    script = (
        f"set -euo pipefail\nsource {ODOO_SH.parent / 'lib.sh'}\nrc=0\n"
        f'follow "$HARNESS" "$LOG" {playbook} || rc=$?\nexit $rc\n'
    )
    env = {**os.environ, "HARNESS": str(harness), "GO_ON": str(go_on), "LOG": str(tmp_path / "validate.log")}
    let_go = threading.Timer(10, go_on.touch)  # a follow() that printed nothing before the end still ends
    let_go.start()
    with subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert not go_on.exists(), "the harness's line came while the playbook was still running"
        go_on.touch()
        rest = proc.stdout.read()
        assert proc.wait(timeout=10) == 3, "the playbook's exit code"
    let_go.cancel()
    assert first == "[loadtests 10:00:10]   10s of 480s  users 24/24  calls 12\n"
    assert rest == "NO-GO: 1 of 24 gates failed\n"
    assert (tmp_path / "validate.log").read_text() == "TASK [The pilot relay]\n"


K8S_INVENTORY = ROOT / "inventories" / "pilot-kubernetes"


@pytest.fixture(scope="module")
def k8s_inventory() -> dict[str, Any]:
    return list_inventory(K8S_INVENTORY)


def test_kubernetes_pilot_shares_the_data_tier_and_branches_and_runs_odoo_on_the_cluster(
    inventory: dict[str, Any], k8s_inventory: dict[str, Any]
) -> None:
    for group in (
        "etcd_cluster",
        "postgres_cluster",
        "redis_servers",
        "pilot_blob_store",
        "hubs",
        "branches",
    ):
        assert hosts(k8s_inventory, group) == hosts(inventory, group), group
    assert hosts(k8s_inventory, "odoo_nodes") == set()
    assert hosts(k8s_inventory, "odoo_tenants") == {"tenant-retail"}
    assert hosts(k8s_inventory, "kubernetes_ingress") == {"ingress-pilot"}
    assert hosts(k8s_inventory, "app_nodes") == {"pilot-pgbouncer"}
    meta = k8s_inventory["_meta"]["hostvars"]
    lab = hosts(k8s_inventory, "pilot_lab")
    addresses = [a["ipv4_address"] for h in lab for a in meta[h]["pilot_container"]["networks"]]
    assert len(addresses) == len(set(addresses))
    # the ingress's frontend: what the register gives the branches, inside the rig's load balancer pool,
    # and on the platform network, where no container has it
    hub = meta["pilot-hub"]
    frontend = hub["pilot_ingress_addresses"][0]
    assert hub["hub_erp_entrypoints"] == [f"{frontend}:443"]
    assert ipaddress.ip_address(frontend) in ipaddress.ip_network(hub["pilot_lb_pool"])
    assert ipaddress.ip_address(frontend) in ipaddress.ip_network(hub["pilot_platform_network"])
    assert frontend not in addresses
    tenant = meta["tenant-retail"]
    assert tenant["odoo_db_host"] == meta["pilot-pgbouncer"]["node_address"]
    egress = {e["cidr"] for e in tenant["odoo_kubernetes_egress"]}
    assert egress == {
        f"{meta[h]['node_address']}/32" for h in hosts(k8s_inventory, "redis_servers") | {"pilot-pgbouncer"}
    }


@pytest.mark.parametrize(
    ("state", "platform", "message"),
    [
        (
            "docker",
            "kubernetes",
            "holds a pilot region on docker: remove it first (make pilot-down PILOT_PLATFORM=docker)",
        ),
        ("", "vms", "PILOT_PLATFORM must be docker or kubernetes, not vms"),
    ],
)
def test_run_refuses_another_platform_on_the_same_state_before_anything(
    tmp_path: Path, state: str, platform: str, message: str
) -> None:
    if state:
        (tmp_path / "platform").write_text(f"{state}\n")
    env = {**os.environ, "PILOT_STATE": str(tmp_path), "PILOT_PLATFORM": platform}
    done = subprocess.run(
        ["bash", str(ROOT / "rig" / "pilot" / "run.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == (["platform"] if state else [])
