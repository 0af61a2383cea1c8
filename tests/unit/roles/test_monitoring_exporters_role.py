"""monitoring_exporters: which host gets what, the rendered settings, and bad input refused before any change.

The play runs on this machine (connection local) over an inventory that
puts hosts in the platform groups, with the example register's hubs from
the branches inventory plugin (hub-ams's hub_peers). The role's validate
entry point runs first (argument specs and validate.yml), then its
templates are rendered into a temporary directory: nothing is installed.
Bad input is tried on hosts of their own (inventory_cases), one per case.
The Molecule scenario checks the installed exporters.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE_REGISTER, ROOT, inventory_cases, playbook_env, systemd_exec_start

ROLE = ROOT / "roles" / "monitoring_exporters"
DATA = Path(__file__).parent / "data" / "monitoring_exporters"
# A password with every character pgpass escapes.
DB_PASSWORD = "s3cret:with\\back:slash"
REDIS_AUTH = "sentinel-auth-0123456789"
REDIS_MONITORING = "monitoring-pass-0123456789"
SENTINEL_PASSWORD = "sentinel-pass-0123456789"
HOSTS = ["db-1", "app-1", "redis-1", "sentinel-1", "hub-ams", "plain-1"]

INVENTORY: dict[str, Any] = {
    "all": {
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "monitoring_exporters_listen_address": "127.0.0.1",
        },
        "children": {
            "postgres_cluster": {
                "hosts": {
                    "db-1": {
                        "monitoring_exporters_postgres_password": DB_PASSWORD,
                        "postgresql_patroni_users": [
                            {"name": "odoo", "password": "odoo-password-123"},
                            {"name": "monitoring", "password": DB_PASSWORD, "groups": ["pg_monitor"]},
                        ],
                    }
                }
            },
            "app_nodes": {
                "hosts": {
                    "app-1": {
                        "monitoring_exporters_pgbouncer_password": DB_PASSWORD,
                        "pgbouncer_listen_address": "10.213.20.11",
                        "pgbouncer_users": [
                            {"name": "odoo", "password": "odoo-password-123"},
                            {"name": "monitoring", "password": DB_PASSWORD},
                        ],
                        "pgbouncer_settings_extra": {"stats_users": "monitoring"},
                    }
                }
            },
            "redis_servers": {"hosts": {"redis-1": {}}},
            "redis_sentinels": {"hosts": {"redis-1": {}, "sentinel-1": {}}},
            "redis_cluster": {
                "children": {"redis_servers": {}, "redis_sentinels": {}},
                "vars": {
                    "redis_sentinel_auth_password": REDIS_AUTH,
                    "redis_monitoring_password": REDIS_MONITORING,
                    "redis_sentinel_password": SENTINEL_PASSWORD,
                },
            },
            "etcd_cluster": {
                "hosts": {"plain-1": {"monitoring_exporters_certificates": ["/etc/ssl/erp.pem"]}}
            },
        },
    }
}

TEMPLATES = {
    "prometheus-node-exporter": ("prometheus-node-exporter.default.j2", {}),
    "prometheus-postgres-exporter": ("prometheus-postgres-exporter.default.j2", {}),
    "postgres.pgpass": (
        "pgpass.j2",
        {
            "item": {
                "user": "{{ monitoring_exporters_postgres_user }}",
                "password": "{{ monitoring_exporters_postgres_password }}",
            }
        },
    ),
    "retailops-pgbouncer-exporter.service": ("retailops-pgbouncer-exporter.service.j2", {}),
    "prometheus-redis-exporter": (
        "prometheus-redis-exporter.default.j2",
        {"item": "{{ monitoring_exporters__redis_instances.redis }}"},
    ),
    "prometheus-redis-exporter-sentinel": (
        "prometheus-redis-exporter.default.j2",
        {"item": "{{ monitoring_exporters__redis_instances.sentinel }}"},
    ),
    "wireguard.json": ("wireguard.json.j2", {}),
    "certificates.json": ("certificates.json.j2", {}),
}
# Rendered only where the role would (the host runs that exporter or collector).
WHERE = {
    "prometheus-postgres-exporter": "monitoring_exporters__postgres",
    "postgres.pgpass": "monitoring_exporters__postgres",
    "retailops-pgbouncer-exporter.service": "monitoring_exporters__pgbouncer",
    "prometheus-redis-exporter": "monitoring_exporters__redis or monitoring_exporters__sentinel",
    "prometheus-redis-exporter-sentinel": "monitoring_exporters__sentinel",
    "wireguard.json": "monitoring_exporters__hub",
    "certificates.json": "monitoring_exporters_certificates | length > 0",
}


def write_inventory(tmp: Path) -> list[str]:
    branches = tmp / "branches.yml"
    branches.write_text(
        yaml.safe_dump({"plugin": "retailops.odoo_platform.branches", "register": [str(EXAMPLE_REGISTER)]})
    )
    hosts = tmp / "hosts.yml"
    hosts.write_text(yaml.safe_dump(INVENTORY))
    return ["-i", str(branches), "-i", str(hosts)]


def run_playbook(tmp: Path, tasks: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """The tasks on every host of the inventory (the register's hubs with them), in one ansible-playbook."""
    playbook = tmp / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [{"name": "Exporters", "hosts": ",".join(HOSTS), "gather_facts": False, "tasks": tasks}]
        )
    )
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), *write_inventory(tmp), str(playbook)],
        env=playbook_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )


VALIDATE = {
    "name": "Validate",
    "ansible.builtin.include_role": {
        "name": "retailops.odoo_platform.monitoring_exporters",
        "tasks_from": "validate",
        "public": True,
    },
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("render")
    out = tmp / "out"
    tasks: list[dict[str, Any]] = [
        VALIDATE,
        {
            "name": "Host directory",
            "ansible.builtin.file": {
                "path": f"{out}/{{{{ inventory_hostname }}}}",
                "state": "directory",
                "mode": "0755",
            },
        },
        {
            "name": "What this host gets",
            "ansible.builtin.copy": {
                "content": "{{ {'groups': monitoring_exporters__in_group,"
                " 'ports': monitoring_exporters__ports,"
                " 'collectors': monitoring_exporters__collectors | selectattr('enabled')"
                " | map(attribute='name') | list} | to_json }}",
                "dest": f"{out}/{{{{ inventory_hostname }}}}/gets.json",
                "mode": "0644",
            },
        },
    ]
    for name, (src, task_vars) in TEMPLATES.items():
        task: dict[str, Any] = {
            "name": f"Render {name}",
            "ansible.builtin.template": {
                "src": str(ROLE / "templates" / src),
                "dest": f"{out}/{{{{ inventory_hostname }}}}/{name}",
                "mode": "0644",
            },
            "vars": task_vars,
        }
        if name in WHERE:
            task["when"] = WHERE[name]
        tasks.append(task)
    tasks.append(
        {
            "name": "Render the collectors' units",
            "ansible.builtin.template": {
                "src": str(ROLE / "templates") + "/textfile-collector.{{ item.1 }}.j2",
                "dest": f"{out}/{{{{ inventory_hostname }}}}/"
                "retailops-textfile-{{ item.0.name }}.{{ item.1 }}",
                "mode": "0644",
            },
            "vars": {"collector": "{{ item.0 }}"},
            "loop": "{{ monitoring_exporters__collectors | selectattr('enabled')"
            " | product(['service', 'timer']) | list }}",
        }
    )
    run = run_playbook(tmp, tasks)
    assert run.returncode == 0, run.stdout[-4000:]
    return out


def read(rendered: Path, host: str, name: str) -> str:
    return (rendered / host / name).read_text()


def test_each_host_gets_the_exporters_of_its_groups(rendered: Path) -> None:
    gets = {host: json.loads(read(rendered, host, "gets.json")) for host in HOSTS}
    assert gets["db-1"] == {"groups": ["postgres"], "ports": [9100, 9187], "collectors": ["pgbackrest"]}
    assert gets["app-1"] == {"groups": ["pgbouncer"], "ports": [9100, 9127], "collectors": []}
    assert gets["redis-1"] == {"groups": ["redis", "sentinel"], "ports": [9100, 9121, 9355], "collectors": []}
    assert gets["sentinel-1"] == {"groups": ["sentinel"], "ports": [9100, 9355], "collectors": []}
    assert gets["hub-ams"] == {"groups": ["hub"], "ports": [9100], "collectors": ["wireguard"]}
    assert gets["plain-1"] == {"groups": [], "ports": [9100], "collectors": ["certificates"]}
    assert {p.name for p in (rendered / "plain-1").iterdir()} == {
        "gets.json",
        "prometheus-node-exporter",
        "certificates.json",
        "retailops-textfile-certificates.service",
        "retailops-textfile-certificates.timer",
    }


def test_every_exporter_listens_on_the_management_address_only(rendered: Path) -> None:
    assert (
        'ARGS="--web.listen-address=127.0.0.1:9100'
        ' --collector.textfile.directory=/var/lib/prometheus/node-exporter"'
        in read(rendered, "db-1", "prometheus-node-exporter").splitlines()
    )
    assert 'ARGS="--web.listen-address=127.0.0.1:9187"' in read(
        rendered, "db-1", "prometheus-postgres-exporter"
    )
    assert "--listen 127.0.0.1:9127 " in pgbouncer_exporter_command(rendered)
    assert "REDIS_EXPORTER_WEB_LISTEN_ADDRESS=127.0.0.1:9121" in read(
        rendered, "redis-1", "prometheus-redis-exporter"
    )
    assert "REDIS_EXPORTER_WEB_LISTEN_ADDRESS=127.0.0.1:9355" in read(
        rendered, "redis-1", "prometheus-redis-exporter-sentinel"
    )


def test_postgres_exporter_uses_the_socket_and_a_password_file(rendered: Path) -> None:
    lines = read(rendered, "db-1", "prometheus-postgres-exporter").splitlines()
    assert (
        "DATA_SOURCE_NAME='host=/var/run/postgresql port=5432 dbname=postgres"
        " user=monitoring sslmode=disable'" in lines
    )
    assert "PGPASSFILE=/etc/retailops-monitoring/postgres-exporter.pgpass" in lines
    assert DB_PASSWORD not in "\n".join(lines)
    # libpq's escapes: backslash and colon.
    assert read(rendered, "db-1", "postgres.pgpass") == "*:*:*:monitoring:s3cret\\:with\\\\back\\:slash\n"


def pgbouncer_exporter_command(rendered: Path) -> str:
    unit = read(rendered, "app-1", "retailops-pgbouncer-exporter.service").splitlines()
    (command,) = [line for line in unit if line.startswith("ExecStart=")]
    return command


def test_pgbouncer_exporter_reads_the_console_at_pgbouncers_address(rendered: Path) -> None:
    unit = read(rendered, "app-1", "retailops-pgbouncer-exporter.service")
    assert pgbouncer_exporter_command(rendered).endswith(
        " --pgbouncer-host 10.213.20.11 --pgbouncer-port 6432 --user monitoring"
    )
    assert "Environment=PGPASSFILE=/etc/retailops-monitoring/pgbouncer-exporter.pgpass" in unit.splitlines()
    assert "User=prometheus" in unit.splitlines()
    assert "password" not in "\n".join(line for line in unit.splitlines() if not line.startswith("#")).lower()


def test_redis_exporters_use_the_redis_roles_credentials(rendered: Path) -> None:
    """Redis: the redis role's read-only monitoring user, never the Sentinel user (failover powers)."""
    redis = read(rendered, "redis-1", "prometheus-redis-exporter").splitlines()
    assert "REDIS_ADDR=redis://127.0.0.1:6379" in redis
    assert "REDIS_USER=monitoring" in redis
    assert f"REDIS_PASSWORD={REDIS_MONITORING}" in redis
    assert REDIS_AUTH not in "\n".join(redis)
    sentinel = read(rendered, "sentinel-1", "prometheus-redis-exporter-sentinel").splitlines()
    assert "REDIS_ADDR=redis://127.0.0.1:26379" in sentinel
    assert not any(line.startswith("REDIS_USER=") for line in sentinel)
    assert f"REDIS_PASSWORD={SENTINEL_PASSWORD}" in sentinel


def test_the_hub_config_is_the_registers_hub_peers(rendered: Path) -> None:
    """The collectors test runs on wireguard-hub-ams.json: it is what the role renders for hub-ams."""
    assert json.loads(read(rendered, "hub-ams", "wireguard.json")) == json.loads(
        (DATA / "wireguard-hub-ams.json").read_text()
    )


@pytest.mark.parametrize(
    ("host", "collector", "args", "interval"),
    [
        ("hub-ams", "wireguard", ["--config", "/etc/retailops-monitoring/wireguard.json"], 10),
        (
            "db-1",
            "pgbackrest",
            [
                "--stanza=postgres-ha",
                "--pg-socket-dir=/var/run/postgresql",
                "--pg-port=5432",
                "--run-as=postgres",
            ],
            300,
        ),
        ("plain-1", "certificates", ["--config", "/etc/retailops-monitoring/certificates.json"], 3600),
    ],
)
def test_collector_units(rendered: Path, host: str, collector: str, args: list[str], interval: int) -> None:
    service = read(rendered, host, f"retailops-textfile-{collector}.service")
    assert systemd_exec_start(service) == [
        "/usr/bin/python3",
        f"/usr/local/lib/retailops-monitoring/retailops_{collector}.py",
        *args,
        "--output",
        f"/var/lib/prometheus/node-exporter/retailops_{collector}.prom",
    ]
    timer = read(rendered, host, f"retailops-textfile-{collector}.timer")
    assert f"OnUnitActiveSec={interval}s" in timer.splitlines()


def test_the_certificates_config_lists_the_paths(rendered: Path) -> None:
    assert json.loads(read(rendered, "plain-1", "certificates.json")) == {"paths": ["/etc/ssl/erp.pem"]}


def test_segmentation_protects_every_exporter_port() -> None:
    """nftables_segmentation's default protected ports hold the exporters' ports: no branch reaches them."""
    exporters = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    protected = yaml.safe_load(
        (ROOT / "roles" / "nftables_segmentation" / "defaults" / "main.yml").read_text()
    )["nftables_segmentation_protected_tcp_ports"]
    ports = {
        value
        for name, value in exporters.items()
        if name.endswith("_port") and not name.endswith("_server_port")
    }
    assert ports == {9100, 9187, 9127, 9121, 9355}
    assert ports <= set(protected)
    # The rest of the contract: Traefik metrics, Prometheus, Alertmanager, VictoriaLogs HTTP and syslog.
    assert {8082, 9090, 9093, 9428, 6514} <= set(protected)


# Bad input, each case a host of its own (inventory_cases: a host in the group "cases") of one kind: the
# kind's group variable names "cases", and the host has the good inventory's variables of that kind.
# Refused (argument specs or validate.yml), naming the variable.
GROUPS = INVENTORY["all"]["children"]
KINDS: dict[str, dict[str, Any]] = {
    "plain": {},
    "postgres": {
        "monitoring_exporters_postgres_group": "cases",
        **GROUPS["postgres_cluster"]["hosts"]["db-1"],
    },
    "pgbouncer": {"monitoring_exporters_pgbouncer_group": "cases", **GROUPS["app_nodes"]["hosts"]["app-1"]},
    "redis": {
        "monitoring_exporters_redis_group": "cases",
        "monitoring_exporters_sentinel_group": "cases",
        **GROUPS["redis_cluster"]["vars"],
    },
    "hub": {
        "monitoring_exporters_hub_group": "cases",
        "hub_peers": [
            {
                "code": "AMS-001",
                "tunnel_address": "10.99.0.240",
                "tier": "critical",
                "link": "dual",
                "kind": "store",
            }
        ],
    },
}
BAD: dict[str, tuple[str, dict[str, Any], str]] = {
    "port out of range": (
        "plain",
        {"monitoring_exporters_node_port": 70000},
        "monitoring_exporters_node_port",
    ),
    "port not a number": (
        "plain",
        {"monitoring_exporters_redis_port": "redis"},
        "monitoring_exporters_redis_port",
    ),
    "two exporters on one port": (
        "redis",
        {"monitoring_exporters_sentinel_port": 9121},
        "monitoring_exporters_sentinel_port",
    ),
    "listen address not an address": (
        "plain",
        {"monitoring_exporters_listen_address": "mgmt0"},
        "monitoring_exporters_listen_address",
    ),
    "listen on every address": (
        "plain",
        {"monitoring_exporters_listen_address": "0.0.0.0"},
        "monitoring_exporters_listen_address",
    ),
    "unknown group": (
        "plain",
        {"monitoring_exporters_redis_group": "redis_cluster_typo"},
        "monitoring_exporters_redis_group",
    ),
    "certificate path not absolute": (
        "plain",
        {"monitoring_exporters_certificates": ["etc/ssl/erp.pem"]},
        "monitoring_exporters_certificates",
    ),
    "interval too short": (
        "plain",
        {"monitoring_exporters_wireguard_interval": 1},
        "monitoring_exporters_wireguard_interval",
    ),
    "interval too long": (
        "plain",
        {"monitoring_exporters_pgbackrest_interval": 7200},
        "monitoring_exporters_pgbackrest_interval",
    ),
    "postgres password too short": (
        "postgres",
        {"monitoring_exporters_postgres_password": "short"},
        "monitoring_exporters_postgres_password",
    ),
    "monitoring login not in postgresql_patroni_users": (
        "postgres",
        {"postgresql_patroni_users": [{"name": "odoo", "password": "odoo-password-123"}]},
        "postgresql_patroni_users",
    ),
    "monitoring login without pg_monitor": (
        "postgres",
        {"postgresql_patroni_users": [{"name": "monitoring", "password": DB_PASSWORD}]},
        "pg_monitor",
    ),
    "pgbouncer without stats_users": ("pgbouncer", {"pgbouncer_settings_extra": {}}, "stats_users"),
    "redis password from the redis role missing": (
        "redis",
        {"redis_monitoring_password": ""},
        "monitoring_exporters_redis_password",
    ),
    "hub peer without a tunnel address": (
        "hub",
        {"hub_peers": [{"code": "AMS-001", "tier": "critical", "link": "dual", "kind": "store"}]},
        "monitoring_exporters_wireguard_peers",
    ),
}


@pytest.fixture(scope="module")
def validate_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every kind's good host and every bad case, in one ansible-playbook run (hubs: an empty group here)."""
    inventory = copy.deepcopy(INVENTORY)
    inventory["all"]["children"]["hubs"] = {"hosts": {}}
    cases = {
        **{f"good {kind}": good for kind, good in KINDS.items()},
        **{case: {**KINDS[kind], **over} for case, (kind, over, _expect) in BAD.items()},
    }
    runs: dict[str, dict[str, Any]] = inventory_cases(
        tmp_path_factory.mktemp("validate"), inventory, [VALIDATE], cases
    )
    return runs


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_good_input_passes(kind: str, validate_runs: dict[str, dict[str, Any]]) -> None:
    run = validate_runs[f"good {kind}"]
    assert run["ok"], run["msg"]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_naming_the_variable(
    case: str, validate_runs: dict[str, dict[str, Any]]
) -> None:
    run = validate_runs[case]
    assert not run["ok"]
    assert BAD[case][2] in run["msg"], run["msg"]
