"""alertmanager: the configuration it renders, and the input it refuses before anything changes.

The role's validate entry point runs on localhost (one host per case), then
the role's template renders alertmanager.yml into a temporary directory,
where `amtool check-config` (Debian's 0.25, as on the monitoring node) reads
it. What this proves: alerts are routed by severity to webhook receivers,
grouped by alert name, region, tier and branch, a critical alert inhibits
the warning of the same alert and instance, a bearer token goes into the
receiver's authorization only when set; a receiver without URL, a route to
an unknown receiver and a severity the alert rules use without a route are
refused, and a refusal never prints a URL or a token. What it does not:
that a notification reaches the webhook (the Molecule scenario does).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml
from conftest import ROOT, inventory_cases

pytestmark = pytest.mark.slow
AMTOOL = shutil.which("amtool")
URL = "https://hooks.example.internal/alerts/TOPSECRET-URL-PART"
TOKEN = "TOPSECRET-TOKEN-0123456789"
TEMPLATE = ROOT / "roles" / "alertmanager" / "templates" / "alertmanager.yml.j2"
TASKS = [
    {
        "name": "Validate",
        "ansible.builtin.include_role": {
            "name": "retailops.odoo_platform.alertmanager",
            "tasks_from": "validate",
            "public": True,
        },
    },
    {
        "name": "Render",
        "ansible.builtin.copy": {
            "dest": "{{ render_out }}/alertmanager.yml",
            "content": f"{{{{ lookup('ansible.builtin.template', '{TEMPLATE}') }}}}",
            "mode": "0600",
        },
        "no_log": True,
    },
    {
        "name": "Flags",
        "ansible.builtin.copy": {
            "dest": "{{ render_out }}/flags",
            "content": "{{ alertmanager__args | join(' ') }}",
            "mode": "0644",
        },
    },
]


def cases() -> tuple[dict[str, dict[str, Any]], dict[str, tuple[dict[str, Any], str]]]:
    """(good cases, bad cases with the text their refusal names)."""
    good: dict[str, Any] = {
        "alertmanager_listen_address": "127.0.0.1",
        "alertmanager_webhook_url": URL,
        "alertmanager_webhook_bearer_token": TOKEN,
    }
    pager = {"name": "pager", "url": "https://pager.example.internal/hook", "send_resolved": False}
    goods = {
        "defaults": good,
        "no token": {**good, "alertmanager_webhook_bearer_token": ""},
        "two receivers": {
            **good,
            "alertmanager_receivers": [{"name": "webhook", "url": URL}, pager],
            "alertmanager_routes": {
                "critical": {"receiver": "pager", "group_wait": "0s", "repeat_interval": "30m"},
                "warning": {"receiver": "webhook"},
            },
            "alertmanager_group_wait": "5s",
        },
    }
    bads: dict[str, tuple[dict[str, Any], str]] = {
        "a receiver without URL": ({"alertmanager_webhook_url": ""}, "alertmanager_receivers[webhook]"),
        "a URL that is not http": (
            {
                "alertmanager_receivers": [
                    {"name": "webhook", "url": "hooks.example.internal/x", "bearer_token": TOKEN}
                ]
            },
            "alertmanager_receivers[webhook]",
        ),
        "a receiver named twice": (
            {"alertmanager_receivers": [{"name": "webhook", "url": URL}, {"name": "webhook", "url": URL}]},
            "alertmanager_receivers[webhook]",
        ),
        "a receiver with an unknown key": (
            {"alertmanager_receivers": [{"name": "webhook", "url": URL, "password": TOKEN}]},
            "alertmanager_receivers[webhook]",
        ),
        "a route to an unknown receiver": (
            {"alertmanager_routes": {"critical": {"receiver": "pager"}, "warning": {"receiver": "webhook"}}},
            "alertmanager_routes.critical",
        ),
        "a route without a receiver": (
            {
                "alertmanager_routes": {
                    "critical": {"repeat_interval": "1h"},
                    "warning": {"receiver": "webhook"},
                }
            },
            "alertmanager_routes.critical has no receiver",
        ),
        "an unknown default receiver": (
            {"alertmanager_default_receiver": "email"},
            "alertmanager_default_receiver email",
        ),
        "a severity the rules use without a route": (
            {"alertmanager_routes": {"critical": {"receiver": "webhook"}}},
            "alertmanager_routes has no route for severity warning",
        ),
        "a severity an operator's rule adds": (
            # the prometheus role's severities, which it holds every alert rule to
            {"prometheus_alert_severities": ["critical", "warning", "info"]},
            "alertmanager_routes has no route for severity info, used by the alert rules",
        ),
        "a timing Alertmanager cannot read": (
            {"alertmanager_routes": {"critical": {"receiver": "webhook", "repeat_interval": "1 hour"}}},
            "alertmanager_routes.critical.repeat_interval",
        ),
        "no grouping by alert name": ({"alertmanager_group_by": ["region"]}, "alertmanager_group_by"),
        "listening on every address": (
            {"alertmanager_listen_address": "0.0.0.0"},
            "alertmanager_listen_address",
        ),
    }
    return goods, {name: ({**good, **over}, expect) for name, (over, expect) in bads.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("alertmanager")
    goods, bads = cases()
    out = {name: tmp / "out" / name.replace(" ", "_") for name in goods}
    for path in out.values():
        path.mkdir(parents=True)
    found = inventory_cases(
        tmp / "run",
        {"all": {}},
        TASKS,
        {
            **{name: {**case, "render_out": str(out[name])} for name, case in goods.items()},
            **{name: {**case, "render_out": str(tmp / "never")} for name, (case, _expect) in bads.items()},
        },
    )
    return {"found": found, "out": out, "expect": {name: expect for name, (_case, expect) in bads.items()}}


GOOD_NAMES = ["defaults", "no token", "two receivers"]
BAD_NAMES = sorted(cases()[1])


def rendered(runs: dict[str, Any], case: str) -> dict[str, Any]:
    assert runs["found"][case]["ok"], runs["found"][case]["msg"]
    config: dict[str, Any] = yaml.safe_load((runs["out"][case] / "alertmanager.yml").read_text())
    return config


@pytest.mark.skipif(AMTOOL is None, reason="amtool (Debian's prometheus-alertmanager) is not installed")
@pytest.mark.parametrize("case", GOOD_NAMES)
def test_amtool_accepts_the_rendered_configuration(case: str, runs: dict[str, Any]) -> None:
    rendered(runs, case)
    result = subprocess.run(
        [str(AMTOOL), "check-config", str(runs["out"][case] / "alertmanager.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_are_routed_by_severity_and_grouped(runs: dict[str, Any]) -> None:
    config = rendered(runs, "defaults")
    route = config["route"]
    assert route["receiver"] == "webhook"
    assert route["group_by"] == ["alertname", "region", "tier", "branch"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")
    assert route["routes"] == [
        {"matchers": ['severity="critical"'], "receiver": "webhook", "repeat_interval": "1h"},
        {"matchers": ['severity="warning"'], "receiver": "webhook", "repeat_interval": "12h"},
    ]
    assert config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "instance"],
        }
    ]
    (receiver,) = config["receivers"]
    assert receiver == {
        "name": "webhook",
        "webhook_configs": [
            {
                "url": URL,
                "send_resolved": True,
                "max_alerts": 0,
                "http_config": {"authorization": {"type": "Bearer", "credentials": TOKEN}},
            }
        ],
    }
    flags = (runs["out"]["defaults"] / "flags").read_text()
    assert "--web.listen-address=127.0.0.1:9093" in flags
    assert "--cluster.listen-address= " in flags  # one Alertmanager per region: no gossip port


def test_no_token_no_authorization(runs: dict[str, Any]) -> None:
    (receiver,) = rendered(runs, "no token")["receivers"]
    assert "http_config" not in receiver["webhook_configs"][0]


def test_each_severity_to_its_own_receiver_with_its_own_timing(runs: dict[str, Any]) -> None:
    config = rendered(runs, "two receivers")
    assert [r["name"] for r in config["receivers"]] == ["webhook", "pager"]
    assert config["receivers"][1]["webhook_configs"][0]["send_resolved"] is False
    assert config["route"]["group_wait"] == "5s"
    assert config["route"]["routes"] == [
        {
            "matchers": ['severity="critical"'],
            "receiver": "pager",
            "group_wait": "0s",
            "repeat_interval": "30m",
        },
        {"matchers": ['severity="warning"'], "receiver": "webhook"},
    ]


@pytest.mark.parametrize("case", BAD_NAMES)
def test_bad_input_is_refused_before_anything_changes(case: str, runs: dict[str, Any]) -> None:
    run = runs["found"][case]
    assert not run["ok"]
    assert runs["expect"][case] in run["msg"], run["msg"]
    assert "Render" not in run["ran"]
    assert TOKEN not in str(run)
    assert "TOPSECRET-URL-PART" not in str(run)
