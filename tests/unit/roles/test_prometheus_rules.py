"""The Prometheus rules of roles/prometheus/files/rules/, their runbooks and their promtool tests.

promtool itself (tools/checks.py lint: promtool-check-rules, promtool-test-rules) says whether the files parse
and whether the alerts fire in the unit tests; this says what promtool cannot:
every alert of the observability contract exists, with a paging or ticketing
severity, the annotations operators and the pilot read, and a runbook page;
every page belongs to an alert; every alert (each severity) fires in a
promtool test and resolves there; the SLO objectives are consistent.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from conftest import ROOT

from tests import metric_names
from tests.metric_names import RULES_DIR

RUNBOOKS = ROOT / "roles" / "prometheus" / "runbooks"
PROMTOOL_TESTS = ROOT / "tests" / "promtool"

# The alerts of the observability contract (issue 17).
CONTRACT_ALERTS = {
    "PostgresNoLeader",
    "PostgresMultipleLeaders",
    "PostgresReplicationLagHigh",
    "PostgresSyncStandbyMissing",
    "PatroniMemberDown",
    "PgBouncerPoolSaturated",
    "PgBouncerDown",
    "RedisNoPrimary",
    "RedisSentinelQuorumLost",
    "RedisInstanceDown",
    "OdooNodeDown",
    "TierErrorBudgetBurnFast",
    "TierErrorBudgetBurnSlow",
    "TierLatencyBurnFast",
    "TierLatencyBurnSlow",
    "BranchTunnelDown",
    "BackupTooOld",
    "WalArchivingFailing",
    "CertificateExpiringSoon",
    "DiskFillingUp",
    "DiskAlmostFull",
    "KubernetesNodeUnreachable",
    "ScrapeTargetDown",
    "TextfileCollectorFailing",
}
CONTRACT_RECORDINGS = {
    "tier:retailops_requests:rate5m",
    "tier:retailops_errors:ratio_rate5m",
    "tier:retailops_errors:ratio_rate30m",
    "tier:retailops_errors:ratio_rate1h",
    "tier:retailops_errors:ratio_rate6h",
    "tier:retailops_latency_seconds:p95_5m",
    "tier:retailops_latency_seconds:p99_5m",
    "tier:retailops_slow:ratio_rate5m",
    "tier:retailops_slow:ratio_rate30m",
    "tier:retailops_slow:ratio_rate1h",
    "tier:retailops_slow:ratio_rate6h",
}
CONTRACT_JOBS = {
    "node",
    "postgres",
    "patroni",
    "pgbouncer",
    "redis",
    "sentinel",
    "traefik",
    "prometheus",
    "alertmanager",
    "victorialogs",
    "kubelet",
}
TRAEFIK = yaml.safe_load((ROOT / "roles" / "traefik" / "defaults" / "main.yml").read_text())
# The traefik role's SLI tiers, and "other": what no tier claimed.
SLI_TIERS = {tier["name"] for tier in TRAEFIK["traefik_sli_tiers"]} | {"other"}
# Traefik's request duration buckets: a latency threshold must be one of them.
BUCKETS = {str(bucket) for bucket in TRAEFIK["traefik_metrics_buckets"]}
SEVERITIES = {"critical", "warning"}
RUNBOOK_SECTIONS = (
    "What it means for the stores",
    "Detection window",
    "How to confirm",
    "What to do",
    "Escalation",
)
ANNOTATIONS = {"summary", "description", "runbook_url", "detection_window"}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


class Rule(NamedTuple):
    path: Path
    group: str
    rule: dict[str, Any]


@cache
def load_rules() -> list[Rule]:
    """Every rule of every file, with its file and group name."""
    rules: list[Rule] = []
    for name, doc in metric_names.rule_files().items():
        for group in doc["groups"]:
            rules.extend(Rule(RULES_DIR / name, group["name"], rule) for rule in group["rules"])
    return rules


def alerts() -> list[dict[str, Any]]:
    return [r.rule for r in load_rules() if "alert" in r.rule]


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", duration))


def test_rule_files_exist() -> None:
    assert [p.name for p in rule_files()] == ["database.yml", "platform.yml", "redis.yml", "slo.yml"]


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_every_group_parses(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert set(document) == {"groups"}
    names = [group["name"] for group in document["groups"]]
    assert len(names) == len(set(names)), f"{path.name}: duplicate group names"
    for group in document["groups"]:
        assert set(group) <= {"name", "rules", "interval"}, group["name"]
        assert group["rules"], f"{path.name}: group {group['name']} has no rules"
        for rule in group["rules"]:
            assert ("alert" in rule) != ("record" in rule), rule
            assert isinstance(rule["expr"], (str, int, float)), rule
            if "for" in rule:
                assert DURATION.match(rule["for"]), rule


def test_group_names_are_unique_across_files() -> None:
    names = [group["name"] for doc in metric_names.rule_files().values() for group in doc["groups"]]
    assert len(names) == len(set(names))


def test_every_contract_alert_exists() -> None:
    assert CONTRACT_ALERTS - {a["alert"] for a in alerts()} == set()


def test_every_contract_recording_rule_exists() -> None:
    recorded = {r.rule["record"] for r in load_rules() if "record" in r.rule}
    assert CONTRACT_RECORDINGS - recorded == set()


@pytest.mark.parametrize("alert", alerts(), ids=lambda a: f"{a['alert']}-{a['labels'].get('severity')}")
def test_alert_severity_and_annotations(alert: dict[str, Any]) -> None:
    name = alert["alert"]
    assert alert["labels"].get("severity") in SEVERITIES, name
    assert set(alert["annotations"]) == ANNOTATIONS, name
    for key in ("summary", "description"):
        assert alert["annotations"][key].strip(), f"{name}: empty {key}"
    assert alert["annotations"]["runbook_url"] == "{{ $externalLabels.runbook_base_url }}/" + name + ".md"
    assert DURATION.match(alert["annotations"]["detection_window"]), name
    # the description states the window for operators
    assert "Window:" in alert["annotations"]["description"], name
    # the window is at least the rule's own for:
    if "for" in alert:
        assert seconds(alert["annotations"]["detection_window"]) >= seconds(alert["for"]), name


def test_alert_label_sets_are_distinct() -> None:
    """Two rules of one alert name must differ by severity (BackupTooOld, BranchTunnelDown, ...)."""
    seen = [(a["alert"], a["labels"]["severity"], a["expr"]) for a in alerts()]
    assert len(seen) == len(set(seen))


def test_jobs_in_expressions_are_contract_jobs() -> None:
    for r in load_rules():
        for matcher in re.findall(r'job\s*(=~|=|!~|!=)\s*"([^"]*)"', str(r.rule["expr"])):
            jobs = set(matcher[1].split("|"))
            name = r.rule.get("alert") or r.rule.get("record")
            assert jobs <= CONTRACT_JOBS, f"{r.path.name}: {name}: {jobs}"


def runbook_names() -> set[str]:
    return {p.stem for p in RUNBOOKS.glob("*.md") if p.name != "README.md"}


def test_every_alert_has_a_runbook() -> None:
    missing = {a["alert"] for a in alerts()} - runbook_names()
    assert missing == set(), f"alerts without roles/prometheus/runbooks/<name>.md: {sorted(missing)}"


def test_every_runbook_belongs_to_an_alert() -> None:
    orphans = runbook_names() - {a["alert"] for a in alerts()}
    assert orphans == set(), f"runbooks of no alert: {sorted(orphans)}"


@pytest.mark.parametrize("name", sorted(runbook_names()))
def test_runbook_sections(name: str) -> None:
    text = (RUNBOOKS / f"{name}.md").read_text()
    assert text.startswith(f"# {name}\n")
    for section in RUNBOOK_SECTIONS:
        assert f"\n## {section}\n" in text, f"{name}.md: no section {section}"


def test_runbook_index_links_every_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    linked = set(re.findall(r"\]\(([A-Za-z]+)\.md\)", index))
    assert linked == runbook_names()


@cache
def load_promtool_tests() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, yaml.safe_load(p.read_text())) for p in sorted(PROMTOOL_TESTS.glob("*_test.yml"))]


def test_promtool_tests_cover_every_rule_file() -> None:
    used: set[Path] = set()
    for path, document in load_promtool_tests():
        for rel in document["rule_files"]:
            target = (path.parent / rel).resolve()
            assert target.is_file(), f"{path.name}: {rel} does not exist"
            used.add(target)
    assert {p.resolve() for p in rule_files()} <= used


@cache
def expected_alerts() -> list[tuple[str, str, float, frozenset[tuple[str, str]] | None]]:
    """(test group, alertname, eval time, labels of an expected alert, or None for 'none expected')."""
    out: list[tuple[str, str, float, frozenset[tuple[str, str]] | None]] = []
    for path, document in load_promtool_tests():
        for index, group in enumerate(document["tests"]):
            key = f"{path.name}#{index}"
            for test in group.get("alert_rule_test", []):
                at = seconds(str(test["eval_time"]))
                exp = test.get("exp_alerts") or []
                if not exp:
                    out.append((key, test["alertname"], at, None))
                for alert in exp:
                    labels = frozenset((str(k), str(v)) for k, v in alert["exp_labels"].items())
                    out.append((key, test["alertname"], at, labels))
    return out


def test_every_alert_and_severity_fires_in_a_promtool_test() -> None:
    fired = {(e[1], dict(e[3])["severity"]) for e in expected_alerts() if e[3] is not None}
    wanted = {(a["alert"], a["labels"]["severity"]) for a in alerts()}
    assert wanted - fired == set(), "alerts (name, severity) no promtool test makes fire"


def test_every_alert_resolves_in_a_promtool_test() -> None:
    """An alert expected at one time is expected gone at a later time of the same test group."""
    expected = expected_alerts()
    resolved: set[str] = set()
    for group, name, at, labels in expected:
        if labels is None:
            continue
        same = [entry for entry in expected if entry[0] == group and entry[1] == name]
        for t in {entry[2] for entry in same if entry[2] > at}:
            if labels not in {entry[3] for entry in same if entry[2] == t}:
                resolved.add(name)
    assert {a["alert"] for a in alerts()} - resolved == set(), "alerts no promtool test sees resolve"


def objectives() -> dict[str, dict[str, list[dict[str, Any]]]]:
    by_record: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in load_rules():
        if r.group == "retailops-slo-objectives" and "labels" in r.rule:
            by_record.setdefault(r.rule["record"], {}).setdefault(r.rule["labels"]["tier"], []).append(r.rule)
    return by_record


def test_objectives_defined_once_per_tier() -> None:
    objs = objectives()
    assert set(objs) == {
        "tier:retailops_slo_availability:objective",
        "tier:retailops_slo_latency_threshold:seconds",
        "tier:retailops_slo_latency:objective",
    }
    for record, tiers in objs.items():
        assert set(tiers) == SLI_TIERS, record
        assert all(len(rules) == 1 for rules in tiers.values()), f"{record}: a tier set twice"


def constant(rule: dict[str, Any]) -> str:
    """The number of an objective's `vector(<number>)`."""
    match = re.fullmatch(r"vector\(([0-9.]+)\)", rule["expr"])
    assert match, f"{rule['record']}: not vector(<number>): {rule['expr']}"
    return match.group(1)


def test_objectives_are_sane_and_thresholds_are_buckets() -> None:
    objs = objectives()
    for record in ("tier:retailops_slo_availability:objective", "tier:retailops_slo_latency:objective"):
        for tier, (rule,) in objs[record].items():
            assert 0.9 <= float(constant(rule)) < 1, f"{record} {tier}: {constant(rule)}"
    for tier, (rule,) in objs["tier:retailops_slo_latency_threshold:seconds"].items():
        threshold = constant(rule)
        assert threshold in BUCKETS, f"{tier}: threshold {threshold} s is not a bucket boundary"
        assert rule["labels"]["le"] == threshold, f"{tier}: label le must name the bucket of the threshold"


def test_objectives_live_only_in_their_group() -> None:
    """No other rule hard-codes an objective: the burn rules read the budget series."""
    for r in load_rules():
        if r.group == "retailops-slo-objectives":
            continue
        assert "0.999" not in str(r.rule["expr"]), r.rule.get("alert")
        assert "0.995" not in str(r.rule["expr"]), r.rule.get("alert")
    burn = [a for a in alerts() if a["alert"].startswith("Tier")]
    assert len(burn) == 4
    for alert in burn:
        assert "tier:retailops_slo_" in alert["expr"], alert["alert"]
        assert "_budget:ratio" in alert["expr"], alert["alert"]
