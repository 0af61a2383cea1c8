"""odoo_kubernetes' workloads as the role would apply them: where the cron pod and the one-shot Jobs go.

The role's validate entry point runs on localhost with no cluster (its
defaults and vars made public), then the HTTP and cron Deployments and a
Job's pod spec are rendered from the same vars the apply tasks use. What
this proves: without odoo_kubernetes_cron_node_selector and
odoo_kubernetes_cron_tolerations an inventory renders exactly as before
(the cron pod and the Jobs follow the HTTP pods' placement), and with them
the cron pod and the Jobs go to their own pool while the HTTP pods and
everything else stay the same. What it does not: that a scheduler places
them (molecule/kubernetes runs the role on a cluster).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import role_render_runs

ODOO_POOL = {"retailops.io/pool": "odoo"}
ODOO_TAINT = [{"key": "retailops.io/pool", "operator": "Equal", "value": "odoo", "effect": "NoSchedule"}]
CRON_POOL = {"retailops.io/pool": "odoocron"}
CRON_TAINT = [{"key": "retailops.io/pool", "operator": "Equal", "value": "odoocron", "effect": "NoSchedule"}]

BASE: dict[str, Any] = {
    "odoo_kubernetes_kubeconfig": "/nonexistent/kubeconfig",
    "odoo_kubernetes_namespace": "retail-nl",
    "odoo_db_host": "10.20.2.10",
    "odoo_db_password": "db-secret-from-vault",
    "odoo_admin_passwd": "master-secret-from-vault",
}
# What the existing inventories set (pilot-kubernetes, example-aks-region before the cron pool).
POOL = {**BASE, "odoo_kubernetes_node_selector": ODOO_POOL, "odoo_kubernetes_tolerations": ODOO_TAINT}
CASES: dict[str, dict[str, Any]] = {
    "no placement": BASE,
    "odoo pool": POOL,
    "cron given the HTTP pods' placement": {
        **POOL,
        "odoo_kubernetes_cron_node_selector": ODOO_POOL,
        "odoo_kubernetes_cron_tolerations": ODOO_TAINT,
    },
    "cron pool": {
        **POOL,
        "odoo_kubernetes_cron_node_selector": CRON_POOL,
        "odoo_kubernetes_cron_tolerations": CRON_TAINT,
    },
}
SHOWN = {
    "http": ("{{ odoo_kubernetes__http_deployment }}", {"odoo_kubernetes__component": "http"}),
    "cron": ("{{ odoo_kubernetes__cron_deployment }}", {"odoo_kubernetes__component": "cron"}),
    "job": ("{{ odoo_kubernetes__pod_spec }}", {"odoo_kubernetes__component": "job"}),
}
# What tasks/config.yml reads back from the cluster before the workloads are applied.
DIGEST = {"odoo_kubernetes__config_digest": {"http": "http-digest", "cron": "cron-digest"}}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = role_render_runs(
        "odoo_kubernetes", tmp_path_factory.mktemp("render"), CASES, SHOWN, DIGEST
    )
    return found


def pod(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


def placement(spec: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    return spec["nodeSelector"], spec["tolerations"]


def without_placement(manifest: dict[str, Any]) -> dict[str, Any]:
    other = copy.deepcopy(manifest)
    for key in ("nodeSelector", "tolerations"):
        del pod(other)[key]
    return other


@pytest.mark.parametrize("case", ["no placement", "odoo pool"])
def test_without_the_cron_variables_the_cron_pod_and_jobs_follow_the_http_pods(
    rendered: dict[str, dict[str, Any]], case: str
) -> None:
    given = CASES[case]
    expected = (given.get("odoo_kubernetes_node_selector", {}), given.get("odoo_kubernetes_tolerations", []))
    mine = rendered[case]
    assert placement(pod(mine["cron"])) == expected
    assert placement(mine["job"]) == expected
    assert pod(mine["http"])["nodeSelector"] == expected[0]
    # The HTTP pods add their lost-node tolerations to the pool's; the cron pod keeps the cluster's.
    http_tolerations = pod(mine["http"])["tolerations"]
    assert http_tolerations[: len(expected[1])] == expected[1]
    assert {t["key"] for t in http_tolerations[len(expected[1]) :]} == {
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/not-ready",
    }


def test_cron_variables_equal_to_the_http_placement_render_identically(
    rendered: dict[str, dict[str, Any]],
) -> None:
    assert rendered["cron given the HTTP pods' placement"] == rendered["odoo pool"]


def test_the_cron_pod_and_jobs_go_to_their_own_pool_and_nothing_else_moves(
    rendered: dict[str, dict[str, Any]],
) -> None:
    apart, together = rendered["cron pool"], rendered["odoo pool"]
    assert placement(pod(apart["cron"])) == (CRON_POOL, CRON_TAINT)
    assert placement(apart["job"]) == (CRON_POOL, CRON_TAINT)
    assert apart["http"] == together["http"]
    assert without_placement(apart["cron"]) == without_placement(together["cron"])
    assert {k: v for k, v in apart["job"].items() if k not in ("nodeSelector", "tolerations")} == {
        k: v for k, v in together["job"].items() if k not in ("nodeSelector", "tolerations")
    }
