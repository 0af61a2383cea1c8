"""Patroni's etcd endpoints default to the address each member's etcd listens on (the etcd role's
published etcd__address, else the inventory's etcd_address: a play without the etcd role), not the
member's default interface: a DR region's database node has a leg on
the primary region's network as its default route, and its etcd does not listen there."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import JSON_OUTPUT, ROOT, playbook_env, run_playbook

DEFAULTS = ROOT / "roles" / "postgresql_patroni" / "defaults" / "main.yml"


def test_the_endpoints_are_the_etcd_addresses_else_the_inventory_s_else_the_default_interface(
    tmp_path: Path,
) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "etcd_cluster": {
                            "hosts": {"db-1": {}, "db-2": {}, "db-3": {"etcd_address": "10.213.40.23"}}
                        }
                    }
                }
            }
        )
    )
    playbook = tmp_path / "render.yml"
    facts = {"db-1": "10.213.50.121", "db-2": "10.213.40.22", "db-3": "10.213.50.123"}  # default interfaces
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "etcd_cluster",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Facts",
                            "ansible.builtin.set_fact": {
                                "ansible_facts": {
                                    "default_ipv4": {"address": "{{ facts[inventory_hostname] }}"}
                                }
                            },
                        },
                        # as the etcd role's validate publishes it, on db-1 only
                        {
                            "name": "Published",
                            "ansible.builtin.set_fact": {"etcd__address": "10.213.40.21"},
                            "when": "inventory_hostname == 'db-1'",
                        },
                    ],
                },
                {
                    "hosts": "db-1",
                    "connection": "local",
                    "gather_facts": False,
                    "vars_files": [str(DEFAULTS)],
                    "tasks": [
                        {"name": "Render", "ansible.builtin.debug": {"var": "postgresql_patroni_dcs_hosts"}}
                    ],
                },
            ]
        )
    )
    done = run_playbook(playbook, {"facts": facts}, "-i", str(inventory), env=playbook_env(**JSON_OUTPUT))
    assert done.returncode == 0, done.stdout[-2000:]
    render = json.loads(done.stdout)["plays"][1]["tasks"][0]["hosts"]["db-1"]
    assert render["postgresql_patroni_dcs_hosts"] == [
        "10.213.40.21:2379",  # published by the etcd role
        "10.213.40.22:2379",  # its default interface
        "10.213.40.23:2379",  # the inventory's etcd_address, the etcd role not run
    ]
