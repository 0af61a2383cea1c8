"""traefik_kubernetes refuses bad input before it touches a cluster, naming the variable.

The role's validate entry point runs with no cluster at all (a kubeconfig
that does not exist): a good ingress passes, each bad one fails with the
variable in the message. molecule/kubernetes checks the same on a real
cluster, and that nothing was applied there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import COLLECTIONS_PATH

GOOD: dict[str, Any] = {
    "traefik_kubernetes_kubeconfig": "/nonexistent/kubeconfig",
    "traefik_kubernetes_tenants": [
        {"namespace": "retail-nl", "hosts": ["erp-nl.example", "10.20.0.10"]},
        {"namespace": "retail-be", "hosts": ["erp-be.example"]},
    ],
    "traefik_allow_lists": {
        "branches": ["10.30.0.0/16"],
        "integrations": ["10.40.0.0/24"],
        "partners": ["192.0.2.0/24"],
    },
    "traefik_tls_certificates": [{"cert": "PEM certificate from the vault", "key": "PEM key from the vault"}],
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "no tenant": ({"traefik_kubernetes_tenants": []}, "traefik_kubernetes_tenants"),
    "a host served twice": (
        {
            "traefik_kubernetes_tenants": [
                {"namespace": "a", "hosts": ["erp.example"]},
                {"namespace": "b", "hosts": ["erp.example"]},
            ]
        },
        "traefik_kubernetes_tenants",
    ),
    "hosts given as a string": (
        {"traefik_kubernetes_tenants": [{"namespace": "a", "hosts": "erp.example"}]},
        "traefik_kubernetes_tenants",
    ),
    "tenant namespace Kubernetes refuses": (
        {"traefik_kubernetes_tenants": [{"namespace": "Retail_NL", "hosts": ["erp.example"]}]},
        "traefik_kubernetes_tenants",
    ),
    "own namespace Kubernetes refuses": (
        {"traefik_kubernetes_namespace": "Ingress"},
        "traefik_kubernetes_namespace",
    ),
    "replicas not above the budget": (
        {"traefik_kubernetes_replicas": 1, "traefik_kubernetes_pdb_min_available": 1},
        "traefik_kubernetes_replicas",
    ),
    "a router's entry point not exposed": (
        {
            "traefik_kubernetes_entrypoints": {
                "web": {"port": 8000, "expose": 80},
                "websecure": {"port": 8443, "expose": 443},
                "metrics": {"port": 9100},
                "traefik": {"port": 8080},
            }
        },
        "traefik_kubernetes_entrypoints",
    ),
    "a privileged container port": (
        {
            "traefik_kubernetes_entrypoints": {
                "web": {"port": 80, "expose": 80},
                "websecure": {"port": 8443, "expose": 443},
                "api": {"port": 9443, "expose": 8443},
                "partner": {"port": 10443, "expose": 9443},
                "metrics": {"port": 9100},
                "traefik": {"port": 8080},
            }
        },
        "traefik_kubernetes_entrypoints",
    ),
    "no certificate": ({"traefik_tls_certificates": []}, "traefik_tls_certificates"),
    "ACME on Kubernetes": (
        {"traefik_acme_enabled": True, "traefik_acme_email": "ops@example"},
        "traefik_acme_enabled",
    ),
    "killed before it drained": (
        {"traefik_kubernetes_termination_grace_seconds": 15},
        "traefik_kubernetes_termination_grace_seconds",
    ),
    "a router to an unknown allow list": (
        {
            "traefik_routers": [
                {
                    "name": "users",
                    "entrypoint": "websecure",
                    "rule": "PathPrefix(`/`)",
                    "service": "odoo",
                    "allow_lists": ["kind_warehouse"],
                }
            ]
        },
        "traefik_routers",
    ),
    "an unknown service type": (
        {"traefik_kubernetes_service_type": "ExternalName"},
        "traefik_kubernetes_service_type",
    ),
}

CASES = {"good": ({}, ""), **BAD}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case in its own ansible-playbook, side by side."""
    tmp = tmp_path_factory.mktemp("traefik-kubernetes-validate")
    playbook = tmp / "validate.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Validate an ingress controller",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": sys.executable},
                    "tasks": [
                        {
                            "name": "Validate",
                            "ansible.builtin.include_role": {
                                "name": "retailops.odoo_platform.traefik_kubernetes",
                                "tasks_from": "validate",
                            },
                        }
                    ],
                }
            ]
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }
    started = {}
    for name, (extra, _expect) in CASES.items():
        argv = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook)]
        argv += ["-e", json.dumps({**GOOD, **extra})]
        started[name] = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    return {
        name: subprocess.CompletedProcess(
            proc.args, proc.wait(timeout=300), proc.stdout.read() if proc.stdout else ""
        )
        for name, proc in started.items()
    }


def test_a_good_ingress_passes(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert runs["good"].returncode == 0, runs["good"].stdout[-3000:]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_naming_the_variable(
    case: str, runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    run, expect = runs[case], BAD[case][1]
    assert run.returncode != 0, run.stdout[-3000:]
    marks = [i for i in (run.stdout.find("fatal: ["), run.stdout.find("failed: [")) if i >= 0]
    failure = run.stdout[min(marks) :] if marks else run.stdout
    assert expect in failure, failure[-3000:]
