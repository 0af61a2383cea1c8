#!/usr/bin/python
# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask a Redis Sentinel what it knows about a monitored master."""

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_sentinel_info
author: RetailOps platform engineering (@retailops)
version_added: 0.1.0
short_description: Read a Redis Sentinel's view of a monitored master
description:
  - Returns C(SENTINEL MASTER), C(SENTINEL REPLICAS) and C(SENTINEL SENTINELS)
    for one master (the current master's address, its config epoch, the
    replicas and the other Sentinels this Sentinel knows).
  - Roles use it to find the current primary at runtime instead of assuming
    it from the inventory.
extends_documentation_fragment:
  - retailops.odoo_platform.redis_connection
  - retailops.odoo_platform.info_module
options:
  login_port:
    default: 26379
  name:
    description: Name of the monitored master.
    type: str
    required: true
  unreachable_ok:
    description:
      - Return I(available=false) instead of failing when the Sentinel does not
        answer or refuses the credentials (for example before it is set up).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ask the local Sentinel for the current primary
  retailops.odoo_platform.redis_sentinel_info:
    login_password: "{{ redis_sentinel_password }}"
    name: odoo
    unreachable_ok: true
  register: sentinel_view
  no_log: true
"""

RETURN = r"""
available:
  description: Whether the Sentinel answered with these credentials.
  returned: always
  type: bool
error:
  description: Why the Sentinel did not answer, when I(available=false).
  returned: when I(available=false)
  type: str
monitored:
  description: Whether the Sentinel monitors I(name).
  returned: always
  type: bool
master:
  description: C(SENTINEL MASTER) for I(name), values as strings.
  returned: when I(monitored=true)
  type: dict
  sample: {"ip": "10.20.4.12", "port": "6379", "config-epoch": "1", "flags": "master"}
replicas:
  description: C(SENTINEL REPLICAS) for I(name).
  returned: when I(monitored=true)
  type: list
  elements: dict
sentinels:
  description: C(SENTINEL SENTINELS) for I(name), the other Sentinels.
  returned: when I(monitored=true)
  type: list
  elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.retailops.odoo_platform.plugins.module_utils.redis_client import (
    client,
    connection_argument_spec,
    pairs_list,
    redis_error_types,
)


def main() -> None:
    argument_spec: dict[str, Any] = connection_argument_spec(26379)
    argument_spec.update(
        name={"type": "str", "required": True},
        unreachable_ok={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    name: str = module.params["name"]
    if not name:
        module.fail_json(msg="name must not be empty")
    conn = client(module)
    result: dict[str, Any] = {"changed": False, "available": False, "monitored": False}
    try:
        masters = {m.get("name"): m for m in pairs_list(conn.execute_command("SENTINEL", "MASTERS"))}
        result["available"] = True
        if name in masters:
            result.update(
                monitored=True,
                master=masters[name],
                replicas=pairs_list(conn.execute_command("SENTINEL", "REPLICAS", name)),
                sentinels=pairs_list(conn.execute_command("SENTINEL", "SENTINELS", name)),
            )
    except redis_error_types() as exc:
        where = f"Sentinel at {module.params['login_host']}:{module.params['login_port']}"
        if not module.params["unreachable_ok"]:
            module.fail_json(msg=f"{where}: {exc}", **result)
        result["error"] = f"{where}: {exc}"
    module.exit_json(**result)


if __name__ == "__main__":
    main()
