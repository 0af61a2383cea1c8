"""log_store (VictoriaLogs): bad input refused before anything changes; the unit's command line.

The unit is rendered from the role's template and read back as systemd
would (systemd-analyze verify), and its flags are those the live test in
test_log_shipping.py runs the built binary with.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, render_role_templates, systemd_exec_start, validate_tests

ROLE = ROOT / "roles" / "log_store"
BINARY = Path(__file__)  # log_store_binary_src: any file on the controller will do

GOOD: dict[str, Any] = {"log_store_binary_src": str(BINARY), "log_store_listen_address": "10.213.0.10"}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "binary not on the controller": (
        {"log_store_binary_src": "/nonexistent/victoria-logs"},
        "log_store_binary_src",
    ),
    "listening on every address": ({"log_store_listen_address": "0.0.0.0"}, "log_store_listen_address"),
    "listen address not an address": (
        {"log_store_listen_address": "monitoring-1"},
        "log_store_listen_address",
    ),
    "both ports the same": ({"log_store_syslog_port": 9428}, "log_store_syslog_port"),
    "retention in months": ({"log_store_retention_period": "1m"}, "log_store_retention_period"),
    "disk limit with a space": (
        {"log_store_max_disk_space_usage": "20 GiB"},
        "log_store_max_disk_space_usage",
    ),
    "no stream field": ({"log_store_stream_fields": []}, "log_store_stream_fields"),
    "a stream field VictoriaLogs refuses": ({"log_store_stream_fields": ["a=b"]}, "log_store_stream_fields"),
    "an extra flag the role sets": (
        {"log_store_flags_extra": {"retentionPeriod": "1y"}},
        "log_store_flags_extra",
    ),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "log_store", GOOD, BAD
)


def render_unit(tmp: Path, **extra: Any) -> str:
    inventory: dict[str, Any] = {"all": {"hosts": {"mon-1": {}}}}
    rendered: dict[str, dict[str, str]] = render_role_templates(
        tmp,
        "log_store",
        inventory,
        ["victoria-logs.service"],
        {"log_store_binary_src": str(BINARY), "log_store_listen_address": "10.213.0.10", **extra},
    )
    return rendered["mon-1"]["victoria-logs.service"]


@pytest.fixture(scope="module")
def unit(tmp_path_factory: pytest.TempPathFactory) -> str:
    return render_unit(
        tmp_path_factory.mktemp("unit"),
        log_store_flags_extra={"memory.allowedPercent": 40, "search.maxQueryDuration": "30s"},
    )


def test_the_command_line_carries_the_role_settings(unit: str) -> None:
    argv = systemd_exec_start(unit)
    assert argv == [
        "/usr/local/bin/victoria-logs",
        "-storageDataPath=/var/lib/victoria-logs",
        "-retentionPeriod=30d",
        "-retention.maxDiskSpaceUsageBytes=20GiB",
        "-httpListenAddr=10.213.0.10:9428",
        "-syslog.listenAddr.tcp=10.213.0.10:6514",
        '-syslog.streamFields.tcp=["region", "host", "service"]',
        "-memory.allowedPercent=40",
        "-search.maxQueryDuration=30s",
    ]
    assert "User=victorialogs" in unit
    assert "ReadWritePaths=/var/lib/victoria-logs" in unit.splitlines()
    for hardening in (
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "CapabilityBoundingSet=",
        "PrivateDevices=true",
    ):
        assert hardening in unit.splitlines()


def test_an_ipv6_listen_address_is_bracketed(tmp_path: Path) -> None:
    argv = systemd_exec_start(render_unit(tmp_path, log_store_listen_address="fd00:213::10"))
    assert "-httpListenAddr=[fd00:213::10]:9428" in argv
    assert "-syslog.listenAddr.tcp=[fd00:213::10]:6514" in argv


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (apt-get install systemd)"
)
def test_systemd_reads_the_unit(unit: str, tmp_path: Path) -> None:
    """systemd-analyze verify: the quoting holds (an unbalanced quote is a fatal error there)."""
    path = tmp_path / "victoria-logs.service"
    path.write_text(unit.replace("/usr/local/bin/victoria-logs", "/bin/true", 1))
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "victoria-logs.service:" not in run.stderr, run.stderr


def test_the_rig_builds_the_release_the_role_pins() -> None:
    pinned = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["log_store_version"]
    script = (ROOT / "rig" / "victorialogs.sh").read_text()
    (built,) = re.findall(
        r'^VICTORIALOGS_VERSION="\$\{VICTORIALOGS_VERSION:-(v[0-9.]+)\}"$', script, re.MULTILINE
    )
    assert built == pinned
