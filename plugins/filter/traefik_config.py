# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: traefik_config
short_description: Traefik v3 static and dynamic configuration for Odoo nodes
version_added: 0.1.0
description:
  - Builds the Traefik v3 configuration of the traefik role from its settings (the role validates
    them first) and returns C({static, dynamic, tls}), each a dict to write as YAML.
  - "Static: entry points (C(web) redirects to C(websecure); TLS entry points with timeouts and trusted
    forwarded headers), the file provider, the API and C(/ping) on the C(traefik) entry point,
    Prometheus metrics, JSON logs and JSON access logs, and ACME when enabled."
  - "Dynamic services: C(odoo) (port 8069) and C(odoo-websocket) (port 8072), one server per node that
    is not drained, each with an active health check, a passive health check and a secure, httpOnly
    sticky cookie of its own."
  - "Dynamic middlewares: an C(ipAllowList) per allow list, a C(rateLimit) per router (per source
    address), security headers, buffering limits (not on the websocket), a circuit breaker and
    retries, and C(deny) (refuses everybody with 403)."
  - "Dynamic routers: each configured router becomes one router per allow list, matching the hosts,
    the rule and C(ClientIP) of the list's networks; on every entry point used, a router refuses the
    denied rule first, and a catch-all refuses every other source."
  - "SLI tier routers (C(sli_tiers), items with C(name), C(rule) and C(routers)): for each tier and each
    Traefik router built from one of its C(routers), one more router with that router's entry point,
    service, middlewares (allow list included) and TLS, the rule '(that router's rule) && (tier rule)', and a
    priority above it: the base priority plus the number of tiers minus the tier's index, so a request that
    matches several tiers counts under the first listed. It is named C(tier-<tier>) when the tier gives one
    router and the configuration is not a tenant's, else C(tier-<tier>-<base router>), the base router being
    C(<router>-<allow list>) (on Kubernetes C(<namespace>-<router>-<allow list>)). Traefik's metrics label it
    with that name and C(@file)."
  - "Prometheus metrics: entry point, router and service labels, and C(metrics_buckets) as the buckets of the
    request duration histograms (seconds)."
  - "TLS: minimum version, cipher suites for TLS 1.2, certificate files and the default certificate."
  - "On Kubernetes (the traefik_kubernetes role), C(kubernetes_namespace) names one tenant's namespace and
    C(kubernetes_backends) maps C(odoo) and C(odoo-websocket) to the tenant's Services (C({name, port,
    sticky})): the routers are the same, prefixed with the namespace and limited to the tenant's hosts (the
    refusing routers too); C(odoo) and C(odoo-websocket) are returned as C(kubernetes) (the specs of
    TraefikService resources of that namespace: one weighted child, the tenant's Service, with the same
    passive health check, and the sticky cookie unless the backend's C(sticky) is false; Traefik v3.6
    refuses an active health check on a Service that is not ExternalName, so the pods' readiness stands for
    it) and routed to as C(<namespace>-<name>@kubernetescrd).
    An empty C(log_dir) writes the access log to standard output."
author:
  - RetailOps platform engineering (@retailops)
options:
  _input:
    description: The settings (keys as built by the traefik role's C(vars/main.yml)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Render the dynamic configuration
  ansible.builtin.copy:
    content: "{{ (settings | retailops.odoo_platform.traefik_config).dynamic | to_nice_yaml(indent=2) }}"
    dest: /etc/traefik/dynamic/odoo.yml
    mode: "0640"
"""

RETURN = r"""
_value:
  description: >-
    C(static), C(dynamic) (the Odoo routers, services and middlewares) and C(tls); on Kubernetes also
    C(kubernetes), the TraefikService specs by logical service name.
  type: dict
"""

from typing import Any, Callable, Dict, List

DENY_ALL = "255.255.255.255/32"  # no client has this source address
REFUSAL_PRIORITY = 10000  # the refusing routers: above every configured router
TIER_PREFIX = "tier-"  # the SLI tier routers' names start with it (recording rules match it)


def _or(parts: List[str]) -> str:
    return " || ".join(parts)


def _tenant(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """How the routers are named, scoped and pointed: the one place the Kubernetes tenant mode differs.

    On VMs: the router names as configured, refusing routers on every host, the file provider's services.
    For a tenant's namespace: names prefixed with it, refusing routers on its hosts only (other tenants'
    hosts are theirs), odoo and odoo-websocket the TraefikServices of that namespace."""
    namespace = cfg.get("kubernetes_namespace") or ""
    if not namespace:
        return {"router_prefix": "", "scope_refusals": False, "service_refs": {}}
    return {
        "router_prefix": namespace + "-",
        "scope_refusals": True,
        "service_refs": {
            name: "%s-%s@kubernetescrd" % (namespace, name) for name in cfg["kubernetes_backends"]
        },
    }


def _traefik_services(cfg: Dict[str, Any], services: Dict[str, Any]) -> Dict[str, Any]:
    """The specs of the TraefikService resources standing for odoo and odoo-websocket on Kubernetes.

    The file provider's serversTransport is referenced across providers (name@file)."""
    specs: Dict[str, Any] = {}
    for name, backend in cfg["kubernetes_backends"].items():
        lb = services[name]["loadBalancer"]
        child = {"name": backend["name"], "port": int(backend["port"])}
        child.update({k: v for k, v in lb.items() if k not in ("servers", "healthCheck", "serversTransport")})
        if not backend.get("sticky", True):
            del child["sticky"]
        child["serversTransport"] = lb["serversTransport"] + "@file"
        specs[name] = {"weighted": {"services": [child]}}
    return specs


def _services(cfg: Dict[str, Any]) -> Dict[str, Any]:
    live = [n for n in cfg["nodes"] if n["name"] not in cfg["drained"]]
    services: Dict[str, Any] = {}
    for name, port_key, health_path in (
        ("odoo", "http_port", cfg["healthcheck_path"]),
        ("odoo-websocket", "gevent_port", cfg["websocket_healthcheck_path"]),
    ):
        services[name] = {
            "loadBalancer": {
                "servers": [{"url": "http://%s:%s" % (n["address"], n[port_key])} for n in live],
                "healthCheck": {
                    "path": health_path,
                    "interval": cfg["healthcheck_interval"],
                    "timeout": cfg["healthcheck_timeout"],
                    "unhealthyInterval": cfg["healthcheck_unhealthy_interval"],
                },
                "passiveHealthCheck": {
                    "failureWindow": cfg["passive_window"],
                    "maxFailedAttempts": int(cfg["passive_max_failed"]),
                },
                "sticky": {
                    "cookie": {
                        "name": cfg["sticky_cookie_name"] + ("" if name == "odoo" else "_ws"),
                        "secure": True,
                        "httpOnly": True,
                        "sameSite": cfg["sticky_cookie_samesite"],
                    }
                },
                "passHostHeader": True,
                "serversTransport": "odoo",
            }
        }
    services.update(cfg.get("services_extra") or {})
    return services


def _middlewares(cfg: Dict[str, Any]) -> Dict[str, Any]:
    mws: Dict[str, Any] = {
        "deny": {"ipAllowList": {"sourceRange": [DENY_ALL], "rejectStatusCode": 403}},
        "security-headers": {
            "headers": dict(cfg["security_headers"], customRequestHeaders={"X-Forwarded-Proto": "https"})
        },
        "buffering": {"buffering": dict(cfg["buffering"])},
        "circuit-breaker": {
            "circuitBreaker": {
                "expression": cfg["circuit_breaker_expression"],
                "fallbackDuration": cfg["circuit_breaker_fallback"],
                "recoveryDuration": cfg["circuit_breaker_recovery"],
            }
        },
        "retry": {
            "retry": {
                "attempts": int(cfg["retry_attempts"]),
                "initialInterval": cfg["retry_initial_interval"],
            }
        },
    }
    for group in sorted({g for r in cfg["routers"] for g in r["allow_lists"]}):
        mws["allow-" + group] = {"ipAllowList": {"sourceRange": list(cfg["allow_lists"][group])}}
    for router in cfg["routers"]:
        limit = dict(cfg["rate_limit"], **(router.get("rate_limit") or {}))
        mws["ratelimit-" + router["name"]] = {"rateLimit": limit}
    return mws


def _tier_routers(
    cfg: Dict[str, Any], routers: Dict[str, Any], built: Dict[str, List[str]]
) -> Dict[str, Any]:
    """The SLI tier routers: each tier's rule on every Traefik router built from its base routers.

    A clone keeps its base's entry point, service, middlewares and TLS, so it admits, limits and refuses
    exactly as the base does; its priority is above the base's, by more for a tier listed earlier."""
    tiers = cfg.get("sli_tiers") or []
    clones: Dict[str, Any] = {}
    for index, tier in enumerate(tiers):
        unknown = [name for name in tier["routers"] if name not in built]
        if unknown:
            raise ValueError("SLI tier %s: no router named %s" % (tier["name"], ", ".join(unknown)))
        bases = [name for base in tier["routers"] for name in built[base]]
        for base_name in bases:
            base = routers[base_name]
            name = TIER_PREFIX + tier["name"]
            if len(bases) > 1 or cfg["router_prefix"]:
                name += "-" + base_name
            if name in routers or name in clones:
                raise ValueError("SLI tier %s: router %s is built twice" % (tier["name"], name))
            priority = base["priority"] + len(tiers) - index
            if priority >= REFUSAL_PRIORITY:
                raise ValueError("SLI tier %s: priority %d reaches the refusing routers'" % (name, priority))
            clones[name] = {
                "entryPoints": list(base["entryPoints"]),
                "rule": "(%s) && (%s)" % (base["rule"], tier["rule"]),
                "priority": priority,
                "service": base["service"],
                "middlewares": list(base["middlewares"]),
                "tls": dict(base["tls"]),
            }
    return clones


def _routers(cfg: Dict[str, Any]) -> Dict[str, Any]:
    hosts = "(%s)" % _or(["Host(`%s`)" % h for h in cfg["hosts"]])
    prefix = cfg["router_prefix"]

    def service(name: str) -> str:
        return str(cfg["service_refs"].get(name, name))

    def refusing(rule: str) -> str:
        return "%s && (%s)" % (hosts, rule) if cfg["scope_refusals"] else rule

    routers: Dict[str, Any] = {}
    tls: Dict[str, Any] = {}
    if cfg["acme"]:
        tls = {"certResolver": "acme", "domains": [{"main": h} for h in cfg["hosts"]]}
    built: Dict[str, List[str]] = {}  # configured router -> the Traefik routers built from it
    for router in cfg["routers"]:
        chain = ["ratelimit-" + router["name"], "security-headers"]
        if router["service"] != "odoo-websocket":
            chain.append("buffering")  # never buffer the websocket (doodba)
        chain += ["circuit-breaker", "retry"]
        for group in router["allow_lists"]:
            sources = _or(["ClientIP(`%s`)" % c for c in cfg["allow_lists"][group]])
            name = "%s%s-%s" % (prefix, router["name"], group)
            built.setdefault(router["name"], []).append(name)
            routers[name] = {
                "entryPoints": [router["entrypoint"]],
                "rule": "%s && (%s) && (%s)" % (hosts, router["rule"], sources),
                "priority": int(router.get("priority", 10)),
                "service": service(router["service"]),
                "middlewares": ["allow-" + group, *chain],
                "tls": dict(tls),
            }
    routers.update(_tier_routers(cfg, routers, built))
    for entrypoint in sorted({r["entrypoint"] for r in cfg["routers"]}):
        denied = [cfg["denied_rule"]]
        if entrypoint not in cfg["jsonrpc_entrypoints"]:
            denied.append("Path(`/jsonrpc`)")
        routers[prefix + entrypoint + "-denied"] = {
            "entryPoints": [entrypoint],
            "rule": refusing(_or(denied)),
            "priority": REFUSAL_PRIORITY,
            "service": service("odoo"),
            "middlewares": ["deny", "security-headers"],
            "tls": dict(tls),
        }
        routers[prefix + entrypoint + "-refused"] = {
            "entryPoints": [entrypoint],
            "rule": refusing("PathPrefix(`/`)"),
            "priority": 1,
            "service": service("odoo"),
            "middlewares": ["deny", "security-headers"],
            "tls": dict(tls),
        }
    return routers


def _nodes(cfg: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [
        {"name": name, "address": address or name, "http_port": int(http), "gevent_port": int(gevent)}
        for name, address, http, gevent in zip(
            cfg["node_names"],
            cfg["node_addresses"],
            cfg["node_http_ports"],
            cfg["node_gevent_ports"],
            strict=True,
        )
    ]


def _static(cfg: Dict[str, Any]) -> Dict[str, Any]:
    entrypoints: Dict[str, Any] = {name: {"address": address} for name, address in cfg["entrypoints"].items()}
    entrypoints["web"]["http"] = {
        "redirections": {"entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}}
    }
    for name in sorted({r["entrypoint"] for r in cfg["routers"]}):
        entry = entrypoints[name]
        entry["http"] = {"tls": {"certResolver": "acme"} if cfg["acme"] else {}}
        entry["transport"] = {
            "respondingTimeouts": {"readTimeout": cfg["read_timeout"], "idleTimeout": cfg["idle_timeout"]},
            "lifeCycle": {"graceTimeOut": cfg["grace_timeout"]},
        }
        if cfg["trusted_ips"]:
            entry["forwardedHeaders"] = {"trustedIPs": list(cfg["trusted_ips"])}
    static: Dict[str, Any] = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": entrypoints,
        "providers": {"file": {"directory": cfg["config_dir"] + "/dynamic", "watch": True}},
        "api": {"insecure": True, "dashboard": False},
        "ping": {"entryPoint": "traefik"},
        "log": {"level": cfg["log_level"], "format": "json"},
    }
    if cfg["metrics"]:
        static["metrics"] = {
            "prometheus": {
                "entryPoint": "metrics",
                "addEntryPointsLabels": True,
                "addRoutersLabels": True,
                "addServicesLabels": True,
                "buckets": [float(b) for b in cfg["metrics_buckets"]],
            }
        }
    if cfg["access_log"]:
        # no log_dir: standard output (a container's log)
        static["accessLog"] = {"filePath": cfg["log_dir"] + "/access.log"} if cfg["log_dir"] else {}
        static["accessLog"].update({"format": "json", "fields": {"headers": {"defaultMode": "drop"}}})
    if cfg["acme"]:
        acme: Dict[str, Any] = {"email": cfg["acme_email"], "storage": cfg["acme_storage"]}
        if cfg["acme_ca_server"]:
            acme["caServer"] = cfg["acme_ca_server"]
        if cfg["acme_challenge"] == "http":
            acme["httpChallenge"] = {"entryPoint": "web"}
        elif cfg["acme_challenge"] == "tls":
            acme["tlsChallenge"] = {}
        else:
            acme["dnsChallenge"] = {"provider": cfg["acme_dns_provider"]}
        static["certificatesResolvers"] = {"acme": {"acme": acme}}
    return static


def _tls(cfg: Dict[str, Any]) -> Dict[str, Any]:
    certs_dir = cfg["config_dir"] + "/certs"
    certs = [
        {"certFile": "%s/cert-%d.crt" % (certs_dir, i), "keyFile": "%s/cert-%d.key" % (certs_dir, i)}
        for i in range(int(cfg["certificate_count"]))
    ]
    tls: Dict[str, Any] = {
        "options": {
            "default": {
                "minVersion": cfg["tls_min_version"],
                "cipherSuites": [
                    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
                    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
                ],
            }
        }
    }
    if certs:
        tls["certificates"] = certs
        tls["stores"] = {"default": {"defaultCertificate": dict(certs[0])}}
    return {"tls": tls}


def traefik_config(settings: Dict[str, Any]) -> Dict[str, Any]:
    """``{static, dynamic, tls}`` for the traefik role; and ``kubernetes`` for a tenant's namespace."""
    cfg = dict(settings, nodes=_nodes(settings))
    cfg.update(_tenant(cfg))
    services = _services(cfg)
    kubernetes = _traefik_services(cfg, services) if cfg["service_refs"] else {}
    http: Dict[str, Any] = {
        "routers": _routers(cfg),
        "services": {k: v for k, v in services.items() if k not in kubernetes},
        "middlewares": _middlewares(cfg),
        "serversTransports": {"odoo": {"forwardingTimeouts": {"dialTimeout": cfg["dial_timeout"]}}},
    }
    if not http["services"]:
        del http["services"]  # Traefik refuses an empty services element
    dynamic = {"http": http}
    config = {"static": _static(cfg), "dynamic": dynamic, "tls": _tls(cfg)}
    if kubernetes:
        config["kubernetes"] = kubernetes
    return config


class FilterModule:
    """Traefik configuration for Odoo."""

    def filters(self) -> Dict[str, Callable[..., Dict[str, Any]]]:
        return {"traefik_config": traefik_config}
