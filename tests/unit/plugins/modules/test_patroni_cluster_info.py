"""patroni_cluster_info and module_utils/patroni against a REST API on loopback answering as Patroni does."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.retailops.odoo_platform.plugins.module_utils import patroni
from ansible_collections.retailops.odoo_platform.plugins.modules import patroni_cluster_info

from loadtests.links_setup import free_port
from tests.fixtures.ansible_module import ModuleResult, run_module
from tests.fixtures.patroni_api import PatroniApi, member

# Patroni 3's answer for the tier the collection builds: synchronous mode, one leader.
HEALTHY = [
    member("pg-node-1", "leader", "running"),
    member("pg-node-2", "sync_standby", lag=0),
    member("pg-node-3", "replica", lag=0),
]


def run(api_url: str, **args: Any) -> ModuleResult:
    return run_module(patroni_cluster_info.main, {"api_url": api_url, **args}, check_mode=True)


def test_reads_the_cluster_and_names_leader_replicas_and_candidates(patroni_api: PatroniApi) -> None:
    patroni_api.members = HEALTHY
    result = run(patroni_api.url + "/")

    assert not result.failed, result.msg
    assert not result.changed
    assert patroni_api.gets == ["/cluster"]
    assert result["available"] is True
    assert result["leader"] == "pg-node-1"
    assert result["leaders"] == ["pg-node-1"]
    assert result["leader_timeline"] == 3
    assert result["running"] == ["pg-node-1", "pg-node-2", "pg-node-3"]
    assert result["replicas"] == result["healthy_replicas"] == ["pg-node-2", "pg-node-3"]
    assert (result["synchronous_mode"], result["sync_standbys"]) == (True, ["pg-node-2"])
    # In synchronous mode only the synchronous standby may be promoted.
    assert result["failover_candidates"] == ["pg-node-2"]
    assert [m["name"] for m in result["members"]] == ["pg-node-1", "pg-node-2", "pg-node-3"]


def test_an_unreachable_api_fails_naming_the_url_or_reports_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    failed = run(url)
    assert failed.failed
    assert failed.msg.startswith(f"{url}/cluster: ")

    tolerated = run(url, unreachable_ok=True)
    assert not tolerated.failed
    assert tolerated["available"] is False
    assert tolerated["error"].startswith(f"{url}/cluster: ")
    assert (tolerated["leader"], tolerated["members"], tolerated["running"]) == ("", [], [])


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, {"members": HEALTHY}, "HTTP Error 503"),
        (200, b"<html>not patroni</html>", "Expecting value"),
        (200, ["not", "a", "mapping"], "not a Patroni cluster view"),
    ],
)
def test_an_answer_that_is_not_a_cluster_view_is_an_error(
    patroni_api: PatroniApi, status: int, body: Any, error: str
) -> None:
    patroni_api.status, patroni_api.body = status, body

    result = run(patroni_api.url)

    assert result.failed
    assert error in result.msg


def test_during_a_failover_there_is_no_leader_and_no_candidate() -> None:
    summary = patroni.summarize(
        {
            "members": [
                member("pg-node-1", "replica", "stopped", timeline=3),
                member("pg-node-2", "replica", timeline=3),
                member("pg-node-3", "replica", timeline=3),
            ]
        }
    )

    assert (summary["leader"], summary["leaders"], summary["leader_timeline"]) == ("", [], None)
    assert summary["running"] == ["pg-node-2", "pg-node-3"]
    assert summary["healthy_replicas"] == summary["failover_candidates"] == []


def test_a_standby_clusters_standby_leader_is_its_leader() -> None:
    """A standby cluster (DR region): its standby_leader leads, its replicas cascade from it."""
    summary = patroni.summarize(
        {
            "members": [
                member("dr-node-1", "standby_leader", "streaming", timeline=2),
                member("dr-node-2", "replica", "streaming", timeline=2),
                member("dr-node-3", "replica", "in archive recovery", timeline=2),
            ]
        }
    )

    assert (summary["leader"], summary["standby_leader"]) == ("dr-node-1", True)
    assert summary["leader_timeline"] == 2
    assert summary["running"] == ["dr-node-1", "dr-node-2", "dr-node-3"]
    assert summary["healthy_replicas"] == ["dr-node-2", "dr-node-3"]
    assert patroni.summarize({"members": HEALTHY})["standby_leader"] is False


def test_two_leaders_are_no_leader() -> None:
    summary = patroni.summarize(
        {"members": [member("pg-node-1", "leader", "running"), member("pg-node-2", "master", "running")]}
    )

    assert summary["leader"] == ""
    assert summary["leaders"] == ["pg-node-1", "pg-node-2"]


def test_a_replica_off_the_leaders_timeline_or_not_running_is_not_healthy() -> None:
    summary = patroni.summarize(
        {
            "members": [
                member("pg-node-1", "primary", "running", timeline=4),
                member("pg-node-2", "replica", timeline=3),  # not rewound yet
                member("pg-node-3", "replica", "starting", timeline=4),
                member("pg-node-4", "replica", "running", timeline=4),
            ]
        }
    )

    assert summary["leader"] == "pg-node-1"
    assert summary["replicas"] == ["pg-node-2", "pg-node-3", "pg-node-4"]
    assert summary["healthy_replicas"] == ["pg-node-4"]
    assert summary["failover_candidates"] == ["pg-node-4"]
    assert summary["synchronous_mode"] is False


def test_nofailover_members_are_never_candidates() -> None:
    summary = patroni.summarize(
        {
            "members": [
                member("pg-node-1", "leader", "running"),
                member("pg-node-2", "replica", tags={"nofailover": True}),
                member("pg-node-3", "replica", tags={"nofailover": False}),
            ]
        }
    )

    assert summary["healthy_replicas"] == ["pg-node-2", "pg-node-3"]
    assert summary["failover_candidates"] == ["pg-node-3"]


def test_read_cluster_is_what_the_module_reads(patroni_api: PatroniApi) -> None:
    patroni_api.members = HEALTHY

    assert patroni.read_cluster(patroni_api.url) == {"members": HEALTHY, "scope": "postgres-ha"}
    with pytest.raises(patroni.PatroniError, match=r"/cluster: "):
        patroni.read_cluster(f"http://127.0.0.1:{free_port()}", timeout=2)
