#!/usr/bin/python
# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read Patroni's view of the cluster (GET /cluster) and say who leads and who may take over."""

from __future__ import annotations

DOCUMENTATION = r"""
module: patroni_cluster_info
author: RetailOps platform engineering (@retailops)
version_added: 0.1.0
short_description: Read Patroni's cluster view and its leader, replicas and failover candidates
description:
  - Reads C(GET /cluster) from a Patroni REST API, by default the local member's,
    and returns its members with what the collection's roles and playbooks ask of
    them - the leader, the running members, the replicas on the leader's
    timeline, the failover candidates.
  - Patroni names the leader's role C(leader) (C(master) or C(primary) in older
    releases), a replica C(replica), C(sync_standby) or C(quorum_standby).
  - The leader of a standby cluster (one that replicates from another cluster,
    C(standby_cluster) in its dynamic configuration) is its C(standby_leader);
    it is returned as I(leader), with I(standby_leader=true).
extends_documentation_fragment:
  - retailops.odoo_platform.info_module
options:
  api_url:
    description: Base URL of a member's Patroni REST API.
    type: str
    default: http://127.0.0.1:8008
  timeout:
    description: Seconds to wait for the answer.
    type: float
    default: 10
  unreachable_ok:
    description:
      - Return I(available=false) instead of failing when the API does not answer
        (for example while the member restarts), so a task can retry with C(until).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Wait until the cluster has a leader and every member runs
  retailops.odoo_platform.patroni_cluster_info:
    api_url: http://127.0.0.1:8008
    unreachable_ok: true
  register: cluster
  until: cluster.leader | length > 0 and cluster.running | length == 3
  retries: 90
  delay: 2
"""

RETURN = r"""
available:
  description: Whether the REST API answered with a cluster view.
  returned: always
  type: bool
error:
  description: Why there is no cluster view, when I(available=false).
  returned: when I(available=false)
  type: str
members:
  description: The members as Patroni reports them (name, role, state, timeline, lag, tags, ...).
  returned: always
  type: list
  elements: dict
leader:
  description: Name of the leader when exactly one member leads, else an empty string.
  returned: always
  type: str
leaders:
  description: Names of every member with a leader role (one in a healthy cluster).
  returned: always
  type: list
  elements: str
standby_leader:
  description: Whether the leader is a standby cluster's standby leader (it replicates from another cluster).
  returned: always
  type: bool
leader_timeline:
  description: The leader's timeline, when there is one leader.
  returned: always
  type: int
running:
  description: Names of the members whose PostgreSQL runs (C(running) or C(streaming)), the leader included.
  returned: always
  type: list
  elements: str
replicas:
  description: Names of the members with a replica role.
  returned: always
  type: list
  elements: str
healthy_replicas:
  description: Names of the replicas that run on the leader's timeline.
  returned: always
  type: list
  elements: str
synchronous_mode:
  description: Whether a member is a synchronous standby.
  returned: always
  type: bool
sync_standbys:
  description: Names of the synchronous standbys.
  returned: always
  type: list
  elements: str
failover_candidates:
  description:
    - Healthy replicas not tagged C(nofailover); in synchronous mode only synchronous standbys.
    - The members a switchover may promote.
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.retailops.odoo_platform.plugins.module_utils.patroni import (
    PatroniError,
    read_cluster,
    summarize,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "api_url": {"type": "str", "default": "http://127.0.0.1:8008"},
            "timeout": {"type": "float", "default": 10.0},
            "unreachable_ok": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    result: dict[str, Any] = {"changed": False, "available": False}
    try:
        cluster = read_cluster(module.params["api_url"], module.params["timeout"])
    except PatroniError as exc:
        if not module.params["unreachable_ok"]:
            module.fail_json(msg=str(exc), **result)
        result.update(summarize({}), error=str(exc))
        module.exit_json(**result)
    result.update(summarize(cluster), available=True)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
