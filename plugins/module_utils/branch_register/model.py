# Copyright (c) 2026 RetailOps platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The branch register's model: the records of a region file, their field types and the link classes.

One pydantic model per record: ``Region`` (a region file), ``Hub``,
``Branch``, and the ``Tier`` and ``Integration`` entries inside them.  The
same ``Branch`` goes from the register to the load harness.  The field
descriptions are the schema tables of plugins/README.md
(``retailops-branchctl schema`` prints them; a unit test compares).

``Record.parse`` validates a record field by field: one bad field never hides
another, and a record with a bad field still takes part in the checks its
valid fields allow (a duplicate code, an overlapping LAN), so every problem of
a register is reported at once.  The messages are written for operators: the
field types raise ``ValueError`` with their hint, and ``problem_message``
words the few generic errors (wrong type, unknown value, missing field).

pydantic is imported guarded, as ansible-test wants of module_utils: without
it this module still imports, and building a register raises
``MissingLibrary`` naming the package to install on the controller.
"""

from __future__ import annotations

import ipaddress
import re
import traceback
from dataclasses import dataclass
from functools import lru_cache
from typing import (
    Annotated,
    Any,
    Callable,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
    get_args,
)

try:
    from pydantic import (
        AfterValidator,
        BaseModel,
        BeforeValidator,
        ConfigDict,
        Field,
        StrictBool,
        StrictStr,
        TypeAdapter,
        ValidationError,
    )
    from pydantic.fields import FieldInfo
except ImportError:
    PYDANTIC_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    PYDANTIC_IMPORT_ERROR = None

Kind = Literal["store", "warehouse", "office", "dark_store"]
Link = Literal["fiber", "broadband", "lte", "dual"]
Protocol = Literal["tcp", "udp"]
KINDS: Tuple[str, ...] = get_args(Kind)
LINKS: Tuple[str, ...] = get_args(Link)
PROTOCOLS: Tuple[str, ...] = get_args(Protocol)
# How each link behaves on the wire: the load harness's link classes (a
# Toxiproxy profile each). "dual" (fiber with an LTE backup) behaves like fiber
# until a drill flaps it.
LINK_CLASS: Dict[str, str] = {"fiber": "fiber", "broadband": "broadband", "lte": "lte", "dual": "fiber"}
LINK_CLASSES: Tuple[str, ...] = tuple(dict.fromkeys(LINK_CLASS.values()))
DEFAULT_TIERS: Dict[str, Dict[str, Any]] = {
    "critical": {"second_hub": True, "description": "Revenue stops without it; may use a second hub."},
    "standard": {"second_hub": False, "description": "Normal store or office."},
    "basic": {"second_hub": False, "description": "Best effort: pop-ups, small offices."},
}

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
CODE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)%s(?:\.%s)*$" % (_LABEL, _LABEL))

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Say = Callable[[str, str], None]  # (field, message): one problem of the record being parsed


# --------------------------------------------------------------------------
# problems
# --------------------------------------------------------------------------


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


class RegisterError(Exception):
    """Raised by ``Register.check()``; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = ["branch register has %d problem(s):" % len(self.problems)]
        lines.extend("  - %s" % p for p in self.problems)
        super().__init__("\n".join(lines))


class MissingLibrary(ImportError):
    """The controller's Python lacks pydantic, which the register's model needs."""


def require_pydantic() -> None:
    if PYDANTIC_IMPORT_ERROR is not None:
        raise MissingLibrary(
            "the branch register needs the Python package pydantic (2.x) on the Ansible controller: "
            "pip install 'pydantic>=2.6,<3' into the Python that runs Ansible (%s)"
            % PYDANTIC_IMPORT_ERROR.strip().splitlines()[-1]
        )


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean %s" % str(value).lower()
    if value is None:
        return "nothing (null)"
    return "%s %r" % (type(value).__name__, value)


# pydantic's error types, in an operator's words ({got}: the value found, {known}: the record's fields)
WORDING: Dict[str, str] = {
    "string_type": "expected a string, got {got}{yaml_hint}",
    "bool_type": "expected true or false, got {got}",
    "list_type": "expected a list, got {got}",
    "dict_type": "expected a mapping, got {got}",
    "model_type": "expected a mapping, got {got}",
    "too_short": "must list at least one entry",
    "missing": "required field is missing",
    "extra_forbidden": "unknown field; known fields: {known}",
    "literal_error": "unknown {what} {got_text!r}; expected one of: {choices}",
}
YAML_BOOLEAN_HINT = " (YAML reads NO/yes/on/off as booleans: quote the value)"


def problem_message(error: Mapping[str, Any], field: str, known: Sequence[str] = ()) -> str:
    """An operator's wording of one pydantic error in ``field``; ``known``: the fields of the record it is in.

    The field types raise ValueError with their own words, kept as they are;
    an error type without a wording keeps pydantic's message.
    """
    kind, value = error["type"], error.get("input")
    if kind in ("value_error", "assertion_error"):
        return str(error["ctx"]["error"])
    if kind == "literal_error" and not isinstance(value, str):
        kind = "string_type"
    if kind not in WORDING:
        return str(error["msg"])
    return WORDING[kind].format(
        got=describe(value),
        got_text=value,
        yaml_hint=YAML_BOOLEAN_HINT if isinstance(value, bool) else "",
        known=", ".join(known),
        what=next((str(step) for step in reversed(error["loc"]) if isinstance(step, str)), field),
        choices=_choices(error.get("ctx", {}).get("expected", "")),
    )


def _choices(expected: str) -> str:
    """pydantic's ``'tcp' or 'udp'`` as ``tcp, udp``."""
    return expected.replace("'", "").replace(" or ", ", ")


def location(loc: Sequence[Any]) -> str:
    """A pydantic error location as a field path: ``lan_subnets[0]``, ``tiers.gold.second_hub``."""
    text = str(loc[0])
    for i, step in enumerate(loc[1:], 1):
        dict_key = i + 1 < len(loc) and loc[i + 1] == "[key]"
        if step == "[key]":
            continue
        text += "[%d]" % step if isinstance(step, int) and not dict_key else ".%s" % step
    return text


# --------------------------------------------------------------------------
# field types: each raises ValueError with an operator's hint
# --------------------------------------------------------------------------


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _matching(pattern: re.Pattern[str], hint: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(_text(value)):
            raise ValueError("%r is not valid: %s" % (value, hint))
        return value

    return check


def _network(value: Any) -> IPNetwork:
    if isinstance(value, bool) or not isinstance(value, str) or "/" not in value:
        raise ValueError("expected a CIDR such as 10.1.0.0/24, got %s" % describe(value))
    try:
        return ipaddress.ip_network(value.strip())
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError("%r is not a valid CIDR (%s)" % (value, exc)) from None
        raise ValueError("%r has host bits set; did you mean %s?" % (value, loose)) from None


def _address(value: Any) -> IPAddress:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("expected an IP address, got %s" % describe(value))
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValueError("%r is not an IP address" % (value,)) from None


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError("expected a port number 1-65535, got %s" % describe(value))
    return int(value)


def split_endpoint(text: str) -> Tuple[str, int]:
    """``host:port`` or ``[v6]:port`` as (host, port); ValueError with a reason."""
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
    return host, int(port)


def _endpoint(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("expected host:port, got %s" % describe(value))
    try:
        host, port = split_endpoint(value)
    except ValueError as exc:
        raise ValueError("%r: %s" % (value, exc)) from None
    return {"host": host, "port": port}


def _integration(value: Any) -> Any:
    return {"endpoint": value} if isinstance(value, str) else value


def _tier_spec(value: Any) -> Any:
    return {} if value is None else value


def _some_tiers(value: Dict[str, Any]) -> Dict[str, Any]:
    if not value:
        raise ValueError("must define at least one tier (or leave it out for the defaults)")
    return value


def _codes(values: Sequence[str]) -> str:
    return ", ".join("`%s`" % v for v in values)


E = TypeVar("E", bound="Entry")

if PYDANTIC_IMPORT_ERROR is None:
    Text = Annotated[StrictStr, AfterValidator(_text)]
    Name = Annotated[StrictStr, AfterValidator(_matching(NAME_RE, "lower-case letters, digits and dashes"))]
    Code = Annotated[
        StrictStr, AfterValidator(_matching(CODE_RE, "letters, digits, '-' and '_', at most 63"))
    ]
    Country = Annotated[StrictStr, AfterValidator(_matching(COUNTRY_RE, "ISO 3166-1 alpha-2, e.g. NL"))]
    Network = Annotated[IPNetwork, BeforeValidator(_network)]
    Address = Annotated[IPAddress, BeforeValidator(_address)]
    Port = Annotated[int, BeforeValidator(_port)]

    class Endpoint(BaseModel):
        """A ``host:port`` pair (``[v6]:port`` for IPv6); ``host`` is an IP address or a DNS name."""

        model_config = ConfigDict(frozen=True)

        host: str
        port: int

        def __str__(self) -> str:
            return (
                "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)
            )

    HostPort = Annotated[Endpoint, BeforeValidator(_endpoint)]

    class Record(BaseModel):
        """A value of the register (a tier, an integration): strict types, unknown fields refused."""

        model_config = ConfigDict(extra="forbid", strict=True)

    class Entry(Record):
        """A region, hub or branch: parsed field by field, with what the register computes for it.

        Fields with ``exclude=True`` are the register's own (which region and
        file an entry is in, its computed tunnel addresses, the fields that
        failed a check), never read from a file.
        """

        invalid: Set[str] = Field(default=set(), exclude=True, repr=False)

        @classmethod
        def parse(cls: Type[E], data: Dict[Any, Any], say: Say, later: Tuple[str, ...] = ()) -> E:
            """The entry with every valid field of ``data``; each problem goes to ``say``.

            Fields named in ``later`` (lists of entries) are left to the caller,
            which parses them one by one.
            """
            fields = file_fields(cls)
            values: Dict[str, Any] = {}
            invalid: Set[str] = set()
            for key, value in data.items():
                if key not in fields:
                    say(str(key), WORDING["extra_forbidden"].format(known=", ".join(fields)))
                elif key not in later:
                    adapter, inner = _field_type(cls, key)
                    try:
                        values[key] = adapter.validate_python(value)
                    except ValidationError as exc:
                        invalid.add(key)
                        for error in exc.errors():
                            say(location((key, *error["loc"])), problem_message(error, key, inner))
            for name, info in fields.items():
                if name not in data and info.is_required():
                    invalid.add(name)
                    say(name, WORDING["missing"])
            return cls.model_construct(invalid=invalid, **values)

        def valid(self, *names: str) -> bool:
            """Whether these fields hold a value that passed every check (required ones: and were given)."""
            return not self.invalid.intersection(names)

        def invalidate(self, name: str) -> None:
            """A check refused the field: later checks leave it alone."""
            self.invalid.add(name)

    class Tier(Record):
        """A tier of branches: a value of ``tiers: {name: tier}``."""

        second_hub: StrictBool = Field(False, description="branches of this tier may have a `second_hub`")
        description: StrictStr = Field("", description="free text")

    class Integration(Record):
        """An endpoint branches may reach besides the ERP: an entry of ``integrations``."""

        name: Optional[Text] = Field(None, description="label; default: the endpoint")
        endpoint: HostPort = Field(description="`host:port` (`[v6]:port` for IPv6)")
        protocol: Protocol = Field(
            "tcp", description="%s; default `tcp` (also for a plain `host:port` entry)" % _codes(PROTOCOLS)
        )

        def as_dict(self) -> Dict[str, Any]:
            ep = self.endpoint
            label = self.name or str(ep)
            return {
                "name": label,
                "host": ep.host,
                "port": ep.port,
                "protocol": self.protocol,
                "endpoint": str(ep),
            }

    IntegrationEntry = Annotated[Integration, BeforeValidator(_integration)]
    Tiers = Annotated[Dict[Name, Annotated[Tier, BeforeValidator(_tier_spec)]], AfterValidator(_some_tiers)]

    def default_tiers() -> Dict[str, Tier]:
        return {name: Tier(**spec) for name, spec in DEFAULT_TIERS.items()}

    class Hub(Entry):
        """A WireGuard hub branches dial: an entry of ``hubs``."""

        name: Name = Field(description="host name of the hub; unique over all files and branch codes")
        endpoint: HostPort = Field(description="`host:port` branches dial (`[v6]:port` for IPv6)")
        listen_port: Optional[Port] = Field(
            None, description="WireGuard listen port on the hub; default: the endpoint's port"
        )
        tunnel_pool: Optional[Network] = Field(
            None, description="the hub's pool (CIDR); required unless the region has a `tunnel_pool`"
        )
        tunnel_address: Optional[Address] = Field(
            None,
            description="the hub's own address; default the pool's first usable address. "
            "Required when several hubs share the region pool",
        )

        region: str = Field("", exclude=True, description="the region it is in")
        source: str = Field("", exclude=True, description="the file it is in")

    class Branch(Entry):
        """A store, warehouse, office or dark store: an entry of ``branches``, the load harness's branch."""

        code: Code = Field(
            description="host name: letters, digits, `-`, `_`, at most 63; "
            "unique (case-insensitive) over all files"
        )
        name: Text = Field(description="display name")
        country: Country = Field(
            description='ISO 3166-1 alpha-2, e.g. `NL` (quote `"NO"`: YAML reads it as false)'
        )
        kind: Kind = Field(description=_codes(KINDS))
        tier: Text = Field(description="a tier of the region")
        link: Link = Field(
            description="%s; the load harness's link class: %s"
            % (_codes(LINKS), ", ".join("`%s` as `%s`" % (k, v) for k, v in LINK_CLASS.items() if k != v))
        )
        lan_subnets: List[Network] = Field(min_length=1, description="non-empty list of CIDRs (no host bits)")
        endpoint: Optional[HostPort] = Field(
            None, description="`host:port` of the branch router; required unless `roaming: true`"
        )
        roaming: StrictBool = Field(
            False, description="`true`: behind NAT/CGNAT, no `endpoint`: the branch dials in, keepalive on"
        )
        hub: Text = Field(description="a hub of the region")
        second_hub: Optional[Text] = Field(
            None, description="another hub of the region; only for tiers with `second_hub: true`"
        )
        integrations: List[IntegrationEntry] = Field(
            default=[],
            description="extra endpoints: `host:port` strings or "
            "`{name, endpoint, protocol}` (see Integration)",
        )
        tunnel_address: Optional[Address] = Field(
            None, description="pin the address on the primary hub's pool"
        )
        retired: StrictBool = Field(
            False,
            description="`true` after offboarding: no host in live groups, no peer, address kept reserved",
        )
        vars: Dict[StrictStr, Any] = Field(
            default={},
            description="extra host variables (e.g. `ansible_host`); names starting `branch_` are reserved",
        )
        notes: Optional[Text] = Field(None, description="free text")

        region: str = Field("", exclude=True, description="the region it is in")
        source: str = Field("", exclude=True, description="the file it is in")
        index: int = Field(0, exclude=True, description="its place in the file: the order addresses go in")
        tunnel_addresses: Dict[str, IPAddress] = Field(
            default={}, exclude=True, description="hub name -> its address on that hub's pool"
        )

        @property
        def hubs(self) -> List[str]:
            """The primary hub, then the second hub, of those that passed the checks."""
            return [
                h
                for h, ok in ((self.hub, self.valid("hub")), (self.second_hub, self.valid("second_hub")))
                if ok and h
            ]

        @property
        def link_class(self) -> str:
            return LINK_CLASS[self.link]

    class Region(Entry):
        """One region file."""

        region: Name = Field(
            description="region name: lower-case letters, digits, `-`; unique over all files"
        )
        description: Optional[Text] = Field(None, description="free text")
        platform_networks: List[Network] = Field(
            min_length=1,
            description="CIDRs of the platform (ERP, databases, management). Branch LANs and tunnel pools "
            "may not overlap any platform network of any region",
        )
        tunnel_pool: Optional[Network] = Field(
            None, description="region-wide tunnel pool (CIDR); hubs without their own pool draw from it"
        )
        erp_entrypoints: List[HostPort] = Field(
            default=[], description="`host:port` list branches may reach (Traefik, 443)"
        )
        tiers: Tiers = Field(
            default_factory=default_tiers,
            description="`{name: tier}` (see Tier); default: %s"
            % ", ".join(
                "`%s`%s" % (name, " (second_hub: true)" if spec["second_hub"] else "")
                for name, spec in DEFAULT_TIERS.items()
            ),
        )
        integrations: List[IntegrationEntry] = Field(
            default=[],
            description="endpoints every branch of the region may reach besides the ERP (see Integration)",
        )
        dr_region: Optional[Name] = Field(
            None,
            description="the region that takes this region over in a disaster: another region of the "
            "register with a hub and `erp_entrypoints`, whose platform networks overlap none of this "
            "region's; every branch gets a tunnel to its `dr_hub`. Pairs may name each other; a DR region "
            "naming a third region is refused (no chains)",
        )
        dr_hub: Optional[Name] = Field(
            None,
            description="the hub of the `dr_region` the branches dial for DR; default its first hub. "
            "Only with `dr_region`",
        )
        hubs: List[Hub] = Field(description="at least one hub")
        branches: List[Branch] = Field(
            description="list of branches, **in onboarding order** (see addresses)"
        )

        source: str = Field("", exclude=True, description="the file it is")

        @property
        def name(self) -> str:
            """The region's name ("" while it has no valid one)."""
            return self.region if self.valid("region") else ""

        def hub_named(self, name: str) -> Hub:
            for hub in self.hubs:
                if hub.name == name:
                    return hub
            raise KeyError(name)

    RECORDS: Tuple[Type[Record], ...] = (Region, Hub, Branch, Tier, Integration)

    @lru_cache(maxsize=None)
    def file_fields(record: Type[Record]) -> Dict[str, FieldInfo]:
        """The fields a register file may hold for this record (those the register computes left out)."""
        return {name: info for name, info in record.model_fields.items() if not info.exclude}

    @lru_cache(maxsize=None)
    def _field_type(entry: Type[Entry], name: str) -> Tuple[TypeAdapter[Any], Tuple[str, ...]]:
        """The validator of one field, and the fields of the record nested in it (for unknown fields)."""
        annotation = entry.model_fields[name].rebuild_annotation()
        return TypeAdapter(annotation), tuple(_nested_record_fields(annotation))

    def _nested_record_fields(annotation: Any) -> List[str]:
        if isinstance(annotation, type) and issubclass(annotation, Record):
            return list(file_fields(annotation))
        for arg in get_args(annotation):
            found = _nested_record_fields(arg)
            if found:
                return found
        return []
