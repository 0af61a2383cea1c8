"""Does every platform host's journal reach the region's log store? VictoriaLogs' query API says.

Reads what the store holds through its HTTP query API (LogsQL, ``/select/logsql/query``), never the
log_store or log_shipping roles' variables: the hosts that must ship are computed here from the
inventory's groups (the platform groups of ``playbooks/logs.yml``, the same as the monitoring's,
:data:`tests.probes.monitoring.MONITORED`), the services each must ship come from the command line.

    python -m tests.probes.logs check --inventory '{"groups": {...}, "addresses": {...}}' \\
        --region postgresql-ha [--service patroni.service=postgres_cluster ...] [--wait 60] [--out FILE]
    python -m tests.probes.logs markers --inventory '{...}' --region postgresql-ha \\
        --marker pg-node-1=logmarker1a2b... [--service retailops-log-marker] [--within 20] \\
        [--wait 60] [--out FILE]

``--inventory``: Ansible's groups and each host's management address, as for
``tests.probes.monitoring``; the store is on the first host of ``monitoring`` at its management
address, port 9428 (the ``victorialogs`` scrape job's), unless ``--store URL`` says otherwise.

check, waiting up to ``--wait`` seconds for a clean reading, from one query counting the entries by
log stream, region, host and service: every shipping host of the inventory has entries; every entry
is of the region, from a shipping host, with a service; the log stream of each is exactly its
region, host and service (the store's stream fields); each ``--service UNIT=GROUP`` has entries from
every host of the group. Prints a JSON summary (entries by host and service); exits 1 naming each
problem.

markers: started before the markers are written (a unique word each, written to each host's
journal by the caller), it asks the store for them every quarter of a second and notes when each
first answers. The delay of a marker is from its entry's own time (``_time``: when the host's
journal took it, as the shipper stamped it) to that answer. A problem: a marker not found within
``--wait``, found later than ``--within`` seconds after it was written, found more than once, or
with another region, host or (with ``--service``) service than expected.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.probes.cli import emit, pairs
from tests.probes.monitoring import EXPORTERS, MONITORED, monitoring_address, until_clean

# The entries of the whole store, counted by log stream and the three labels.
COUNT_BY_STREAM = "* | stats by (_stream, region, host, service) count() as entries"
MARKER_WORD = re.compile(r"^[A-Za-z0-9]+$")
POLL_S = 0.25


class LogStoreError(RuntimeError):
    """The store did not answer a query."""


class LogStore:
    """VictoriaLogs' query API at `base_url` (``http://host:9428``)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def query(self, logsql: str) -> list[dict[str, str]]:
        """The rows a LogsQL query returns (the API answers one JSON object a line), over all time."""
        url = f"{self.base_url}/select/logsql/query?{urllib.parse.urlencode({'query': logsql})}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as reply:
                body: bytes = reply.read()
        except urllib.error.HTTPError as error:  # 400: the store's own message on a bad query
            raise LogStoreError(
                f"{logsql!r}: HTTP {error.code}: {error.read().decode(errors='replace')}"
            ) from error
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def store_url(inventory: Mapping[str, Any]) -> str:
    """VictoriaLogs' HTTP API on the monitoring node: its management address, the scrape job's port."""
    return f"http://{monitoring_address(inventory)}:{EXPORTERS['victorialogs'][1]}"


def shipping_hosts(groups: Mapping[str, Iterable[str]]) -> list[str]:
    """Every host of the platform groups: each ships its journal."""
    return sorted({host for group in MONITORED for host in groups.get(group, [])})


def stream_of(region: str, host: str, service: str) -> str:
    """The log stream an entry with these labels belongs to, as VictoriaLogs writes it (fields sorted)."""
    return f'{{host="{host}",region="{region}",service="{service}"}}'


def arrival_problems(
    rows: Iterable[Mapping[str, str]],
    region: str,
    groups: Mapping[str, Iterable[str]],
    services: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """What is wrong with the store's entries counted by (_stream, region, host, service): a
    shipping host without entries, entries of another region, from a host that does not ship or
    without a service, a stream that is not exactly the three labels, and for each (unit, group) a
    host of the group without entries of that service."""
    problems: list[str] = []
    hosts = shipping_hosts(groups)
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        row_region, host, service = row.get("region", ""), row.get("host", ""), row.get("service", "")
        count = int(row.get("entries", 0))
        where = f"{count} entries of stream {row.get('_stream')}"
        if row_region != region:
            problems.append(f"{where}: region {row_region!r}, not {region!r}")
        if host not in hosts:
            problems.append(
                f"{where}: host {host!r} is not a shipping host of the inventory ({', '.join(hosts)})"
            )
        if not service:
            problems.append(f"{where}: no service")
        if row.get("_stream") != stream_of(row_region, host, service):
            problems.append(
                f"{where}: the stream is not the region, host and service "
                f"({stream_of(row_region, host, service)})"
            )
        found.setdefault(host, {})
        found[host][service] = found[host].get(service, 0) + count
    problems.extend(f"{host}: no entry in the store" for host in hosts if host not in found)
    for unit, group in services:
        members = sorted(groups.get(group, []))
        if not members:
            problems.append(f"{unit}={group}: the inventory has no host in {group}")
        problems.extend(
            f"{host}: no entry of service {unit} (it has {', '.join(sorted(found[host])) or 'none'})"
            for host in members
            if host in found and unit not in found[host]
        )
    return problems


def snapshot(
    store: LogStore, region: str, groups: Mapping[str, Iterable[str]], services: list[tuple[str, str]]
) -> dict[str, Any]:
    """One reading: the problems, and the entries by host and service."""
    report: dict[str, Any] = {"store": store.base_url, "region": region, "problems": []}
    try:
        rows = store.query(COUNT_BY_STREAM)
    except (OSError, LogStoreError, ValueError) as error:
        report["problems"].append(f"the store at {store.base_url}: cannot read it: {error}")
        return report
    entries: dict[str, dict[str, int]] = {}
    for row in rows:
        by_service = entries.setdefault(str(row.get("host", "")), {})
        by_service[str(row.get("service", ""))] = by_service.get(str(row.get("service", "")), 0) + int(
            row.get("entries", 0)
        )
    report["entries"] = entries
    report["total_entries"] = sum(n for by_service in entries.values() for n in by_service.values())
    report["streams"] = len(rows)
    report["problems"] = arrival_problems(rows, region, groups, services)
    return report


def check(
    store: LogStore,
    region: str,
    groups: Mapping[str, Iterable[str]],
    services: Iterable[tuple[str, str]] = (),
    wait: float = 60.0,
) -> dict[str, Any]:
    """:func:`snapshot` until it finds no problem or `wait` seconds have passed."""
    wanted = list(services)
    report = until_clean(lambda: snapshot(store, region, groups, wanted), wait)
    report["read_at"] = round(time.time(), 3)
    return report


def entry_time(value: str) -> float:
    """Epoch seconds of an entry's ``_time`` (RFC 3339 in UTC, nanoseconds: 2026-12-06T17:21:43.988808Z)."""
    seconds, _dot, fraction = value.rstrip("Z").partition(".")
    whole = datetime.datetime.fromisoformat(seconds).replace(tzinfo=datetime.UTC).timestamp()
    return whole + (float("0." + fraction) if fraction else 0.0)


def marker_problems(
    found: Mapping[str, list[dict[str, Any]]],
    markers: Mapping[str, str],
    region: str,
    service: str | None,
    within: float,
) -> list[str]:
    """Each marker (host -> word) found once, with its labels, within `within` seconds."""
    problems: list[str] = []
    for host, word in sorted(markers.items()):
        entries = found.get(word, [])
        if not entries:
            problems.append(f"{host}: marker {word} not in the store")
            continue
        if len(entries) > 1:
            problems.append(f"{host}: marker {word} is in the store {len(entries)} times")
        entry = entries[0]
        labels = (entry.get("region"), entry.get("host"), entry.get("service"))
        wanted = (region, host, service if service is not None else entry.get("service"))
        if labels != wanted:
            problems.append(f"{host}: marker {word} has region, host, service {labels}, expected {wanted}")
        if entry["delay_s"] > within:
            problems.append(
                f"{host}: marker {word} was searchable {entry['delay_s']} s after it was written "
                f"(bound {within} s)"
            )
    return problems


def watch_markers(
    store: LogStore,
    markers: Mapping[str, str],
    region: str,
    *,
    service: str | None = None,
    within: float = 20.0,
    wait: float = 60.0,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Ask the store for every marker word every :data:`POLL_S` until all are there or `wait` has
    passed; each entry's delay from its ``_time`` to the first answer that had it."""
    for word in markers.values():
        if not MARKER_WORD.match(word):
            raise ValueError(f"a marker is one word of letters and digits (got {word!r})")
    words = sorted(set(markers.values()))
    query = (
        " OR ".join(f'"{word}"' for word in words) + " | fields _time, _msg, _stream, region, host, service"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    errors: list[str] = []
    started = clock()
    deadline = time.monotonic() + wait
    while True:
        try:
            rows = store.query(query)
        except (OSError, LogStoreError, ValueError) as error:
            errors.append(str(error))
            rows = []
        answered = clock()
        for row in rows:
            match = next((w for w in words if w in row.get("_msg", "")), None)
            if match is None:
                continue
            seen = found.setdefault(match, [])
            if any(e["_time"] == row.get("_time") and e["_msg"] == row.get("_msg") for e in seen):
                continue
            written = entry_time(str(row["_time"]))
            seen.append({**row, "written_at": round(written, 6), "delay_s": round(answered - written, 3)})
        if all(word in found for word in words) or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    report: dict[str, Any] = {
        "store": store.base_url,
        "watch_started_at": round(started, 3),
        "within_s": within,
        "markers": {host: found.get(word, []) for host, word in sorted(markers.items())},
        "problems": marker_problems(found, markers, region, service, within),
    }
    report["delays_s"] = {
        host: entries[0]["delay_s"] for host, entries in report["markers"].items() if entries
    }
    if report["delays_s"]:
        report["delay_s"] = {"min": min(report["delays_s"].values()), "max": max(report["delays_s"].values())}
    if errors:
        report["query_errors"] = errors[-5:]
        if not found:
            report["problems"].append(f"the store at {store.base_url}: {errors[-1]}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="entries from every shipping host, labelled, per service")
    watching = commands.add_parser(
        "markers", help="marker words, written to the hosts' journals, in the store"
    )
    for command in (checking, watching):
        command.add_argument("--inventory", required=True, help='JSON: {"groups": {...}, "addresses": {...}}')
        command.add_argument("--store", help="VictoriaLogs' HTTP base URL (default: from the inventory)")
        command.add_argument("--region", required=True, help="the region label every entry has")
        command.add_argument("--out", type=Path)
    checking.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="UNIT=GROUP",
        help="every host of GROUP has entries of service UNIT (repeatable)",
    )
    checking.add_argument("--wait", type=float, default=60.0, help="seconds to wait for a clean reading")
    watching.add_argument("--marker", action="append", required=True, metavar="HOST=WORD")
    watching.add_argument("--service", help="the service label every marker has")
    watching.add_argument(
        "--within", type=float, default=20.0, help="seconds from written to searchable, at most"
    )
    watching.add_argument("--wait", type=float, default=60.0, help="seconds to watch for")
    args = parser.parse_args(argv)
    inventory = json.loads(args.inventory)
    store = LogStore(args.store or store_url(inventory))
    if args.command == "check":
        services = pairs(args.service, "--service", parser)
        report = check(store, args.region, inventory["groups"], services, args.wait)
    else:
        markers = dict(pairs(args.marker, "--marker", parser))
        report = watch_markers(
            store, markers, args.region, service=args.service, within=args.within, wait=args.wait
        )
    return emit(report, args.out)


if __name__ == "__main__":
    sys.exit(main())
