# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AKS side of a region: the aks_cluster role's settings checked, and the module arguments built.

One place for both, so they can be unit-tested without Azure:

* ``problems(settings, register)`` - every input Azure would refuse or the
  platform cannot use, each message starting with the variable's name;
  nothing here talks to Azure.
* ``network_arguments``, ``cluster_arguments``, ``pool_arguments`` - the
  arguments of azure.azcollection's ``azure_rm_resourcegroup``,
  ``azure_rm_virtualnetwork``, ``azure_rm_subnet``, ``azure_rm_aks`` and
  ``azure_rm_aksagentpool`` (their options in azure.azcollection 3.12.0).
* ``zone_problems`` - pools whose zones the VM size does not offer, from
  ``azure_rm_vmsku_info``'s answer (only Azure knows: a read, before any change).
* ``cli_steps`` - what those modules cannot set (maintenance windows,
  secret rotation), as ``az`` commands for the operator.

``settings`` maps the role's variable names (``aks_cluster_*``) to their values.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

P = "aks_cluster_"
# Azure's naming rules (learn.microsoft.com, "Naming rules and restrictions for Azure resources", and
# the AKS node pool docs): a cluster name is 1-63 letters, digits, '_' and '-', starting and ending
# with a letter or digit; a DNS prefix 1-54 letters, digits and '-', same ends; a Linux node pool
# name 1-12 lower-case letters and digits, starting with a letter; a resource group 1-90 letters,
# digits, '_', '-', '.', '(' and ')', not ending with '.'; a VNet or subnet 2-80 (subnet 1-80)
# letters, digits, '_', '.', '-', starting with a letter or digit, ending with one or '_'.
NAMES: Dict[str, Tuple[str, str]] = {
    "cluster": (r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$", "1-63 letters, digits, '_' and '-'"),
    "dns_prefix": (r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,52}[A-Za-z0-9])?$", "1-54 letters, digits and '-'"),
    "pool": (r"^[a-z][a-z0-9]{0,11}$", "1-12 lower-case letters and digits, starting with a letter"),
    "resource_group": (r"^[-\w.()]{0,89}[-\w()]$", "1-90 letters, digits, '_', '-', '.', '(' and ')'"),
    "network": (r"^[A-Za-z0-9](?:[\w.-]{0,78}\w)?$", "1-80 letters, digits, '_', '.' and '-'"),
    "location": (r"^[a-z0-9]+$", "an Azure region's name, e.g. westeurope"),
}
START_END = "starting and ending with a letter or digit"
VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
RESOURCE_ID = r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/%s/[^/]+$"
# Variables holding a resource ID: the resource type, and what empty means.
RESOURCE_IDS = (
    ("user_assigned_identity", "Microsoft.ManagedIdentity/userAssignedIdentities", "system-assigned"),
    ("monitoring_workspace_id", "Microsoft.OperationalInsights/workspaces", "no Azure Monitor"),
)
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
LABEL_KEY = re.compile(r"^(%s/)?[A-Za-z0-9]([-\w.]{0,61}[A-Za-z0-9])?$" % DNS_SUBDOMAIN)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-\w.]{0,61}[A-Za-z0-9])?)?$")
TAINT = re.compile(r"^[^=:\s]+(=[^:\s]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$")
# Labels AKS sets itself and refuses on a node pool.
RESERVED_LABEL_PREFIXES = ("kubernetes.azure.com/", "kubernetes.io/", "k8s.io/")
SURGE = re.compile(r"^([1-9]\d*)(%?)$")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
UTC_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
# Azure reserves 5 addresses of every subnet; Azure CNI (flat) gives each node one and each of its
# pods one, for the pool's largest size plus its upgrade surge.
AZURE_RESERVED = 5


def _name_problem(var: str, value: Any, kind: str) -> Optional[str]:
    pattern, rule = NAMES[kind]
    if isinstance(value, str) and re.match(pattern, value):
        return None
    ends = "" if kind in ("pool", "location", "resource_group") else ", " + START_END
    return "%s is %r: Azure refuses it, it must be %s%s." % (var, value, rule, ends)


def _network(value: Any) -> Optional[IPNetwork]:
    try:
        return ipaddress.ip_network(str(value), strict=True) if isinstance(value, str) else None
    except ValueError:
        return None


def _pool_var(pool: Mapping[str, Any], index: int, key: str) -> str:
    return "%spools[%s].%s" % (P, pool.get("name", index), key)


def _nonempty(settings: Mapping[str, Any], names: Iterable[str]) -> List[str]:
    return ["%s%s must be set." % (P, name) for name in names if settings.get(P + name) in (None, "", [], {})]


def _cluster_problems(s: Mapping[str, Any]) -> List[str]:
    found = _nonempty(
        s, ("location", "resource_group", "name", "kubernetes_version", "vnet_name", "vnet_address_prefixes")
    )
    for kind, var in (
        ("cluster", "name"),
        ("location", "location"),
        ("resource_group", "resource_group"),
        ("network", "vnet_name"),
    ):
        if s.get(P + var):
            found.extend(p for p in [_name_problem(P + var, s[P + var], kind)] if p)
    if s.get(P + "dns_prefix"):
        found.extend(p for p in [_name_problem(P + "dns_prefix", s[P + "dns_prefix"], "dns_prefix")] if p)
    if s.get(P + "node_resource_group"):
        problem = _name_problem(P + "node_resource_group", s[P + "node_resource_group"], "resource_group")
        found.extend([problem] if problem else [])
    version = s.get(P + "kubernetes_version")
    if version and not VERSION.match(str(version)):
        found.append(
            "%skubernetes_version is %r: azure_rm_aks needs a full version AKS offers in the region "
            "(major.minor.patch, e.g. 1.31.5: az aks get-versions -l <location>)." % (P, version)
        )
    return found


def _access_problems(s: Mapping[str, Any]) -> List[str]:
    found = []
    ranges = s.get(P + "authorized_ip_ranges") or []
    if s.get(P + "private_api"):
        if ranges:
            found.append(
                "%sauthorized_ip_ranges must be empty with %sprivate_api: a private API server has no "
                "public endpoint to restrict (azure_rm_aks refuses both)." % (P, P)
            )
    elif not ranges:
        found.append(
            "%sauthorized_ip_ranges must list the networks that may reach a public API server "
            "(%sprivate_api is false): an empty list opens it to the whole Internet." % (P, P)
        )
    found.extend(
        "%sauthorized_ip_ranges: %r is not a network in CIDR notation." % (P, r)
        for r in ranges
        if _network(r) is None
    )
    for var, kind, empty in RESOURCE_IDS:
        value = s.get(P + var)
        if value and not re.match(RESOURCE_ID % re.escape(kind), str(value), re.IGNORECASE):
            found.append(
                "%s%s is %r: it must be a resource ID (/subscriptions/.../providers/%s/<name>), "
                "or empty for %s." % (P, var, value, kind, empty)
            )
    found.extend(
        "%saad_admin_group_object_ids: %r is not an object ID (a GUID)." % (P, g)
        for g in s.get(P + "aad_admin_group_object_ids") or []
        if not GUID.match(str(g))
    )
    return found


def _maintenance_problems(s: Mapping[str, Any]) -> List[str]:
    window = s.get(P + "maintenance_window") or {}
    ok = (
        isinstance(window, Mapping)
        and window.get("day") in DAYS
        and HHMM.match(str(window.get("start", "")))
        and isinstance(window.get("hours"), int)
        and 4 <= window["hours"] <= 24
        and UTC_OFFSET.match(str(window.get("utc_offset", "")))
    )
    if ok:
        return []
    return [
        "%smaintenance_window is %r: it needs day (Monday..Sunday), start (HH:MM), hours (4-24: AKS "
        "needs at least 4 hours for its planned upgrades) and utc_offset (+HH:MM or -HH:MM)." % (P, window)
    ]


def _subnets(s: Mapping[str, Any]) -> Tuple[Dict[str, IPNetwork], List[str]]:
    """The VNet plan's subnets by name, and the problems of the plan itself."""
    found: List[str] = []
    vnet = [_network(p) for p in s.get(P + "vnet_address_prefixes") or []]
    found.extend(
        "%svnet_address_prefixes: %r is not a network in CIDR notation." % (P, p)
        for p, n in zip(s.get(P + "vnet_address_prefixes") or [], vnet, strict=True)
        if n is None
    )
    subnets: Dict[str, IPNetwork] = {}
    entries = s.get(P + "subnets") or []
    if not entries:
        found.append("%ssubnets must list the VNet's subnets ({name, cidr}); the node pools use them." % P)
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        where = "%ssubnets[%s]" % (P, name or index)
        net = _network(entry.get("cidr")) if isinstance(entry, Mapping) else None
        problem = _name_problem(where + ".name", name, "network")
        if problem:
            found.append(problem)
        elif name in subnets:
            found.append("%s: the name %s is used twice." % (where, name))
        if net is None:
            found.append("%s.cidr: %r is not a network in CIDR notation." % (where, _get(entry, "cidr")))
            continue
        if vnet and not any(v is not None and _within(net, v) for v in vnet):
            found.append("%s.cidr: %s is outside %svnet_address_prefixes." % (where, net, P))
        found.extend(
            "%s.cidr: %s overlaps subnet %s (%s)." % (where, net, other, net2)
            for other, net2 in subnets.items()
            if net.overlaps(net2)
        )
        if isinstance(name, str):
            subnets[name] = net
    return subnets, found


def _get(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, Mapping) else None


def _within(inner: IPNetwork, outer: IPNetwork) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _surge_nodes(pool: Mapping[str, Any]) -> int:
    # AKS's own default surge for a pool without one is 10%.
    match = SURGE.match(str(pool.get("max_surge") or "10%"))
    if not match:
        return 0
    value = int(match.group(1))
    return math.ceil(int(pool.get("max_count") or 0) * value / 100) if match.group(2) else value


def _pool_shape_problems(pool: Mapping[str, Any], index: int, subnets: Mapping[str, IPNetwork]) -> List[str]:
    def var(key: str) -> str:
        return _pool_var(pool, index, key)

    found = []
    if pool.get("mode") not in ("System", "User"):
        found.append("%s is %r: System or User." % (var("mode"), pool.get("mode")))
    if not isinstance(pool.get("vm_size"), str) or not pool.get("vm_size"):
        found.append("%s must name a VM size (e.g. Standard_D4s_v5)." % var("vm_size"))
    low, high = pool.get("min_count"), pool.get("max_count")
    least = 1 if pool.get("mode") == "System" else 0
    if not (isinstance(low, int) and isinstance(high, int) and least <= low <= high <= 1000):
        found.append(
            "%s (%r) and %s (%r) must be whole numbers with %d <= min_count <= max_count <= 1000 "
            "(a System pool keeps at least one node)."
            % (var("min_count"), low, var("max_count"), high, least)
        )
    zones = pool.get("zones") or []
    if not isinstance(zones, list) or any(z not in (1, 2, 3) for z in zones) or len(set(zones)) != len(zones):
        found.append(
            "%s is %r: a list of distinct availability zones 1, 2, 3 (or empty)." % (var("zones"), zones)
        )
    max_pods = pool.get("max_pods")
    if not isinstance(max_pods, int) or not 10 <= max_pods <= 250:
        found.append("%s is %r: Azure CNI allows 10 to 250 pods per node." % (var("max_pods"), max_pods))
    if pool.get("subnet") not in subnets:
        found.append(
            "%s is %r: it must name a subnet of %ssubnets (%s)."
            % (var("subnet"), pool.get("subnet"), P, ", ".join(sorted(subnets)) or "none")
        )
    if pool.get("max_surge") is not None and not SURGE.match(str(pool["max_surge"])):
        found.append(
            "%s is %r: a node count (e.g. 1) or a percentage (e.g. 33%%)."
            % (var("max_surge"), pool["max_surge"])
        )
    return found


def _pool_scheduling_problems(pool: Mapping[str, Any], index: int) -> List[str]:
    found = []
    labels = pool.get("labels") or {}
    if not isinstance(labels, Mapping):
        return ["%s must be a mapping of node labels." % _pool_var(pool, index, "labels")]
    for key, value in labels.items():
        if not LABEL_KEY.match(str(key)) or not LABEL_VALUE.match(str(value)):
            found.append(
                "%s: %s=%s is not a Kubernetes label (key [prefix/]name, value at most 63 letters, "
                "digits, '-', '_', '.')." % (_pool_var(pool, index, "labels"), key, value)
            )
        elif str(key).startswith(RESERVED_LABEL_PREFIXES):
            found.append(
                "%s: %s uses a prefix AKS reserves (%s)."
                % (_pool_var(pool, index, "labels"), key, ", ".join(RESERVED_LABEL_PREFIXES))
            )
    taints = pool.get("taints") or []
    found.extend(
        "%s: %r is not a taint key=value:NoSchedule|PreferNoSchedule|NoExecute."
        % (_pool_var(pool, index, "taints"), taint)
        for taint in (taints if isinstance(taints, list) else [taints])
        if not TAINT.match(str(taint))
    )
    return found


def _pools_problems(s: Mapping[str, Any], subnets: Mapping[str, IPNetwork]) -> List[str]:
    pools = s.get(P + "pools") or []
    found: List[str] = []
    if not any(isinstance(p, Mapping) and p.get("mode") == "System" for p in pools):
        found.append("%spools must hold at least one System pool (AKS runs its own pods there)." % P)
    names = [p.get("name") for p in pools if isinstance(p, Mapping)]
    for index, pool in enumerate(pools):
        if not isinstance(pool, Mapping):
            found.append("%spools[%d] must be a mapping." % (P, index))
            continue
        problem = _name_problem(_pool_var(pool, index, "name"), pool.get("name"), "pool")
        found.extend([problem] if problem else [])
        if names.count(pool.get("name")) > 1 and names.index(pool.get("name")) == index:
            found.append("%spools: the name %s is used twice." % (P, pool.get("name")))
        found.extend(_pool_shape_problems(pool, index, subnets))
        found.extend(_pool_scheduling_problems(pool, index))
    if not found:
        found.extend(_odoo_pool_problems(s))
        found.extend(_subnet_size_problems(s, subnets))
    return found


def _odoo_pool_problems(s: Mapping[str, Any]) -> List[str]:
    """The Odoo HTTP pool keeps the disruption budget through a node drain, in every zone it uses."""
    name = s.get(P + "odoo_pool")
    pools = {p["name"]: p for p in s.get(P + "pools") or []}
    if name not in pools:
        return ["%sodoo_pool is %r: it must name a pool of %spools." % (P, name, P)]
    pool = pools[name]
    budget = s.get(P + "odoo_pdb_min_available")
    if not isinstance(budget, int) or budget < 0:
        return ["%sodoo_pdb_min_available is %r: a whole number, at least 0." % (P, budget)]
    # The HTTP pods spread one per node (odoo_kubernetes_spread_nodes DoNotSchedule): budget + 1 pods
    # on distinct nodes lets a drain evict one; and the autoscaler's minimum keeps a node per zone.
    needed = max(budget + 1, len(pool.get("zones") or []))
    if pool["min_count"] >= needed:
        return []
    return [
        "%spools[%s].min_count is %d: the Odoo HTTP pool needs at least %d nodes - "
        "%sodoo_pdb_min_available (%d) + 1, so that a node drain can evict a pod while the budget "
        "holds, and one node in each of its %d zones."
        % (P, name, pool["min_count"], needed, P, budget, len(pool.get("zones") or []))
    ]


def _subnet_size_problems(s: Mapping[str, Any], subnets: Mapping[str, IPNetwork]) -> List[str]:
    if s.get(P + "network_plugin_mode") == "Overlay":
        return []  # pods take their addresses from aks_cluster_pod_cidr: one address per node
    needed: Dict[str, int] = {}
    for pool in s.get(P + "pools") or []:
        nodes = pool["max_count"] + _surge_nodes(pool)
        needed[pool["subnet"]] = needed.get(pool["subnet"], 0) + nodes * (pool["max_pods"] + 1)
    return [
        "%ssubnets[%s].cidr: %s has %d usable addresses, its pools need %d at their largest "
        "(Azure CNI: (max_count + max_surge) x (max_pods + 1) per pool): make it larger, or lower the "
        "pools' max_count or max_pods."
        % (P, name, subnets[name], subnets[name].num_addresses - AZURE_RESERVED, want)
        for name, want in sorted(needed.items())
        if want > subnets[name].num_addresses - AZURE_RESERVED
    ]


def _kubernetes_network_problems(s: Mapping[str, Any]) -> List[str]:
    found: List[str] = []
    service = _network(s.get(P + "service_cidr"))
    if service is None:
        return ["%sservice_cidr is %r: a network in CIDR notation." % (P, s.get(P + "service_cidr"))]
    try:
        dns = ipaddress.ip_address(str(s.get(P + "dns_service_ip")))
    except ValueError:
        dns = None
    if dns is None or dns not in service or dns in (service.network_address, service.network_address + 1):
        found.append(
            "%sdns_service_ip is %r: an address inside %sservice_cidr (%s), not its first two "
            "(the network and the API server's Service)." % (P, s.get(P + "dns_service_ip"), P, service)
        )
    mode = s.get(P + "network_plugin_mode")
    pod = _network(s.get(P + "pod_cidr"))
    if mode == "Overlay" and pod is None:
        found.append("%spod_cidr must be a network in CIDR notation with Azure CNI Overlay." % P)
    if mode != "Overlay" and s.get(P + "pod_cidr"):
        found.append(
            "%spod_cidr must be empty without %snetwork_plugin_mode Overlay: pods take their "
            "addresses from their pool's subnet." % (P, P)
        )
    own: List[Tuple[str, IPNetwork]] = [(P + "service_cidr", service)]
    if mode == "Overlay" and pod is not None:
        own.append((P + "pod_cidr", pod))
    vnet = [
        (P + "vnet_address_prefixes", n) for n in map(_network, s.get(P + "vnet_address_prefixes") or []) if n
    ]
    found.extend(
        "%s (%s) overlaps %s (%s)." % (var, net, other, net2)
        for i, (var, net) in enumerate(own)
        for other, net2 in own[i + 1 :] + vnet
        if net.overlaps(net2)
    )
    return found


def register_networks(register: Any) -> Tuple[List[Tuple[str, IPNetwork]], List[IPNetwork]]:
    """What the branch register reserves (branch LANs, tunnel pools) and its platform networks.

    ``register`` is a checked ``branch_register.register.Register``; retired
    branches count, as their addresses stay reserved.
    """
    reserved: List[Tuple[str, IPNetwork]] = []
    platform: List[IPNetwork] = []
    for region in register.regions:
        platform.extend(ipaddress.ip_network(str(n)) for n in region.platform_networks)
        if region.tunnel_pool:
            reserved.append(("the tunnel pool of region %s" % region.name, region.tunnel_pool))
        reserved.extend(
            ("the tunnel pool of hub %s" % hub.name, hub.tunnel_pool)
            for hub in region.hubs
            if hub.tunnel_pool
        )
        reserved.extend(
            ("the LAN of branch %s" % branch.code, lan)
            for branch in region.branches
            for lan in branch.lan_subnets
        )
    reserved = [(what, ipaddress.ip_network(str(net))) for what, net in reserved]
    return reserved, platform


def _register_problems(
    s: Mapping[str, Any], reserved: Sequence[Tuple[str, IPNetwork]], platform: Sequence[IPNetwork]
) -> List[str]:
    mine: List[Tuple[str, IPNetwork]] = [
        (P + "vnet_address_prefixes", n) for n in map(_network, s.get(P + "vnet_address_prefixes") or []) if n
    ]
    for var in ("service_cidr", "pod_cidr"):
        net = _network(s.get(P + var))
        if net is not None:
            mine.append((P + var, net))
    found = [
        "%s (%s) overlaps %s (%s) in the branch register: traffic to it would stay in the cluster."
        % (var, net, what, theirs)
        for var, net in mine
        for what, theirs in reserved
        if net.overlaps(theirs)
    ]
    found.extend(
        "%svnet_address_prefixes: %s is not within the branch register's platform_networks (%s): add it "
        "there, so that the register refuses branch networks that overlap it."
        % (P, net, ", ".join(map(str, platform)))
        for var, net in mine
        if var == P + "vnet_address_prefixes" and platform and not any(_within(net, p) for p in platform)
    )
    return found


def problems(settings: Mapping[str, Any], register: Any = None) -> List[str]:
    """Every problem of the role's settings, each naming its variable; ``[]`` when Azure may be asked.

    ``register``: the branch register (``Register``) the networks must keep clear of, or None.
    """
    found = _cluster_problems(settings) + _access_problems(settings) + _maintenance_problems(settings)
    subnets, plan = _subnets(settings)
    found += plan
    found += _pools_problems(settings, subnets)
    found += _kubernetes_network_problems(settings)
    if register is not None:
        found += _register_problems(settings, *register_networks(register))
    return found


# ---- module arguments -------------------------------------------------------------------------


def network_arguments(settings: Mapping[str, Any]) -> Dict[str, Any]:
    """Arguments of azure_rm_resourcegroup, azure_rm_virtualnetwork and each azure_rm_subnet."""
    s = settings
    group = s[P + "resource_group"]
    subnets = []
    for entry in s[P + "subnets"]:
        subnet: Dict[str, Any] = {
            "resource_group": group,
            "virtual_network_name": s[P + "vnet_name"],
            "name": entry["name"],
            "address_prefix_cidr": entry["cidr"],
        }
        if entry.get("service_endpoints"):
            subnet["service_endpoints"] = [{"service": e} for e in entry["service_endpoints"]]
        if entry.get("delegation"):
            subnet["delegations"] = [
                {"name": entry["delegation"].rsplit("/", 1)[-1], "serviceName": entry["delegation"]}
            ]
        subnets.append(subnet)
    return {
        "resource_group": {"name": group, "location": s[P + "location"], "tags": dict(s[P + "tags"])},
        "virtual_network": {
            "resource_group": group,
            "name": s[P + "vnet_name"],
            "location": s[P + "location"],
            "address_prefixes_cidr": list(s[P + "vnet_address_prefixes"]),
            "tags": dict(s[P + "tags"]),
        },
        "subnets": subnets,
    }


def _version(text: Any) -> Tuple[int, ...]:
    match = VERSION.match(str(text or ""))
    return tuple(int(x) for x in match.groups()) if match else ()


def _count(pool: Mapping[str, Any], current: Mapping[str, int]) -> int:
    """The node count to send: AKS refuses a manual scale of an autoscaled pool, so keep what runs."""
    low, high = int(pool["min_count"]), int(pool["max_count"])
    if low == high or pool["name"] not in current:
        return low
    return min(max(int(current[pool["name"]]), low), high)


def _current_counts(current: Optional[Mapping[str, Any]]) -> Dict[str, int]:
    profiles = (current or {}).get("agent_pool_profiles") or []
    return {p["name"]: int(p.get("count") or 0) for p in profiles if isinstance(p, Mapping) and "name" in p}


def cluster_arguments(
    settings: Mapping[str, Any], subnet_ids: Mapping[str, str], current: Optional[Mapping[str, Any]] = None
) -> Dict[str, Any]:
    """Arguments of azure_rm_aks: the cluster with every node pool.

    ``subnet_ids``: subnet name -> resource ID (azure_rm_subnet's ``state.id``).
    ``current``: the cluster as azure_rm_aks_info returns it (``aks[0]``), or None when it does not
    exist yet: an autoscaled pool keeps its current node count, and a cluster that AKS upgraded
    beyond ``aks_cluster_kubernetes_version`` (its upgrade channel) keeps its version.
    """
    s = settings
    version = s[P + "kubernetes_version"]
    running = (current or {}).get("kubernetes_version")
    if _version(running) > _version(version):
        version = running
    counts = _current_counts(current)
    args: Dict[str, Any] = {
        "resource_group": s[P + "resource_group"],
        "name": s[P + "name"],
        "location": s[P + "location"],
        "dns_prefix": s[P + "dns_prefix"] or s[P + "name"],
        "kubernetes_version": version,
        "enable_rbac": True,
        "identity": (
            {"type": "UserAssigned", "user_assigned_identities": s[P + "user_assigned_identity"]}
            if s[P + "user_assigned_identity"]
            else {"type": "SystemAssigned"}
        ),
        "network_profile": _network_profile(s),
        "api_server_access_profile": (
            {"enable_private_cluster": True}
            if s[P + "private_api"]
            else {
                "enable_private_cluster": False,
                "authorized_ip_ranges": list(s[P + "authorized_ip_ranges"]),
            }
        ),
        "addon": _addons(s),
        "auto_upgrade_profile": {
            "upgrade_channel": s[P + "upgrade_channel"],
            "node_os_upgrade_channel": s[P + "node_os_upgrade_channel"],
        },
        "agent_pool_profiles": [_pool_profile(p, subnet_ids, counts) for p in s[P + "pools"]],
        "tags": dict(s[P + "tags"]),
    }
    if s[P + "node_resource_group"]:
        args["node_resource_group"] = s[P + "node_resource_group"]
    if s[P + "aad_admin_group_object_ids"]:
        args["aad_profile"] = {
            "managed": True,
            "enable_azure_rbac": False,
            "admin_group_object_ids": list(s[P + "aad_admin_group_object_ids"]),
        }
        args["disable_local_accounts"] = True
    return args


def _network_profile(s: Mapping[str, Any]) -> Dict[str, Any]:
    profile = {
        "network_plugin": "azure",
        "network_policy": s[P + "network_policy"],
        "service_cidr": s[P + "service_cidr"],
        "dns_service_ip": s[P + "dns_service_ip"],
        "load_balancer_sku": "standard",
        "outbound_type": s[P + "outbound_type"],
    }
    if s[P + "network_plugin_mode"] == "Overlay":
        profile["network_plugin_mode"] = "Overlay"
        profile["pod_cidr"] = s[P + "pod_cidr"]
    return profile


def _addons(s: Mapping[str, Any]) -> Dict[str, Any]:
    addons: Dict[str, Any] = {
        "azure_keyvault_secrets_provider": {"enabled": bool(s[P + "keyvault_secrets_provider"])}
    }
    if s[P + "monitoring_workspace_id"]:
        addons["monitoring"] = {
            "enabled": True,
            "log_analytics_workspace_resource_id": s[P + "monitoring_workspace_id"],
        }
    return addons


def _pool_profile(
    pool: Mapping[str, Any], subnet_ids: Mapping[str, str], counts: Mapping[str, int]
) -> Dict[str, Any]:
    autoscaled = pool["min_count"] != pool["max_count"]
    profile: Dict[str, Any] = {
        "name": pool["name"],
        "mode": pool["mode"],
        "type": "VirtualMachineScaleSets",
        "os_type": "Linux",
        "vm_size": pool["vm_size"],
        "count": _count(pool, counts),
        "enable_auto_scaling": autoscaled,
        "max_pods": pool["max_pods"],
        "vnet_subnet_id": subnet_ids.get(pool["subnet"], ""),
        "node_labels": dict(pool.get("labels") or {}),
    }
    if autoscaled:
        profile["min_count"] = pool["min_count"]
        profile["max_count"] = pool["max_count"]
    if pool.get("zones"):
        profile["availability_zones"] = list(pool["zones"])
    for key in ("os_disk_size_gb", "os_sku"):
        if pool.get(key):
            profile[key] = pool[key]
    return profile


def pool_arguments(settings: Mapping[str, Any], subnet_ids: Mapping[str, str]) -> List[Dict[str, Any]]:
    """Arguments of azure_rm_aksagentpool for each pool: what azure_rm_aks cannot set (taints, surge).

    ``count`` is left out: the module keeps the pool's current count (the cluster step set it).
    """
    s = settings
    result = []
    for pool in s[P + "pools"]:
        autoscaled = pool["min_count"] != pool["max_count"]
        args: Dict[str, Any] = {
            "resource_group": s[P + "resource_group"],
            "cluster_name": s[P + "name"],
            "name": pool["name"],
            "mode": pool["mode"],
            "vm_size": pool["vm_size"],
            "os_type": "Linux",
            "type_properties_type": "VirtualMachineScaleSets",
            "enable_auto_scaling": autoscaled,
            "max_pods": pool["max_pods"],
            "vnet_subnet_id": subnet_ids.get(pool["subnet"], ""),
            "node_labels": dict(pool.get("labels") or {}),
            "node_taints": list(pool.get("taints") or []),
        }
        if autoscaled:
            args["min_count"] = pool["min_count"]
            args["max_count"] = pool["max_count"]
        if pool.get("zones"):
            args["availability_zones"] = list(pool["zones"])
        if pool.get("max_surge") is not None:
            args["upgrade_settings"] = {"max_surge": str(pool["max_surge"])}
        for key in ("os_disk_size_gb", "os_sku"):
            if pool.get(key):
                args[key] = pool[key]
        result.append(args)
    return result


def online_problems(
    settings: Mapping[str, Any],
    skus: Mapping[str, Sequence[Mapping[str, Any]]],
    versions: Sequence[str],
    current: Optional[Mapping[str, Any]] = None,
) -> List[str]:
    """What only Azure can tell, from its read-only answers, before any change.

    ``versions``: azure_rm_aksversion_info's ``azure_aks_versions`` for the location. The version must
    be one of them, unless the cluster already runs it or a newer one.
    """
    found = zone_problems(settings, skus)
    version = settings[P + "kubernetes_version"]
    running = (current or {}).get("kubernetes_version")
    if version not in versions and not (running and _version(running) >= _version(version)):
        found.append(
            "%skubernetes_version is %s: AKS does not offer it in %s (offered: %s)."
            % (P, version, settings[P + "location"], ", ".join(sorted(versions, key=_version)) or "none")
        )
    return found


def zone_problems(settings: Mapping[str, Any], skus: Mapping[str, Sequence[Mapping[str, Any]]]) -> List[str]:
    """Pools whose VM size is not offered in the region, or not in one of their zones.

    ``skus``: VM size -> azure_rm_vmsku_info's ``available_skus`` for it (``size`` matches partial
    names, so only the exact name counts). Zones the subscription may not use
    (``restrictions`` of type Zone) do not count.
    """
    found = []
    location = str(settings[P + "location"]).lower()
    for index, pool in enumerate(settings[P + "pools"]):
        size = pool["vm_size"]
        offered = _zones_offered(skus.get(size) or [], size, location)
        if offered is None:
            found.append(
                "%s is %s: not offered to this subscription in %s."
                % (_pool_var(pool, index, "vm_size"), size, settings[P + "location"])
            )
            continue
        missing = [z for z in pool.get("zones") or [] if str(z) not in offered]
        if missing:
            found.append(
                "%s is %r: %s is not offered in zone %s of %s (offered: %s)."
                % (
                    _pool_var(pool, index, "zones"),
                    pool["zones"],
                    size,
                    ", ".join(map(str, missing)),
                    settings[P + "location"],
                    ", ".join(sorted(offered)) or "no zone",
                )
            )
    return found


def _zones_offered(skus: Sequence[Mapping[str, Any]], size: str, location: str) -> Optional[set[str]]:
    for sku in skus:
        if str(sku.get("name", "")).lower() != size.lower() or sku.get("resource_type") != "virtualMachines":
            continue
        zones: set[str] = set()
        for info in sku.get("location_info") or []:
            if str(info.get("location", "")).lower() == location:
                zones |= {str(z) for z in info.get("zones") or []}
        for restriction in sku.get("restrictions") or []:
            details = restriction.get("restriction_info") or {}
            restricted = [str(x).lower() for x in details.get("locations") or []]
            if restriction.get("type") == "Location" and location in restricted:
                return None
            if restriction.get("type") == "Zone":
                zones -= {str(z) for z in details.get("zones") or []}
        return zones
    return None


def cli_steps(settings: Mapping[str, Any]) -> List[str]:
    """``az`` commands for what azure.azcollection 3.12.0 cannot set on an AKS cluster."""
    s = settings
    w = s[P + "maintenance_window"]
    target = "--resource-group %s --cluster-name %s" % (s[P + "resource_group"], s[P + "name"])
    window = "--schedule-type Weekly --day-of-week %s --interval-weeks 1 --start-time %s" % (
        w["day"],
        w["start"],
    )
    window += " --duration %d --utc-offset %s" % (w["hours"], w["utc_offset"])
    # "add" the first time; "update" (same options) when the configuration exists.
    steps = [
        "az aks maintenanceconfiguration add %s --name %s %s" % (target, name, window)
        for name in ("aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule")
    ]
    steps.append(
        "az aks show --resource-group %s --name %s --query storageProfile.fileCsiDriver.enabled  # true; "
        "else: az aks update --resource-group %s --name %s --enable-file-driver"
        % (s[P + "resource_group"], s[P + "name"], s[P + "resource_group"], s[P + "name"])
    )
    if s[P + "keyvault_secrets_provider"]:
        steps.append(
            "az aks addon update --resource-group %s --name %s --addon azure-keyvault-secrets-provider "
            "--enable-secret-rotation" % (s[P + "resource_group"], s[P + "name"])
        )
    return steps
