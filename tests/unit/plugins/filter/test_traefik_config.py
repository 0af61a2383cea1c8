"""The Traefik configuration generated for the Odoo nodes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.retailops.odoo_platform.plugins.filter import traefik_config as plugin

NODE1 = "http://10.0.0.11:8069"
NODE2 = "http://10.0.0.12:8069"


def settings(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "config_dir": "/etc/traefik",
        "log_dir": "/var/log/traefik",
        "log_level": "INFO",
        "entrypoints": {
            "web": ":80",
            "websecure": ":443",
            "api": ":8443",
            "metrics": ":8082",
            "traefik": "127.0.0.1:8080",
        },
        "trusted_ips": [],
        "read_timeout": "60s",
        "idle_timeout": "180s",
        "grace_timeout": "10s",
        "metrics": True,
        "access_log": True,
        "acme": False,
        "acme_email": "",
        "acme_ca_server": "",
        "acme_challenge": "http",
        "acme_dns_provider": "",
        "acme_storage": "/var/lib/traefik/acme.json",
        "tls_min_version": "VersionTLS12",
        "certificate_count": 1,
        "hosts": ["erp.example"],
        "node_names": ["n1", "n2"],
        "node_addresses": ["10.0.0.11", "10.0.0.12"],
        "node_http_ports": [8069, 8069],
        "node_gevent_ports": [8072, 8072],
        "drained": [],
        "healthcheck_path": "/web/health?db_server_status=1",
        "websocket_healthcheck_path": "/websocket/health",
        "healthcheck_interval": "2s",
        "healthcheck_timeout": "5s",
        "healthcheck_unhealthy_interval": "1s",
        "passive_window": "10s",
        "passive_max_failed": 2,
        "sticky_cookie_name": "odoo_node",
        "sticky_cookie_samesite": "lax",
        "retry_attempts": 3,
        "retry_initial_interval": "100ms",
        "circuit_breaker_expression": "NetworkErrorRatio() > 0.5",
        "circuit_breaker_fallback": "10s",
        "circuit_breaker_recovery": "10s",
        "dial_timeout": "2s",
        "buffering": {"maxRequestBodyBytes": 100},
        "rate_limit": {"average": 100, "burst": 200, "period": "1s"},
        "security_headers": {"stsSeconds": 31536000, "frameDeny": True, "contentTypeNosniff": True},
        "allow_lists": {"stores": ["10.1.0.0/16", "10.2.0.0/16"], "partners": ["192.0.2.0/24"]},
        "routers": [
            {
                "name": "users",
                "entrypoint": "websecure",
                "rule": "PathPrefix(`/`)",
                "service": "odoo",
                "allow_lists": ["stores"],
                "priority": 10,
            },
            {
                "name": "users-websocket",
                "entrypoint": "websecure",
                "rule": "Path(`/websocket`)",
                "service": "odoo-websocket",
                "allow_lists": ["stores"],
                "priority": 20,
            },
            {
                "name": "api",
                "entrypoint": "api",
                "rule": "Path(`/jsonrpc`)",
                "service": "odoo",
                "allow_lists": ["partners"],
                "rate_limit": {"average": 5},
            },
        ],
        "denied_rule": "PathPrefix(`/web/database`)",
        "jsonrpc_entrypoints": ["api"],
        "services_extra": {},
        "sli_tiers": [],
        "metrics_buckets": [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }
    base.update(over)
    return base


def test_services_have_health_checks_sticky_cookies_and_ports() -> None:
    services = plugin.traefik_config(settings())["dynamic"]["http"]["services"]
    http, ws = services["odoo"]["loadBalancer"], services["odoo-websocket"]["loadBalancer"]
    assert [s["url"] for s in http["servers"]] == [NODE1, NODE2]
    assert [s["url"] for s in ws["servers"]] == ["http://10.0.0.11:8072", "http://10.0.0.12:8072"]
    assert http["healthCheck"] == {
        "path": "/web/health?db_server_status=1",
        "interval": "2s",
        "timeout": "5s",
        "unhealthyInterval": "1s",
    }
    assert ws["healthCheck"]["path"] == "/websocket/health"
    assert http["sticky"]["cookie"]["secure"]
    assert http["sticky"]["cookie"]["httpOnly"]
    assert http["sticky"]["cookie"]["name"] != ws["sticky"]["cookie"]["name"]
    assert http["passiveHealthCheck"] == {"failureWindow": "10s", "maxFailedAttempts": 2}


def test_drained_node_gets_no_traffic() -> None:
    services = plugin.traefik_config(settings(drained=["n2"]))["dynamic"]["http"]["services"]
    assert [s["url"] for s in services["odoo"]["loadBalancer"]["servers"]] == [NODE1]
    assert len(services["odoo-websocket"]["loadBalancer"]["servers"]) == 1


def test_routers_per_allow_list_with_client_ip_and_middlewares() -> None:
    http = plugin.traefik_config(settings())["dynamic"]["http"]
    users = http["routers"]["users-stores"]
    assert users["rule"] == (
        "(Host(`erp.example`)) && (PathPrefix(`/`)) && (ClientIP(`10.1.0.0/16`) || ClientIP(`10.2.0.0/16`))"
    )
    assert users["middlewares"][0] == "allow-stores"
    assert "buffering" in users["middlewares"]
    assert users["middlewares"].index("circuit-breaker") < users["middlewares"].index("retry")
    ws = http["routers"]["users-websocket-stores"]
    assert ws["service"] == "odoo-websocket"
    assert ws["priority"] > users["priority"]
    assert "buffering" not in ws["middlewares"]
    assert http["middlewares"]["allow-stores"] == {
        "ipAllowList": {"sourceRange": ["10.1.0.0/16", "10.2.0.0/16"]}
    }
    assert http["middlewares"]["ratelimit-api"]["rateLimit"] == {"average": 5, "burst": 200, "period": "1s"}


def test_refusals_on_every_entrypoint() -> None:
    routers = plugin.traefik_config(settings())["dynamic"]["http"]["routers"]
    assert routers["websecure-denied"]["rule"] == "PathPrefix(`/web/database`) || Path(`/jsonrpc`)"
    assert routers["api-denied"]["rule"] == "PathPrefix(`/web/database`)"
    for name in ("websecure-denied", "api-denied", "websecure-refused", "api-refused"):
        assert routers[name]["middlewares"][0] == "deny"
    others = [r["priority"] for name, r in routers.items() if not name.endswith("-denied")]
    assert routers["websecure-denied"]["priority"] > max(others)
    assert routers["websecure-refused"]["priority"] == 1


def test_security_headers_keep_settings_and_force_https_proto() -> None:
    headers = plugin.traefik_config(settings())["dynamic"]["http"]["middlewares"]["security-headers"][
        "headers"
    ]
    assert headers["stsSeconds"] == 31536000
    assert headers["frameDeny"]
    assert headers["contentTypeNosniff"]
    assert headers["customRequestHeaders"] == {"X-Forwarded-Proto": "https"}


def test_static_redirect_tls_metrics_and_logs() -> None:
    static = plugin.traefik_config(settings())["static"]
    web = static["entryPoints"]["web"]["http"]["redirections"]["entryPoint"]
    assert web == {"to": "websecure", "scheme": "https", "permanent": True}
    assert static["entryPoints"]["websecure"]["http"] == {"tls": {}}
    assert "http" not in static["entryPoints"]["metrics"]
    assert static["metrics"]["prometheus"]["entryPoint"] == "metrics"
    assert static["accessLog"]["format"] == "json"
    assert static["providers"]["file"] == {"directory": "/etc/traefik/dynamic", "watch": True}
    assert "certificatesResolvers" not in static


def test_acme_resolver_and_router_tls() -> None:
    cfg = plugin.traefik_config(
        settings(
            acme=True,
            acme_email="ops@example",
            acme_challenge="dns",
            acme_dns_provider="azuredns",
            certificate_count=0,
        )
    )
    resolver = cfg["static"]["certificatesResolvers"]["acme"]["acme"]
    assert resolver["dnsChallenge"] == {"provider": "azuredns"}
    assert resolver["email"] == "ops@example"
    assert cfg["dynamic"]["http"]["routers"]["users-stores"]["tls"]["certResolver"] == "acme"
    assert "certificates" not in cfg["tls"]["tls"]


def test_tls_minimum_and_default_certificate() -> None:
    tls = plugin.traefik_config(settings(certificate_count=2))["tls"]["tls"]
    assert tls["options"]["default"]["minVersion"] == "VersionTLS12"
    assert len(tls["certificates"]) == 2
    assert tls["stores"]["default"]["defaultCertificate"]["certFile"] == "/etc/traefik/certs/cert-0.crt"


def test_node_lists_must_line_up() -> None:
    with pytest.raises(ValueError, match="zip"):
        plugin.traefik_config(settings(node_addresses=["10.0.0.11"]))


def test_registered_under_its_name() -> None:
    assert plugin.FilterModule().filters() == {"traefik_config": plugin.traefik_config}


def kubernetes_settings(namespace: str, hosts: list[str]) -> dict[str, Any]:
    """A tenant on Kubernetes, as the traefik_kubernetes role builds it."""
    return settings(
        kubernetes_namespace=namespace,
        kubernetes_backends={
            "odoo": {"name": "odoo-http", "port": 8069, "sticky": False},
            "odoo-websocket": {"name": "odoo-websocket", "port": 8072, "sticky": True},
        },
        hosts=hosts,
        node_names=[],
        node_addresses=[],
        node_http_ports=[],
        node_gevent_ports=[],
        log_dir="",
    )


def test_vm_output_has_no_kubernetes_part() -> None:
    cfg = plugin.traefik_config(settings())
    assert set(cfg) == {"static", "dynamic", "tls"}
    assert set(cfg["dynamic"]["http"]["services"]) == {"odoo", "odoo-websocket"}
    assert cfg["static"]["accessLog"]["filePath"] == "/var/log/traefik/access.log"


def test_kubernetes_tenant_routers_are_prefixed_scoped_and_route_to_its_services() -> None:
    cfg = plugin.traefik_config(kubernetes_settings("retail", ["retail.example", "10.0.0.5"]))
    routers = cfg["dynamic"]["http"]["routers"]
    vm_routers = plugin.traefik_config(settings())["dynamic"]["http"]["routers"]
    assert sorted(routers) == sorted("retail-" + name for name in vm_routers)
    hosts = "(Host(`retail.example`) || Host(`10.0.0.5`))"
    users = routers["retail-users-stores"]
    assert users["rule"].startswith(hosts + " && (PathPrefix(`/`)) && (ClientIP(`10.1.0.0/16`)")
    assert users["service"] == "retail-odoo@kubernetescrd"
    assert users["middlewares"] == vm_routers["users-stores"]["middlewares"]
    assert routers["retail-users-websocket-stores"]["service"] == "retail-odoo-websocket@kubernetescrd"
    denied = " && (PathPrefix(`/web/database`) || Path(`/jsonrpc`))"
    assert routers["retail-websecure-denied"]["rule"] == hosts + denied
    assert routers["retail-websecure-refused"]["rule"] == hosts + " && (PathPrefix(`/`))"
    assert routers["retail-websecure-refused"]["middlewares"][0] == "deny"
    # the middlewares do not depend on the tenant: tenants' configurations merge without conflict
    other = plugin.traefik_config(kubernetes_settings("shop", ["shop.example"]))["dynamic"]["http"]
    assert other["middlewares"] == cfg["dynamic"]["http"]["middlewares"]
    assert not set(other["routers"]) & set(routers)


def test_kubernetes_services_are_traefik_services_from_the_same_settings() -> None:
    cfg = plugin.traefik_config(kubernetes_settings("retail", ["retail.example"]))
    assert "services" not in cfg["dynamic"]["http"]  # Traefik refuses an empty element
    vm = plugin.traefik_config(settings())["dynamic"]["http"]["services"]
    for name, port in (("odoo", 8069), ("odoo-websocket", 8072)):
        (child,) = cfg["kubernetes"][name]["weighted"]["services"]
        assert child["port"] == port
        assert child["passiveHealthCheck"] == vm[name]["loadBalancer"]["passiveHealthCheck"]
        assert child["passHostHeader"] is True
        assert child["serversTransport"] == "odoo@file"
        assert "healthCheck" not in child  # refused by Traefik on a Service that is not ExternalName
    assert cfg["kubernetes"]["odoo"]["weighted"]["services"][0]["name"] == "odoo-http"
    assert "filePath" not in cfg["static"]["accessLog"]


def test_kubernetes_backend_is_sticky_unless_told_otherwise() -> None:
    vm = plugin.traefik_config(settings())["dynamic"]["http"]["services"]
    cfg = plugin.traefik_config(kubernetes_settings("retail", ["retail.example"]))["kubernetes"]
    assert "sticky" not in cfg["odoo"]["weighted"]["services"][0]
    (websocket,) = cfg["odoo-websocket"]["weighted"]["services"]
    assert websocket["sticky"] == vm["odoo-websocket"]["loadBalancer"]["sticky"]
    backends = {"odoo": {"name": "odoo-http", "port": 8069}}  # no sticky key: sticky, as on VMs
    plain = plugin.traefik_config(
        dict(kubernetes_settings("retail", ["retail.example"]), kubernetes_backends=backends)
    )["kubernetes"]
    assert plain["odoo"]["weighted"]["services"][0]["sticky"] == vm["odoo"]["loadBalancer"]["sticky"]


def test_kubernetes_keeps_extra_services_in_the_file_provider() -> None:
    extra = {"payments": {"loadBalancer": {"servers": [{"url": "http://10.9.0.1:80"}]}}}
    cfg = plugin.traefik_config(dict(kubernetes_settings("retail", ["r.example"]), services_extra=extra))
    assert cfg["dynamic"]["http"]["services"] == extra
    assert set(cfg["kubernetes"]) == {"odoo", "odoo-websocket"}


POS = {"name": "pos_sync", "rule": "PathPrefix(`/pos/`)", "routers": ["users"]}
REPORTING = {"name": "reporting", "rule": "PathPrefix(`/report/`)", "routers": ["users"]}
INTEGRATION = {"name": "integration", "rule": "Path(`/jsonrpc`)", "routers": ["api", "users"]}


def routers_of(cfg: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = cfg["dynamic"]["http"]["routers"]
    return found


def test_no_tiers_no_tier_routers() -> None:
    routers = routers_of(plugin.traefik_config(settings()))
    assert not [name for name in routers if name.startswith("tier-")]
    assert set(routers) == {
        "users-stores",
        "users-websocket-stores",
        "api-partners",
        "websecure-denied",
        "websecure-refused",
        "api-denied",
        "api-refused",
    }


def test_a_tier_router_is_its_base_router_narrowed_by_the_tier_rule() -> None:
    routers = routers_of(plugin.traefik_config(settings(sli_tiers=[POS])))
    base, tier = routers["users-stores"], routers["tier-pos_sync"]  # one base router: the bare tier name
    assert tier["rule"] == f"({base['rule']}) && (PathPrefix(`/pos/`))"
    for key in ("entryPoints", "service", "middlewares", "tls"):
        assert tier[key] == base[key], key
    assert tier["middlewares"][0] == "allow-stores"
    # above its base, below the websocket router of the same entry point and the refusals
    assert base["priority"] < tier["priority"] < routers["users-websocket-stores"]["priority"]
    assert tier["priority"] < routers["websecure-denied"]["priority"]
    assert [name for name in routers if name.startswith("tier-")] == ["tier-pos_sync"]


def test_the_first_listed_tier_wins_a_request_both_match() -> None:
    routers = routers_of(plugin.traefik_config(settings(sli_tiers=[REPORTING, POS])))
    assert routers["tier-reporting"]["priority"] > routers["tier-pos_sync"]["priority"]
    assert routers["tier-pos_sync"]["priority"] > routers["users-stores"]["priority"]


def test_a_tier_on_several_base_routers_names_each_after_its_base() -> None:
    users = {
        "name": "users",
        "entrypoint": "websecure",
        "rule": "PathPrefix(`/`)",
        "service": "odoo",
        "allow_lists": ["stores", "partners"],
        "priority": 10,
    }
    api = {
        "name": "api",
        "entrypoint": "api",
        "rule": "Path(`/jsonrpc`)",
        "service": "odoo",
        "allow_lists": ["partners"],
    }
    cfg = plugin.traefik_config(
        settings(routers=[users, api], jsonrpc_entrypoints=["api", "websecure"], sli_tiers=[POS, INTEGRATION])
    )
    routers = routers_of(cfg)
    tiers = sorted(name for name in routers if name.startswith("tier-"))
    assert tiers == [
        "tier-integration-api-partners",
        "tier-integration-users-partners",
        "tier-integration-users-stores",
        "tier-pos_sync-users-partners",
        "tier-pos_sync-users-stores",
    ]
    for name in tiers:
        base = routers[name.split("-", 2)[2]]
        assert routers[name]["rule"].startswith(f"({base['rule']}) && (")
        assert routers[name]["middlewares"] == base["middlewares"]
        assert routers[name]["entryPoints"] == base["entryPoints"]
    assert routers["tier-integration-api-partners"]["entryPoints"] == ["api"]
    # the recording rules' pattern reads the tier back from every name, with Traefik's provider suffix
    pattern = re.compile(r"tier-([a-z0-9_]+)(-.+)?@file")
    read = [pattern.fullmatch(name + "@file") for name in tiers]
    assert {m.group(1) for m in read if m} == {"pos_sync", "integration"}
    assert all(read)
    assert not any(pattern.fullmatch(name + "@file") for name in routers if name not in tiers)


def test_unknown_base_router_is_refused() -> None:
    tier = dict(POS, routers=["cashiers"])
    with pytest.raises(ValueError, match="SLI tier pos_sync: no router named cashiers"):
        plugin.traefik_config(settings(sli_tiers=[tier]))


def test_kubernetes_tier_routers_carry_the_namespace_after_the_tier() -> None:
    cfg = plugin.traefik_config(dict(kubernetes_settings("retail", ["retail.example"]), sli_tiers=[POS]))
    routers = routers_of(cfg)
    tier = routers["tier-pos_sync-retail-users-stores"]
    assert tier["service"] == "retail-odoo@kubernetescrd"
    assert tier["rule"] == f"({routers['retail-users-stores']['rule']}) && (PathPrefix(`/pos/`))"
    other = routers_of(
        plugin.traefik_config(dict(kubernetes_settings("shop", ["shop.example"]), sli_tiers=[POS]))
    )
    assert "tier-pos_sync-shop-users-stores" in other
    assert not set(other) & set(routers)  # tenants' configurations merge without conflict


def test_metrics_have_router_labels_and_the_buckets() -> None:
    static = plugin.traefik_config(settings(metrics_buckets=[0.05, 1, 10]))["static"]
    prometheus = static["metrics"]["prometheus"]
    assert prometheus["addRoutersLabels"] is True
    assert prometheus["buckets"] == [0.05, 1.0, 10.0]
    assert all(isinstance(b, float) for b in prometheus["buckets"])


# The role's default tiers, on the paths Odoo 18's clients call. Each default rule is an OR of Path,
# PathPrefix and PathRegexp (Go's regexp syntax, the same as Python's for these patterns; unanchored,
# as Traefik's PathRegexp is): the first listed tier that matches wins, as the priorities make Traefik do.
DEFAULTS = Path(__file__).resolve().parents[4] / "roles" / "traefik" / "defaults" / "main.yml"
MATCHER = re.compile(r"(Path|PathPrefix|PathRegexp)\(`([^`]*)`\)")


def default_tier(path: str) -> str:
    for tier in yaml.safe_load(DEFAULTS.read_text())["traefik_sli_tiers"]:
        terms = MATCHER.findall(tier["rule"])
        assert " || ".join(f"{kind}(`{arg}`)" for kind, arg in terms) == tier["rule"], tier["rule"]
        for kind, arg in terms:
            if (
                (kind == "Path" and path == arg)
                or (kind == "PathPrefix" and path.startswith(arg))
                or (kind == "PathRegexp" and re.search(arg, path))
            ):
                return str(tier["name"])
    return "other"


@pytest.mark.parametrize(
    ("path", "tier"),
    [
        ("/pos/ui", "pos_sync"),
        ("/web/dataset/call_kw/pos.order/sync_from_ui", "pos_sync"),
        ("/web/dataset/call_kw/pos.session/load_data", "pos_sync"),
        ("/web/dataset/call_kw/stock.picking/button_validate", "inventory"),
        ("/web/dataset/call_button/stock.picking/button_validate", "inventory"),
        ("/web/dataset/call_kw/account.move/action_post", "finance"),
        ("/report/pdf/account.report_invoice/7", "reporting"),
        ("/web/dataset/call_kw/report.pos.order/read_group", "reporting"),
        ("/web/dataset/call_kw/pos.order/web_read_group", "reporting"),
        ("/jsonrpc", "integration"),
        ("/xmlrpc/2/object", "integration"),
        ("/web/dataset/call_kw/product.product/search_read", "other"),
        ("/web/dataset/call_kw/res.partner/read_group_extra", "other"),
        ("/web/dataset/call_kw/possum.thing/read", "other"),
        ("/web/session/authenticate", "other"),
    ],
)
def test_default_tiers_classify_odoo_paths(path: str, tier: str) -> None:
    assert default_tier(path) == tier
