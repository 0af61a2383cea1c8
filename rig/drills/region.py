"""The pilot region a drill campaign works on, read from its inventory as Ansible resolves it."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from loadtests.drills import ansible_command
from rig.inventory import group_hosts


class RegionError(RuntimeError):
    pass


@dataclass(frozen=True)
class Node:
    name: str  # inventory host = container = Patroni member name
    address: str


@dataclass(frozen=True)
class Region:
    inventory: str
    db: tuple[Node, ...]
    app: tuple[Node, ...]
    redis: tuple[Node, ...]
    db_name: str
    db_user: str
    db_password: str
    monitor_user: str  # pg_monitor: replication state; the superuser is refused over the network
    monitor_password: str
    pgbouncer_port: int
    patroni_port: int
    sentinel_port: int
    redis_master_name: str
    redis_password: str
    redis_monitor_user: str  # INFO replication: the exporter's read-only user
    redis_monitor_password: str
    session_sentinel_host: str  # the Sentinel Odoo's session store asks (odoo_session_redis_sentinel_host)

    def db_node(self, name: str) -> Node:
        for node in self.db:
            if node.name == name:
                return node
        raise RegionError(
            f"no PostgreSQL member is named {name!r} (members: {', '.join(n.name for n in self.db)})"
        )

    def by_address(self, address: str) -> str:
        for node in (*self.db, *self.redis):
            if node.address == address:
                return node.name
        return address

    def patroni(self, node: Node) -> str:
        return f"http://{node.address}:{self.patroni_port}"

    def app_dsn(self, node: Node) -> str:
        """The endpoint Odoo uses on an app node: its PgBouncer, to HAProxy, to the primary."""
        return _dsn(node.address, self.pgbouncer_port, self.db_name, self.db_user, self.db_password)

    def direct_dsn(self, node: Node, monitor: bool = False) -> str:
        """A member itself, as the application's user or (``monitor``) as the monitoring login."""
        user, password = (
            (self.monitor_user, self.monitor_password) if monitor else (self.db_user, self.db_password)
        )
        return _dsn(node.address, 5432, self.db_name, user, password)


def _dsn(host: str, port: int, db: str, user: str, password: str) -> str:
    from psycopg.conninfo import make_conninfo  # noqa: PLC0415 - psycopg only where a region is driven

    # A dead peer (a killed container) is noticed in seconds: keepalives and a TCP user timeout.
    return make_conninfo(
        host=host,
        port=port,
        dbname=db,
        user=user,
        password=password,
        connect_timeout=2,
        keepalives=1,
        keepalives_idle=2,
        keepalives_interval=1,
        keepalives_count=3,
        tcp_user_timeout=8000,
        application_name="failover-drill",
    )


def _run(argv: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=300, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise RegionError(
            f"{' '.join(argv[:3])} exited {done.returncode}: {(done.stderr or done.stdout)[-400:]}"
        )
    return done.stdout


def inventory_list(inventory: str) -> dict[str, Any]:
    listed: dict[str, Any] = json.loads(
        _run([ansible_command("ansible-inventory"), "-i", inventory, "--list"])
    )
    return listed


def resolved(inventory: str, host: str, names: dict[str, str]) -> dict[str, Any]:
    """Variables of ``host`` as Ansible templates them (secrets read from their files): name ->
    expression. An ad-hoc debug on the controller; nothing runs on the host."""
    expression = "{{ {" + ", ".join(f"{json.dumps(k)}: ({v})" for k, v in names.items()) + "} | to_json }}"
    out = _run(
        [
            ansible_command("ansible"),
            "-i",
            inventory,
            host,
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={expression}",
        ],
        env={"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_NOCOLOR": "1"},
    )
    result = json.loads(out[out.index("{") :])["plays"][0]["tasks"][0]["hosts"][host]
    if result.get("failed"):
        raise RegionError(f"{host}: {result.get('msg', result)}")
    values: dict[str, Any] = json.loads(result["msg"]) if isinstance(result["msg"], str) else result["msg"]
    return values


def load(inventory: str) -> Region:
    """The region of an inventory (e.g. ``inventories/pilot-local/``), secrets resolved as Ansible
    resolves them (the pilot's come from files under $PILOT_STATE)."""
    data = inventory_list(inventory)
    hostvars = data.get("_meta", {}).get("hostvars", {})

    def hosts(group: str) -> list[str]:
        found = group_hosts(data, group)
        if not found:
            raise RegionError(f"the inventory has no host in group {group!r}")
        return found

    def nodes(group: str) -> tuple[Node, ...]:
        found = []
        for host in hosts(group):
            address = hostvars.get(host, {}).get("node_address")
            if not isinstance(address, str) or "{" in address:  # a template: as Ansible resolves it
                address = resolved(inventory, host, {"a": "node_address"})["a"]
            found.append(Node(host, str(address)))
        return tuple(found)

    db, app, redis_nodes = nodes("postgres_cluster"), nodes("odoo_nodes"), nodes("redis_servers")
    a = resolved(
        inventory,
        app[0].name,
        {
            "db_name": "pilot_db_name",
            "db_user": "odoo_db_user | default('odoo')",
            "db_password": "pilot_db_password",
            "pgbouncer_port": "pgbouncer_listen_port | default(6432)",
            "session_sentinel_host": "odoo_session_redis_sentinel_host",
        },
    )
    d = resolved(
        inventory,
        db[0].name,
        {
            "monitor_user": "monitoring_exporters_postgres_user | default('monitoring')",
            "monitor_password": "monitoring_exporters_postgres_password",
            "patroni_port": "postgresql_patroni_restapi_port | default(8008)",
        },
    )
    r = resolved(
        inventory,
        redis_nodes[0].name,
        {
            "sentinel_port": "redis_sentinel_port | default(26379)",
            "redis_master_name": "redis_sentinel_master_name | default('odoo')",
            "redis_password": "redis_app_password",
            "redis_monitor_user": "redis_monitoring_user | default('monitoring')",
            "redis_monitor_password": "redis_monitoring_password",
        },
    )
    return Region(
        inventory=inventory,
        db=db,
        app=app,
        redis=redis_nodes,
        db_name=str(a["db_name"]),
        db_user=str(a["db_user"]),
        db_password=str(a["db_password"]),
        monitor_user=str(d["monitor_user"]),
        monitor_password=str(d["monitor_password"]),
        pgbouncer_port=int(a["pgbouncer_port"]),
        patroni_port=int(d["patroni_port"]),
        sentinel_port=int(r["sentinel_port"]),
        redis_master_name=str(r["redis_master_name"]),
        redis_password=str(r["redis_password"]),
        redis_monitor_user=str(r["redis_monitor_user"]),
        redis_monitor_password=str(r["redis_monitor_password"]),
        session_sentinel_host=str(a["session_sentinel_host"]),
    )
