"""Bad input to traefik_kubernetes: refused with no cluster at all, naming the variable.

The policy's variables are the traefik role's (its settings.yml); the rest
are the role's own. molecule/kubernetes repeats a few cases on the rig and
checks that nothing was applied.
"""

from __future__ import annotations

from typing import Any

from conftest import validate_tests

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
    "a certificate without its key": (
        {"traefik_tls_certificates": [{"cert": "PEM certificate from the vault"}]},
        "traefik_tls_certificates",
    ),
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
    "a memory limit Kubernetes refuses": (
        {
            "traefik_kubernetes_resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "1", "memory": "512MB"},
            }
        },
        "traefik_kubernetes_resources",
    ),
    "a negative CPU request": (
        {
            "traefik_kubernetes_resources": {
                "requests": {"cpu": "-100m", "memory": "128Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            }
        },
        "traefik_kubernetes_resources",
    ),
    "an unknown service type": (
        {"traefik_kubernetes_service_type": "ExternalName"},
        "traefik_kubernetes_service_type",
    ),
}


runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "traefik_kubernetes", GOOD, BAD
)
