"""prometheus: the configuration it renders for an inventory, and the input it refuses.

The role's validate entry point runs on localhost with a small inventory
loaded (its groups and hosts are what the scrape jobs read), then the
role's own template renders prometheus.yml into a temporary directory,
where `promtool check config` (Debian's 2.42, as on the monitoring node)
reads it together with the rule files it names. What this proves: the
targets are the inventory's hosts (each once, at its address, labelled with
its inventory name and the region), bad input is refused by validate.yml
naming the job, group, file or variable, and a rule file promtool refuses is
refused there. What it does not: that Prometheus scrapes anything (the
Molecule scenario checks every target through /api/v1/targets).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, inventory_cases

from tests.fixtures.pki import certificate, new_key, pem

pytestmark = pytest.mark.slow
PROMTOOL = shutil.which("promtool")
ADDRESSES = {
    "mon-1": "10.20.250.20",
    "db-1": "10.20.2.11",
    "db-2": "10.20.2.12",
    "app-1": "10.20.1.11",
    "redis-1": "10.20.3.11",
    "hub-1": "10.20.0.4",
}
INVENTORY: dict[str, Any] = {
    "all": {
        "children": {
            "platform": {"hosts": {h: {"ansible_host": a, "node_address": a} for h, a in ADDRESSES.items()}},
            "monitoring": {"hosts": {"mon-1": None}},
            "etcd_cluster": {"hosts": {"db-1": None, "db-2": None}},
            "postgres_cluster": {"hosts": {"db-1": None, "db-2": None}},
            "app_nodes": {"hosts": {"app-1": None}},
            "docker_hosts": {"hosts": {"app-1": None}},
            "odoo_nodes": {"hosts": {"app-1": None}},
            "ingress": {"hosts": {"app-1": None}},
            "redis_servers": {"hosts": {"redis-1": None}},
            "redis_sentinels": {"hosts": {"redis-1": None}},
            "hubs": {"hosts": {"hub-1": None}},
            "branches": {"hosts": {"S-001": {"ansible_host": "10.101.1.1"}}},
            "empty": {"hosts": {}},
        }
    }
}
RULES = {
    "groups": [
        {
            "name": "test",
            "rules": [
                {"record": "job:up:sum", "expr": "sum by (job) (up)"},
                {
                    "alert": "TargetDown",
                    "expr": "up == 0",
                    "for": "1m",
                    "labels": {"severity": "critical"},
                    "annotations": {"runbook_url": "{{ $externalLabels.runbook_base_url }}/TargetDown.md"},
                },
                {
                    "alert": "TargetFlapping",
                    "expr": "changes(up[10m]) > 2",
                    "labels": {"severity": "warning"},
                },
            ],
        }
    ]
}


def rule_file(path: Path, rules: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rules if isinstance(rules, str) else yaml.safe_dump(rules))
    return str(path)


CA = pem(certificate("kubernetes", new_key(), ca=True)).decode()  # a cluster's ca.crt
# A token as Kubernetes issues them; it must never appear in the output or the configuration.
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dHJhZWZpayJ9.c2lnbmF0dXJlLXRlc3Q"
KUBERNETES_JOB = {
    "name": "traefik",
    "api_server": "https://aks-erp-eu-west.privatelink.westeurope.azmk8s.io:443",
    "namespace": "traefik",
    "selector": "app.kubernetes.io/name=traefik,app.kubernetes.io/instance=traefik",
    "port": "metrics",
    "token": TOKEN,
    "ca": CA,
}
# The cluster's nodes (kubernetes_monitoring's account): each kubelet a target.
KUBELET_JOB = {
    "name": "kubelet",
    "role": "node",
    "api_server": KUBERNETES_JOB["api_server"],
    "token": TOKEN,
    "ca": CA,
}
# The static jobs of a region whose Traefik runs on Kubernetes: the defaults without the ingress group's.
STATIC_JOBS_ON_KUBERNETES = [
    {"name": "node", "groups": ["postgres_cluster", "monitoring"], "port": 9100},
    {"name": "prometheus", "groups": ["monitoring"], "port": 9090},
]


def alert(name: str, **fields: Any) -> dict[str, Any]:
    return {"groups": [{"name": "g", "rules": [{"alert": name, "expr": "up == 0", **fields}]}]}


DEFAULT_JOBS = yaml.safe_load((ROOT / "roles" / "prometheus" / "defaults" / "main.yml").read_text())[
    "prometheus_scrape_jobs"
]


def render_tasks(out: str) -> list[dict[str, Any]]:
    """The validate entry point, then the role's templates rendered into `out` (a per-case directory)."""
    templates = ROOT / "roles" / "prometheus" / "templates"
    return [
        {
            "name": "Validate",
            "ansible.builtin.include_role": {
                "name": "retailops.odoo_platform.prometheus",
                "tasks_from": "validate",
                "public": True,
            },
        },
        {
            "name": "Render",
            "ansible.builtin.copy": {
                "dest": f"{{{{ {out} }}}}/{{{{ item.1 }}}}",
                "content": "{{ lookup('ansible.builtin.template', item.0) }}",
                "mode": "0644",
            },
            "loop": [
                [str(templates / "prometheus.yml.j2"), "prometheus.yml"],
                [str(templates / "prometheus.default.j2"), "default"],
                [str(templates / "retailops-kubernetes-sd.service.j2"), "kubernetes-sd.service"],
            ],
        },
        {
            "name": "Render the discovery service's jobs",
            "ansible.builtin.copy": {
                "dest": f"{{{{ {out} }}}}/kubernetes-sd.json",
                "content": "{{ prometheus__kubernetes_sd_config | to_nice_json }}",
                "mode": "0644",
            },
        },
    ]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prometheus")


@pytest.fixture(scope="module")
def good(tmp: Path) -> dict[str, Any]:
    rules_dir = tmp / "rules.d"
    rules_dir.mkdir()
    return {
        "prometheus_region": "eu-west",
        "prometheus_runbook_base_url": "https://git.example.internal/retailops/runbooks",
        "prometheus_listen_address": "127.0.0.1",
        "prometheus_rule_files_extra": [rule_file(tmp / "src" / "operator-extra.yml", RULES)],
        # promtool check config reads the rule files the configuration names: the installed copies
        "prometheus_rules_dir": str(rules_dir),
    }


@pytest.fixture(scope="module")
def rendered(tmp: Path, good: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """case -> {'config': prometheus.yml as Prometheus reads it, 'file': its path, 'default': the flags}."""
    shutil.copy(good["prometheus_rule_files_extra"][0], good["prometheus_rules_dir"])
    cases: dict[str, dict[str, Any]] = {
        "defaults": {},
        "pilot": {
            "prometheus_scrape_interval": "5s",
            "prometheus_evaluation_interval": "5s",
            "prometheus_target_address_var": "node_address",
            "prometheus_retention_size": "10GB",
        },
        "own jobs": {
            "prometheus_scrape_jobs": [
                {"name": "node", "groups": ["postgres_cluster", "etcd_cluster", "monitoring"], "port": 9100},
                {
                    "name": "patroni",
                    "groups": ["postgres_cluster"],
                    "port": 8008,
                    "scheme": "https",
                    "path": "/patroni-metrics",
                    "interval": "30s",
                    "timeout": "20s",
                },
                {"name": "nothing", "groups": ["empty"], "port": 9999},
            ],
            "prometheus_scrape_configs_extra": [
                {"job_name": "federate", "static_configs": [{"targets": ["10.30.0.1:9090"]}]}
            ],
            "prometheus_external_labels_extra": {"environment": "production"},
            "prometheus_alertmanager_group": "",
        },
        "kubernetes": {
            "prometheus_scrape_jobs": STATIC_JOBS_ON_KUBERNETES,
            "prometheus_kubernetes_jobs": [
                KUBERNETES_JOB,
                {
                    **KUBERNETES_JOB,
                    "name": "other",
                    "selector": "",
                    "interval": "30s",
                    "namespace": "ingress",
                },
                KUBELET_JOB,
            ],
            "prometheus_kubernetes_credentials_dir": str(tmp / "kubernetes-test"),
        },
    }
    # promtool check config reads the kubelet job's token file, as the role writes it before the configuration
    (tmp / "kubernetes-test").mkdir()
    (tmp / "kubernetes-test" / "kubelet.token").write_text(TOKEN)
    out = {name: tmp / "out" / name.replace(" ", "_") for name in cases}
    for path in out.values():
        path.mkdir(parents=True)
    runs = inventory_cases(
        tmp / "render",
        INVENTORY,
        render_tasks("render_out"),
        {name: {**good, **over, "render_out": str(out[name])} for name, over in cases.items()},
    )
    result = {}
    for name, run in runs.items():
        assert run["ok"], f"{name}: {run['msg']}"
        file = out[name] / "prometheus.yml"
        result[name] = {
            "config": yaml.safe_load(file.read_text()),
            "file": file,
            "default": (out[name] / "default").read_text(),
            "sd": json.loads((out[name] / "kubernetes-sd.json").read_text()),
            "unit": (out[name] / "kubernetes-sd.service").read_text(),
            "credentials": str(tmp / "kubernetes-test"),
        }
    return result


def targets(config: dict[str, Any], job: str) -> dict[str, tuple[str, dict[str, str]]]:
    """instance -> (address, labels) of a job's static targets."""
    (scrape,) = [s for s in config["scrape_configs"] if s["job_name"] == job]
    found = {}
    for static in scrape["static_configs"]:
        (address,) = static["targets"]
        found[static["labels"]["instance"]] = (address, static["labels"])
    return found


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus package) is not installed")
@pytest.mark.parametrize("case", ["defaults", "pilot", "own jobs", "kubernetes"])
def test_promtool_accepts_the_rendered_configuration(case: str, rendered: dict[str, dict[str, Any]]) -> None:
    result = subprocess.run(
        [str(PROMTOOL), "check", "config", str(rendered[case]["file"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout + result.stderr  # the rules were read with it


def test_every_job_targets_the_hosts_of_its_groups(rendered: dict[str, dict[str, Any]]) -> None:
    config = rendered["defaults"]["config"]
    assert [s["job_name"] for s in config["scrape_configs"]] == [j["name"] for j in DEFAULT_JOBS]
    groups = INVENTORY["all"]["children"]
    for job in DEFAULT_JOBS:
        hosts = {h for g in job["groups"] for h in groups[g]["hosts"]}
        found = targets(config, job["name"])
        assert set(found) == hosts, job["name"]  # each host once, though app-1 is in four groups of `node`
        for host, (address, labels) in found.items():
            assert address == f"{ADDRESSES[host]}:{job['port']}"
            assert labels == {"instance": host, "region": "eu-west"}
    assert not any("10.101." in str(s) for s in config["scrape_configs"])  # no branch
    assert config["global"]["external_labels"] == {
        "region": "eu-west",
        "runbook_base_url": "https://git.example.internal/retailops/runbooks",
    }
    assert config["global"]["scrape_interval"] == config["global"]["evaluation_interval"] == "15s"
    assert "scrape_timeout" not in config["global"]
    assert config["alerting"]["alertmanagers"] == [{"static_configs": [{"targets": ["10.20.250.20:9093"]}]}]
    assert config["rule_files"] == [f"{Path(rendered['defaults']['file']).parents[2]}/rules.d/*.yml"]


def test_the_pilot_scrapes_every_five_seconds_at_the_address_variable_it_names(
    rendered: dict[str, dict[str, Any]],
) -> None:
    config = rendered["pilot"]["config"]
    assert config["global"]["scrape_interval"] == config["global"]["evaluation_interval"] == "5s"
    assert targets(config, "patroni")["db-1"][0] == "10.20.2.11:8008"
    # A killed leader stops counting as primary 3-8 s after the kill, not 5-10 s (PostgresNoLeader).
    timeouts = {s["job_name"]: s.get("scrape_timeout") for s in config["scrape_configs"]}
    assert timeouts["patroni"] == "3s"
    assert timeouts["postgres"] is None
    flags = rendered["pilot"]["default"]
    assert "--web.listen-address=127.0.0.1:9090" in flags
    assert "--storage.tsdb.retention.time=15d --storage.tsdb.retention.size=10GB" in flags
    assert "--web.enable-lifecycle" not in flags  # reloads are SIGHUP (Debian's ExecReload)
    assert "retention.size" not in rendered["defaults"]["default"]


def test_a_job_takes_its_own_settings_and_a_job_without_hosts_is_left_out(
    rendered: dict[str, dict[str, Any]],
) -> None:
    config = rendered["own jobs"]["config"]
    jobs = {s["job_name"]: s for s in config["scrape_configs"]}
    assert list(jobs) == ["node", "patroni", "federate"]
    assert set(targets(config, "node")) == {"db-1", "db-2", "mon-1"}
    patroni = jobs["patroni"]
    assert (patroni["scheme"], patroni["metrics_path"]) == ("https", "/patroni-metrics")
    assert (patroni["scrape_interval"], patroni["scrape_timeout"]) == ("30s", "20s")
    assert "scrape_interval" not in jobs["node"]
    assert config["global"]["external_labels"]["environment"] == "production"
    assert config["alerting"]["alertmanagers"] == []


def test_a_kubernetes_job_scrapes_what_its_discovery_service_lists(
    rendered: dict[str, dict[str, Any]],
) -> None:
    config = rendered["kubernetes"]["config"]
    creds = rendered["kubernetes"]["credentials"]
    jobs = {s["job_name"]: s for s in config["scrape_configs"]}
    assert list(jobs) == ["node", "prometheus", "traefik", "other", "kubelet"]
    traefik = jobs["traefik"]
    assert (traefik["metrics_path"], traefik["scheme"]) == ("/metrics", "http")
    assert "scrape_interval" not in traefik
    assert jobs["other"]["scrape_interval"] == "30s"
    # Debian's prometheus has no kubernetes_sd_configs: the targets are the discovery service's file
    assert traefik["file_sd_configs"] == [{"files": ["/var/lib/prometheus/kubernetes-sd/traefik.json"]}]
    assert "kubernetes_sd_configs" not in traefik
    # the token is a file's, never in the configuration
    assert TOKEN not in rendered["kubernetes"]["file"].read_text()
    service = rendered["kubernetes"]["sd"]
    assert service["jobs"] == [
        {
            "name": "traefik",
            "api_server": KUBERNETES_JOB["api_server"],
            "namespace": "traefik",
            "selector": KUBERNETES_JOB["selector"],
            "port": "metrics",
            "token_file": f"{creds}/traefik.token",
            "ca_file": f"{creds}/traefik.ca.crt",
            "labels": {"region": "eu-west"},
            "role": "pod",
            "output": "/var/lib/prometheus/kubernetes-sd/traefik.json",
        },
        {
            "name": "other",
            "api_server": KUBERNETES_JOB["api_server"],
            "namespace": "ingress",
            "selector": "",
            "port": "metrics",
            "token_file": f"{creds}/other.token",
            "ca_file": f"{creds}/other.ca.crt",
            "labels": {"region": "eu-west"},
            "role": "pod",
            "output": "/var/lib/prometheus/kubernetes-sd/other.json",
        },
        {
            "name": "kubelet",
            "role": "node",
            "api_server": KUBERNETES_JOB["api_server"],
            "namespace": "",
            "selector": "",
            "port": "",
            "token_file": f"{creds}/kubelet.token",
            "ca_file": f"{creds}/kubelet.ca.crt",
            "labels": {"region": "eu-west"},
            "output": "/var/lib/prometheus/kubernetes-sd/kubelet.json",
        },
    ]
    assert TOKEN not in json.dumps(service)
    # a kubelet answers an authenticated scrape over TLS only; of its thousands of series a few are kept
    kubelet = jobs["kubelet"]
    assert (kubelet["scheme"], kubelet["metrics_path"]) == ("https", "/metrics")
    assert kubelet["authorization"] == {"credentials_file": f"{creds}/kubelet.token"}
    assert kubelet["tls_config"] == {"ca_file": f"{creds}/kubelet.ca.crt"}
    assert kubelet["file_sd_configs"] == [{"files": ["/var/lib/prometheus/kubernetes-sd/kubelet.json"]}]
    [keep] = kubelet["metric_relabel_configs"]
    assert keep["action"] == "keep"
    assert re.fullmatch(keep["regex"], "kubelet_running_pods")
    assert not re.fullmatch(keep["regex"], "kubelet_runtime_operations_duration_seconds_bucket")
    assert "authorization" not in traefik
    assert "tls_config" not in traefik
    unit = rendered["kubernetes"]["unit"]
    assert "User=prometheus" in unit
    assert (
        "ExecStart=/usr/bin/python3 /usr/local/lib/retailops-prometheus/retailops_kubernetes_sd.py "
        f"--config {creds}/kubernetes-sd.json --interval 15" in unit
    )
    # each round's outcome for node_exporter's textfile collector (TextfileCollectorFailing), written in the
    # service's own directory (linked into node_exporter's by the role): it writes nowhere else
    [exec_start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert exec_start.endswith(" --textfile /var/lib/prometheus/kubernetes-sd/retailops_kubernetes_sd.prom")
    assert "\nRestart=always\n" in unit
    assert "ReadWritePaths=/var/lib/prometheus/kubernetes-sd\n" in unit


def test_the_slo_rules_read_the_job_a_kubernetes_ingress_gets() -> None:
    """The rules select Traefik's series by job="traefik" (or not by job at all): the Kubernetes job of the
    example AKS region is named so, and no rule names another job for Traefik's metrics."""
    rules = ROOT / "roles" / "prometheus" / "files" / "rules"
    jobs = set()
    for path in rules.glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                for series in re.findall(r"(traefik_\w+)\{([^}]*)\}", rule["expr"]):
                    jobs |= set(re.findall(r'job=~?"([^"]*)"', series[1]))
    assert jobs == {"traefik"}
    example = yaml.safe_load(
        (ROOT / "inventories" / "example-aks-region" / "group_vars" / "monitoring.yml").read_text()
    )
    # and the kubelets' job is named as KubernetesNodeUnreachable reads it
    assert [(j["name"], j.get("role", "pod")) for j in example["prometheus_kubernetes_jobs"]] == [
        ("traefik", "pod"),
        ("kubelet", "node"),
    ]
    platform = (rules / "platform.yml").read_text()
    assert 'up{job="kubelet"} == 0' in platform


# ---------------------------------------------------------------------------
# Bad input: refused by validate.yml, naming what is wrong.

VALIDATE = [
    {
        "name": "Validate",
        "ansible.builtin.include_role": {
            "name": "retailops.odoo_platform.prometheus",
            "tasks_from": "validate",
        },
    }
]


def kubernetes(**fields: Any) -> dict[str, Any]:
    """The traefik Kubernetes job with `fields` changed (beside the jobs a Kubernetes region keeps)."""
    return {
        "prometheus_scrape_jobs": STATIC_JOBS_ON_KUBERNETES,
        "prometheus_kubernetes_jobs": [{**KUBERNETES_JOB, **fields}],
    }


def bad_cases(tmp: Path) -> dict[str, tuple[dict[str, Any], str]]:
    src = tmp / "bad-rules"
    job = {"name": "blackbox", "groups": ["probes"], "port": 9115}
    return {
        "a job naming a group the inventory lacks": (
            {"prometheus_scrape_jobs": [*DEFAULT_JOBS, job]},
            "prometheus_scrape_jobs[blackbox]: no group probes in the inventory",
        ),
        "a job scraping the branches": (
            {"prometheus_scrape_jobs": [{"name": "node", "groups": ["hubs", "branches"], "port": 9100}]},
            "prometheus_scrape_jobs[node] would scrape S-001",
        ),
        "a job named twice": (
            {"prometheus_scrape_jobs": [*DEFAULT_JOBS, {"name": "node", "groups": ["hubs"], "port": 9100}]},
            "prometheus_scrape_jobs[node]",
        ),
        "a job without a port": (
            {"prometheus_scrape_jobs": [{"name": "node", "groups": ["hubs"]}]},
            "prometheus_scrape_jobs[node]",
        ),
        "a job with an unknown key": (
            {
                "prometheus_scrape_jobs": [
                    {"name": "node", "groups": ["hubs"], "port": 9100, "targets": ["x"]}
                ]
            },
            "prometheus_scrape_jobs[node]",
        ),
        "an interval Prometheus cannot read": (
            {"prometheus_scrape_interval": "15"},
            "prometheus_scrape_interval",
        ),
        "a job's timeout Prometheus cannot read": (
            {
                "prometheus_scrape_jobs": [
                    {"name": "node", "groups": ["hubs"], "port": 9100, "timeout": "5 s"}
                ]
            },
            "prometheus_scrape_jobs[node].timeout",
        ),
        "a target without an address": (
            {"prometheus_target_address_var": "wireguard_address"},
            "No wireguard_address (prometheus_target_address_var)",
        ),
        "an Alertmanager group the inventory lacks": (
            {"prometheus_alertmanager_group": "alerting"},
            "prometheus_alertmanager_group",
        ),
        "no region": ({"prometheus_region": ""}, "prometheus_region"),
        "a runbook URL with a trailing slash": (
            {"prometheus_runbook_base_url": "https://git.example.internal/runbooks/"},
            "prometheus_runbook_base_url",
        ),
        "listening on every address": ({"prometheus_listen_address": "0.0.0.0"}, "prometheus_listen_address"),
        "a rule file that is missing": (
            {"prometheus_rule_files_extra": [str(src / "missing.yml")]},
            "prometheus_rule_files_extra: no such file",
        ),
        "two rule files with one name": (
            {
                "prometheus_rule_files_extra": [
                    rule_file(src / "a" / "x.yml", RULES),
                    rule_file(src / "x.yml", RULES),
                ]
            },
            "Two rule files share a name",
        ),
        "a rule file that is not a rule file": (
            {"prometheus_rule_files_extra": [rule_file(src / "list.yml", [{"alert": "X"}])]},
            "not a Prometheus rule file",
        ),
        "an alert without a severity": (
            {"prometheus_rule_files_extra": [rule_file(src / "none.yml", alert("NoSeverity"))]},
            "NoSeverity: severity (none) is not one of prometheus_alert_severities",
        ),
        "an alert with a severity outside the list": (
            {
                "prometheus_rule_files_extra": [
                    rule_file(src / "info.yml", alert("Info", labels={"severity": "info"}))
                ]
            },
            "Info: severity info is not one of prometheus_alert_severities (critical, warning)",
        ),
        "a rule without an expression": (
            {
                "prometheus_rule_files_extra": [
                    rule_file(src / "noexpr.yml", {"groups": [{"name": "g", "rules": [{"record": "a:b"}]}]})
                ]
            },
            "g/a:b: needs expr and one of alert or record",
        ),
        "a Kubernetes job's API server over plain HTTP": (
            kubernetes(api_server="http://10.20.250.4:6443"),
            "prometheus_kubernetes_jobs[traefik].api_server must be the API server's https:// URL",
        ),
        "a Kubernetes job's namespace Kubernetes refuses": (
            kubernetes(namespace="Traefik"),
            "prometheus_kubernetes_jobs[traefik].namespace ('Traefik')",
        ),
        "a Kubernetes job's port given as a number": (
            kubernetes(port=9100),
            "prometheus_kubernetes_jobs[traefik].port ('9100') must be the name of the pods' container port",
        ),
        "a Kubernetes job without a token": (
            kubernetes(token=""),
            "prometheus_kubernetes_jobs[traefik].token must be the discovery account's token",
        ),
        "a Kubernetes job's token with a line break": (
            kubernetes(token=TOKEN + "\nsecond line"),
            "prometheus_kubernetes_jobs[traefik].token",
        ),
        "a Kubernetes job whose CA is not a certificate": (
            kubernetes(ca="ca.crt"),
            "prometheus_kubernetes_jobs[traefik].ca must be the PEM certificate",
        ),
        "a Kubernetes job named like a static job": (
            kubernetes(name="node"),
            "prometheus_scrape_jobs[node]: a job needs a unique name (letters, digits, '_'; "
            "not also in prometheus_kubernetes_jobs",
        ),
        "a Kubernetes job named twice": (
            {**kubernetes(), "prometheus_kubernetes_jobs": [KUBERNETES_JOB, KUBERNETES_JOB]},
            "prometheus_kubernetes_jobs[traefik].name is taken",
        ),
        "a Kubernetes job's interval Prometheus cannot read": (
            kubernetes(interval="30"),
            "prometheus_kubernetes_jobs[traefik].interval",
        ),
        "a Kubernetes job of a role the discovery does not know": (
            kubernetes(role="service"),
            "value of role must be one of: pod, node, got: service found in prometheus_kubernetes_jobs",
        ),
        "a node job scraped over plain HTTP": (
            {
                **kubernetes(),
                "prometheus_kubernetes_jobs": [
                    {**KUBELET_JOB, "scheme": "http"},
                ],
            },
            "prometheus_kubernetes_jobs[kubelet].scheme must be https for role node",
        ),
        "a Kubernetes job with an unknown field": (
            kubernetes(insecure_skip_verify=True),
            "prometheus_kubernetes_jobs",
        ),
        "a rule file whose PromQL does not parse": (
            {
                "prometheus_rule_files_extra": [
                    rule_file(
                        src / "promql.yml",
                        alert("BadQuery", expr="rate(up[5m]", labels={"severity": "warning"}),
                    )
                ]
            },
            "promtool check rules refused a rule file",
        ),
    }


@pytest.fixture(scope="module")
def refused(tmp: Path, good: dict[str, Any]) -> dict[str, Any]:
    cases = bad_cases(tmp / "validate")
    broken = rule_file(tmp / "validate" / "broken" / "broken.yml", "groups:\n  - name: g\n    rules: [\n")
    runs = inventory_cases(
        tmp / "validate",
        INVENTORY,
        VALIDATE,
        {
            "good": good,
            "not yaml": {**good, "prometheus_rule_files_extra": [broken]},
            **{name: {**good, **over} for name, (over, _expect) in cases.items()},
        },
    )
    return {
        "runs": runs,
        "expect": {name: expect for name, (_over, expect) in cases.items()},
        "broken": broken,
    }


def test_the_good_input_passes(refused: dict[str, Any]) -> None:
    run = refused["runs"]["good"]
    assert run["ok"], run["msg"]
    if PROMTOOL:
        assert (
            "retailops.odoo_platform.prometheus : Run promtool check rules" in run["ran"]
        )  # the rules were checked with promtool here


BAD_NAMES = sorted(bad_cases(Path("/nonexistent")))


@pytest.mark.parametrize("case", BAD_NAMES)
def test_bad_input_is_refused_naming_what_is_wrong(case: str, refused: dict[str, Any]) -> None:
    if case == "a rule file whose PromQL does not parse" and PROMTOOL is None:
        pytest.skip("promtool is not installed here")
    run = refused["runs"][case]
    assert not run["ok"]
    assert refused["expect"][case] in run["msg"], run["msg"]


def test_a_refused_kubernetes_job_never_shows_its_token(refused: dict[str, Any]) -> None:
    for name, run in refused["runs"].items():
        assert TOKEN not in run["msg"], name
        assert TOKEN not in str(run["item"]), name


def test_a_rule_file_that_is_not_yaml_is_refused_naming_it(refused: dict[str, Any]) -> None:
    run = refused["runs"]["not yaml"]
    assert not run["ok"]
    assert run["item"] == refused["broken"], run
