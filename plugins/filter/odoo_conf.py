# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: odoo_conf
short_description: Render odoo.conf from the options a role manages and the operator's extra options
version_added: 0.1.0
description:
  - Returns the text of an C(odoo.conf) file - comment lines, C([options]), then one C(key = value) line per
    managed option, then the extra options sorted by name. Odoo reads booleans as
    C(True)/C(False) and lists as comma-separated values, and that is how they are written.
  - The odoo role (containers on Docker hosts) and the odoo_kubernetes role (pods) render their files with
    it, so both write the same options the same way.
  - Refuses an extra option that a role manages, an option name that is not a plain identifier, a value
    holding a line break (it would add options of its own) and a null value.
author:
  - RetailOps platform engineering (@retailops)
options:
  _input:
    description:
      - The options the role manages. They are written in the platform's order (the order of the odoo role's
        odoo.conf so far), options it does not know after them by name.
    type: dict
    required: true
  extra:
    description: Further options given by the operator (C(odoo_options_extra)), written after the managed.
    type: dict
    default: {}
  comments:
    description: Lines written first as C(;) comments.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Render odoo.conf
  ansible.builtin.copy:
    content: "{{ options | retailops.odoo_platform.odoo_conf(extra=odoo_options_extra) }}"
    dest: /etc/odoo/odoo.conf
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The text of odoo.conf, ending with a line break.
  type: str
"""

import math
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ansible.errors import AnsibleFilterError

OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The order of the managed options in the file: a file rendered again from
# the same settings is byte for byte the same, so nothing restarts.
ORDER = [
    "addons_path",
    "data_dir",
    "admin_passwd",
    "db_host",
    "db_port",
    "db_user",
    "db_password",
    "db_name",
    "db_sslmode",
    "db_maxconn",
    "dbfilter",
    "list_db",
    "proxy_mode",
    "http_port",
    "gevent_port",
    "workers",
    "max_cron_threads",
    "limit_memory_soft",
    "limit_memory_hard",
    "limit_time_cpu",
    "limit_time_real",
    "limit_request",
    "server_wide_modules",
]


def _value(name: str, value: Any) -> str:
    if value is None:
        raise AnsibleFilterError("odoo_conf: option %s has no value (null)" % name)
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif isinstance(value, (list, tuple)):
        text = ",".join(str(item) for item in value)
    else:
        text = str(value)
    if "\n" in text or "\r" in text:
        raise AnsibleFilterError("odoo_conf: the value of option %s holds a line break" % name)
    return text


def _position(item: Tuple[str, Any]) -> Tuple[int, str]:
    """A managed option's place: the platform's order, options it does not know after them by name."""
    return (ORDER.index(item[0]) if item[0] in ORDER else len(ORDER), item[0])


def odoo_conf(
    options: Mapping[str, Any],
    extra: Optional[Mapping[str, Any]] = None,
    comments: Optional[List[str]] = None,
) -> str:
    """odoo.conf text: comments, [options], the managed options in the platform's order, the extras sorted."""
    if not isinstance(options, Mapping):
        raise AnsibleFilterError("odoo_conf: the options must be a mapping")
    extra = extra or {}
    if not isinstance(extra, Mapping):
        raise AnsibleFilterError("odoo_conf: extra must be a mapping")
    overlap = sorted(set(options) & set(extra))
    if overlap:
        raise AnsibleFilterError(
            "odoo_conf: extra options set %s, which the role manages" % ", ".join(overlap)
        )
    lines = ["; %s" % _value("comment", line) for line in comments or []]
    lines.append("[options]")
    for group in (sorted(options.items(), key=_position), sorted(extra.items())):
        for name, value in group:
            if not isinstance(name, str) or not OPTION_NAME.match(name):
                raise AnsibleFilterError("odoo_conf: %r is not an odoo.conf option name" % (name,))
            lines.append("%s = %s" % (name, _value(name, value)))
    return "\n".join(lines) + "\n"


def odoo_worker_sizing(cpus: Any, memory_mb: Any, worker_memory_mb: Any, reserved_mb: Any) -> Dict[str, int]:
    """Odoo's sizing rule: (CPUs x 2) + 1 workers, capped by memory, at least 2.

    ``cpus`` may be fractional (a Kubernetes CPU limit such as 0.5): it is
    rounded up, as a process uses a whole core when it runs.
    """
    try:
        cores = math.ceil(float(cpus))
        memory = int(memory_mb)
        per_worker = int(worker_memory_mb)
        reserved = int(reserved_mb)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("odoo_worker_sizing: numbers expected (%s)" % exc) from exc
    if cores < 1 or per_worker < 1 or memory < 1 or reserved < 0:
        raise AnsibleFilterError(
            "odoo_worker_sizing: cpus, memory_mb and worker_memory_mb must be positive, reserved_mb >= 0"
        )
    by_cpu = cores * 2 + 1
    by_memory = (memory - reserved) // per_worker
    return {"by_cpu": by_cpu, "by_memory": by_memory, "workers": max(min(by_cpu, by_memory), 2)}


class FilterModule:
    """odoo.conf rendering and Odoo's worker sizing rule, shared by the odoo and odoo_kubernetes roles."""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"odoo_conf": odoo_conf, "odoo_worker_sizing": odoo_worker_sizing}
