"""odoo_kubernetes refuses bad input before it touches a cluster, naming the variable.

The role's validate entry point runs with no cluster at all (a kubeconfig
that does not exist): a good tenant passes, each bad one fails with the
variable in the message. molecule/kubernetes checks the same on a real
cluster, and that nothing was applied there.
"""

from __future__ import annotations

from typing import Any

from conftest import validate_tests

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
    "storage size not a quantity": (
        {"odoo_kubernetes_storage_size": "20 GB"},
        "odoo_kubernetes_storage_size",
    ),
    "quota not in quantities": (
        {
            "odoo_kubernetes_quota": {
                "requests.cpu": "6",
                "requests.memory": "12Gi",
                "limits.cpu": "12",
                "limits.memory": "24Gi",
                "pods": "twenty",
                "persistentvolumeclaims": "2",
            }
        },
        "odoo_kubernetes_quota",
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
    "a negative wait for a lost node": (
        {"odoo_kubernetes_http_node_lost_seconds": -1},
        "odoo_kubernetes_http_node_lost_seconds",
    ),
    "an option the roles own": ({"odoo_options_extra": {"workers": 8}}, "odoo_options_extra"),
    "cron node selector as a list": (
        {"odoo_kubernetes_cron_node_selector": ["retailops.io/pool=odoocron"]},
        "odoo_kubernetes_cron_node_selector",
    ),
    "cron tolerations as a mapping": (
        {
            "odoo_kubernetes_cron_tolerations": {
                "key": "retailops.io/pool",
                "operator": "Equal",
                "value": "odoocron",
                "effect": "NoSchedule",
            }
        },
        "odoo_kubernetes_cron_tolerations",
    ),
}


runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "odoo_kubernetes", GOOD, BAD
)
