"""Bad input to kubernetes_monitoring: refused with no cluster at all, naming the variable.

The good input is the pilot's (a kubeconfig, the role's namespace, a node
selector); the Kubernetes pilot applies it to the rig's cluster and its
node-loss drill needs the alert the account makes possible.
"""

from __future__ import annotations

from typing import Any

from conftest import validate_tests

GOOD: dict[str, Any] = {
    "kubernetes_monitoring_kubeconfig": "/nonexistent/kubeconfig",
    "kubernetes_monitoring_node_selector": "kubernetes.azure.com/mode=user,retailops.io/pool!=system",
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "a namespace Kubernetes refuses": (
        {"kubernetes_monitoring_namespace": "Retail_Monitoring"},
        "kubernetes_monitoring_namespace",
    ),
    "a namespace the role would remove with the account": (
        {"kubernetes_monitoring_namespace": "default"},
        "kubernetes_monitoring_namespace",
    ),
    "a node selector that is not a label selector": (
        {"kubernetes_monitoring_node_selector": "pool in (odoo"},
        "kubernetes_monitoring_node_selector",
    ),
    "the switch given as a word": (
        {"kubernetes_monitoring_nodes": "sometimes"},
        "kubernetes_monitoring_nodes",
    ),
}


runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "kubernetes_monitoring", GOOD, BAD
)
