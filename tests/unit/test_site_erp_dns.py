"""site.yml's last play points the ERP's DNS name at the region's entrypoints without their ports:
the expression as site.yml has it, rendered by ansible-playbook over a hub's register variables."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import JSON_OUTPUT, ROOT, playbook_env, run_playbook

SITE = ROOT / "playbooks" / "site.yml"


def test_the_entrypoints_lose_their_ports(tmp_path: Path) -> None:
    play = yaml.safe_load(SITE.read_text())[-1]
    [task] = play["tasks"]
    assert task["ansible.builtin.include_role"]["name"] == "retailops.odoo_platform.erp_dns"
    expression = task["vars"]["erp_dns_addresses"]
    inventory = tmp_path / "hosts.yml"
    entrypoints = ["10.213.30.11:443", "[2001:db8::11]:8443"]
    inventory.write_text(
        yaml.safe_dump(
            {"all": {"children": {"hubs": {"hosts": {"hub-1": {"hub_erp_entrypoints": entrypoints}}}}}}
        )
    )
    playbook = tmp_path / "render.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [{"name": "Render", "ansible.builtin.debug": {"msg": expression}}],
                }
            ]
        )
    )
    done = run_playbook(playbook, None, "-i", str(inventory), env=playbook_env(**JSON_OUTPUT))
    assert done.returncode == 0, done.stdout[-2000:]
    [render] = json.loads(done.stdout)["plays"][0]["tasks"]
    assert render["hosts"]["localhost"]["msg"] == ["10.213.30.11", "2001:db8::11"]
