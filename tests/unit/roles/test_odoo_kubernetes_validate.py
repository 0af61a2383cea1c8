"""odoo_kubernetes refuses bad input before it touches a cluster, naming the variable.

The role's validate entry point runs with no cluster at all (a kubeconfig
that does not exist): a good tenant passes, each bad one fails with the
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
    "odoo_kubernetes_kubeconfig": "/nonexistent/kubeconfig",
    "odoo_kubernetes_namespace": "retail-nl",
    "odoo_db_host": "10.20.2.10",
    "odoo_db_password": "db-secret-from-vault",
    "odoo_admin_passwd": "master-secret-from-vault",
    "odoo_kubernetes_egress": [{"name": "pgbouncer", "cidr": "10.20.2.10/32", "ports": [6432]}],
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "unknown profile": ({"odoo_kubernetes_profile": "premium"}, "odoo_kubernetes_profile"),
    "replicas not above the budget": (
        {"odoo_kubernetes_replicas": 2, "odoo_kubernetes_pdb_min_available": 2},
        "odoo_kubernetes_replicas",
    ),
    "replicas given on the command line": ({"odoo_kubernetes_replicas": "1"}, "odoo_kubernetes_replicas"),
    "namespace with capitals": ({"odoo_kubernetes_namespace": "Retail_NL"}, "odoo_kubernetes_namespace"),
    "namespace too long": ({"odoo_kubernetes_namespace": "a" * 64}, "odoo_kubernetes_namespace"),
    "missing database password": ({"odoo_db_password": ""}, "odoo_db_password"),
    "missing master password": ({"odoo_admin_passwd": ""}, "odoo_admin_passwd"),
    "autoscaler below the replicas": (
        {"odoo_kubernetes_replicas": 4, "odoo_kubernetes_hpa_max_replicas": 3},
        "odoo_kubernetes_hpa_max_replicas",
    ),
    "request above its limit": (
        {
            "odoo_kubernetes_http_resources": {
                "requests": {"cpu": "2", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "2Gi"},
            }
        },
        "odoo_kubernetes_http_resources",
    ),
    "not a quantity": (
        {
            "odoo_kubernetes_cron_resources": {
                "requests": {"cpu": "1 core", "memory": "1Gi"},
                "limits": {"cpu": "2", "memory": "2Gi"},
            }
        },
        "odoo_kubernetes_cron_resources",
    ),
    "connections beyond the budget": ({"odoo_db_pool_budget": 20}, "odoo_db_pool_budget"),
    "quota too small for the autoscaler": (
        {"odoo_kubernetes_quota": {"limits.cpu": "2"}},
        "odoo_kubernetes_quota",
    ),
    "egress without a network": (
        {"odoo_kubernetes_egress": [{"name": "pgbouncer", "cidr": "pgbouncer.internal", "ports": [6432]}]},
        "odoo_kubernetes_egress",
    ),
    "egress port out of range": (
        {"odoo_kubernetes_egress": [{"name": "smtp", "cidr": "10.0.0.0/24", "ports": [70000]}]},
        "odoo_kubernetes_egress",
    ),
    "pre-stop as long as the grace period": (
        {"odoo_kubernetes_prestop_seconds": 60, "odoo_kubernetes_termination_grace_seconds": 60},
        "odoo_kubernetes_termination_grace_seconds",
    ),
    "an option the roles own": ({"odoo_options_extra": {"workers": 8}}, "odoo_options_extra"),
}

CASES = {"good": ({}, ""), **BAD}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case in its own ansible-playbook, side by side."""
    tmp = tmp_path_factory.mktemp("odoo-kubernetes-validate")
    playbook = tmp / "validate.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Validate a tenant",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "vars": {"ansible_python_interpreter": sys.executable},
                    "tasks": [
                        {
                            "name": "Validate",
                            "ansible.builtin.include_role": {
                                "name": "retailops.odoo_platform.odoo_kubernetes",
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


def test_a_good_tenant_passes(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
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
