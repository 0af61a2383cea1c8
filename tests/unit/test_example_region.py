"""inventories/example-region/ is a usable region inventory, in both tenancy profiles.

What this proves, without contacting any host:

- the inventory parses with the vault password of tests/fixtures (and not
  without it: the secrets really are encrypted), the branch register comes
  in through the inventory plugin, and every group of playbooks/site.yml has
  the hosts of the documented topology;
- site.yml's own validation play (its first play, taken from the file as it
  is) passes on every host, with the controller standing in for each host
  (``ansible_connection=local``, ``--check``): every role's argument specs
  and ``tasks/validate.yml`` accept the inventory's values, and each role's
  checks really ran on the hosts of its groups (none skipped);
- every variable the inventory sets renders on every host (vault references,
  hostvars lookups, the tenancy profile's derived lists), and the roles'
  values fit together: Odoo reaches its node's PgBouncer, sessions reach
  Sentinel with the Redis app password, one database password everywhere,
  the connection budget fits PgBouncer and max_connections, certificates
  cover the ERP host names, allow lists admit the app nodes;
- secrets appear only in the vault file, as ``vault_*`` variables, each
  used; each tenancy profile owns its variables (no other group sets them,
  and no variable is set by two groups of one host, so no precedence rule
  decides anything);
- every playbook the README tells operators to run passes
  ``--syntax-check`` against the inventory, and onboarding's register check
  decrypts the inventory with the vault-id from the environment, as the
  README says.

What it does not prove: that the roles' other tasks work on these hosts
(packages, templates, services: that is the Molecule scenarios' and the
pilot's job), that the Azure resources exist (VNet, load balancer, route
tables, storage account, private endpoints, DNS), that the example secrets
and certificates are usable (they are placeholders), or that the Odoo image
has session_redis. Facts are the controller's; the inventory sets every
address explicitly, so no role default falls back to them.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import COLLECTIONS_PATH, LOCAL, PRELOAD_PLUGINS, ROOT, SyntaxChecks
from cryptography import x509

from rig.inventory import group_hosts

INVENTORY = Path(ROOT) / "inventories" / "example-region"
REGISTER = ROOT / "inventories" / "branch_register" / "eu-west.yml"
VAULT_FILE = INVENTORY / "group_vars" / "all" / "vault.yml"
VAULT_PASS = ROOT / "tests" / "fixtures" / "example-region.vault-pass"
VAULT_ID = f"example_region@{VAULT_PASS}"
SITE = ROOT / "playbooks" / "site.yml"
MONITORING = ROOT / "playbooks" / "monitoring.yml"
BIN = Path(sys.executable).parent

PROFILES = ("tenancy_dedicated_region", "tenancy_shared_platform")
COMMITTED_PROFILE = "tenancy_dedicated_region"

DB = {"erp-db-1", "erp-db-2", "erp-db-3"}
REDIS = {"erp-redis-1", "erp-redis-2", "erp-redis-3"}
APP = {"erp-app-1", "erp-app-2"}
HUBS = {"hub-ams", "hub-fra"}
MON = {"erp-mon-1"}
LIVE_BRANCHES = {"AMS-001", "AMS-WH1", "RTM-002", "BRU-001", "CGN-DS1"}
EXPECTED_GROUPS = {
    "etcd_cluster": DB,
    "postgres_cluster": DB,
    "pgbackrest_repository": DB,
    "pg_restore_scratch": set(),
    "redis_servers": REDIS,
    "redis_sentinels": REDIS,
    "app_nodes": APP,
    "docker_hosts": APP,
    "odoo_nodes": APP,
    "ingress": APP,
    "filestore_backup": {"erp-app-1"},
    "segmented_platform": APP | DB | REDIS | MON,
    "monitoring": MON,
    "hubs": HUBS,
    "branches": LIVE_BRANCHES,
    "platform": APP | DB | REDIS | HUBS | MON,
}
# Variables whose values are secrets: in plain files they may only reference the vault.
SECRET_NAME = re.compile(r"(password|passwd|(^|_)pass|secret|(^|_)key)$")
VAULT_REF = re.compile(r"^\{\{ vault_\w+ \}\}$")
# The playbooks inventories/example-region/README.md tells operators to run.
README_PLAYBOOKS = sorted(set(re.findall(r"playbooks/(\w+\.yml)", (INVENTORY / "README.md").read_text())))
# Referred to by name only while the lead writes it.
PENDING_PLAYBOOKS = {"validate_pilot.yml"}


def ansible(
    tool: str, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run an Ansible CLI of this venv with the collection of this checkout.

    Vault settings of the caller's environment are dropped: the tests give
    the vault-id themselves, or prove that nothing decrypts without it.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    full_env = {
        **inherited,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        **PRELOAD_PLUGINS,
        **(env or {}),
    }
    return subprocess.run(
        [str(BIN / tool), *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def tail(result: subprocess.CompletedProcess[str]) -> str:
    return f"rc={result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def plain_var_files() -> dict[str, dict[str, Any]]:
    """Every plain variable source of the inventory: group_vars files and hosts.yml's group vars."""
    sources: dict[str, dict[str, Any]] = {}
    for path in sorted((INVENTORY / "group_vars").rglob("*.yml")):
        if path == VAULT_FILE:
            continue
        group = path.parent.name if path.parent.name != "group_vars" else path.stem
        sources[f"{group}:{path.relative_to(INVENTORY)}"] = load_yaml(path) or {}

    def walk(groups: dict[str, Any]) -> None:
        for name, entry in (groups or {}).items():
            group = entry or {}
            if group.get("vars"):
                sources[f"{name}:hosts.yml"] = group["vars"]
            walk(group.get("children") or {})

    walk({"all": load_yaml(INVENTORY / "hosts.yml")["all"]})
    return sources


def vault_vars() -> dict[str, Any]:
    result = ansible("ansible-vault", "view", "--vault-id", VAULT_ID, str(VAULT_FILE))
    assert result.returncode == 0, tail(result)
    data = yaml.safe_load(result.stdout)
    assert isinstance(data, dict)
    return data


def groups_of(inventory: dict[str, Any]) -> dict[str, set[str]]:
    """Group name -> every host in it, through its children."""
    names = {k for k in inventory if k != "_meta"}
    for group in list(inventory.values()):
        if isinstance(group, dict):
            names |= set(group.get("children", []))
    return {name: set(group_hosts(inventory, name)) for name in names}


@dataclass
class Region:
    profile: str
    path: Path
    inventory: dict[str, Any]
    groups: dict[str, set[str]]
    rendered: dict[str, dict[str, Any]]

    def hosts(self, group: str) -> set[str]:
        return self.groups.get(group, set())

    def var(self, host: str, name: str) -> Any:
        return self.rendered[host][name]


def inventory_for(profile: str, tmp: Path) -> Path:
    """The committed inventory, or a copy switched to the other profile as the README says."""
    if profile == COMMITTED_PROFILE:
        return INVENTORY
    copy = tmp / "inventories" / "example-region"
    shutil.copytree(INVENTORY, copy)
    (tmp / "inventories" / "branch_register").symlink_to(REGISTER.parent)
    hosts = load_yaml(copy / "hosts.yml")
    children = hosts["all"]["children"]
    assert "platform" in (children[COMMITTED_PROFILE]["children"] or {}), (
        "platform is not under the committed profile"
    )
    children[COMMITTED_PROFILE]["children"] = {}
    children[profile]["children"] = {"platform": None}
    (copy / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return copy


def render_play(names: dict[str, list[str]]) -> dict[str, Any]:
    """A play that shows every host's inventory variables (`names`: host -> variable names), templated."""
    return {
        "name": "Render every inventory variable",
        "hosts": "all",
        "gather_facts": False,
        "vars": {"render_names": names},
        "tasks": [
            {
                "name": "Values",
                "ansible.builtin.debug": {
                    "msg": "{{ dict(render_names[inventory_hostname]"
                    " | zip(query('ansible.builtin.vars', *render_names[inventory_hostname]))) }}"
                },
            }
        ],
    }


@pytest.fixture(scope="module", params=PROFILES)
def region_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One profile's inventory, listed, and one ansible-playbook run on it, in check mode on this machine:
    every host's variables rendered, then site.yml's validation play and monitoring.yml's validation play
    (each taken from its file as it is). Its json report, whatever the run's outcome: the tests read it."""
    profile: str = request.param
    tmp = tmp_path_factory.mktemp(profile)
    path = inventory_for(profile, tmp)
    listed = ansible("ansible-inventory", "-i", f"{path}/", "--list", "--vault-id", VAULT_ID)
    assert listed.returncode == 0, tail(listed)
    inventory = json.loads(listed.stdout)
    names = {host: sorted(hostvars) for host, hostvars in inventory["_meta"]["hostvars"].items()}
    monitoring = next(p for p in load_yaml(MONITORING) if p["name"] == "Validate the monitoring input")
    plays = [render_play(names), validation_play()[0], monitoring]
    (tmp / "plays.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    result = ansible(
        "ansible-playbook",
        *("-i", f"{path}/", "--vault-id", VAULT_ID, "-f", "20", "--check", *LOCAL),
        str(tmp / "plays.yml"),
        # smart: a host's facts are gathered once in the run; both validation plays gather the same subset
        # (network) of this machine's, which the second play would gather again as a run of its own.
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_GATHERING": "smart"},
    )
    assert result.stdout.startswith("{"), tail(result)
    return {"profile": profile, "path": path, "inventory": inventory, "report": json.loads(result.stdout)}


@pytest.fixture(scope="module")
def region(region_run: dict[str, Any]) -> Region:
    (render, *_validation) = region_run["report"]["plays"]
    (task,) = render["tasks"]
    assert not [h for h, r in task["hosts"].items() if r.get("failed")], task
    inventory = region_run["inventory"]
    return Region(
        profile=region_run["profile"],
        path=region_run["path"],
        inventory=inventory,
        groups=groups_of(inventory),
        rendered={host: result["msg"] for host, result in task["hosts"].items()},
    )


# Roles site.yml does not apply to the region's VMs, and what applies them.
NOT_IN_SITE = {
    "odoo_kubernetes": "playbooks/odoo_kubernetes.yml, on the Kubernetes tenants of odoo_tenants (not VMs)",
    "traefik_kubernetes": "playbooks/traefik_kubernetes.yml, on the ingress of kubernetes_ingress (not VMs)",
    "aks_cluster": "playbooks/aks_cluster.yml, on the AKS clusters of aks_clusters (Azure, not VMs)",
    "kubernetes_node_drain": (
        "playbooks/kubernetes_node_drain.yml, on a node of a Kubernetes cluster (not VMs)"
    ),
    "kubernetes_monitoring": (
        "playbooks/kubernetes_monitoring.yml, on the Kubernetes clusters of kubernetes_clusters (not VMs)"
    ),
    "monitoring_exporters": "playbooks/monitoring.yml, on the monitored groups",
    "prometheus": "playbooks/monitoring.yml, on monitoring",
    "alertmanager": "playbooks/monitoring.yml, on monitoring",
    "log_store": "playbooks/logs.yml, on monitoring",
    "log_shipping": "playbooks/logs.yml, on the platform groups",
    "grafana_dashboards": "playbooks/dashboards.yml, on the operator's Grafana hosts (grafana)",
}


# Roles never applied on their own: their clients include them and validate the input as theirs.
# Roles site.yml does not list: their client roles include them (rclone's remotes, the metrics link),
# so they validate where their clients do.
THROUGH_CLIENTS = {
    "backup_store": ("filestore_backup", "config_backup"),
}


# Roles site.yml validates once, from the controller's view, not on a group's hosts.
ONCE_IN_SITE = {
    "erp_dns": "the ERP's DNS name, when erp_dns_server is set (RFC 2136: Azure examples set none)",
}


def test_roles_validated_once_are_validated_first() -> None:
    tasks = load_yaml(SITE)[0]["tasks"]
    for role in ONCE_IN_SITE:
        [task] = [
            t
            for t in tasks
            if (t.get("ansible.builtin.include_role") or {}).get("name") == f"retailops.odoo_platform.{role}"
        ]
        assert task["ansible.builtin.include_role"]["tasks_from"] == "validate.yml"
        assert task["run_once"] is True


def test_roles_outside_site_are_validated_by_their_playbook() -> None:
    for role, where in NOT_IN_SITE.items():
        plays = load_yaml(ROOT / where.split(",", maxsplit=1)[0])
        # the first play that changes anything validates; before it, only reads (monitoring.yml: the
        # Kubernetes ingress controllers' discovery credentials, read from their clusters)
        reads = 0
        while [
            t.get("ansible.builtin.include_role", {}).get("tasks_from") for t in plays[reads]["tasks"]
        ] == ["scrape_credentials"]:
            reads += 1
        first_play = plays[reads]
        validates = [
            task["ansible.builtin.include_role"]
            for task in first_play.get("tasks", [])
            if "ansible.builtin.include_role" in task
        ]
        assert first_play.get("any_errors_fatal") is True, where
        # without ".yml": the entry point, so its argument spec is checked too
        assert {"name": f"retailops.odoo_platform.{role}", "tasks_from": "validate"} in validates, where


def validation_play() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """site.yml's first play, and the groups whose hosts each role validates."""
    plays = load_yaml(SITE)
    play = plays[0]
    includes = [  # the per-role loop (the ERP's DNS name is validated once, from the controller's view)
        task
        for task in play.get("tasks", [])
        if (task.get("ansible.builtin.include_role") or {}).get("tasks_from") == "validate.yml"
        and "loop" in task
    ]
    changed = "site.yml's first play no longer validates each role on its groups' hosts: update this test"
    assert len(includes) == 1, changed
    checked = {entry["role"]: entry["hosts"] for entry in includes[0]["loop"]}
    targeted = set(str(play.get("hosts", "")).split(":"))
    assert {group for groups in checked.values() for group in groups} <= targeted, changed
    return play, checked


def play_report(report: dict[str, Any], index: int) -> dict[str, Any]:
    """One play of region_run's report: {"plays": [that play], "stats": the whole run's}.

    The stats are the run's, over its three plays: a failure in any of them shows there."""
    return {"plays": [report["plays"][index]], "stats": report["stats"]}


@pytest.fixture(scope="module")
def validation(region_run: dict[str, Any]) -> dict[str, Any]:
    """site.yml's first play, in check mode on this machine."""
    return play_report(region_run["report"], 1)


@pytest.fixture(scope="module")
def monitoring_validation(region_run: dict[str, Any]) -> dict[str, Any]:
    """monitoring.yml's validation play."""
    return play_report(region_run["report"], 2)


# ---------------------------------------------------------------------------
# The files themselves: vault, secrets, who sets what.


def test_vault_is_encrypted_with_the_example_region_label() -> None:
    header = VAULT_FILE.read_text().splitlines()[0]
    assert header == "$ANSIBLE_VAULT;1.2;AES256;example_region"
    assert "THROWAWAY" in VAULT_PASS.read_text(), "the committed vault password must say it is a throw-away"


def test_the_inventory_needs_the_vault_password() -> None:
    result = ansible("ansible-inventory", "-i", f"{INVENTORY}/", "--list")
    assert result.returncode != 0
    assert "no vault secrets" in result.stderr


def secret_values(data: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every value under a secret-looking key, at any depth."""
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if SECRET_NAME.search(str(key)):
                yield where, value
            else:
                yield from secret_values(value, where)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from secret_values(value, f"{path}[{i}]")


def test_plain_files_only_reference_the_vault() -> None:
    found = [
        (source, where, value)
        for source, data in plain_var_files().items()
        for where, value in secret_values(data)
    ]
    assert found, "no secret-looking variable found: the pattern no longer matches the inventory"
    leaks = [(s, w, v) for s, w, v in found if not (isinstance(v, str) and VAULT_REF.match(v))]
    assert leaks == []
    assert not any(
        re.search(r"CHANGE-ME|BEGIN .*PRIVATE KEY", p.read_text()) for p in INVENTORY.rglob("*.yml")
    )


def test_every_vault_variable_is_defined_and_used() -> None:
    secrets = vault_vars()
    assert all(name.startswith("vault_") for name in secrets)
    assert all(isinstance(v, str) and len(v) >= 16 for v in secrets.values())
    text = "\n".join(p.read_text() for p in INVENTORY.rglob("*.yml") if p != VAULT_FILE)
    referenced = set(re.findall(r"\bvault_\w+", text))
    assert referenced == set(secrets)


def role_variables(data: dict[str, Any]) -> set[str]:
    return {name for name in data if not name.startswith(("tenancy_", "region_"))}


def test_each_tenancy_profile_owns_its_variables() -> None:
    sources = plain_var_files()
    profiles = {name: role_variables(sources[f"{name}:group_vars/{name}.yml"]) for name in PROFILES}
    assert profiles[PROFILES[0]] == profiles[PROFILES[1]], "both profiles must set the same role variables"
    elsewhere = {
        (source, name)
        for source, data in sources.items()
        if not source.startswith("tenancy_")
        for name in data
        if name in profiles[PROFILES[0]]
    }
    assert elsewhere == set(), (
        "a group other than the profile sets a profile variable (precedence would decide)"
    )


def test_no_variable_is_set_twice_for_one_host() -> None:
    listed = ansible("ansible-inventory", "-i", f"{INVENTORY}/", "--list", "--vault-id", VAULT_ID)
    assert listed.returncode == 0, tail(listed)
    members = groups_of(json.loads(listed.stdout))
    members["all"] = set(json.loads(listed.stdout)["_meta"]["hostvars"])
    setters: dict[str, list[str]] = {}
    for source, data in plain_var_files().items():
        for name in data:
            setters.setdefault(name, []).append(source.split(":")[0])
    clashes = {
        (name, a, b)
        for name, groups in setters.items()
        for a in groups
        for b in groups
        if a < b and members.get(a, set()) & members.get(b, set())
    }
    assert clashes == set()


# ---------------------------------------------------------------------------
# The inventory, parsed and rendered, in each tenancy profile.


@pytest.mark.slow
def test_groups_hold_the_documented_topology(region: Region) -> None:
    for group, hosts in EXPECTED_GROUPS.items():
        assert region.hosts(group) == hosts, group
    assert region.hosts(region.profile) == EXPECTED_GROUPS["platform"]
    other = next(p for p in PROFILES if p != region.profile)
    assert region.hosts(other) == set()
    assert region.hosts("retired_branches") == {"UTR-003"}
    for host in EXPECTED_GROUPS["platform"]:
        address = ipaddress.ip_address(region.var(host, "ansible_host"))
        assert any(
            address in ipaddress.ip_network(net) for net in region.var(host, "region_networks").values()
        )
    addresses = [region.var(h, "ansible_host") for h in EXPECTED_GROUPS["platform"]]
    assert len(set(addresses)) == len(addresses)


@pytest.mark.slow
def test_site_validation_play_passes_for_every_role(region: Region, validation: dict[str, Any]) -> None:
    role_groups = validation_play()[1]
    roles = {p.name for p in (ROOT / "roles").iterdir() if p.is_dir()}
    assert set(role_groups) == roles - set(NOT_IN_SITE) - set(ONCE_IN_SITE) - set(THROUGH_CLIENTS)
    stats = validation["stats"]
    assert all(s["failures"] == 0 and s["unreachable"] == 0 for s in stats.values()), stats
    ran: dict[str, set[str]] = {role: set() for role in [*role_groups, *THROUGH_CLIENTS]}
    for task in validation["plays"][0]["tasks"]:
        match = re.match(r"retailops\.odoo_platform\.(\w+) : ", task["task"]["name"])
        if not match:
            continue
        for host, result in task["hosts"].items():
            assert not result.get("failed"), (host, task["task"]["name"], result.get("msg"))
            if not result.get("skipped"):
                ran[match.group(1)].add(host)
    for role, groups in role_groups.items():
        expected = set().union(*(region.hosts(g) for g in groups))
        assert expected, f"{role}: no host in {groups}"
        assert ran[role] == expected, role
    for role, clients in THROUGH_CLIENTS.items():
        assert ran[role] == set().union(*(ran[c] for c in clients)), role


@pytest.mark.slow
def test_monitoring_validation_play_passes_on_the_monitoring_node(
    region: Region, monitoring_validation: dict[str, Any]
) -> None:
    """Prometheus' scrape jobs name only groups this inventory has, and every severity has a route."""
    ran: dict[str, set[str]] = {"prometheus": set(), "alertmanager": set()}
    for task in monitoring_validation["plays"][0]["tasks"]:
        match = re.match(r"retailops\.odoo_platform\.(prometheus|alertmanager) : ", task["task"]["name"])
        for host, result in task["hosts"].items():
            assert not result.get("failed"), (host, task["task"]["name"], result.get("msg"))
            if match and not result.get("skipped"):
                ran[match.group(1)].add(host)
    assert ran == {"prometheus": MON, "alertmanager": MON}
    mon = region.rendered["erp-mon-1"]
    assert mon["prometheus_listen_address"] == mon["alertmanager_listen_address"] == mon["ansible_host"]
    assert ipaddress.ip_address(mon["ansible_host"]) in ipaddress.ip_network(
        region.var("erp-db-1", "nftables_segmentation_management_networks")[0]
    )  # the management subnet reaches every protected port, the exporters' included
    for host in EXPECTED_GROUPS["segmented_platform"]:
        assert {9100} <= set(region.var(host, "nftables_segmentation_protected_tcp_ports")), host
    assert {9090, 9093} <= set(region.var("erp-mon-1", "nftables_segmentation_protected_tcp_ports"))


@pytest.mark.slow
def test_odoo_reaches_its_pgbouncer_and_redis_through_sentinel(region: Region) -> None:
    sentinels = {region.var(h, "ansible_host"): h for h in region.hosts("redis_sentinels")}
    redis = sorted(region.hosts("redis_servers"))[0]
    db = sorted(region.hosts("postgres_cluster"))[0]
    bridge = ipaddress.ip_network(region.var("erp-app-1", "region_networks")["docker_bridge"])
    for node in region.hosts("odoo_nodes"):
        odoo = region.rendered[node]
        assert node in region.hosts("app_nodes")  # its own PgBouncer
        assert odoo["odoo_db_host"] == odoo["ansible_host"] == odoo["odoo_bind_address"]
        assert odoo["odoo_db_host"] in odoo["pgbouncer_listen_address"].split(",")
        assert odoo["odoo_db_port"] == odoo["pgbouncer_listen_port"]
        assert str(bridge) in odoo["pgbouncer_allowed_networks"]
        assert ipaddress.ip_interface(odoo["docker_host_daemon_options_extra"]["bip"]).network == bridge
        assert str(bridge) in odoo["nftables_segmentation_platform_networks"]
        users = {u["name"]: u["password"] for u in odoo["pgbouncer_users"]}
        assert users[odoo["odoo_db_user"]] == odoo["odoo_db_password"]
        assert odoo["odoo_session_redis_sentinel_host"] in sentinels
        assert odoo["odoo_session_redis_sentinel_master_name"] == region.var(
            redis, "redis_sentinel_master_name"
        )
        assert odoo["odoo_session_redis_password"] == region.var(redis, "redis_app_password")
        address = ipaddress.ip_address(odoo["ansible_host"])
        assert any(address in ipaddress.ip_network(n) for n in region.var(redis, "redis_allowed_networks"))
        assert any(
            address in ipaddress.ip_network(n) for n in region.var(db, "postgresql_patroni_allowed_networks")
        )
    pg_users = {u["name"]: u["password"] for u in region.var(db, "postgresql_patroni_users")}
    assert pg_users["odoo"] == region.var("erp-app-1", "odoo_db_password")
    stanzas = {region.var(h, "pgbackrest_stanza") for h in region.hosts("pgbackrest_repository")}
    assert len(stanzas) == 1
    dcs = region.var(db, "postgresql_patroni_dcs_hosts")
    assert sorted(dcs) == sorted(
        f"{region.var(h, 'ansible_host')}:2379" for h in region.hosts("etcd_cluster")
    )


@pytest.mark.slow
def test_connection_budget_fits_pgbouncer_and_postgresql(region: Region) -> None:
    node = sorted(region.hosts("odoo_nodes"))[0]
    db = sorted(region.hosts("postgres_cluster"))[0]
    nodes = len(region.hosts("odoo_nodes"))
    processes = region.var(node, "odoo_workers") + 1 + region.var(node, "odoo_max_cron_threads")
    budget = region.var(node, "odoo_db_pool_budget")
    maxconn = budget // (nodes * processes)  # the odoo role's rule when odoo_db_maxconn is unset
    assert maxconn >= 2
    per_node = processes * maxconn
    pool = region.var(node, "pgbouncer_default_pool_size")
    reserve = region.var(node, "pgbouncer_reserve_pool_size")
    assert per_node <= pool <= region.var(node, "pgbouncer_max_client_conn")
    parameters = region.var(db, "postgresql_patroni_parameters_extra")
    assert nodes * (pool + reserve) + 5 <= int(parameters["max_connections"])


@pytest.mark.slow
def test_tenancy_profile_serves_its_databases(region: Region) -> None:
    node = sorted(region.hosts("odoo_nodes"))[0]
    ingress = sorted(region.hosts("ingress"))[0]
    db = sorted(region.hosts("postgres_cluster"))[0]
    databases = {d["name"] for d in region.var(db, "postgresql_patroni_databases")}
    assert {d["owner"] for d in region.var(db, "postgresql_patroni_databases")} == {
        region.var(node, "odoo_db_user")
    }
    hosts = region.var(ingress, "traefik_hosts")
    dbfilter = region.var(node, "odoo_dbfilter")
    assert region.var(node, "odoo_db_name") in databases
    if region.profile == "tenancy_dedicated_region":
        assert len(databases) == 1
        assert len(hosts) == 1
        assert [d for d in databases if re.match(dbfilter, d)] == [region.var(node, "odoo_db_name")]
        assert region.var(db, "postgresql_patroni_synchronous_mode_strict") is True
    else:
        assert dbfilter == "^%d$"
        assert len(databases) >= 2
        assert {h.split(".")[0] for h in hosts} == databases  # %d: the host's first label
    branch = sorted(region.hosts("branches"))[0]
    url = region.var(branch, "onboard_branch_erp_url")
    assert url == f"https://{hosts[0]}/web/health"


def covers(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.count(".") == pattern.count(".") and host.endswith(pattern[1:])
    return host == pattern


@pytest.mark.slow
def test_certificates_cover_the_erp_host_names(region: Region) -> None:
    for ingress in region.hosts("ingress"):
        certificates = region.var(ingress, "traefik_tls_certificates")
        assert certificates
        assert all("PRIVATE KEY" in c["key"] for c in certificates)
        names = [
            name
            for c in certificates
            for name in x509.load_pem_x509_certificate(c["cert"].encode())
            .extensions.get_extension_for_class(x509.SubjectAlternativeName)
            .value.get_values_for_type(x509.DNSName)
        ]
        for host in region.var(ingress, "traefik_hosts"):
            assert any(covers(name, host) for name in names), (host, names)


@pytest.mark.slow
def test_platform_matches_the_branch_register(region: Region) -> None:
    register = load_yaml(REGISTER)
    platform = [ipaddress.ip_network(n) for n in register["platform_networks"]]
    for host in EXPECTED_GROUPS["platform"]:
        assert any(ipaddress.ip_address(region.var(host, "ansible_host")) in n for n in platform), host
    edge = ipaddress.ip_network(region.var("hub-ams", "region_networks")["edge"])
    for entrypoint in register["erp_entrypoints"]:
        assert ipaddress.ip_address(entrypoint.rsplit(":", 1)[0]) in edge  # the load balancer frontend
    assert {h["name"] for h in register["hubs"]} == region.hosts("hubs")
    key_dir = Path(region.var("hub-ams", "branch_vpn_public_key_dir")).resolve()
    assert not key_dir.is_relative_to(region.path.resolve()), (
        "public keys inside the -i directory would be parsed"
    )
    register_path = Path(region.var("erp-app-1", "traefik_branch_register")[0]).resolve()
    assert register_path == REGISTER.resolve()


# ---------------------------------------------------------------------------
# The operator's playbooks against the committed inventory.


def test_readme_names_the_operator_playbooks() -> None:
    assert {"site.yml", "odoo_db.yml", "onboard_branch.yml", "offboard_branch.yml"} <= set(README_PLAYBOOKS)


@pytest.fixture(scope="module")
def syntax() -> SyntaxChecks:
    def check(playbooks: list[Path]) -> subprocess.CompletedProcess[str]:
        return ansible(
            "ansible-playbook",
            *("-i", f"{INVENTORY}/", "--vault-id", VAULT_ID, "--syntax-check"),
            *map(str, playbooks),
        )

    written = [ROOT / "playbooks" / p for p in README_PLAYBOOKS if (ROOT / "playbooks" / p).exists()]
    return SyntaxChecks(check, written)


@pytest.mark.slow
@pytest.mark.parametrize("playbook", README_PLAYBOOKS)
def test_operator_playbooks_pass_syntax_check(playbook: str, syntax: SyntaxChecks) -> None:
    if not (ROOT / "playbooks" / playbook).exists() and playbook in PENDING_PLAYBOOKS:
        pytest.skip(f"{playbook} is not written yet")
    result = syntax.of(ROOT / "playbooks" / playbook)
    assert result.returncode == 0, tail(result)


@pytest.mark.slow
def test_onboarding_decrypts_the_inventory_with_the_vault_id_from_the_environment() -> None:
    """onboard_branch.yml re-reads the inventory in a subprocess: only the environment reaches it."""
    result = ansible(
        "ansible-playbook",
        *("-i", f"{INVENTORY}/", "-i", "localhost,", "--limit", "localhost", *LOCAL),
        *("-e", "branch=AMS-001", str(ROOT / "playbooks" / "onboard_branch.yml")),
        env={"ANSIBLE_VAULT_IDENTITY_LIST": VAULT_ID},
    )
    assert result.returncode == 0, tail(result)
    assert "The register is valid" in result.stdout
