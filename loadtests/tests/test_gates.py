from pathlib import Path

import pytest

from loadtests.errors import ConfigError
from loadtests.gates import COVERAGE, Gates, TierStats, evaluate, load_gates
from loadtests.ledger import KindResult, LedgerResult

GATES = Path(__file__).resolve().parent.parent / "gates"


def stats(tier: str, *, failures: int = 0, p95: float = 100.0, window: float = 0.0) -> TierStats:
    return TierStats(tier, 100, failures, 50.0, p95, 200.0, window)


def ledger(lost: tuple[str, ...] = (), dup: tuple[str, ...] = ()) -> LedgerResult:
    keys = tuple(f"k{i}" for i in range(10))
    k = KindResult("pos.order", keys, keys, (), (), keys, lost, (), dup, (), ())
    return LedgerResult((k,))


def gates_file(tmp_path: Path, text: str) -> Gates:
    p = tmp_path / "g.yaml"
    p.write_text(text)
    return load_gates(p)


def test_shipped_gates_parse():
    g = load_gates(GATES / "default.yaml")
    assert set(g.tiers) == {"pos_sync", "inventory", "finance", "reporting"}
    assert g.ledger.max_lost == 0


def test_go_when_everything_within_limits(tmp_path):
    g = gates_file(
        tmp_path,
        "tiers:\n  pos_sync: {p95_ms: 500, p99_ms: 900, error_rate: 0.05, longest_error_window_s: 10s}\n",
    )
    v = evaluate(g, {"pos_sync": stats("pos_sync", failures=2, window=3)}, ledger())
    assert v.go, v.text()
    assert v.exit_code() == 0
    assert v.label == "GO"


def test_tight_latency_gate_names_the_tier(tmp_path):
    g = gates_file(tmp_path, "tiers:\n  pos_sync: {p95_ms: 500}\n  finance: {p95_ms: 50}\n")
    v = evaluate(g, {"pos_sync": stats("pos_sync"), "finance": stats("finance", p95=120)}, ledger())
    assert not v.go
    assert v.exit_code() != 0
    assert v.reasons == ["finance: p95 120 ms > limit 50 ms"]


def test_error_rate_window_and_missing_traffic(tmp_path):
    g = gates_file(
        tmp_path,
        "tiers:\n  pos_sync: {error_rate: 0.01, longest_error_window_s: 5}\n"
        "  reporting: {p95_ms: 100, min_requests: 5}\n",
    )
    v = evaluate(g, {"pos_sync": stats("pos_sync", failures=3, window=12.5)}, ledger())
    assert v.reasons == [
        "pos_sync: error rate 3.00 % > limit 1.00 %",
        "pos_sync: longest error window 12.5 s > limit 5.0 s",
        "reporting: only 0 requests, gate needs at least 5",
    ]


def test_ledger_breaches_and_unreconciled_ledger(tmp_path):
    g = gates_file(tmp_path, "tiers:\n  pos_sync: {}\n")
    v = evaluate(g, {"pos_sync": stats("pos_sync")}, ledger(lost=("u1", "u2"), dup=("u3",)))
    assert "ledger: 2 lost acknowledged writes, limit 0 (e.g. u1, u2)" in v.reasons
    assert "ledger: 1 duplicated writes, limit 0 (e.g. u3)" in v.reasons
    v2 = evaluate(g, {"pos_sync": stats("pos_sync")}, LedgerResult((), checked=False, error="db unreachable"))
    assert v2.reasons == ["ledger: db unreachable"]
    assert not evaluate(g, {"pos_sync": stats("pos_sync")}, None).go


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("tiers:\n  pos: {p95_ms: 1}\n", "tiers", "unknown tier 'pos'"),
        ("tiers:\n  pos_sync: {p95_ms: -1}\n", "tiers.pos_sync.p95_ms", "greater than 0"),
        ("tiers:\n  pos_sync: {p95: 1}\n", "tiers.pos_sync.p95", "unknown key"),
        ("tiers:\n  pos_sync: {error_rate: 5}\n", "tiers.pos_sync.error_rate", "less than or equal to 1"),
        ("tiers:\n  pos_sync: {}\nledger: {max_lost: 3}\n", "ledger.max_lost", "less than or equal to 0"),
        ("ledger: {}\n", "tiers", "required key is missing"),
        (
            "tiers:\n  pos_sync: {longest_error_window_s: soon}\n",
            "tiers.pos_sync.longest_error_window_s",
            "cannot read duration",
        ),
    ],
)
def test_bad_gate_file_names_file_key_reason(tmp_path, text, key, reason):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_gates(p)
    assert f"{p}: {key}: " in str(exc.value)
    assert reason in str(exc.value)


def drill(name: str, *, ok: bool = True, recovered: bool = True, ttr: float | None = 20.0, error: str = ""):
    return {
        "name": name,
        "action_ok": ok,
        "action_error": error,
        "started_s": 60.0,
        "recovered": recovered,
        "time_to_recovery_s": ttr,
    }


def test_drill_gates_are_off_unless_set(tmp_path):
    g = gates_file(tmp_path, "tiers:\n  pos_sync: {}\n")
    assert evaluate(g, {"pos_sync": stats("pos_sync")}, ledger(), [drill("pg", ok=False)]).go


def test_drill_gates_want_every_drill_run_and_recovered_in_time(tmp_path):
    g = gates_file(
        tmp_path,
        "tiers:\n  pos_sync: {}\ndrills: {action_ok: true, recovered: true, max_time_to_recovery_s: 90s}\n",
    )
    drills = [
        drill("pg", ok=False, error="DrillError: ansible-playbook exited 2: no leader"),
        drill("redis", recovered=False, ttr=None),
        drill("odoo", ttr=95.5),
        drill("lte"),
        {**drill("late", ok=False), "started_s": None},
    ]
    v = evaluate(g, {"pos_sync": stats("pos_sync")}, ledger(), drills)
    assert v.reasons == [
        "drill pg: action failed: DrillError: ansible-playbook exited 2: no leader",
        "drill redis: calls did not recover within its window",
        "drill odoo: time to recovery 95.5 s > limit 90.0 s",
        "drill late: action did not start",
    ]
    assert [r.scope for r in v.results if r.passed].count("drill lte") == 3


def test_named_drill_gates_limit_failed_calls_per_tier_and_want_the_drill(tmp_path):
    g = gates_file(
        tmp_path,
        "tiers:\n  pos_sync: {}\n"
        "drills: {action_ok: true}\n"
        "drill:\n"
        "  rolling_update: {recovered: true, max_failed: {pos_sync: 0}}\n"
        "  pod_kill: {max_failed: {pos_sync: 0, inventory: 2}}\n"
        "  node_kill: {recovered: true}\n",
    )
    drills = [
        {
            **drill("rolling_update", ok=False),
            "failed_by_tier": {"pos_sync": 1},
            "unknown_by_tier": {"pos_sync": 2},
        },
        {**drill("pod_kill"), "failed_by_tier": {"inventory": 2}, "unknown_by_tier": {}},
        drill("pg", ok=False, error="DrillError: no leader"),
    ]
    v = evaluate(g, {"pos_sync": stats("pos_sync")}, ledger(), drills)
    # a named gate replaces `drills` for its drill: rolling_update's failed action is not gated
    assert v.reasons == [
        "drill rolling_update: failed pos_sync calls 3 > limit 0",
        "drill pg: action failed: DrillError: no leader",
        "drill node_kill: gated, but the run had no such drill",
    ]
    passed = {(r.scope, r.metric) for r in v.results if r.passed}
    assert {
        ("drill pod_kill", "failed pos_sync calls"),
        ("drill pod_kill", "failed inventory calls"),
    } <= passed


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("drill:\n  x: {max_failed: {tills: 0}}\n", "drill.x.max_failed", "tills"),
        ("drill:\n  x: {max_failed: {pos_sync: -1}}\n", "drill.x.max_failed", "0 or more"),
        ("drill:\n  x: {max_fail: {pos_sync: 0}}\n", "drill.x.max_fail", "unknown key"),
    ],
)
def test_bad_named_drill_gates_name_the_key(tmp_path, text, key, reason):
    p = tmp_path / "bad.yaml"
    p.write_text("tiers:\n  pos_sync: {}\n" + text)
    with pytest.raises(ConfigError) as exc:
        load_gates(p)
    assert f"{p}: {key}" in str(exc.value)
    assert reason in str(exc.value)


def test_latency_gate_says_how_many_drill_calls_were_left_out(tmp_path: Path):
    g = gates_file(tmp_path, "tiers:\n  pos_sync: {p99_ms: 150}\n")
    assert g.latency_outside_drills is True
    st = TierStats("pos_sync", 100, 0, 50.0, 100.0, 200.0, 0.0, latency_excluded=7)
    v = evaluate(g, {"pos_sync": st}, ledger())
    assert not v.go
    assert v.reasons == ["pos_sync: p99 200 ms > limit 150 ms (7 calls during drills left out)"]
    off = gates_file(tmp_path, "tiers:\n  pos_sync: {}\nlatency_outside_drills: false\n")
    assert off.latency_outside_drills is False


def test_extends_takes_the_base_sections_and_adds_named_drills(tmp_path: Path):
    base = tmp_path / "base.yaml"
    base.write_text(
        "tiers:\n  pos_sync: {p95_ms: 900}\nledger: {max_lost: 0}\n"
        "drills: {action_ok: true}\ndrill:\n  a: {recovered: true}\n  b: {recovered: true}\n"
    )
    g = gates_file(
        tmp_path, "extends: base.yaml\ndrills: {recovered: true}\ndrill:\n  b: {action_ok: true}\n"
    )
    assert g.tiers["pos_sync"].p95_ms == 900  # the base's section, whole
    assert (g.drills.action_ok, g.drills.recovered) == (False, True)  # this file's section replaces it
    assert (g.drill["a"].recovered, g.drill["a"].action_ok) == (True, False)  # the base's named drill
    assert (g.drill["b"].recovered, g.drill["b"].action_ok) == (False, True)  # replaced by this file's


def test_the_kubernetes_pilot_gates_are_the_pilots_plus_the_clusters_drills():
    pilot, k8s = load_gates("pilot"), load_gates("pilot_kubernetes")
    assert (k8s.tiers, k8s.ledger, k8s.drills) == (pilot.tiers, pilot.ledger, pilot.drills)
    assert set(k8s.drill) == {
        "pod_kill",
        "ingress_pod_kill",
        "node_drain",
        "node_uncordon",
        "rolling_update",
        "node_kill",
    }
    for name in ("pod_kill", "node_drain", "node_uncordon", "rolling_update"):
        assert k8s.drill[name].max_failed == {"pos_sync": 0}, name


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("extends: g.yaml\n", "extends back to this file"),
        ("extends: 3\n", "must be a gates file or the name of a shipped one"),
        ("extends: missing.yaml\n", "cannot read"),
    ],
)
def test_bad_extends_is_refused_naming_the_file(tmp_path: Path, text: str, reason: str):
    with pytest.raises(ConfigError) as exc:
        gates_file(tmp_path, text)
    assert reason in str(exc.value)


def coverage_row(drill: str, status: str, expected: str = "OdooNodeDown") -> dict[str, object]:
    passed = status in ("covered", "none_expected")
    return {
        "drill": drill,
        "expected": expected,
        "status": status,
        "status_text": status.replace("_", " "),
        "passed": passed,
        "detail": "why",
    }


def test_the_coverage_gate_is_absent_without_an_alert_source_and_wants_every_drill_seen(tmp_path):
    g = gates_file(tmp_path, "tiers:\n  pos_sync: {p95_ms: 500}\n")
    tiers = {"pos_sync": stats("pos_sync")}
    unmeasured = evaluate(g, tiers, ledger())
    assert unmeasured.go
    assert not [r for r in unmeasured.results if r.scope == COVERAGE]  # absent, not passed
    seen = evaluate(
        g,
        tiers,
        ledger(),
        coverage=[coverage_row("odoo", "covered"), coverage_row("drain", "none_expected", "")],
    )
    assert seen.go
    assert [(r.scope, r.metric) for r in seen.results if r.scope == COVERAGE] == [
        (COVERAGE, "odoo: OdooNodeDown"),
        (COVERAGE, "drain"),
    ]
    for status in ("missed", "below_window", "unspecified", "not_run"):
        v = evaluate(
            g, tiers, ledger(), coverage=[coverage_row("odoo", "covered"), coverage_row("lte", status)]
        )
        assert not v.go, status
        assert v.reasons == [f"observability coverage: drill lte: {status.replace('_', ' ')}: why"]
