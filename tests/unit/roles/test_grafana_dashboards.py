"""grafana_dashboards: the dashboards are sound Grafana JSON, their queries valid PromQL on known
metrics, the role provisions every one of them, and refuses bad input.

The PromQL check uses Prometheus' own parser: every panel query, its variables substituted as
Grafana would, becomes a recording rule of a temporary file that ``promtool check rules`` reads.
"""

from __future__ import annotations

import functools
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, localhost_playbook, playbook_env, validate_tests

from loadtests import dashboards as probe
from tests import metric_names

ROLE = ROOT / "roles" / "grafana_dashboards"
FILES = sorted((ROLE / "files" / "dashboards").glob("*.json"))
NAMES = [path.name for path in FILES]
# Grafana 10.4 and 11 write schemaVersion 39; the migrations of older ones are not wanted here.
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


@functools.cache
def load(name: str) -> dict[str, Any]:
    dashboard = json.loads((ROLE / "files" / "dashboards" / name).read_text(encoding="utf-8"))
    assert isinstance(dashboard, dict)
    return dashboard


class Dashboards(Mapping[str, dict[str, Any]]):
    """file name -> dashboard, each parsed when first read (a file that does not parse fails the
    tests that read it, not the collection of the module)."""

    def __getitem__(self, name: str) -> dict[str, Any]:
        return load(name)

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


DASHBOARDS = Dashboards()


@pytest.mark.parametrize("name", NAMES)
def test_a_dashboard_parses(name: str) -> None:
    assert load(name)["panels"]


def test_there_are_the_five_dashboards() -> None:
    assert sorted(DASHBOARDS) == [
        "branches.json",
        "database.json",
        "redis.json",
        "region-overview.json",
        "tier-slis.json",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_a_dashboard_has_a_uid_and_unique_panel_ids(name: str) -> None:
    dashboard = DASHBOARDS[name]
    assert re.fullmatch(r"retailops-[a-z0-9-]+", dashboard.get("uid", "")), dashboard.get("uid")
    assert dashboard["title"].startswith("RetailOps / ")
    assert dashboard["schemaVersion"] == SCHEMA_VERSION
    # Grafana assigns a dashboard's id; a fixed one clashes on import
    assert dashboard.get("id") is None
    ids = [panel.get("id") for panel, _repeat in probe.panels(dashboard)]
    assert all(isinstance(i, int) for i in ids), ids
    assert sorted({str(i) for i in ids if ids.count(i) > 1}) == []


def test_dashboard_uids_are_unique() -> None:
    uids = [d["uid"] for d in DASHBOARDS.values()]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("name", NAMES)
def test_every_panel_queries_the_templated_datasource(name: str) -> None:
    """Every panel and target uses ${DS_PROMETHEUS}, a datasource variable of the dashboard, and the
    region comes from label_values: the same file works imported and provisioned, in any region."""
    dashboard = DASHBOARDS[name]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    assert probe.variable_query(variables["region"]).startswith("label_values(")
    wrong = []
    for panel, _repeat in probe.panels(dashboard):
        if panel["type"] == "row":
            continue
        if panel.get("datasource") != DATASOURCE:
            wrong.append(f"panel {panel['id']} ({panel['title']})")
        wrong += [
            f"panel {panel['id']} ({panel['title']}) target {t.get('refId')}"
            for t in panel.get("targets", [])
            if t.get("datasource") != DATASOURCE or not t.get("expr")
        ]
        if not panel.get("targets"):
            wrong.append(f"panel {panel['id']} ({panel['title']}): no target")
    assert wrong == []


def sample_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """A value for each of the dashboard's variables, formatted as Grafana would (multi: a regex)."""
    values = {}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "datasource":
            values[variable["name"]] = "prometheus-uid"
        elif variable.get("multi"):
            values[variable["name"]] = probe.regex_alternatives(["S-001", "pos.sync"])
        else:
            values[variable["name"]] = "test-west"
    return values


def substituted() -> list[tuple[probe.PanelQuery, str]]:
    """Every panel query of every dashboard with only that dashboard's variables substituted (a
    variable the dashboard lacks raises KeyError), a repeated row's variable as one plain value."""
    found = []
    for dashboard in DASHBOARDS.values():
        values = sample_values(dashboard)
        for query in probe.queries(dashboard):
            one = {**values, query.repeat: "pos_sync"} if query.repeat else values
            found.append((query, probe.substitute(query.expr, one)))
    return found


def record_name(query: probe.PanelQuery) -> str:
    return "dashboard:" + query.dashboard.replace("-", "_") + f":panel_{query.panel_id}_{query.ref_id}"


def promtool_check(queries: list[tuple[probe.PanelQuery, str]], tmp_path: Path) -> list[str]:
    """The queries `promtool check rules` refuses, each as where it is and promtool's message."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is needed (Debian package prometheus: rig/host-packages.sh installs it)"
    by_record = {record_name(q): q for q, _expr in queries}
    assert len(by_record) == len(queries), "two targets share a panel id and refId"
    groups: dict[str, list[dict[str, str]]] = {}
    for query, expr in queries:
        groups.setdefault(query.dashboard, []).append({"record": record_name(query), "expr": expr})
    rules = tmp_path / "panels.rules.yml"
    rules.write_text(
        yaml.safe_dump({"groups": [{"name": n, "rules": r} for n, r in groups.items()]}, width=1000)
    )
    run = subprocess.run(
        [promtool, "check", "rules", str(rules)], check=False, capture_output=True, text=True, timeout=120
    )
    output = run.stdout + run.stderr
    failed = [
        f"{by_record[m.group(1)].where()}: {m.group(2)}"
        for m in re.finditer(r'"(dashboard:[\w:]+)": (.*)', output)
        if m.group(1) in by_record
    ]
    if run.returncode != 0 and not failed:
        failed.append(output[-3000:])
    return failed


def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    queries = substituted()
    assert len(queries) > 60
    assert promtool_check(queries, tmp_path) == []


def test_the_promql_check_names_the_panel_that_fails(tmp_path: Path) -> None:
    """The check above can fail, and says where: one broken query among good ones."""
    queries = substituted()
    broken_query, broken_expr = queries[3]
    queries[3] = (broken_query, broken_expr + " )")
    failed = promtool_check(queries, tmp_path)
    assert len(failed) == 1, failed
    assert failed[0].startswith(broken_query.where() + ": could not parse expression"), failed


def test_every_metric_is_a_contract_rule_a_textfile_metric_or_a_packaged_exporters() -> None:
    unknown = [
        f"{query.where()}: {sorted(metric_names.metric_names(expr) - metric_names.KNOWN)}"
        for query, expr in substituted()
        if metric_names.metric_names(expr) - metric_names.KNOWN
    ]
    assert unknown == []


def test_every_panel_reads_a_metric() -> None:
    """A query the name reader finds nothing in would pass the check above unchecked."""
    assert [query.where() for query, expr in substituted() if not metric_names.metric_names(expr)] == []


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (tier) (rate(a_total{x="y", tier=~"b|c"}[5m])) / on (tier) group_left () max(b)',
            {"a_total", "b"},
        ),
        ("time() - (c > 0) and on (instance) (d == 1)", {"c", "d"}),
        ('count(ALERTS{alertstate="firing"}) or vector(0)', {"ALERTS"}),
        ("tier:x:ratio_rate5m offset 1h > bool 2e3", {"tier:x:ratio_rate5m"}),
        ('label_replace(up, "dst", "$1", "src", "(by)")', {"up"}),
        ("sum(e) without (job) unless ignoring (le) f", {"e", "f"}),
    ],
)
def test_the_metric_name_reader(expr: str, names: set[str]) -> None:
    assert metric_names.metric_names(expr) == names


def test_every_dashboard_is_referenced_by_the_role() -> None:
    """Each file is in the role's default selection, and its README's table; nothing else is."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    stems = sorted(path.stem for path in FILES)
    assert sorted(defaults["grafana_dashboards_selected"]) == stems
    assert (
        sorted(spec["argument_specs"]["main"]["options"]["grafana_dashboards_selected"]["default"]) == stems
    )
    readme = (ROLE / "README.md").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^\| `([a-z0-9-]+)\.json` \|", readme, re.MULTILINE)) == stems


# ---------------------------------------------------------------- the role on this machine


def converge(
    tmp: Path, extra: dict[str, Any], inventory: str | None = None
) -> subprocess.CompletedProcess[str]:
    playbook = tmp / "provision.yml"
    if not playbook.exists():
        localhost_playbook(
            playbook,
            "Provision",
            [
                {
                    "name": "Provision",
                    "ansible.builtin.include_role": {"name": "retailops.odoo_platform.grafana_dashboards"},
                }
            ],
        )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-e", json.dumps(extra)]
    if inventory:
        command += ["-i", inventory]
    return subprocess.run(
        command, check=False, env=playbook_env(), capture_output=True, text=True, timeout=300
    )


def changed(run: subprocess.CompletedProcess[str]) -> int:
    recap = re.search(r"localhost\s*:.*changed=(\d+)", run.stdout)
    assert recap, run.stdout[-3000:]
    return int(recap.group(1))


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The role run twice into temporary directories, then with one dashboard less and the datasource on."""
    tmp = tmp_path_factory.mktemp("grafana")
    base = {
        "grafana_dashboards_dir": str(tmp / "dashboards"),
        "grafana_dashboards_provisioning_dir": str(tmp / "provisioning"),
        "grafana_dashboards_owner": pwd.getpwuid(os.getuid()).pw_name,
        "grafana_dashboards_group": grp.getgrgid(os.getgid()).gr_name,
    }
    first = converge(tmp, base)
    written = {path.name: path.read_bytes() for path in (tmp / "dashboards").iterdir()}
    provider = (tmp / "provisioning" / "dashboards" / "retailops.yaml").read_text()
    second = converge(tmp, base)
    (tmp / "dashboards" / "old.json").write_text("{}")
    (tmp / "dashboards" / "notes.txt").write_text("the operator's")
    inventory = tmp / "inventory.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {"localhost": {}},
                    "children": {"monitoring": {"hosts": {"mon-1": {"node_address": "10.213.30.10"}}}},
                }
            }
        )
    )
    narrower = {
        **base,
        "grafana_dashboards_selected": ["region-overview", "branches"],
        "grafana_dashboards_datasource_enabled": True,
        "grafana_dashboards_prometheus_address_var": "node_address",
    }
    third = converge(tmp, narrower, str(inventory))
    return {
        "tmp": tmp,
        "first": first,
        "written": written,
        "provider": provider,
        "second": second,
        "third": third,
    }


def test_the_role_writes_the_dashboards_and_the_provider(provisioned: dict[str, Any]) -> None:
    assert provisioned["first"].returncode == 0, provisioned["first"].stdout[-3000:]
    assert provisioned["written"] == {path.name: path.read_bytes() for path in FILES}
    provider = yaml.safe_load(provisioned["provider"])
    assert provider["apiVersion"] == 1
    [entry] = provider["providers"]
    assert entry["type"] == "file"
    assert entry["options"]["path"] == str(provisioned["tmp"] / "dashboards")
    assert entry["folder"] == "RetailOps"
    assert entry["updateIntervalSeconds"] == 30
    assert entry["allowUiUpdates"] is False


def test_a_second_run_changes_nothing(provisioned: dict[str, Any]) -> None:
    assert provisioned["second"].returncode == 0, provisioned["second"].stdout[-3000:]
    assert changed(provisioned["second"]) == 0, provisioned["second"].stdout[-3000:]


def test_a_dropped_dashboard_leaves_and_the_datasource_points_at_the_monitoring_node(
    provisioned: dict[str, Any],
) -> None:
    assert provisioned["third"].returncode == 0, provisioned["third"].stdout[-3000:]
    tmp = provisioned["tmp"]
    assert sorted(p.name for p in (tmp / "dashboards").iterdir()) == [
        "branches.json",
        "notes.txt",
        "region-overview.json",
    ]
    datasource = yaml.safe_load((tmp / "provisioning" / "datasources" / "retailops.yaml").read_text())
    [entry] = datasource["datasources"]
    assert entry["type"] == "prometheus"
    assert entry["url"] == "http://10.213.30.10:9090"
    assert entry["uid"] == "retailops-prometheus"
    assert entry["jsonData"]["timeInterval"] == "15s"


# ---------------------------------------------------------------- bad input

GOOD: dict[str, Any] = {
    "grafana_dashboards_prometheus_url": "http://10.213.30.10:9090",
    "grafana_dashboards_datasource_enabled": True,
}

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "a dashboard the role does not have": (
        {"grafana_dashboards_selected": ["region-overview", "kafka"]},
        "grafana_dashboards_selected",
    ),
    "a dashboard twice": ({"grafana_dashboards_selected": ["redis", "redis"]}, "grafana_dashboards_selected"),
    "no dashboard": ({"grafana_dashboards_selected": []}, "grafana_dashboards_selected"),
    "a relative directory": ({"grafana_dashboards_dir": "dashboards"}, "grafana_dashboards_dir"),
    "dashboards among the provisioning files": (
        {"grafana_dashboards_dir": "/etc/grafana/provisioning/dashboards"},
        "grafana_dashboards_dir",
    ),
    "a provider name that is no file name": (
        {"grafana_dashboards_provider_name": "Retail Ops"},
        "grafana_dashboards_provider_name",
    ),
    "a folder uid Grafana refuses": (
        {"grafana_dashboards_folder_uid": "retail/ops"},
        "grafana_dashboards_folder_uid",
    ),
    "Grafana scanning every second": (
        {"grafana_dashboards_update_interval_seconds": 1},
        "grafana_dashboards_update_interval_seconds",
    ),
    "an interval that is no number": (
        {"grafana_dashboards_update_interval_seconds": "often"},
        "grafana_dashboards_update_interval_seconds",
    ),
    "a datasource uid Grafana refuses": (
        {"grafana_dashboards_datasource_uid": "a b"},
        "grafana_dashboards_datasource_uid",
    ),
    "a Prometheus URL without a scheme": (
        {"grafana_dashboards_prometheus_url": "10.213.30.10:9090"},
        "grafana_dashboards_prometheus_url",
    ),
    "no monitoring node to point at": (
        {"grafana_dashboards_prometheus_url": ""},
        "grafana_dashboards_prometheus_group",
    ),
    "a scrape interval that is no duration": (
        {"grafana_dashboards_datasource_scrape_interval": "15"},
        "grafana_dashboards_datasource_scrape_interval",
    ),
    "a service name with a space": (
        {"grafana_dashboards_grafana_service": "grafana server"},
        "grafana_dashboards_grafana_service",
    ),
}

runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable = validate_tests(
    "grafana_dashboards", GOOD, BAD
)
