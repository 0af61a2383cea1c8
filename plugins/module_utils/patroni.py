# Copyright: (c) 2026, RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patroni's cluster view (``GET /cluster``): the one place that reads it and says what it means.

Used by the ``patroni_cluster_info`` module (roles and playbooks) and by the
load harness's Patroni drill executor. Patroni reports a member's role as
``leader`` in ``/cluster`` (``master`` or ``primary`` in older releases and in
``/patroni``), a replica as ``replica``, ``sync_standby`` or
``quorum_standby``, and a member that runs as ``running`` or ``streaming``
(``in archive recovery`` for a replica replaying from the archive, Patroni
3.0.4 and later). A standby cluster (``standby_cluster`` in its dynamic
configuration: it replicates from another cluster) is led by a
``standby_leader``, which counts as its leader here.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

STANDBY_LEADER_ROLE = "standby_leader"
LEADER_ROLES = ("leader", "master", "primary", STANDBY_LEADER_ROLE)
REPLICA_ROLES = ("replica", "sync_standby", "quorum_standby")
RUNNING_STATES = ("running", "streaming", "in archive recovery")


class PatroniError(Exception):
    """Patroni's REST API did not answer with a cluster view."""


def read_cluster(api_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """``GET <api_url>/cluster`` as JSON; raises PatroniError naming the URL when it cannot."""
    url = f"{api_url.rstrip('/')}/cluster"
    try:
        response = open_url(url, timeout=timeout, follow_redirects="none")
        data = json.loads(response.read())
    except (OSError, ValueError, http.client.HTTPException, UrlsConnectionError) as exc:
        raise PatroniError(f"{url}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("members", []), list):
        raise PatroniError(f"{url}: not a Patroni cluster view: {str(data)[:200]}")
    return data


def _names(members: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(m["name"]) for m in members]


def summarize(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """What the playbooks ask of a cluster view, from its ``members`` list.

    * ``leader``: the leader's name when exactly one member leads, else ``""``
      (``leaders`` lists them all); ``standby_leader``: that leader is a
      standby cluster's standby leader (it replicates from another cluster);
    * ``running``: members whose PostgreSQL runs (``running``/``streaming``);
    * ``replicas``: members with a replica role; ``healthy_replicas``: of those,
      running on the leader's timeline;
    * ``synchronous_mode``: a member is a synchronous standby;
    * ``failover_candidates``: healthy replicas not tagged ``nofailover``, and
      in synchronous mode synchronous standbys only: who a switchover may promote.
    """
    members = [dict(m) for m in cluster.get("members", []) if isinstance(m, Mapping) and "name" in m]
    leaders = [m for m in members if m.get("role") in LEADER_ROLES]
    leader = leaders[0] if len(leaders) == 1 else None
    timeline = leader.get("timeline") if leader is not None else None
    replicas = [m for m in members if m.get("role") in REPLICA_ROLES]
    healthy = [
        m
        for m in replicas
        if m.get("state") in RUNNING_STATES and timeline is not None and m.get("timeline") == timeline
    ]
    sync_standbys = [m for m in members if m.get("role") == "sync_standby"]
    candidates = [
        m
        for m in healthy
        if not (m.get("tags") or {}).get("nofailover")
        and (not sync_standbys or m.get("role") == "sync_standby")
    ]
    return {
        "members": members,
        "leader": str(leader["name"]) if leader is not None else "",
        "leaders": _names(leaders),
        "leader_timeline": timeline,
        "standby_leader": leader is not None and leader.get("role") == STANDBY_LEADER_ROLE,
        "running": _names([m for m in members if m.get("state") in RUNNING_STATES]),
        "replicas": _names(replicas),
        "healthy_replicas": _names(healthy),
        "synchronous_mode": bool(sync_standbys),
        "sync_standbys": _names(sync_standbys),
        "failover_candidates": _names(candidates),
    }
