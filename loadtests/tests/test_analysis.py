from typing import Any

from loadtests.analysis import (
    DrillRecord,
    analyse_drill,
    breakdown,
    drill_spans,
    error_windows,
    percentile,
    split_offline,
    tier_stats,
    time_series,
)
from loadtests.cli import drill_outcomes
from loadtests.gates import DrillGate, drill_results
from loadtests.samples import Sample, SampleWriter, read_samples


def s(
    t: float, outcome: str = "ok", tier: str = "pos_sync", ms: float = 100.0, *, link: str = "fiber"
) -> Sample:
    return Sample(t, tier, "pos.order.sync_from_ui", "B1", "eu", link, outcome, ms)


def test_percentile_nearest_rank():
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 50) == 50
    assert percentile([], 95) == 0
    assert percentile([7.0], 99) == 7


def test_p99_of_few_calls_is_a_latency_one_call_in_a_hundred_exceeds_no_less():
    # 50 calls, one slow: 2 % of the calls took 1000 ms, so the p99 is 1000 ms
    # (statistics.quantiles would interpolate 559 ms, a latency no call had)
    values = [100.0] * 49 + [1000.0]
    assert percentile(values, 99) == 1000
    assert percentile(values, 95) == 100


def test_error_windows_first_failure_to_first_success():
    samples = [s(0), s(1, "failed"), s(2, "unknown"), s(5), s(6, "failed"), s(7, "failed")]
    w = error_windows(samples)
    assert [(x.start, x.end, x.failures, x.closed) for x in w] == [(1, 5, 2, True), (6, 7, 2, False)]
    assert w[0].seconds == 4


def test_tier_stats_counts_failures_and_ok_latency_only():
    samples = [s(i, ms=float(i)) for i in range(1, 101)] + [s(200, "failed", ms=60000), s(201, ms=1.0)]
    st = tier_stats(samples)["pos_sync"]
    assert st.requests == 102
    assert st.failures == 1
    assert st.p99_ms == 99
    assert st.longest_error_window_s == 1


def test_latency_leaves_out_calls_that_overlap_a_drill():
    steady = [s(i, ms=100.0) for i in range(1, 60)]
    # sent at 50 (during the drill span 48-60), held through the failover, answered at 65
    held = s(65, ms=15000.0)
    after = s(61, ms=100.0)  # sent and answered after the span: counted
    st = tier_stats([*steady, held, after], [(48.0, 60.0)])["pos_sync"]
    assert st.requests == 61
    assert st.latency_excluded == 13  # the held call and the 12 steady calls answered at 48..59
    assert st.p99_ms == 100
    everything = tier_stats([*steady, held, after])["pos_sync"]
    assert everything.latency_excluded == 0
    assert everything.p99_ms == 15000


def test_drill_spans_run_from_action_to_recovery():
    drills: list[dict[str, Any]] = [
        {"started_s": 60.0, "action_s": 36.0, "time_to_recovery_s": 31.9, "recovered": True},
        {"started_s": 180.0, "action_s": 2.0, "time_to_recovery_s": 27.0, "recovered": True},
        {"started_s": 300.0, "action_s": 5.0, "time_to_recovery_s": None, "recovered": False},
        {"started_s": None, "action_s": None, "time_to_recovery_s": None, "recovered": False},
    ]
    assert drill_spans(drills, 1000.0, 1480.0) == [(1060.0, 1096.0), (1180.0, 1207.0), (1300.0, 1480.0)]


def test_a_link_cut_spans_its_cut_and_the_recovery_after_it():
    """make pilot (648128f): the LTE cut ran 360-516.4 s and its branch's calls failed until 530.3 s
    (recovery 13.8 s, counted from the link's return); a call sent at 525 s took 6.1 s and set the
    finance tier's p99 because the span ended at the cut's end."""
    cut = {"started_s": 360.0, "action_s": 156.4, "time_to_recovery_s": 13.9, "offline_links": ["lte"]}
    [(start, end)] = drill_spans([cut], 0.0, 780.0)
    assert (start, round(end, 1)) == (360.0, 530.3)
    assert drill_spans([{**cut, "offline_links": []}], 0.0, 780.0) == [(360.0, 516.4)]


def test_breakdown_and_series():
    samples = [s(0, link="lte", ms=300), s(1, link="fiber", ms=10), s(2, "unknown", link="lte")]
    b = breakdown(samples, lambda x: x.link)
    assert b["lte"]["requests"] == 2
    assert b["lte"]["unknown"] == 1
    assert b["lte"]["error_rate"] == 0.5
    assert b["fiber"]["p95_ms"] == 10
    ts = time_series(samples, start=0, end=3, buckets=3)
    assert ts["bucket_s"] == 1
    assert [r["count"] for r in ts["tiers"]["pos_sync"]] == [1, 1, 1]
    assert ts["tiers"]["pos_sync"][2]["failures"] == 1


def test_drill_error_window_and_recovery():
    rec = DrillRecord("pg", "process", "restart", "pg", at=10, started=100.0, finished=101.0, ok=True)
    samples = [
        s(99),
        s(100.5),
        s(102, "failed"),
        s(103, "unknown", tier="inventory"),
        s(104),
        s(105, "failed"),
        s(107),
        s(110),
    ]
    out = analyse_drill(rec, samples, until=130)
    assert out.first_failure == 102
    assert out.error_window_s == 2
    assert out.time_to_recovery_s == 7
    assert out.recovered
    assert out.failed_by_tier == {"pos_sync": 2}
    assert out.unknown_by_tier == {"inventory": 1}
    d = out.as_dict(run_start=90)
    assert d["started_s"] == 10
    assert d["first_failure_s"] == 12


def test_drill_error_window_is_the_longest_tier_window_not_the_first_answer_of_any_tier():
    """Finance fails for 18 s while POS sync keeps answering: the drill's window is finance's 18 s
    (measured on the Docker pilot's Redis kill, where the any-call window said 0.08 s)."""
    rec = DrillRecord("redis", "ansible", "kill", "", at=0, started=100.0, finished=110.0, ok=True)
    samples = [
        s(101, "failed", tier="finance"),
        s(101.5),
        s(102, "failed"),
        s(102.5),
        s(110, "failed", tier="finance"),
        s(119, tier="finance"),
        s(120, "failed", tier="reporting"),  # no reporting call answers before the end: no window
    ]
    out = analyse_drill(rec, samples, until=130)
    assert out.error_window_by_tier == {"finance": 18, "pos_sync": 0.5}
    assert (out.error_window_s, out.error_window_tier) == (18, "finance")
    assert out.first_success_after == 101.5
    assert out.as_dict(run_start=100)["error_window_by_tier"] == {"finance": 18.0, "pos_sync": 0.5}


def test_drill_without_failures_and_drill_never_recovered():
    rec = DrillRecord("x", "process", "noop", "", at=0, started=10.0, ok=True)
    assert analyse_drill(rec, [s(11), s(12)], 20).error_window_s == 0
    out = analyse_drill(rec, [s(11, "failed"), s(12, "failed")], 20)
    assert not out.recovered
    assert out.error_window_s is None
    assert not analyse_drill(DrillRecord("y", "process", "noop", "", at=0), [], 20).recovered


def test_a_tunnel_cut_takes_its_branches_calls_apart_and_recovery_counts_from_the_links_return():
    """The LTE branches are cut from 100 to 250 s (a tunnel drill): their calls sent in that time
    are the drill's, not the tiers'; a call sent just before the cut that fails during it, and
    any call of another link class, stay counted."""
    rec = DrillRecord(
        "lte_tunnel_down",
        "ansible",
        "cut",
        "",
        at=0,
        started=100.0,
        finished=250.0,
        ok=True,
        offline_links=("lte",),
    )
    other = DrillRecord("pg", "ansible", "kill", "", at=0, started=300.0, finished=310.0, ok=True)
    samples = [
        s(99, link="lte"),
        s(101, "failed", ms=3000, link="lte"),  # sent at 98: before the cut, counted
        s(130, "failed", ms=100, link="lte"),
        s(160, "failed", ms=30000, link="lte"),  # sent at 130
        s(200, link="fiber"),
        s(201, "failed", link="broadband"),
        s(252, "failed", link="lte"),  # sent at 251.9: after the link returned, counted
        s(255, link="lte"),
        s(305, "failed", link="lte"),  # another drill's span: counted
    ]
    counted, offline = split_offline(samples, [rec, other])
    assert [x.t for x in offline["lte_tunnel_down"]] == [130, 160]
    assert "pg" not in offline
    assert [x.t for x in counted] == [99, 101, 200, 201, 252, 255, 305]
    out = analyse_drill(rec, counted, until=290, offline=offline["lte_tunnel_down"])
    assert (out.offline_calls, out.offline_failed) == (2, 2)
    assert out.time_to_recovery_s == 5  # from 250, the link's return, to the steady success at 255
    d = out.as_dict(run_start=0)
    assert (d["offline_links"], d["offline_calls"], d["offline_failed"]) == (["lte"], 2, 2)
    # tier stats over the counted calls only: the cut's 2 failures are not the tier's
    assert tier_stats(counted)["pos_sync"].failures == 4


def test_a_drill_without_offline_links_takes_nothing_apart():
    rec = DrillRecord("lte_flap", "toxiproxy", "down", "lte", at=0, started=100.0, finished=110.0, ok=True)
    samples = [s(105, "failed", link="lte"), s(120, link="lte")]
    counted, offline = split_offline(samples, [rec])
    assert counted == samples
    assert offline == {}
    assert analyse_drill(rec, counted, until=130).time_to_recovery_s == 20  # from the action's start


def test_sample_file_round_trip(tmp_path):
    path = tmp_path / "samples.jsonl"
    w = SampleWriter(path, flush_every=3600)
    w.add(s(2.0))
    w.add(s(1.0, "unknown"))
    assert not path.exists()  # buffered
    w.flush()
    back = read_samples([path])
    assert [x.t for x in back] == [1.0, 2.0]
    assert back[0].outcome == "unknown"


def test_a_restore_drill_ends_no_fault_drills_window():
    """The pilot's timeline: the Redis primary dies at 180 s (calls fail until 215 s), a restore on
    a scratch node starts at 200 s. The Redis drill's window runs to its observe time, not to the
    restore's start; the restore is judged by its own gates, and its span stays in the latency."""
    redis = DrillRecord("redis_primary_kill", "ansible", "kill", "", 180, 180.0, 190.0, True, observe=100)
    restore = DrillRecord(
        "pitr_restore", "ansible", "restore", "", 200, 200.0, 230.0, True, observe=30, injects_fault=False
    )
    node = DrillRecord("odoo_node_loss", "docker", "kill", "odoo-1", 280, 280.0, 281.0, True, observe=80)
    samples = [s(t, "failed" if 182 <= t < 215 else "ok") for t in range(170, 300)]
    by_name = {d["name"]: d for d in drill_outcomes([node, restore, redis], samples, 0.0, 300.0)}
    assert by_name["redis_primary_kill"]["observed_until_s"] == 280.0
    assert by_name["redis_primary_kill"]["recovered"]
    assert by_name["redis_primary_kill"]["error_window_s"] == 33.0
    assert by_name["pitr_restore"]["injects_fault"] is False
    assert by_name["pitr_restore"]["observed_until_s"] == 230.0
    gate = DrillGate(action_ok=True, recovered=True, max_failed={"pos_sync": 40})
    results = drill_results(gate, list(by_name.values()))
    assert all(r.passed for r in results), [r.reason for r in results]
    assert [r.metric for r in results if r.scope == "drill pitr_restore"] == ["action ok"]
    assert drill_spans(list(by_name.values()), 0.0, 300.0) == [(180.0, 215.0), (280.0, 281.0)]


def test_before_the_fix_the_restore_would_have_cut_the_window():
    """The same timeline with the restore taken for a fault: the Redis drill's window ends at 200 s,
    with calls still failing, and its gate fails; the distinction is what the fix rests on."""
    redis = DrillRecord("redis_primary_kill", "ansible", "kill", "", 180, 180.0, 190.0, True, observe=100)
    restore = DrillRecord("pitr_restore", "ansible", "restore", "", 200, 200.0, 230.0, True, observe=30)
    samples = [s(t, "failed" if 182 <= t < 215 else "ok") for t in range(170, 300)]
    out = drill_outcomes([restore, redis], samples, 0.0, 300.0)
    assert not next(d for d in out if d["name"] == "redis_primary_kill")["recovered"]
