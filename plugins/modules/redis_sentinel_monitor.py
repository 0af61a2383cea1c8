#!/usr/bin/python
# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a master monitored by Redis Sentinel through Sentinel's own commands."""

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_sentinel_monitor
author: RetailOps platform engineering (@retailops)
version_added: 0.1.0
short_description: Add, tune or remove a master monitored by Redis Sentinel
description:
  - Manages one monitored master with C(SENTINEL MONITOR), C(SENTINEL SET) and
    C(SENTINEL REMOVE), never by editing C(sentinel.conf). Sentinel rewrites that
    file itself (current master, replicas, other Sentinels, epochs), so the file
    is written once and Sentinel keeps what it learned.
  - When the master is already monitored, its address is B(not) changed, as
    Sentinel owns it after a failover. I(master_host) and I(master_port) are used
    only to start monitoring.
  - I(quorum) and the timing I(options) are compared with C(SENTINEL MASTER) and
    set only when they differ.
extends_documentation_fragment:
  - retailops.odoo_platform.redis_connection
options:
  login_port:
    default: 26379
  name:
    description: Name of the monitored master (the service name clients ask Sentinel for).
    type: str
    required: true
  state:
    description: Whether Sentinel monitors the master.
    type: str
    choices: [present, absent]
    default: present
  master_host:
    description: Address of the master when monitoring starts. Required to start monitoring.
    type: str
  master_port:
    description: Port of the master when monitoring starts.
    type: int
    default: 6379
  quorum:
    description: Sentinels that must agree the master is down before a failover. Required to start monitoring.
    type: int
  options:
    description:
      - Timing options compared with C(SENTINEL MASTER) and set with C(SENTINEL SET)
        (C(down-after-milliseconds), C(failover-timeout), C(parallel-syncs)), each
        a whole number of 1 or more.
    type: dict
    default: {}
  auth_user:
    description: ACL user Sentinel authenticates as on the master and its replicas.
    type: str
  auth_password:
    description: Password of I(auth_user).
    type: str
  update_password:
    description:
      - C(on_create) sets I(auth_user) and I(auth_password) only when monitoring
        starts (Sentinel does not report them, so they cannot be compared).
      - C(always) sets them on every run and reports a change; use it once to rotate.
    type: str
    choices: [on_create, always]
    default: on_create
attributes:
  check_mode:
    support: full
    description: Reports what would change without sending any change to Sentinel.
  diff_mode:
    support: none
    description: Not supported.
"""

EXAMPLES = r"""
- name: Monitor the primary found at bootstrap; later runs keep Sentinel's view
  retailops.odoo_platform.redis_sentinel_monitor:
    login_password: "{{ redis_sentinel_password }}"
    name: odoo
    master_host: 10.20.4.11
    quorum: 2
    auth_user: sentinel
    auth_password: "{{ redis_sentinel_auth_password }}"
    options:
      down-after-milliseconds: 30000
      failover-timeout: 180000
      parallel-syncs: 1
  no_log: true
"""

RETURN = r"""
master:
  description: C(SENTINEL MASTER) after the change (Sentinel's view, with the current master's address).
  returned: when I(state=present) and not in check mode for a new monitor
  type: dict
  sample: {"name": "odoo", "ip": "10.20.4.12", "port": "6379", "config-epoch": "1", "quorum": "2"}
changed_options:
  description: Names of the options that differed from Sentinel's view.
  returned: always
  type: list
  elements: str
created:
  description: Whether monitoring started in this run.
  returned: always
  type: bool
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.retailops.odoo_platform.plugins.module_utils.redis_client import (
    client,
    connection_argument_spec,
    normalize,
    pairs,
    pairs_list,
    redis_error_types,
)

COMPARABLE = ("down-after-milliseconds", "failover-timeout", "parallel-syncs")


def auth_settings(params: dict[str, Any]) -> list[str]:
    auth: list[str] = []
    if params["auth_user"]:
        auth += ["auth-user", params["auth_user"]]
    if params["auth_password"]:
        auth += ["auth-pass", params["auth_password"]]
    return auth


def start_monitoring(
    module: AnsibleModule, conn: Any, options: dict[str, str], result: dict[str, Any]
) -> None:
    """SENTINEL MONITOR, then SENTINEL SET for the credentials and options."""
    params = module.params
    if not params["master_host"] or params["quorum"] is None:
        module.fail_json(msg=f"Sentinel does not monitor {params['name']!r} yet: set master_host and quorum")
    result["changed_options"] = sorted(options)
    if module.check_mode:
        result.update(changed=True, created=True)
        return
    monitor = [params["name"], params["master_host"], params["master_port"], params["quorum"]]
    conn.execute_command("SENTINEL", "MONITOR", *monitor)
    # Only now: a refused SENTINEL MONITOR (an address Sentinel rejects) created nothing.
    result.update(changed=True, created=True)
    settings = auth_settings(params) + [item for key in sorted(options) for item in (key, options[key])]
    if settings:
        conn.execute_command("SENTINEL", "SET", params["name"], *settings)


def tune(
    module: AnsibleModule, conn: Any, current: dict[str, str], options: dict[str, str], result: dict[str, Any]
) -> None:
    """SENTINEL SET what differs from SENTINEL MASTER; never the master's address."""
    params = module.params
    settings: list[str] = []
    if params["quorum"] is not None and normalize(params["quorum"]) != current.get("quorum"):
        settings += ["quorum", str(params["quorum"])]
        result["changed_options"].append("quorum")
    for key in sorted(options):
        if current.get(key) != options[key]:
            settings += [key, options[key]]
            result["changed_options"].append(key)
    auth = auth_settings(params)
    if auth and params["update_password"] == "always":
        settings += auth
        result["changed_options"] += auth[0::2]
    if settings:
        # Changed also when SENTINEL SET fails: Sentinel keeps the options
        # before the one it refuses.
        result["changed"] = True
        if not module.check_mode:
            conn.execute_command("SENTINEL", "SET", params["name"], *settings)


def main() -> None:
    argument_spec: dict[str, Any] = connection_argument_spec(26379)
    argument_spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        master_host={"type": "str"},
        master_port={"type": "int", "default": 6379},
        quorum={"type": "int"},
        options={"type": "dict", "default": {}},
        auth_user={"type": "str"},
        auth_password={"type": "str", "no_log": True},
        update_password={
            "type": "str",
            "choices": ["on_create", "always"],
            "default": "on_create",
            "no_log": False,
        },
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    name: str = params["name"]
    if not name:
        module.fail_json(msg="name must not be empty")
    options = {str(k): normalize(v) for k, v in params["options"].items()}
    unknown = sorted(set(options) - set(COMPARABLE))
    if unknown:
        module.fail_json(
            msg=f"options {unknown} cannot be compared with SENTINEL MASTER; use {list(COMPARABLE)}"
        )
    # Refused here rather than by Sentinel, which keeps the options before a refused one.
    invalid = sorted(key for key, value in options.items() if not value.isdigit() or int(value) < 1)
    if invalid:
        module.fail_json(msg=f"options {invalid} must be whole numbers of 1 or more")
    if params["quorum"] is not None and params["quorum"] < 1:
        module.fail_json(msg=f"quorum must be 1 or more, not {params['quorum']}")
    result: dict[str, Any] = {"changed": False, "changed_options": [], "created": False}
    conn = client(module)
    try:
        masters = {m.get("name"): m for m in pairs_list(conn.execute_command("SENTINEL", "MASTERS"))}
        current = masters.get(name)
        if params["state"] == "absent":
            if current is not None:
                result["changed"] = True
                if not module.check_mode:
                    conn.execute_command("SENTINEL", "REMOVE", name)
            module.exit_json(**result)
        if current is None:
            start_monitoring(module, conn, options, result)
        else:
            tune(module, conn, current, options, result)
        if not (module.check_mode and result["created"]):
            result["master"] = pairs(conn.execute_command("SENTINEL", "MASTER", name))
    except redis_error_types() as exc:
        module.fail_json(msg=f"Sentinel at {params['login_host']}:{params['login_port']}: {exc}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
