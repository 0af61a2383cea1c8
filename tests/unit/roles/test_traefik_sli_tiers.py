"""The SLI tier routers as the traefik and traefik_kubernetes roles build them, and bad tiers refused.

The roles' own defaults and vars run on localhost with no host and no cluster:
the traefik role's settings entry point (its ingress policy checks, which
tasks/validate.yml and traefik_kubernetes both import), then the rendered
routers. The pilot's routers and /jsonrpc entry points are read from the
pilot inventory itself, so the router names below are the ones Traefik's
metrics carry in the pilot (label router="<name>@file"), on the Docker hosts
and on Kubernetes (tenant namespace retail), with no change to the inventory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, assert_case_refused, role_render_runs, validate_runs, validate_tests

from loadtests.gates import TIERS as LOAD_TIERS

PILOT = yaml.safe_load(
    (ROOT / "inventories" / "pilot-local" / "group_vars" / "all" / "ingress.yml").read_text()
)
ALLOW_LISTS = {
    "branches": ["10.30.0.0/16"],
    "operators": ["10.20.0.1/32"],
    "integrations": ["10.40.0.0/24"],
    "partners": ["192.0.2.0/24"],
}
GOOD: dict[str, Any] = {
    "traefik_allow_lists": ALLOW_LISTS,
    "traefik_tls_certificates": [{"cert": "PEM certificate from the vault", "key": "PEM key from the vault"}],
}
PILOT_POLICY = {
    **GOOD,
    "traefik_routers": PILOT["traefik_routers"],
    "traefik_jsonrpc_entrypoints": PILOT["traefik_jsonrpc_entrypoints"],
}
DEFAULT_TIERS = ["reporting", "pos_sync", "inventory", "finance", "integration"]
USERS_ONLY = ["reporting", "pos_sync", "inventory", "finance"]


def tier(name: str = "pos_sync", **over: Any) -> dict[str, Any]:
    return {"name": name, "rule": "PathPrefix(`/pos/`)", "routers": ["users"], **over}


def router(name: str = "users", rule: str = "PathPrefix(`/`)", **over: Any) -> dict[str, Any]:
    """A router of the websecure entry point for the branches."""
    return {
        "name": name,
        "entrypoint": "websecure",
        "rule": rule,
        "service": "odoo",
        "allow_lists": ["branches"],
        **over,
    }


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "a tier name with a dash": (
        {"traefik_sli_tiers": [tier("pos-sync")]},
        "traefik_sli_tiers[0].name",
    ),
    "a tier without a name": (
        {"traefik_sli_tiers": [{"rule": "PathPrefix(`/pos/`)", "routers": ["users"]}]},
        "traefik_sli_tiers[0].name",
    ),
    "a tier twice": ({"traefik_sli_tiers": [tier(), tier()]}, "traefik_sli_tiers[].name"),
    "an empty rule": ({"traefik_sli_tiers": [tier(rule=" ")]}, "traefik_sli_tiers[pos_sync].rule"),
    "no rule": (
        {"traefik_sli_tiers": [{"name": "pos_sync", "routers": ["users"]}]},
        "traefik_sli_tiers[pos_sync].rule",
    ),
    "an unknown base router": (
        {"traefik_sli_tiers": [tier(routers=["users", "cashiers"])]},
        "traefik_sli_tiers[pos_sync].routers",
    ),
    "base routers as a string": (
        {"traefik_sli_tiers": [tier(routers="users")]},
        "traefik_sli_tiers[pos_sync].routers",
    ),
    "tiers as a mapping": ({"traefik_sli_tiers": {"pos_sync": "PathPrefix(`/pos/`)"}}, "traefik_sli_tiers"),
    "a tier router above another router of its entry point": (
        {
            "traefik_routers": [
                router(priority=10),
                router("cashiers", "PathPrefix(`/pos/`)", priority=12),
            ],
            "traefik_sli_tiers": [tier("reporting"), tier("inventory"), tier()],
        },
        "traefik_sli_tiers[reporting].routers",
    ),
    "a tier router at the refusals' priority": (
        {
            "traefik_routers": [router(priority=9999)],
            "traefik_sli_tiers": [tier()],
        },
        "traefik_sli_tiers[pos_sync].routers",
    ),
    "a router named like a tier router": (
        {
            "traefik_routers": [router("tier-pos")],
            "traefik_sli_tiers": [],
        },
        "traefik_routers",
    ),
    "buckets out of order": ({"traefik_metrics_buckets": [0.1, 0.05, 1]}, "traefik_metrics_buckets"),
    "no bucket": ({"traefik_metrics_buckets": []}, "traefik_metrics_buckets"),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "traefik", GOOD, BAD, tasks_from="settings"
)

CASES = {"defaults": GOOD, "pilot": PILOT_POLICY}
SHOWN: dict[str, tuple[str, dict[str, Any]]] = {
    "routers": ("{{ traefik__config.dynamic.http.routers }}", {}),
    "prometheus": ("{{ traefik__static.metrics.prometheus }}", {}),
}
KUBERNETES_CASES = {
    "pilot": {
        **PILOT_POLICY,
        "traefik_kubernetes_kubeconfig": "/nonexistent/kubeconfig",
        "traefik_kubernetes_tenants": [{"namespace": "retail", "hosts": ["erp.pilot.test", "10.213.20.50"]}],
    }
}
KUBERNETES_SHOWN: dict[str, tuple[str, dict[str, Any]]] = {
    "routers": ("{{ traefik_kubernetes__dynamic.http.routers }}", {}),
    "prometheus": ("{{ traefik_kubernetes__static.metrics.prometheus }}", {}),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = role_render_runs(
        "traefik", tmp_path_factory.mktemp("render"), CASES, SHOWN, tasks_from="settings"
    )
    return found


@pytest.fixture(scope="module")
def rendered_kubernetes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    found: dict[str, Any] = role_render_runs(
        "traefik_kubernetes", tmp_path_factory.mktemp("render-k8s"), KUBERNETES_CASES, KUBERNETES_SHOWN
    )["pilot"]
    return found


def tier_routers(routers: dict[str, Any]) -> list[str]:
    return sorted(name for name in routers if name.startswith("tier-"))


def test_default_policy_gives_one_router_per_tier(rendered: dict[str, dict[str, Any]]) -> None:
    routers = rendered["defaults"]["routers"]
    # users has one allow list and /jsonrpc is served on the api entry point only: bare tier names
    assert tier_routers(routers) == sorted("tier-" + name for name in DEFAULT_TIERS)
    assert routers["tier-integration"]["entryPoints"] == ["api"]
    assert routers["tier-integration"]["middlewares"] == routers["api-integrations"]["middlewares"]
    assert routers["tier-pos_sync"]["middlewares"] == routers["users-branches"]["middlewares"]
    priorities = [routers["tier-" + name]["priority"] for name in USERS_ONLY]
    assert priorities == sorted(priorities, reverse=True)  # the first listed tier wins
    assert min(priorities) > routers["users-branches"]["priority"]
    assert max(priorities) < routers["users-websocket-branches"]["priority"]


def test_the_tiers_have_one_name_in_traefik_the_slo_rules_and_the_load_gates() -> None:
    defaults = yaml.safe_load((ROOT / "roles" / "traefik" / "defaults" / "main.yml").read_text())
    traefik = [tier["name"] for tier in defaults["traefik_sli_tiers"]]
    assert traefik == DEFAULT_TIERS
    assert sorted(traefik) == sorted(LOAD_TIERS)
    rules = yaml.safe_load((ROOT / "roles" / "prometheus" / "files" / "rules" / "slo.yml").read_text())
    objectives = {
        rule["labels"]["tier"]
        for group in rules["groups"]
        for rule in group["rules"]
        if rule.get("record") == "tier:retailops_slo_availability:objective"
    }
    assert objectives == {*traefik, "other"}


def test_pilot_router_names(rendered: dict[str, dict[str, Any]]) -> None:
    routers = rendered["pilot"]["routers"]
    expected = [f"tier-{name}-users-{group}" for name in USERS_ONLY for group in ("branches", "operators")]
    # /jsonrpc is served on websecure too in the pilot: the integration tier is on users and api
    expected += ["tier-integration-users-branches", "tier-integration-users-operators"]
    expected += ["tier-integration-api-integrations"]
    assert tier_routers(routers) == sorted(expected)
    for name in expected:
        base = routers[name.split("-", 2)[2]]
        assert routers[name]["rule"].startswith(f"({base['rule']}) && (")
        assert routers[name]["service"] == base["service"] == "odoo"


def test_metrics_buckets_and_router_labels(rendered: dict[str, dict[str, Any]]) -> None:
    prometheus = rendered["defaults"]["prometheus"]
    assert prometheus["addRoutersLabels"] is True
    assert prometheus["buckets"] == [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]


def test_kubernetes_pilot_router_names(rendered_kubernetes: dict[str, Any]) -> None:
    routers = rendered_kubernetes["routers"]
    expected = [
        f"tier-{name}-retail-users-{group}" for name in USERS_ONLY for group in ("branches", "operators")
    ]
    expected += ["tier-integration-retail-users-branches", "tier-integration-retail-users-operators"]
    expected += ["tier-integration-retail-api-integrations"]
    assert tier_routers(routers) == sorted(expected)
    assert routers["tier-pos_sync-retail-users-branches"]["service"] == "retail-odoo@kubernetescrd"
    assert rendered_kubernetes["prometheus"]["buckets"] == [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]


def test_kubernetes_refuses_a_bad_tier_through_the_shared_policy(tmp_path: Path) -> None:
    bad = {
        "an unknown base router": (
            {"traefik_sli_tiers": [tier(routers=["cashiers"])]},
            "traefik_sli_tiers[pos_sync].routers",
        )
    }
    result = validate_runs("traefik_kubernetes", tmp_path, KUBERNETES_CASES["pilot"], bad)
    assert result["good"]["ok"], result["good"]
    for case, (_over, expect) in bad.items():
        assert_case_refused(result[case], expect)
