#!/usr/bin/python
# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring a running Redis server's configuration to the wanted values."""

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_config
author: RetailOps platform engineering (@retailops)
version_added: 0.1.0
short_description: Set Redis configuration at runtime and persist it with CONFIG REWRITE
description:
  - Reads each setting with C(CONFIG GET), sets the ones that differ in one
    C(CONFIG SET) call and, when anything changed, runs C(CONFIG REWRITE) so the
    server's own configuration file agrees with the running server.
  - This is how a role changes settings of a server whose main configuration
    file belongs to Redis (Sentinel rewrites C(replicaof) there), with no restart
    and nothing fighting over the file.
  - Optionally reloads the ACL file (C(ACL LOAD)) first, after the file changed.
  - Fails when the server cannot be reached or refuses the login, also when
    nothing is to be changed.
extends_documentation_fragment:
  - retailops.odoo_platform.redis_connection
options:
  login_port:
    default: 6379
  settings:
    description:
      - Configuration parameters and their wanted values, as C(CONFIG GET) reports
        them (memory in bytes, booleans as C(yes)/C(no), lists space-separated).
      - Compared with C(CONFIG GET) with runs of whitespace collapsed, and set so;
        the settings in I(secret_settings) are set exactly as given.
    type: dict
    default: {}
  secret_settings:
    description:
      - Names of settings whose values are never returned nor logged on the managed host (passwords).
    type: list
    elements: str
    default: [masterauth, requirepass]
  rewrite:
    description: Run C(CONFIG REWRITE) after a change so the configuration file keeps it.
    type: bool
    default: true
  acl_load:
    description: Reload the server's ACL file with C(ACL LOAD) (reports a change).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would change without setting anything.
  diff_mode:
    support: none
    description: Values are not shown; I(changed_settings) lists the names.
"""

EXAMPLES = r"""
- name: Apply memory and persistence settings without a restart
  retailops.odoo_platform.redis_config:
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    settings:
      maxmemory: "1073741824"
      maxmemory-policy: noeviction
      appendonly: "yes"
  no_log: true

- name: Reload users after the ACL file changed
  retailops.odoo_platform.redis_config:
    login_user: admin
    login_password: "{{ redis_admin_password }}"
    acl_load: true
  no_log: true
"""

RETURN = r"""
changed_settings:
  description: Names of the settings that differed (and were set unless in check mode).
  returned: always
  type: list
  elements: str
  sample: [maxmemory]
rewritten:
  description: Whether C(CONFIG REWRITE) ran.
  returned: always
  type: bool
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.retailops.odoo_platform.plugins.module_utils.redis_client import (
    as_string,
    client,
    connection_argument_spec,
    normalize,
    pairs,
    redis_error_types,
)


def secret_values(params: dict[str, Any]) -> set[str]:
    """The values of the secret settings, as given and as compared."""
    settings = params.get("settings") or {}
    values: set[str] = set()
    for name in params.get("secret_settings") or []:
        if name in settings and as_string(settings[name]).strip():
            values |= {as_string(settings[name]), normalize(settings[name])}
    return values


class RedisConfigModule(AnsibleModule):  # type: ignore[misc]
    """AnsibleModule that never logs the values of I(secret_settings).

    AnsibleModule logs its arguments on the managed host (syslog or the
    journal) while it is created, masking only no_log options; I(settings) is
    a plain dict, so C(requirepass) and C(masterauth) would be logged in clear
    by any task without C(no_log). Their values join no_log_values first, which
    masks them in that log line and in everything the module returns.
    """

    def _log_invocation(self) -> None:
        self.no_log_values.update(secret_values(self.params))
        super()._log_invocation()


def main() -> None:
    argument_spec: dict[str, Any] = connection_argument_spec(6379)
    argument_spec.update(
        settings={"type": "dict", "default": {}},
        secret_settings={
            "type": "list",
            "elements": "str",
            "default": ["masterauth", "requirepass"],
            "no_log": False,
        },
        rewrite={"type": "bool", "default": True},
        acl_load={"type": "bool", "default": False},
    )
    module = RedisConfigModule(argument_spec=argument_spec, supports_check_mode=True)
    # Also when the task's no_log skipped the invocation log.
    module.no_log_values.update(secret_values(module.params))
    given = {str(k): v for k, v in module.params["settings"].items()}
    wanted = {name: normalize(value) for name, value in given.items()}
    # Sent as compared (Redis splits list values on single spaces), except
    # secrets: a password is sent exactly as given, spaces included.
    secrets = set(module.params["secret_settings"])
    send = {name: as_string(given[name]) if name in secrets else wanted[name] for name in given}
    conn = client(module)
    result: dict[str, Any] = {"changed": False, "changed_settings": [], "rewritten": False}
    try:
        # Reach and authenticate first, also when nothing is to be set.
        conn.execute_command("PING")
        if module.params["acl_load"]:
            if not module.check_mode:
                conn.execute_command("ACL", "LOAD")
            result["changed"] = True
        current: dict[str, str] = {}
        for name in wanted:
            reply = pairs(conn.execute_command("CONFIG", "GET", name))
            if name not in reply:
                module.fail_json(msg=f"settings: Redis does not know the setting {name!r}", **result)
            current[name] = normalize(reply[name])
        differ = sorted(name for name, value in wanted.items() if current[name] != value)
        result["changed_settings"] = differ
        if differ and module.check_mode:
            result["changed"] = True
        elif differ:
            args: list[str] = []
            for name in differ:
                args += [name, send[name]]
            # One CONFIG SET: Redis 7 applies all of the settings or none.
            conn.execute_command("CONFIG", "SET", *args)
            result["changed"] = True
            if module.params["rewrite"]:
                conn.execute_command("CONFIG", "REWRITE")
                result["rewritten"] = True
    except redis_error_types() as exc:
        where = f"{module.params['login_host']}:{module.params['login_port']}"
        module.fail_json(msg=f"Redis at {where}: {exc}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
