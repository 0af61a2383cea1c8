# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Branch register: load, validate and compute the VPN view of a retailer's branches.

The register is one YAML document per region (see plugins/README.md for the
schema).  This module is pure Python (standard library only; PyYAML is used
when present to read files) so that the inventory plugin, the operator CLI
(retailops-branchctl, loadtests/branchctl.py), the Traefik allow-list generation and the load harness
all share one implementation.

Entry points:

- ``load_register(paths, load=None)``: read register files or directories.
- ``build_register(documents)``: the same from already parsed
  ``(source_name, data)`` pairs.

Both return a ``Register`` whose ``problems`` list holds every validation
problem found (nothing stops at the first one).  Computed views
(``inventory()``, ``allow_lists()``, ``branch_list()``, ``hub_peers()``) are
only meaningful when ``problems`` is empty; ``Register.check()`` raises
``RegisterError`` otherwise.

Tunnel addresses: each pool hands out addresses in register order (the order
of branches in the region file).  A branch's first choice is derived from a
hash of its code; when that address is taken it probes upwards.  A branch
therefore depends only on the branches listed before it, so appending a
branch never moves anyone, and offboarding by ``retired: true`` keeps the
retired branch's address reserved so nobody moves either.  ``tunnel_address``
pins an address explicitly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - the controller always has PyYAML
    HAS_YAML = False

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

KINDS = ("store", "warehouse", "office", "dark_store")
LINKS = ("fiber", "broadband", "lte", "dual")
PROTOCOLS = ("tcp", "udp")
DEFAULT_TIERS = {
    "critical": {"second_hub": True, "description": "Revenue stops without it; may use a second hub."},
    "standard": {"second_hub": False, "description": "Normal store or office."},
    "basic": {"second_hub": False, "description": "Best effort: pop-ups, small offices."},
}

REGION_FIELDS = (
    "region",
    "description",
    "platform_networks",
    "tunnel_pool",
    "erp_entrypoints",
    "tiers",
    "integrations",
    "hubs",
    "branches",
)
HUB_FIELDS = ("name", "endpoint", "listen_port", "tunnel_pool", "tunnel_address")
BRANCH_REQUIRED = ("code", "name", "country", "kind", "tier", "link", "lan_subnets", "hub")
BRANCH_OPTIONAL = (
    "endpoint",
    "roaming",
    "second_hub",
    "integrations",
    "tunnel_address",
    "retired",
    "vars",
    "notes",
)
TIER_FIELDS = ("second_hub", "description")
INTEGRATION_FIELDS = ("name", "endpoint", "protocol")

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CODE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)%s(?:\.%s)*$" % (_LABEL, _LABEL))
GROUP_SAFE_RE = re.compile(r"[^A-Za-z0-9_]")
YAML_SUFFIXES = (".yml", ".yaml")


class RegisterError(Exception):
    """Raised by ``Register.check()``; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = ["branch register has %d problem(s):" % len(self.problems)]
        lines.extend("  - %s" % p for p in self.problems)
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Problem:
    """One validation finding: where (file, subject, field) and what."""

    source: str
    subject: str
    field: str
    message: str

    def __str__(self) -> str:
        return "%s: %s, field %s: %s" % (self.source, self.subject, self.field, self.message)

    def as_dict(self) -> Dict[str, str]:
        return {"source": self.source, "subject": self.subject, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Endpoint:
    """A ``host:port`` pair; ``host`` is an IP address or a DNS name."""

    host: str
    port: int

    def __str__(self) -> str:
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)


@dataclass(frozen=True)
class Integration:
    name: str
    endpoint: Endpoint
    protocol: str

    def as_dict(self) -> Dict[str, Any]:
        ep = self.endpoint
        return {
            "name": self.name,
            "host": ep.host,
            "port": ep.port,
            "protocol": self.protocol,
            "endpoint": str(ep),
        }


@dataclass
class Hub:
    name: str
    region: str
    source: str
    endpoint: Optional[Endpoint]
    listen_port: Optional[int]
    tunnel_pool: Optional[IPNetwork]
    tunnel_address: Optional[IPAddress] = None


@dataclass
class Branch:
    code: str
    region: str
    source: str
    index: int
    name: Any = None
    country: Any = None
    kind: Any = None
    tier: Any = None
    link: Any = None
    lan_subnets: List[IPNetwork] = field(default_factory=list)
    endpoint: Optional[Endpoint] = None
    roaming: bool = False
    hub: Optional[str] = None
    second_hub: Optional[str] = None
    integrations: List[Integration] = field(default_factory=list)
    pinned_address: Optional[IPAddress] = None
    retired: bool = False
    vars: Dict[str, Any] = field(default_factory=dict)
    notes: Optional[str] = None
    # computed: hub name -> tunnel address on that hub's pool
    tunnel_addresses: Dict[str, IPAddress] = field(default_factory=dict)

    @property
    def hubs(self) -> List[str]:
        return [h for h in (self.hub, self.second_hub) if h]


@dataclass
class Region:
    name: str
    source: str
    description: Optional[str] = None
    platform_networks: List[IPNetwork] = field(default_factory=list)
    tunnel_pool: Optional[IPNetwork] = None
    erp_entrypoints: List[Endpoint] = field(default_factory=list)
    tiers: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    integrations: List[Integration] = field(default_factory=list)
    hubs: Dict[str, Hub] = field(default_factory=dict)
    branches: List[Branch] = field(default_factory=list)
    pool_invalid: bool = False


# --------------------------------------------------------------------------
# small parsers: each returns the value or appends a Problem and returns None
# --------------------------------------------------------------------------


class _Ctx:
    """Collects problems for one subject (region, hub or branch) of one file."""

    def __init__(self, problems: List[Problem], source: str, subject: str) -> None:
        self.problems = problems
        self.source = source
        self.subject = subject

    def add(self, fld: str, message: str) -> None:
        self.problems.append(Problem(self.source, self.subject, fld, message))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean %s" % str(value).lower()
    if value is None:
        return "nothing (null)"
    return "%s %r" % (type(value).__name__, value)


def _string(
    ctx: _Ctx, fld: str, value: Any, pattern: Optional[re.Pattern[str]] = None, hint: str = ""
) -> Optional[str]:
    if isinstance(value, bool) or not isinstance(value, str):
        extra = " (YAML reads NO/yes/on/off as booleans: quote the value)" if isinstance(value, bool) else ""
        ctx.add(fld, "expected a string, got %s%s" % (_describe(value), extra))
        return None
    if not value.strip():
        ctx.add(fld, "must not be empty")
        return None
    if pattern is not None and not pattern.match(value):
        ctx.add(fld, "%r is not valid%s" % (value, ": " + hint if hint else ""))
        return None
    return str(value)


def _bool(ctx: _Ctx, fld: str, value: Any) -> Optional[bool]:
    if not isinstance(value, bool):
        ctx.add(fld, "expected true or false, got %s" % _describe(value))
        return None
    return bool(value)


def _choice(ctx: _Ctx, fld: str, value: Any, choices: Iterable[str], what: str = "value") -> Optional[str]:
    choices = list(choices)
    text = _string(ctx, fld, value)
    if text is None:
        return None
    if text not in choices:
        ctx.add(fld, "unknown %s %r; expected one of: %s" % (what, text, ", ".join(choices)))
        return None
    return text


def _port(ctx: _Ctx, fld: str, value: Any) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        ctx.add(fld, "expected a port number 1-65535, got %s" % _describe(value))
        return None
    return int(value)


def _network(ctx: _Ctx, fld: str, value: Any) -> Optional[IPNetwork]:
    if isinstance(value, bool) or not isinstance(value, str) or "/" not in value:
        ctx.add(fld, "expected a CIDR such as 10.1.0.0/24, got %s" % _describe(value))
        return None
    try:
        return ipaddress.ip_network(value.strip())
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            ctx.add(fld, "%r is not a valid CIDR (%s)" % (value, exc))
        else:
            ctx.add(fld, "%r has host bits set; did you mean %s?" % (value, loose))
        return None


def _address(ctx: _Ctx, fld: str, value: Any) -> Optional[IPAddress]:
    if isinstance(value, bool) or not isinstance(value, str):
        ctx.add(fld, "expected an IP address, got %s" % _describe(value))
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        ctx.add(fld, "%r is not an IP address" % (value,))
        return None


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``host:port`` or ``[v6]:port``; raise ValueError with a reason."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError("IPv6 endpoints are written [address]:port")
        ipaddress.IPv6Address(host)
    else:
        host, sep, port = text.rpartition(":")
        if not sep or not host:
            raise ValueError("expected host:port")
        if ":" in host:
            raise ValueError("IPv6 endpoints are written [address]:port")
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            if not HOSTNAME_RE.match(host) or host.replace(".", "").isdigit():
                raise ValueError("%r is neither an IP address nor a DNS name" % host) from None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("port %r is not 1-65535" % port)
    return Endpoint(host, int(port))


def _endpoint(ctx: _Ctx, fld: str, value: Any) -> Optional[Endpoint]:
    if isinstance(value, bool) or not isinstance(value, str):
        ctx.add(fld, "expected host:port, got %s" % _describe(value))
        return None
    try:
        return parse_endpoint(value)
    except ValueError as exc:
        ctx.add(fld, "%r: %s" % (value, exc))
        return None


def _list(ctx: _Ctx, fld: str, value: Any, allow_empty: bool = True) -> List[Any]:
    if not isinstance(value, list):
        ctx.add(fld, "expected a list, got %s" % _describe(value))
        return []
    if not value and not allow_empty:
        ctx.add(fld, "must list at least one entry")
    return list(value)


def _mapping(ctx: _Ctx, fld: str, value: Any) -> Optional[Dict[str, Any]]:
    if not isinstance(value, dict):
        ctx.add(fld, "expected a mapping, got %s" % _describe(value))
        return None
    return dict(value)


def _unknown(ctx: _Ctx, prefix: str, data: Dict[str, Any], known: Sequence[str]) -> None:
    for key in data:
        if key not in known:
            ctx.add(prefix + str(key), "unknown field; known fields: %s" % ", ".join(known))


def _integrations(ctx: _Ctx, fld: str, value: Any) -> List[Integration]:
    result = []
    for i, item in enumerate(_list(ctx, fld, value)):
        where = "%s[%d]" % (fld, i)
        if isinstance(item, str):
            ep = _endpoint(ctx, where, item)
            if ep is not None:
                result.append(Integration(str(ep), ep, "tcp"))
            continue
        data = _mapping(ctx, where, item)
        if data is None:
            continue
        _unknown(ctx, where + ".", data, INTEGRATION_FIELDS)
        ep = _endpoint(ctx, where + ".endpoint", data.get("endpoint"))
        name = _string(ctx, where + ".name", data["name"]) if "name" in data else (str(ep) if ep else None)
        proto = _choice(ctx, where + ".protocol", data.get("protocol", "tcp"), PROTOCOLS, "protocol")
        if ep is not None and name is not None and proto is not None:
            result.append(Integration(name, ep, proto))
    return result


# --------------------------------------------------------------------------
# document parsing
# --------------------------------------------------------------------------


def _parse_tiers(ctx: _Ctx, value: Any) -> Dict[str, Dict[str, Any]]:
    if value is None:
        return {k: dict(v) for k, v in DEFAULT_TIERS.items()}
    data = _mapping(ctx, "tiers", value)
    tiers: Dict[str, Dict[str, Any]] = {}
    for name, spec in (data or {}).items():
        where = "tiers.%s" % name
        if _string(ctx, where, name, NAME_RE, "tier names are lower-case letters, digits and dashes") is None:
            continue
        found = {} if spec is None else _mapping(ctx, where, spec)
        if found is None:
            continue
        _unknown(ctx, where + ".", found, TIER_FIELDS)
        second = _bool(ctx, where + ".second_hub", found.get("second_hub", False))
        tiers[name] = {"second_hub": bool(second), "description": found.get("description", "")}
    if data is not None and not data:
        ctx.add("tiers", "must define at least one tier (or leave it out for the defaults)")
    return tiers


def _parse_hub(problems: List[Problem], source: str, region: Region, index: int, item: Any) -> Optional[Hub]:
    name_value = item.get("name") if isinstance(item, dict) else None
    label = "hub %s" % name_value if isinstance(name_value, str) else "hubs[%d]" % index
    ctx = _Ctx(problems, source, label)
    data = _mapping(ctx, "hubs[%d]" % index, item)
    if data is None:
        return None
    _unknown(ctx, "", data, HUB_FIELDS)
    for req in ("name", "endpoint"):
        if req not in data:
            ctx.add(req, "required field is missing")
    name = None
    if "name" in data:
        name = _string(ctx, "name", data["name"], NAME_RE, "lower-case letters, digits and dashes")
    endpoint = _endpoint(ctx, "endpoint", data["endpoint"]) if "endpoint" in data else None
    listen = _port(ctx, "listen_port", data["listen_port"]) if "listen_port" in data else None
    if listen is None and "listen_port" not in data and endpoint is not None:
        listen = endpoint.port
    pool = _network(ctx, "tunnel_pool", data["tunnel_pool"]) if "tunnel_pool" in data else None
    if "tunnel_pool" not in data and region.tunnel_pool is None and not region.pool_invalid:
        ctx.add("tunnel_pool", "no tunnel pool: set tunnel_pool on the hub or on the region")
    hub = Hub(name or "", region.name, source, endpoint, listen, pool or region.tunnel_pool)
    if "tunnel_address" in data:
        hub.tunnel_address = _address(ctx, "tunnel_address", data["tunnel_address"])
    return hub if name else None


def _branch_identity(ctx: _Ctx, data: Dict[str, Any], branch: Branch, region: Region) -> None:
    if "name" in data:
        branch.name = _string(ctx, "name", data["name"])
    if "country" in data:
        branch.country = _string(ctx, "country", data["country"], COUNTRY_RE, "ISO 3166-1 alpha-2, e.g. NL")
    if "kind" in data:
        branch.kind = _choice(ctx, "kind", data["kind"], KINDS, "kind")
    if "tier" in data:
        tier = _string(ctx, "tier", data["tier"])
        if tier is not None and region.tiers and tier not in region.tiers:
            ctx.add("tier", "unknown tier %r; this region defines: %s" % (tier, ", ".join(region.tiers)))
            tier = None
        branch.tier = tier
    if "link" in data:
        branch.link = _choice(ctx, "link", data["link"], LINKS, "link")


def _branch_network(ctx: _Ctx, data: Dict[str, Any], branch: Branch) -> None:
    if "lan_subnets" in data:
        for i, value in enumerate(_list(ctx, "lan_subnets", data["lan_subnets"], allow_empty=False)):
            net = _network(ctx, "lan_subnets[%d]" % i, value)
            if net is not None:
                branch.lan_subnets.append(net)
    roaming = _bool(ctx, "roaming", data["roaming"]) if "roaming" in data else False
    branch.roaming = bool(roaming)
    if data.get("endpoint") is not None:
        branch.endpoint = _endpoint(ctx, "endpoint", data["endpoint"])
        if roaming:
            ctx.add("endpoint", "a roaming branch has no fixed endpoint: drop endpoint or roaming")
    elif roaming is False:
        ctx.add("endpoint", "required unless roaming: true (a branch without a fixed public address)")
    if "tunnel_address" in data:
        branch.pinned_address = _address(ctx, "tunnel_address", data["tunnel_address"])


def _branch_hubs(ctx: _Ctx, data: Dict[str, Any], branch: Branch, region: Region) -> None:
    for fld in ("hub", "second_hub"):
        if fld not in data:
            continue
        hub = _string(ctx, fld, data[fld])
        if hub is not None and region.hubs and hub not in region.hubs:
            ctx.add(fld, "unknown hub %r; region %s defines: %s" % (hub, region.name, ", ".join(region.hubs)))
            hub = None
        setattr(branch, fld, hub)
    if branch.second_hub and branch.second_hub == branch.hub:
        ctx.add("second_hub", "is the same hub as hub (%s)" % branch.hub)
        branch.second_hub = None
    if "second_hub" in data and branch.tier in region.tiers and not region.tiers[branch.tier]["second_hub"]:
        allowed = ", ".join(t for t, spec in region.tiers.items() if spec["second_hub"]) or "no tier"
        ctx.add("second_hub", "tier %r may not have a second hub (allowed for: %s)" % (branch.tier, allowed))
        branch.second_hub = None


def _branch_extras(ctx: _Ctx, data: Dict[str, Any], branch: Branch) -> None:
    if "integrations" in data:
        branch.integrations = _integrations(ctx, "integrations", data["integrations"])
    if "retired" in data:
        branch.retired = bool(_bool(ctx, "retired", data["retired"]))
    if "vars" in data:
        found = _mapping(ctx, "vars", data["vars"]) or {}
        for key in found:
            if not isinstance(key, str) or key.startswith("branch_"):
                ctx.add(
                    "vars.%s" % key, "variable names must be strings not starting with branch_ (reserved)"
                )
        branch.vars = {k: v for k, v in found.items() if isinstance(k, str) and not k.startswith("branch_")}
    if "notes" in data:
        branch.notes = _string(ctx, "notes", data["notes"])


def _parse_branch(
    problems: List[Problem], source: str, region: Region, index: int, item: Any
) -> Optional[Branch]:
    code_value = item.get("code") if isinstance(item, dict) else None
    label = "branch %s" % code_value if isinstance(code_value, str) and code_value else "branches[%d]" % index
    ctx = _Ctx(problems, source, label)
    data = _mapping(ctx, "branches[%d]" % index, item)
    if data is None:
        return None
    _unknown(ctx, "", data, BRANCH_REQUIRED + BRANCH_OPTIONAL)
    for req in BRANCH_REQUIRED:
        if req not in data:
            ctx.add(req, "required field is missing")
    code = None
    if "code" in data:
        code = _string(ctx, "code", data["code"], CODE_RE, "letters, digits, '-' and '_', at most 63")
    branch = Branch(code or "", region.name, source, index)
    _branch_identity(ctx, data, branch, region)
    _branch_network(ctx, data, branch)
    _branch_hubs(ctx, data, branch, region)
    _branch_extras(ctx, data, branch)
    return branch if code else None


def _parse_region(problems: List[Problem], source: str, data: Any) -> Optional[Region]:
    ctx = _Ctx(problems, source, "region")
    if not isinstance(data, dict):
        ctx.add("(document)", "expected a mapping with region, hubs and branches; got %s" % _describe(data))
        return None
    for req in ("region", "platform_networks", "hubs", "branches"):
        if req not in data:
            ctx.add(req, "required field is missing")
    name = None
    if "region" in data:
        name = _string(ctx, "region", data["region"], NAME_RE, "lower-case letters, digits and dashes")
    region = Region(name or "", source)
    ctx.subject = "region %s" % name if name else "region"
    _unknown(ctx, "", data, REGION_FIELDS)
    if "description" in data:
        region.description = _string(ctx, "description", data["description"])
    nets = data.get("platform_networks", [])
    for i, value in enumerate(
        _list(ctx, "platform_networks", nets, False) if "platform_networks" in data else []
    ):
        net = _network(ctx, "platform_networks[%d]" % i, value)
        if net is not None:
            region.platform_networks.append(net)
    if "tunnel_pool" in data:
        region.tunnel_pool = _network(ctx, "tunnel_pool", data["tunnel_pool"])
        region.pool_invalid = region.tunnel_pool is None
    for i, value in enumerate(_list(ctx, "erp_entrypoints", data.get("erp_entrypoints", []))):
        ep = _endpoint(ctx, "erp_entrypoints[%d]" % i, value)
        if ep is not None:
            region.erp_entrypoints.append(ep)
    region.tiers = _parse_tiers(ctx, data.get("tiers"))
    if "integrations" in data:
        region.integrations = _integrations(ctx, "integrations", data["integrations"])
    _region_members(ctx, data, region)
    return region if name else None


def _region_members(ctx: _Ctx, data: Dict[str, Any], region: Region) -> None:
    problems, source = ctx.problems, ctx.source
    for i, item in enumerate(_list(ctx, "hubs", data["hubs"], False) if "hubs" in data else []):
        hub = _parse_hub(problems, source, region, i, item)
        if hub is None:
            continue
        if hub.name in region.hubs:
            problems.append(Problem(source, "hub %s" % hub.name, "name", "hub defined twice in this region"))
            continue
        region.hubs[hub.name] = hub
    for i, item in enumerate(_list(ctx, "branches", data["branches"]) if "branches" in data else []):
        branch = _parse_branch(problems, source, region, i, item)
        if branch is not None:
            region.branches.append(branch)


# --------------------------------------------------------------------------
# tunnel address allocation
# --------------------------------------------------------------------------


def usable_range(pool: IPNetwork) -> Tuple[int, int]:
    """First usable address (as int) and how many there are in ``pool``.

    IPv4 pools lose the network and broadcast address (except /31 and /32),
    IPv6 pools lose the subnet-router anycast address (except /127 and /128).
    """
    first = int(pool.network_address)
    count = pool.num_addresses
    if pool.version == 4 and pool.prefixlen <= 30:
        return first + 1, count - 2
    if pool.version == 6 and pool.prefixlen <= 126:
        return first + 1, count - 1
    return first, count


def home_index(code: str, count: int) -> int:
    """Where ``code`` would like to live in a pool of ``count`` addresses."""
    digest = hashlib.sha256(code.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass
class Allocation:
    addresses: Dict[str, IPAddress] = field(default_factory=dict)
    conflicts: Dict[str, str] = field(default_factory=dict)
    unplaced: List[str] = field(default_factory=list)


def allocate(
    pool: IPNetwork, members: Sequence[Tuple[str, Optional[IPAddress]]], reserved: Iterable[IPAddress] = ()
) -> Allocation:
    """Assign addresses from ``pool`` to ``members`` = [(code, pinned or None)] in register order.

    Each member depends only on the members before it: pinned members take
    their pin, others start at ``home_index(code)`` and probe upwards
    (wrapping) past taken addresses.  ``reserved`` (hub addresses) are never
    handed out.  Conflicting pins land in ``conflicts``; members left over
    when the pool is full land in ``unplaced``.
    """
    first, count = usable_range(pool)
    version = pool.version
    taken = {int(a) for a in reserved if a.version == version}
    owners: Dict[int, str] = {}
    result = Allocation()
    free = count - sum(1 for a in taken if first <= a < first + count)
    for code, pin in members:
        if pin is not None:
            value = int(pin)
            if pin.version != version or not first <= value < first + count:
                result.conflicts[code] = "%s is not a usable address of the pool %s" % (pin, pool)
            elif value in taken:
                holder = owners.get(value)
                result.conflicts[code] = "%s is already taken by %s" % (
                    pin,
                    "branch %s" % holder if holder else "a hub",
                )
            else:
                taken.add(value)
                owners[value] = code
                free -= 1
                result.addresses[code] = pin
            continue
        if free <= 0:
            result.unplaced.append(code)
            continue
        index = home_index(code, count)
        while first + index in taken:
            index = (index + 1) % count
        taken.add(first + index)
        owners[first + index] = code
        free -= 1
        result.addresses[code] = ipaddress.ip_address(first + index)
    return result


# --------------------------------------------------------------------------
# the register
# --------------------------------------------------------------------------


def group_name(prefix: str, *parts: str) -> str:
    """Ansible-safe group name: ``group_name('', 'region', 'eu-west') == 'region_eu_west'``."""
    return GROUP_SAFE_RE.sub("_", prefix + "_".join(parts))


@dataclass
class Register:
    regions: List[Region] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    # ---- lookups -----------------------------------------------------------

    @property
    def hubs(self) -> List[Hub]:
        return [h for r in self.regions for h in r.hubs.values()]

    @property
    def branches(self) -> List[Branch]:
        """Live branches (retired ones excluded), in register order."""
        return [b for r in self.regions for b in r.branches if not b.retired]

    @property
    def retired(self) -> List[Branch]:
        return [b for r in self.regions for b in r.branches if b.retired]

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(name)

    def hub(self, name: str) -> Hub:
        for hub in self.hubs:
            if hub.name == name:
                return hub
        raise KeyError(name)

    def branch(self, code: str) -> Branch:
        for region in self.regions:
            for branch in region.branches:
                if branch.code == code:
                    return branch
        raise KeyError(code)

    def check(self) -> Register:
        """Return self, or raise RegisterError listing every problem."""
        if self.problems:
            raise RegisterError(self.problems)
        return self

    # ---- views -------------------------------------------------------------

    def tunnels(self, branch: Branch) -> List[Dict[str, Any]]:
        """The WireGuard tunnels of ``branch``: primary hub first."""
        result = []
        for hub_name in branch.hubs:
            hub = self.hub(hub_name)
            address = branch.tunnel_addresses.get(hub_name)
            result.append(
                {
                    "hub": hub.name,
                    "primary": hub_name == branch.hub,
                    "address": str(address) if address else None,
                    "prefix": hub.tunnel_pool.prefixlen if hub.tunnel_pool else None,
                    "pool": str(hub.tunnel_pool) if hub.tunnel_pool else None,
                    "hub_address": str(hub.tunnel_address) if hub.tunnel_address else None,
                    "hub_endpoint": str(hub.endpoint) if hub.endpoint else None,
                    "hub_listen_port": hub.listen_port,
                }
            )
        return result

    def integrations(self, branch: Branch) -> List[Dict[str, Any]]:
        """Region-wide integrations followed by the branch's own."""
        region = self.region(branch.region)
        return [i.as_dict() for i in region.integrations + branch.integrations]

    def branch_vars(self, branch: Branch) -> Dict[str, Any]:
        region = self.region(branch.region)
        primary = branch.tunnel_addresses.get(branch.hub or "")
        hostvars: Dict[str, Any] = dict(branch.vars)
        hostvars.update(
            {
                "branch_code": branch.code,
                "branch_name": branch.name,
                "branch_country": branch.country,
                "branch_kind": branch.kind,
                "branch_tier": branch.tier,
                "branch_link": branch.link,
                "branch_lan_subnets": [str(n) for n in branch.lan_subnets],
                "branch_endpoint": str(branch.endpoint) if branch.endpoint else None,
                "branch_roaming": branch.roaming,
                "branch_hub": branch.hub,
                "branch_second_hub": branch.second_hub,
                "branch_integrations": self.integrations(branch),
                "branch_tunnel_address": str(primary) if primary else None,
                "branch_tunnels": self.tunnels(branch),
                "branch_region": branch.region,
                "branch_retired": branch.retired,
                "branch_notes": branch.notes,
                "branch_erp_entrypoints": [str(e) for e in region.erp_entrypoints],
                "branch_platform_networks": [str(n) for n in region.platform_networks],
            }
        )
        return hostvars

    def hub_peers(self, hub_name: str) -> List[Dict[str, Any]]:
        """WireGuard peers of a hub, straight from the register (never from play hosts)."""
        peers = []
        for branch in self.branches:
            if hub_name not in branch.hubs:
                continue
            address = branch.tunnel_addresses[hub_name]
            allowed = [str(ipaddress.ip_network(address))] + [str(n) for n in branch.lan_subnets]
            peers.append(
                {
                    "code": branch.code,
                    "primary": branch.hub == hub_name,
                    "tunnel_address": str(address),
                    "allowed_ips": allowed,
                    "endpoint": str(branch.endpoint) if branch.endpoint else None,
                    "roaming": branch.roaming,
                    "link": branch.link,
                    "tier": branch.tier,
                    "kind": branch.kind,
                    "integrations": self.integrations(branch),
                }
            )
        return peers

    def hub_vars(self, hub: Hub) -> Dict[str, Any]:
        region = self.region(hub.region)
        return {
            "hub_name": hub.name,
            "hub_region": hub.region,
            "hub_endpoint": str(hub.endpoint) if hub.endpoint else None,
            "hub_listen_port": hub.listen_port,
            "hub_tunnel_pool": str(hub.tunnel_pool) if hub.tunnel_pool else None,
            "hub_tunnel_address": str(hub.tunnel_address) if hub.tunnel_address else None,
            "hub_peers": self.hub_peers(hub.name),
            "hub_platform_networks": [str(n) for n in region.platform_networks],
            "hub_erp_entrypoints": [str(e) for e in region.erp_entrypoints],
        }

    def branch_groups(self, branch: Branch, prefix: str = "") -> List[str]:
        """Groups of a live branch (the same names the inventory plugin creates)."""
        groups = [
            group_name(prefix, "branches"),
            group_name(prefix, "region", branch.region),
            group_name(prefix, "kind", str(branch.kind)),
            group_name(prefix, "tier", str(branch.tier)),
            group_name(prefix, "link", str(branch.link)),
        ]
        groups.extend(group_name(prefix, "hub", h) for h in branch.hubs)
        return groups

    def inventory(self, prefix: str = "", add_hubs: bool = True) -> Dict[str, Any]:
        """``{"hosts": {name: hostvars}, "groups": {group: [host, ...]}}``."""
        self.check()
        hosts: Dict[str, Dict[str, Any]] = {}
        groups: Dict[str, List[str]] = {}

        def member(group: str, host: str) -> None:
            groups.setdefault(group, []).append(host)

        for branch in self.branches:
            hosts[branch.code] = self.branch_vars(branch)
            for group in self.branch_groups(branch, prefix):
                member(group, branch.code)
        for branch in self.retired:
            hosts[branch.code] = self.branch_vars(branch)
            member(group_name(prefix, "retired_branches"), branch.code)
        if add_hubs:
            for hub in self.hubs:
                hosts[hub.name] = self.hub_vars(hub)
                member(group_name(prefix, "hubs"), hub.name)
                member(group_name(prefix, "region", hub.region), hub.name)
        return {"hosts": hosts, "groups": groups}

    def allow_lists(self, prefix: str = "") -> Dict[str, List[str]]:
        """Source networks per branch group, for Traefik ipAllowList middlewares.

        Each list holds the LAN subnets and tunnel addresses of the group's
        live branches, collapsed; the keys are the inventory group names.
        """
        self.check()
        nets: Dict[str, List[IPNetwork]] = {}
        for branch in self.branches:
            own = list(branch.lan_subnets)
            own.extend(ipaddress.ip_network(a) for a in branch.tunnel_addresses.values())
            for group in self.branch_groups(branch, prefix):
                nets.setdefault(group, []).extend(own)
        result = {}
        for group, found in sorted(nets.items()):
            collapsed: List[str] = []
            v4 = [n for n in found if isinstance(n, ipaddress.IPv4Network)]
            v6 = [n for n in found if isinstance(n, ipaddress.IPv6Network)]
            collapsed.extend(str(n) for n in ipaddress.collapse_addresses(v4))
            collapsed.extend(str(n) for n in ipaddress.collapse_addresses(v6))
            result[group] = collapsed
        return result

    def branch_list(self) -> List[Dict[str, Any]]:
        """Live branches as plain dicts, for the load harness."""
        self.check()
        return [
            {
                "code": b.code,
                "name": b.name,
                "region": b.region,
                "country": b.country,
                "kind": b.kind,
                "tier": b.tier,
                "link": b.link,
                "hub": b.hub,
                "second_hub": b.second_hub,
                "tunnel_address": str(b.tunnel_addresses[b.hub or ""]),
                "lan_subnets": [str(n) for n in b.lan_subnets],
                "vars": dict(b.vars),
            }
            for b in self.branches
        ]


# --------------------------------------------------------------------------
# cross-file validation and address computation
# --------------------------------------------------------------------------


@dataclass
class _Net:
    net: IPNetwork
    what: str  # "platform", "pool" or "lan"
    rank: Tuple[int, str, int, int]  # higher rank gets the blame for an overlap
    where: Tuple[str, str, str]  # source, subject, field
    label: str


def _collect_nets(regions: Sequence[Region]) -> List[_Net]:
    order = {"platform": 0, "pool": 1, "lan": 2}
    items = []
    for r_index, region in enumerate(regions):
        for i, net in enumerate(region.platform_networks):
            field_name = "platform_networks[%d]" % i
            items.append(
                _Net(
                    net,
                    "platform",
                    (order["platform"], region.source, r_index, i),
                    (region.source, "region %s" % region.name, field_name),
                    "platform network %s of region %s" % (net, region.name),
                )
            )
        seen_pools = set()
        for h_index, hub in enumerate(region.hubs.values()):
            if hub.tunnel_pool is None or hub.tunnel_pool in seen_pools:
                continue
            seen_pools.add(hub.tunnel_pool)
            shared = hub.tunnel_pool == region.tunnel_pool
            subject = "region %s" % region.name if shared else "hub %s" % hub.name
            items.append(
                _Net(
                    hub.tunnel_pool,
                    "pool",
                    (order["pool"], region.source, r_index, h_index),
                    (region.source, subject, "tunnel_pool"),
                    "tunnel pool %s of %s" % (hub.tunnel_pool, subject),
                )
            )
        for branch in region.branches:
            if branch.retired:
                continue
            for i, net in enumerate(branch.lan_subnets):
                items.append(
                    _Net(
                        net,
                        "lan",
                        (order["lan"], region.source, r_index, branch.index * 1000 + i),
                        (region.source, "branch %s" % branch.code, "lan_subnets[%d]" % i),
                        "branch %s lan_subnets[%d] %s" % (branch.code, i, net),
                    )
                )
    return items


def _check_overlaps(regions: Sequence[Region], problems: List[Problem]) -> None:
    items = _collect_nets(regions)
    items.sort(key=lambda n: (n.net.version, int(n.net.network_address), -n.net.num_addresses))
    active: List[_Net] = []
    for item in items:
        start = int(item.net.network_address)
        active = [
            a for a in active if a.net.version == item.net.version and int(a.net.broadcast_address) >= start
        ]
        for other in active:
            if other.what == item.what == "platform":
                continue
            blamed, innocent = (item, other) if item.rank > other.rank else (other, item)
            source, subject, fld = blamed.where
            problems.append(
                Problem(
                    source,
                    subject,
                    fld,
                    "%s overlaps %s (%s)" % (blamed.net, innocent.label, innocent.where[0]),
                )
            )
        active.append(item)


def _check_unique(regions: Sequence[Region], problems: List[Problem]) -> None:
    region_files: Dict[str, str] = {}
    names: Dict[str, Tuple[str, str]] = {}
    for region in regions:
        if region.name in region_files:
            problems.append(
                Problem(
                    region.source,
                    "region %s" % region.name,
                    "region",
                    "region already defined in %s" % region_files[region.name],
                )
            )
        region_files.setdefault(region.name, region.source)
        for hub in region.hubs.values():
            key = hub.name.lower()
            if key in names:
                problems.append(
                    Problem(
                        hub.source,
                        "hub %s" % hub.name,
                        "name",
                        "name already used by %s in %s" % names[key][::-1],
                    )
                )
            names.setdefault(key, (hub.source, "hub %s" % hub.name))
        for branch in region.branches:
            key = branch.code.lower()
            if key in names:
                problems.append(
                    Problem(
                        branch.source,
                        "branch %s" % branch.code,
                        "code",
                        "duplicate code: already used by %s in %s" % names[key][::-1],
                    )
                )
            names.setdefault(key, (branch.source, "branch %s" % branch.code))


def _assign_hub_addresses(region: Region, problems: List[Problem]) -> Dict[IPNetwork, List[Hub]]:
    by_pool: Dict[IPNetwork, List[Hub]] = {}
    for hub in region.hubs.values():
        if hub.tunnel_pool is not None:
            by_pool.setdefault(hub.tunnel_pool, []).append(hub)
    for pool, hubs in by_pool.items():
        first, count = usable_range(pool)
        seen: Dict[int, str] = {}
        for hub in hubs:
            ctx = _Ctx(problems, hub.source, "hub %s" % hub.name)
            if hub.tunnel_address is None:
                if len(hubs) > 1:
                    names = ", ".join(h.name for h in hubs)
                    ctx.add(
                        "tunnel_address",
                        "hubs %s share the pool %s: each needs a tunnel_address" % (names, pool),
                    )
                    continue
                hub.tunnel_address = ipaddress.ip_address(first)
            address = hub.tunnel_address
            value = int(address)
            if address.version != pool.version or not first <= value < first + count:
                ctx.add("tunnel_address", "%s is not a usable address of the pool %s" % (address, pool))
            elif value in seen:
                ctx.add("tunnel_address", "%s is already the address of hub %s" % (address, seen[value]))
            seen.setdefault(value, hub.name)
    return by_pool


def _assign_branch_addresses(region: Region, problems: List[Problem]) -> None:
    by_pool = _assign_hub_addresses(region, problems)
    for pool, hubs in by_pool.items():
        names = {h.name for h in hubs}
        members = []
        for branch in region.branches:
            mine = [h for h in branch.hubs if h in names]
            if not mine:
                continue
            pin = branch.pinned_address if branch.hub in names else None
            members.append((branch, mine, pin))
        reserved = [h.tunnel_address for h in hubs if h.tunnel_address is not None]
        alloc = allocate(pool, [(m[0].code, m[2]) for m in members], reserved)
        for branch, mine, _pin in members:
            if branch.code in alloc.conflicts:
                problems.append(
                    Problem(
                        branch.source,
                        "branch %s" % branch.code,
                        "tunnel_address",
                        alloc.conflicts[branch.code],
                    )
                )
            elif branch.code in alloc.addresses:
                for hub_name in mine:
                    branch.tunnel_addresses[hub_name] = alloc.addresses[branch.code]
        if alloc.unplaced:
            subject = "region %s" % region.name if pool == region.tunnel_pool else "hub %s" % hubs[0].name
            count = usable_range(pool)[1]
            problems.append(
                Problem(
                    region.source,
                    subject,
                    "tunnel_pool",
                    (
                        "pool %s is exhausted: %d usable addresses (%d for hubs) for %d branches; "
                        "no address for %s"
                        % (pool, count, len(reserved), len(members), ", ".join(alloc.unplaced))
                    ),
                )
            )


def build_register(documents: Iterable[Tuple[str, Any]]) -> Register:
    """Validate parsed region documents ``(source_name, data)`` and compute addresses."""
    register = Register()
    for source, data in documents:
        region = _parse_region(register.problems, source, data)
        if region is not None:
            register.regions.append(region)
    _check_unique(register.regions, register.problems)
    _check_overlaps(register.regions, register.problems)
    for region in register.regions:
        _assign_branch_addresses(region, register.problems)
    return register


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def find_register_files(paths: Iterable[str]) -> Tuple[List[str], List[Problem]]:
    """Expand files and directories (their *.yml / *.yaml, sorted, not recursive)."""
    files: List[str] = []
    problems: List[Problem] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(YAML_SUFFIXES))
            if not found:
                problems.append(Problem(path, "register", "(path)", "directory holds no .yml or .yaml file"))
            files.extend(found)
        elif os.path.isfile(path):
            files.append(path)
        else:
            problems.append(Problem(path, "register", "(path)", "no such file or directory"))
    return files, problems


if HAS_YAML:
    # libyaml's parser when PyYAML was built with it: several times faster on big registers
    _SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _StrictLoader(_SafeBase):  # type: ignore[misc,valid-type]  # pylint: disable=too-many-ancestors
        """SafeLoader that refuses duplicate keys instead of silently keeping the last."""

    def _mapping_no_duplicates(loader: Any, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate key %r" % (key,), key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node, deep)

    _StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_no_duplicates)


def read_yaml(path: str) -> Any:
    """Default file reader: PyYAML safe loading, duplicate keys refused."""
    if not HAS_YAML:
        raise RuntimeError("PyYAML is needed to read register files")
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_StrictLoader)  # a SafeLoader subclass


def load_register(paths: Iterable[str], load: Optional[Callable[[str], Any]] = None) -> Register:
    """Read register files/directories with ``load`` (default ``read_yaml``) and build the register.

    Read errors become problems like any other, so every problem is reported at once.
    """
    load = load or read_yaml
    files, problems = find_register_files(paths)
    documents = []
    for path in files:
        try:
            documents.append((path, load(path)))
        except Exception as exc:  # pylint: disable=broad-except  # any reader error is a problem to report
            problems.append(Problem(path, "register", "(file)", "cannot read: %s" % exc))
    register = build_register(documents)
    register.problems[:0] = problems
    return register
