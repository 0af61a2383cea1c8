"""playbooks/dr_failback.yml refuses before anything changes, naming what is wrong.

The refusals that need no pair of regions: the input, a returning region that
does not answer, and a DR region whose cluster is not the active primary (a
Patroni REST API on loopback that answers as a standby leader, or nothing at
all). Every host is this machine (connection local); the DR region's API
takes GETs only (a PATCH would be answered 501 and fail the run), and the
run must stop before the first task that could change anything.

The phases against the two-region pilot: README, "Disaster recovery".
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, assert_refused, playbook_env, run_playbook

from tests.fixtures.http_api import http_api

PLAYBOOK = ROOT / "playbooks" / "dr_failback.yml"
# The tasks that change something: none of them may have run in a refused run.
CHANGING = (
    "Stop the Odoo container",
    "Stop and disable the filestore backup",
    "Stop and disable Patroni",
    "Give this region a permanent slot",
    "Turn the DR region's cluster into a standby cluster",
)

LOCAL_HOST = {
    "ansible_connection": "local",
    "ansible_become": False,
    "ansible_python_interpreter": sys.executable,
}


def inventory(tmp: Path, api_port: int, **db: Any) -> Path:
    """A returning region "north" (one Odoo node, one database member) whose DR region is "south"."""
    db_vars = {
        **LOCAL_HOST,
        "dr_failback_standby_cluster": {"hosts": ["127.0.0.1"], "port": 5432, "primary_slot_name": "north"},
        "dr_failback_dr_standby_cluster": {"hosts": ["127.0.0.1"], "port": 5432},
        "dr_failback_dr_restapi_port": api_port,
        "postgresql_patroni_restapi_port": 1,  # nothing listens: this region's Patroni is down
        "postgresql_patroni_replication_password": "unit-test-only",
        **db,
    }
    document = {
        "all": {
            "children": {
                "hubs": {
                    "hosts": {"north-hub": {"hub_region": "north", "hub_erp_entrypoints": ["192.0.2.11:443"]}}
                },
                "dr_hubs": {
                    "hosts": {"south-hub": {"hub_region": "south", "hub_erp_entrypoints": ["192.0.2.41:443"]}}
                },
                "odoo_nodes": {"hosts": {"north-app-1": dict(LOCAL_HOST)}},
                "postgres_cluster": {"hosts": {"north-db-1": db_vars}},
            }
        }
    }
    path = tmp / "north" / "hosts.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def failback(
    tmp: Path, extra: dict[str, Any], api_port: int = 1, **db: Any
) -> subprocess.CompletedProcess[str]:
    run: subprocess.CompletedProcess[str] = run_playbook(
        PLAYBOOK, extra, "-i", str(inventory(tmp, api_port, **db)), env=playbook_env(), timeout=240
    )
    for task in CHANGING:
        assert f"TASK [{task}" not in run.stdout, run.stdout[-3000:]
    return run


GOOD = {"dr_failback_phase": "prepare", "dr_failback_from": "south"}


@pytest.fixture
def standby_api() -> Iterator[tuple[int, list[str]]]:
    """The DR region's Patroni: a standby leader of a standby cluster (GETs recorded)."""
    gets: list[str] = []

    def get(path: str, _query: dict[str, list[str]]) -> Any:
        gets.append(path)
        if path == "/config":
            return {"standby_cluster": {"host": "10.0.0.21", "port": 5432}, "ttl": 20}
        return {"state": "running", "role": "standby_leader", "xlog": {"replayed_location": 100}}

    with http_api(get) as url:
        yield int(url.rsplit(":", 1)[1].strip("/")), gets


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        ({"dr_failback_from": "south"}, "dr_failback_phase"),
        ({**GOOD, "dr_failback_phase": "failback"}, "dr_failback_phase"),
        ({"dr_failback_phase": "prepare"}, "dr_failback_from"),
        ({**GOOD, "dr_failback_from": "north"}, "dr_failback_from"),
        ({**GOOD, "dr_failback_from": "west"}, "dr_failback_from"),
        ({**GOOD, "dr_failback_force": "maybe"}, "dr_failback_force"),
        ({**GOOD, "dr_failback_max_lag": "a lot"}, "dr_failback_max_lag"),
        ({**GOOD, "dr_failback_catchup_timeout": 5}, "dr_failback_catchup_timeout"),
        ({**GOOD, "dr_failback_phase": "switch"}, "dr_failback_dr_inventory"),
        (
            {**GOOD, "dr_failback_phase": "switch", "dr_failback_dr_inventory": "/nonexistent/south"},
            "dr_failback_dr_inventory",
        ),
    ],
    ids=[
        "no phase",
        "an unknown phase",
        "no region",
        "the region itself",
        "a region it does not fail over to",
        "force that is not a boolean",
        "a lag that is not a number",
        "a catch-up timeout under 10 s",
        "a switch without the DR inventory",
        "a switch with a DR inventory that is not there",
    ],
)
def test_bad_input_is_refused_naming_the_variable(tmp_path: Path, extra: dict[str, Any], expect: str) -> None:
    assert_refused(failback(tmp_path, extra), expect)


@pytest.mark.parametrize(
    ("db", "expect"),
    [
        ({"dr_failback_standby_cluster": {"hosts": "10.213.50.121"}}, "dr_failback_standby_cluster"),
        (
            {"dr_failback_standby_cluster": {"hosts": ["10.213.50.121"], "slot": "x"}},
            "dr_failback_standby_cluster",
        ),
        ({"dr_failback_dr_standby_cluster": {}}, "dr_failback_dr_standby_cluster"),
        (
            {"dr_failback_dr_standby_cluster": {"hosts": ["10.213.50.21"], "port": "five"}},
            "dr_failback_dr_standby_cluster",
        ),
    ],
    ids=["hosts as a string", "an unknown key", "no hosts for the DR cluster", "a port that is not a number"],
)
def test_bad_standby_settings_are_refused_naming_the_variable(
    tmp_path: Path, db: dict[str, Any], expect: str
) -> None:
    assert_refused(failback(tmp_path, GOOD, **db), expect)


def test_a_region_that_does_not_answer_is_refused(tmp_path: Path) -> None:
    path = inventory(tmp_path, 1)
    document = yaml.safe_load(path.read_text())
    # A port nothing listens on: the connection is refused at once.
    document["all"]["children"]["odoo_nodes"]["hosts"]["north-app-1"] = {
        "ansible_connection": "ssh",
        "ansible_host": "127.0.0.1",
        "ansible_port": 1,
        "ansible_ssh_common_args": "-o ConnectTimeout=3",
    }
    path.write_text(yaml.safe_dump(document))
    run: subprocess.CompletedProcess[str] = run_playbook(
        PLAYBOOK, GOOD, "-i", str(path), env=playbook_env(), timeout=240
    )
    # The unreachable host's own "fatal: ... UNREACHABLE! ...ignoring" comes first; the refusal is next.
    assert run.returncode != 0, run.stdout[-3000:]
    refusal = run.stdout[run.stdout.index("TASK [Refuse a region that is not back]") :]
    assert "FAILED!" in refusal, refusal[-3000:]
    assert "north-app-1 of north did not answer" in refusal, refusal[-3000:]
    assert "TASK [Read each member of the DR region's cluster]" not in run.stdout


def test_a_dr_region_whose_cluster_does_not_answer_is_refused(tmp_path: Path) -> None:
    run = failback(tmp_path, GOOD, api_port=1)
    assert_refused(run, "south is not the active region: its cluster does not answer at 127.0.0.1")


@pytest.mark.parametrize("phase", ["prepare", "switch"])
def test_a_dr_region_that_is_a_standby_cluster_is_refused(
    tmp_path: Path, standby_api: tuple[int, list[str]], phase: str
) -> None:
    port, gets = standby_api
    extra = {**GOOD, "dr_failback_phase": phase, "dr_failback_dr_inventory": str(tmp_path)}
    run = failback(tmp_path, extra, api_port=port)
    assert_refused(
        run, "south is not the active region: its cluster's leader is standby_leader (a standby cluster)"
    )
    assert set(gets) == {"/patroni", "/config"}, gets
