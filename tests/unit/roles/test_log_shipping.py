"""log_shipping (rsyslog): bad input refused; the rendered rules; the journal's entries arriving in
VictoriaLogs with region, host and service as fields and stream fields.

The live tests run the victoria-logs the rig builds (bash rig/victorialogs.sh) on 127.0.0.1, on
free high ports with a temporary data directory, with the command line of log_store's rendered
unit, and stop it afterwards:

- lines laid out by the role's rsyslog list template (read from the rendered rules and filled in
  here, property by property), sent over TCP with rsyslog's octet-counted framing;
- rsyslogd itself (when installed) in the foreground with the role's rendered rules, fed from a
  file through mmjsonparse, which sets the journal fields imjournal would ($!CONTAINER_NAME, $!_SYSTEMD_UNIT,
  $!SYSLOG_IDENTIFIER), so the service derivation runs as on a host.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, render_role_templates, systemd_exec_start, validate_tests

from loadtests.links_setup import free_port
from tests.probes import logs as logs_probe

GOOD: dict[str, Any] = {"log_shipping_region": "eu-west", "log_shipping_target_host": "10.213.0.10"}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "a region with a space": ({"log_shipping_region": "eu west"}, "log_shipping_region"),
    "a host label with a bracket": ({"log_shipping_host": "db]1"}, "log_shipping_host"),
    "no monitoring group and no target": ({"log_shipping_target_host": ""}, "log_shipping_target_host"),
    "a port out of range": ({"log_shipping_target_port": 70000}, "log_shipping_target_port"),
    "a disk limit rsyslog does not read": (
        {"log_shipping_queue_max_disk_space": "1GB"},
        "log_shipping_queue_max_disk_space",
    ),
    "an empty queue": ({"log_shipping_queue_size": 0}, "log_shipping_queue_size"),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "log_shipping", GOOD, BAD
)

INVENTORY: dict[str, Any] = {
    "all": {
        "vars": {"log_shipping_region": "eu-west"},
        "children": {
            "monitoring": {"hosts": {"mon-1": {"ansible_host": "192.0.2.10", "node_address": "10.213.0.10"}}},
            "postgres_cluster": {
                "hosts": {
                    "db-1": {},
                    "db-2": {
                        "log_shipping_target_host": "10.9.9.9",
                        "log_shipping_target_port": 1514,
                        "log_shipping_ship_existing_journal": True,
                    },
                    "db-3": {"log_shipping_target_address_var": "node_address"},
                }
            },
        },
    }
}
TEMPLATES = ["rsyslog.conf", "log-store.conf"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    files: dict[str, dict[str, str]] = render_role_templates(
        tmp_path_factory.mktemp("shipping"), "log_shipping", INVENTORY, TEMPLATES
    )
    return files


def statements(conf: str) -> str:
    """The configuration without its comments."""
    return "\n".join(line for line in conf.splitlines() if not line.lstrip().startswith("#"))


def actions(conf: str) -> list[dict[str, str]]:
    """Every action(...) of an rsyslog configuration, its parameters as a mapping."""
    return [
        dict(re.findall(r'([\w.]+)="([^"]*)"', body))
        for body in re.findall(r"\baction\((.*?)\)", statements(conf), re.DOTALL)
    ]


def rsyslog_line(conf: str, properties: dict[str, str]) -> str:
    """The line rsyslog writes with the list template ``retailops_log_store`` of `conf`: its constants
    as written, each property(name=...) taken from `properties`."""
    (body,) = re.findall(r'template\(name="retailops_log_store" type="list"\) \{(.*?)\n\}', conf, re.DOTALL)
    parts = re.findall(r'constant\(value="((?:[^"\\]|\\.)*)"\)|property\(name="([^"]+)"[^)]*\)', body)
    return "".join(
        properties[name] if name else constant.replace('\\"', '"').replace("\\\\", "\\")
        for constant, name in parts
    )


def test_the_store_is_the_monitoring_node_at_its_address_variable(
    rendered: dict[str, dict[str, str]],
) -> None:
    targets = {
        host: [(a["target"], a["port"]) for a in actions(files["log-store.conf"])]
        for host, files in rendered.items()
    }
    assert targets["db-1"] == [("192.0.2.10", "6514")]  # first host of `monitoring`, ansible_host
    assert targets["db-2"] == [("10.9.9.9", "1514")]  # given
    assert targets["db-3"] == [("10.213.0.10", "6514")]  # the pilot's node_address


def test_one_forwarding_action_with_a_disk_assisted_queue(rendered: dict[str, dict[str, str]]) -> None:
    (action,) = actions(rendered["db-1"]["log-store.conf"])
    assert action == {
        "type": "omfwd",
        "name": "log_store",
        "target": "192.0.2.10",
        "port": "6514",
        "protocol": "tcp",
        "TCP_Framing": "octet-counted",
        "KeepAlive": "on",
        "template": "retailops_log_store",
        "queue.type": "LinkedList",
        "queue.filename": "log_store",
        "queue.size": "50000",
        "queue.maxDiskSpace": "1g",
        "queue.saveOnShutdown": "on",
        "queue.dequeueBatchSize": "1",
        "action.resumeRetryCount": "-1",
        "action.resumeInterval": "10",
    }


def test_the_journal_is_the_only_input_and_nothing_is_written_locally(
    rendered: dict[str, dict[str, str]],
) -> None:
    conf = statements(rendered["db-1"]["rsyslog.conf"])
    assert re.findall(r'load="(\w+)"', conf) == ["imjournal"]
    assert 'include(file="/etc/rsyslog.d/retailops-log-store.conf")' in conf
    assert re.search(r"^call retailops_log_store$", conf, re.MULTILINE)
    for debian_default in ("imuxsock", "imklog", "$IncludeConfig", "/var/log", "omfile", "omusrmsg"):
        assert debian_default not in conf
    assert actions(rendered["db-1"]["rsyslog.conf"]) == []
    assert 'StateFile="imjournal.state"' in conf
    assert 'IgnorePreviousMessages="on"' in conf
    assert 'IgnorePreviousMessages="off"' in statements(rendered["db-2"]["rsyslog.conf"])
    assert 'Ratelimit.Interval="600"' in conf
    assert 'Ratelimit.Burst="20000"' in conf


def test_the_template_lays_out_rfc5424_with_region_service_and_host(
    rendered: dict[str, dict[str, str]],
) -> None:
    line = rsyslog_line(
        rendered["db-1"]["log-store.conf"],
        {
            "pri": "30",
            "timereported": "2026-12-05T10:00:00.123456+00:00",
            "hostname": "pg-a",
            "app-name": "patroni",
            "procid": "812",
            "msgid": "-",
            "$.service": "patroni.service",
            "msg": "no action. I am (db-1), the leader with the lock",
        },
    )
    assert line == (
        "<30>1 2026-12-05T10:00:00.123456+00:00 pg-a patroni 812 - "
        "[region=eu-west service=patroni.service host=db-1] no action. I am (db-1), the leader with the lock"
    )


def test_the_service_is_the_container_then_the_unit_then_the_identifier_and_is_made_safe(
    rendered: dict[str, dict[str, str]],
) -> None:
    conf = statements(rendered["db-1"]["log-store.conf"])
    derivation = re.findall(r"set \$\.service = ([^;]+);", conf)
    assert derivation == [
        "$!CONTAINER_NAME",
        "$!_SYSTEMD_UNIT",
        "$!SYSLOG_IDENTIFIER",
        "$programname",
        '"-"',
        'replace(replace(replace($.service, " ", "_"), "\\"", "_"), "]", "_")',
    ]


# --- live: VictoriaLogs from the rig cache --------------------------------------------------------

# The release log_store pins (test_log_store.py checks rig/victorialogs.sh builds the same one).
LOG_STORE_DEFAULTS = ROOT / "roles" / "log_store" / "defaults" / "main.yml"
VERSION = yaml.safe_load(LOG_STORE_DEFAULTS.read_text())["log_store_version"]
RIG_CACHE = Path(
    os.environ.get("RIG_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "retailops-rig"
)
VICTORIA_LOGS = RIG_CACHE / "bin" / f"victoria-logs-{VERSION}"
needs_victoria_logs = pytest.mark.skipif(
    not VICTORIA_LOGS.is_file(), reason=f"{VICTORIA_LOGS} is not built: bash rig/victorialogs.sh"
)
DEADLINE = 60.0  # seconds for the store to start and for entries to become searchable


def get(url: str, **query: str) -> str:
    with urllib.request.urlopen(
        url + ("?" + urllib.parse.urlencode(query) if query else ""), timeout=10
    ) as reply:
        body: bytes = reply.read()
        return body.decode()


class Store:
    """victoria-logs run with `argv` (its data directory kept across a stop and a start)."""

    def __init__(self, argv: list[str], http_port: int, syslog_port: int, log: Path) -> None:
        self.argv = argv
        self.http = f"http://127.0.0.1:{http_port}"
        self.syslog_port = syslog_port
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + DEADLINE
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if get(self.http + "/health") == "OK":
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "victoria-logs did not answer /health"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def query(self, logsql: str, expect: int) -> list[dict[str, str]]:
        """The entries matching `logsql`, once there are `expect` of them (or the deadline passed)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            found = [
                json.loads(line)
                for line in get(self.http + "/select/logsql/query", query=logsql).splitlines()
            ]
            if len(found) >= expect or time.monotonic() > deadline:
                return found
            time.sleep(0.5)

    def streams(self, logsql: str) -> list[str]:
        reply = json.loads(get(self.http + "/select/logsql/streams", query=logsql))
        return sorted(item["value"] for item in reply["values"])


@contextlib.contextmanager
def running_store(tmp: Path) -> Iterator[Store]:
    """victoria-logs with the command line of log_store's unit, on 127.0.0.1, its data in `tmp`;
    stopped afterwards."""
    http_port, syslog_port = free_port(), free_port()
    unit = render_role_templates(
        tmp / "render",
        "log_store",
        {"all": {"hosts": {"mon-1": {}}}},
        ["victoria-logs.service"],
        {
            "log_store_binary_src": __file__,
            "log_store_binary_path": str(VICTORIA_LOGS),
            "log_store_listen_address": "127.0.0.1",
            "log_store_http_port": http_port,
            "log_store_syslog_port": syslog_port,
            "log_store_data_dir": str(tmp / "data"),
        },
    )["mon-1"]["victoria-logs.service"]
    store = Store(systemd_exec_start(unit), http_port, syslog_port, tmp / "victoria-logs.log")
    try:
        store.start()
        yield store
    finally:
        store.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store for the module's tests."""
    with running_store(tmp_path_factory.mktemp("victoria-logs")) as running:
        yield running


def write_journal(path: Path, entries: list[dict[str, str]]) -> None:
    """Journal fields, one JSON object a line, appended where imfile reads."""
    with path.open("a") as journal:
        journal.writelines(json.dumps(fields) + "\n" for fields in entries)


def send_octet_counted(port: int, lines: list[str]) -> None:
    """As omfwd with TCP_Framing="octet-counted": each message prefixed with its length and a space."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for line in lines:
            data = line.encode()
            sock.sendall(str(len(data)).encode() + b" " + data)


@needs_victoria_logs
def test_template_lines_arrive_with_region_host_and_service_as_stream_fields(
    rendered: dict[str, dict[str, str]], store: Store
) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
    entries = [
        ("db-1", "patroni.service", "patroni", "promoted self to leader by acquiring session lock"),
        ("db-1", "pgbouncer.service", "pgbouncer", "stats: 12 xacts/s"),
        ("db-3", "kernel", "kernel", "nf_conntrack: table full, dropping packet"),
    ]
    lines = [
        rsyslog_line(
            rendered[host]["log-store.conf"],
            {
                "pri": "30",
                "timereported": now,
                "hostname": host + ".internal",
                "app-name": app,
                "procid": "-",
                "msgid": "-",
                "$.service": service,
                "msg": text,
            },
        )
        for host, service, app, text in entries
    ]
    send_octet_counted(store.syslog_port, lines)

    found = store.query('region:="eu-west" host:in("db-1", "db-3")', expect=3)
    got = sorted(
        (e["region"], e["host"], e["service"], e["app_name"], e["hostname"], e["_msg"]) for e in found
    )
    assert got == sorted(("eu-west", h, s, a, h + ".internal", t) for h, s, a, t in entries)
    assert {e["level"] for e in found} == {"info"}
    assert store.streams('region:="eu-west"') == [
        '{host="db-1",region="eu-west",service="patroni.service"}',
        '{host="db-1",region="eu-west",service="pgbouncer.service"}',
        '{host="db-3",region="eu-west",service="kernel"}',
    ]
    # A stream selector on the three labels, as an operator queries.
    (leader,) = store.query('{region="eu-west", host="db-1", service="patroni.service"}', expect=1)
    assert leader["_msg"] == entries[0][3]


@needs_victoria_logs
@pytest.mark.skipif(
    shutil.which("rsyslogd") is None,
    reason="rsyslogd not installed (bash rig/host-packages.sh installs rsyslog)",
)
def test_rsyslogd_with_the_role_rules_ships_to_the_store(store: Store, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    forward = tmp_path / "retailops-log-store.conf"
    files = render_role_templates(
        tmp_path / "render",
        "log_shipping",
        {"all": {"hosts": {"store-test-1": {}}}},
        TEMPLATES,
        {
            "log_shipping_region": "rsyslog-test",
            "log_shipping_target_host": "127.0.0.1",
            "log_shipping_target_port": store.syslog_port,
            "log_shipping_work_dir": str(work),
            "log_shipping__forward_config": str(forward),
        },
    )["store-test-1"]
    forward.write_text(files["log-store.conf"])
    (tmp_path / "rsyslog.conf").write_text(files["rsyslog.conf"])
    check = subprocess.run(
        ["rsyslogd", "-N1", "-f", str(tmp_path / "rsyslog.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    journal = tmp_path / "journal.jsonl"
    write_journal(
        journal,
        [
            {"_SYSTEMD_UNIT": "patroni.service", "SYSLOG_IDENTIFIER": "patroni", "MESSAGE": "leader"},
            {"SYSLOG_IDENTIFIER": "kernel", "MESSAGE": "no unit: the identifier"},
            {"MESSAGE": "neither: the program name"},
            {"_SYSTEMD_UNIT": 'odd name] "x".service', "MESSAGE": "made safe"},
            # An Odoo container's line through Docker's journald driver: dockerd's unit, the container's name.
            {
                "_SYSTEMD_UNIT": "docker.service",
                "CONTAINER_NAME": "odoo",
                "SYSLOG_IDENTIFIER": "3f2a9c1d7e44",
                "MESSAGE": "odoo.modules.loading: Modules loaded.",
            },
        ],
    )
    # The role's rules, fed by a file instead of the journal.
    (tmp_path / "test.conf").write_text(
        f"""
global(workDirectory="{work}")
module(load="imfile")
module(load="mmjsonparse")
include(file="{forward}")
ruleset(name="test_journal") {{
  action(type="mmjsonparse" cookie="")
  call retailops_log_store
}}
input(type="imfile" File="{journal}" Tag="journal-test" ruleset="test_journal")
"""
    )
    command = ["rsyslogd", "-n", "-f", str(tmp_path / "test.conf"), "-i", str(tmp_path / "rsyslogd.pid")]
    outputs: list[str] = []

    def stop(proc: subprocess.Popen[str]) -> None:
        proc.terminate()
        outputs.append(proc.communicate(timeout=60)[0])

    rsyslogd = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        found = store.query('region:="rsyslog-test"', expect=5)
        assert sorted((e["host"], e["service"]) for e in found) == [
            ("store-test-1", "journal-test"),
            ("store-test-1", "kernel"),
            ("store-test-1", "odd_name___x_.service"),
            ("store-test-1", "odoo"),
            ("store-test-1", "patroni.service"),
        ]
        assert store.streams('region:="rsyslog-test" service:="patroni.service"') == [
            '{host="store-test-1",region="rsyslog-test",service="patroni.service"}'
        ]

        # The store goes down, and rsyslog restarts meanwhile: what the host logged waits in the
        # queue, on disk across the restart, and arrives when the store is back. Plain TCP syslog
        # loses the entry written into the connection the store closed (the kernel accepted it),
        # and rsyslog stopped with the store down drops or resends the entry in flight: at most
        # two of the 20 missing (with rsyslog's default batches here, 9 or all 20 were).
        store.stop()
        during = {f"during the outage {n}" for n in range(20)}
        write_journal(journal, [{"_SYSTEMD_UNIT": "outage.service", "MESSAGE": m} for m in sorted(during)])
        time.sleep(3)  # read and queued while nothing listens
        stop(rsyslogd)
        assert sorted(p.name for p in work.glob("log_store.*")), f"no queue files in {work}: {outputs}"
        rsyslogd = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        store.start()
        outage = 'region:="rsyslog-test" service:="outage.service"'
        store.query(outage, expect=len(during) - 2)
        time.sleep(3)  # and whatever else was still on its way
        arrived = [json.loads(e["_msg"])["MESSAGE"] for e in store.query(outage, expect=0)]
        assert set(arrived) <= during
        assert len(during - set(arrived)) <= 2, sorted(during - set(arrived))
    finally:
        stop(rsyslogd)
        print("\n".join(outputs))  # shown with a failure: what rsyslogd said


@needs_victoria_logs
def test_the_logs_probe_reads_the_store_as_the_scenario_does(
    rendered: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    """tests/probes/logs.py's queries (LogsQL of this release) on a store of its own: the entries by
    stream and label, a marker's delay, and a host the inventory lacks named."""
    groups = {"postgres_cluster": ["db-1", "db-3"], "monitoring": ["mon-1"]}
    services = [("patroni.service", "postgres_cluster")]

    def line(host: str, service: str, text: str, epoch: float) -> str:
        whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
        stamp = f"{whole}.{int((epoch % 1) * 1e6):06d}+00:00"
        conf = rendered["db-1"]["log-store.conf"].replace("host=db-1]", f"host={host}]")
        return rsyslog_line(
            conf,
            {
                "pri": "30",
                "timereported": stamp,
                "hostname": host,
                "app-name": service.removesuffix(".service"),
                "procid": "-",
                "msgid": "-",
                "$.service": service,
                "msg": text,
            },
        )

    with running_store(tmp_path) as store:
        client = logs_probe.LogStore(store.http)
        now = time.time()
        send_octet_counted(
            store.syslog_port,
            [
                line("db-1", "patroni.service", "no action. I am (db-1), the leader with the lock", now),
                line("db-3", "patroni.service", "no action. I am (db-3), a secondary", now),
                line("mon-1", "victoria-logs.service", "started server at http://10.0.0.40:9428/", now),
            ],
        )
        report = logs_probe.check(client, "eu-west", groups, services, wait=DEADLINE)
        assert report["problems"] == []
        assert report["entries"] == {
            "db-1": {"patroni.service": 1},
            "db-3": {"patroni.service": 1},
            "mon-1": {"victoria-logs.service": 1},
        }

        written = time.time()
        send_octet_counted(
            store.syslog_port, [line("db-3", "marker", "retailops log marker logmarkerx1db3", written)]
        )
        seen = logs_probe.watch_markers(
            client, {"db-3": "logmarkerx1db3"}, "eu-west", service="marker", within=DEADLINE, wait=DEADLINE
        )
        assert seen["problems"] == []
        (entry,) = seen["markers"]["db-3"]
        assert entry["written_at"] == pytest.approx(written, abs=1e-5)
        assert 0 <= seen["delays_s"]["db-3"] < DEADLINE

        send_octet_counted(store.syslog_port, [line("e1f2a3b4c5d6", "cron.service", "a stray host", now)])
        deadline = time.monotonic() + DEADLINE
        while not any(
            "host 'e1f2a3b4c5d6' is not a shipping host" in problem
            for problem in logs_probe.snapshot(client, "eu-west", groups, services)["problems"]
        ):
            assert time.monotonic() < deadline, "the stray host's entry is not named"
            time.sleep(0.5)
