"""The failover drill campaign's judgement (rig/drills): gaps, phases, the ledger, statistics, the
verdict and the report, the partition's ruleset and the command line; the live parts run in
make drills."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from rig.drills.campaign import gap_start, load_presets, parse, summarize
from rig.drills.drill import Drill
from rig.drills.faults import DRILL_TABLE, FaultError, partition_ruleset
from rig.drills.probes import CallWriter, sql_writer
from rig.drills.report import GOALS, render, verdict
from rig.drills.timeline import Attempt, figures, ledger, longest_gap, phases, ratio, writing_again


def ok(t: float, key: str = "", server: str = "10.0.0.1", sent: float | None = None) -> Attempt:
    return Attempt("w", key or f"k{t}", t - 0.01 if sent is None else sent, t, True, server)


def test_longest_gap_runs_from_the_last_write_before_the_fault() -> None:
    # writes every 0.1 s, the fault at 10.05, nothing until 27.3
    acked = [9.8, 9.9, 10.0, 27.3, 27.4]
    assert longest_gap(acked, 10.05) == pytest.approx(17.3)


def test_longest_gap_is_not_measured_without_a_write_on_both_sides() -> None:
    assert longest_gap([9.9, 10.0], 10.05) is None
    assert longest_gap([10.1, 10.2], 10.05) is None


def test_writing_again_needs_a_write_sent_after_the_fault_and_answered_lately() -> None:
    # a write sent before the fault and answered after it does not say the service is back
    attempts = [ok(10.5, "a", sent=9.99)]
    assert not writing_again(attempts, 10.0, now=10.6)
    attempts.append(ok(20.0, "b", sent=19.9))
    assert writing_again(attempts, 10.0, now=20.5)
    assert not writing_again(attempts, 10.0, now=25.0)  # nothing answered in the last second: hung again


def test_phases_split_the_gap_at_each_moment() -> None:
    p = phases(100.0, lock_at=117.0, promoted_at=118.5, routed_at=120.0, first_write_at=120.4)
    assert p.lock == 17.0
    assert p.first_write == pytest.approx(20.4)
    assert p.parts() == {"lease": 17.0, "promotion": 1.5, "routing": 1.5, "client": pytest.approx(0.4)}


def test_a_moment_not_seen_leaves_its_part_unknown_and_the_next_measured_from_the_last_seen() -> None:
    parts = phases(100.0, lock_at=117.0, promoted_at=None, routed_at=120.0, first_write_at=121.0).parts()
    assert parts["promotion"] is None
    assert parts["routing"] == 3.0  # from the lock, the last moment seen
    assert parts["client"] == 1.0


def test_the_ledger_is_the_harness_check_lost_duplicated_unexpected_recovered() -> None:
    attempts = [
        ok(1, "p-a"),
        ok(2, "p-b"),
        Attempt("w", "p-c", 3, 3.5, False, error="connection lost"),  # may have landed
        Attempt("w", "p-d", 4, 4.1, False, error="connect: refused", definite=True),
    ]
    book = ledger(attempts, {"p-a": 1})
    assert book.lost == ("p-b",)
    assert not book.ok
    summary = ledger(attempts, {"p-a": 2, "p-b": 1, "p-c": 1, "p-x": 1}).summary()
    assert summary["duplicated"] == 1  # p-a twice
    assert summary["unexpected"] == 1  # p-x: never attempted
    assert summary["recovered"] == 1  # p-c: indeterminate, landed (allowed)
    assert summary["lost"] == 0
    assert ledger(attempts, {"p-a": 1, "p-b": 1}).ok
    # a definitely failed write that is present is not allowed to pass silently either
    assert ledger(attempts, {"p-a": 1, "p-b": 1, "p-d": 1}).result.failed_present == ("p-d",)


def test_a_write_acknowledged_by_the_isolated_node_after_the_promotion_and_lost_is_a_split_brain() -> None:
    iso, new = "10.0.0.21", "10.0.0.22"
    attempts = [
        ok(5.0, "before", iso),  # before the partition: replicated (present)
        ok(8.0, "lost-before-promotion", iso),  # acked by the isolated node, before the promotion
        ok(12.0, "split", iso),  # acked by the isolated node after the new leader's promotion
        ok(13.0, "new", new),
    ]
    book = ledger(attempts, {"before": 1, "new": 1}, isolated=iso, promoted_at=10.0)
    assert book.only_on_isolated == ("split",)
    assert set(book.lost) == {"lost-before-promotion", "split"}
    assert book.acked_by == {iso: 3, new: 1}
    assert book.summary()["acked_only_by_isolated_after_promotion"] == 1


def test_figures_use_the_gates_nearest_rank_percentiles() -> None:
    f = figures([12.0, None, 30.0, 14.0, 13.0, 11.0])
    assert (f.n, f.median, f.p95, f.max) == (5, 13.0, 30.0, 30.0)
    assert figures([None]).n == 0
    assert ratio(10.0, 20.0) == 0.5
    assert ratio(None, 20.0) is None
    assert ratio(10.0, 0.0) is None


def test_gap_start_is_the_last_write_before_the_longest_gap_after_the_switch_began() -> None:
    w = CallWriter("a", lambda k: "", "p-", (RuntimeError,))
    w.attempts = [ok(t) for t in (1.0, 1.1, 1.2, 3.9, 4.0)]
    assert gap_start([w], 1.05) == 1.2


def run_until(w: CallWriter, attempts: int) -> None:
    """Start the writer, stop it once it made ``attempts`` calls (10 s at most)."""
    w.start()
    deadline = time.monotonic() + 10
    while len(w.attempts) < attempts and time.monotonic() < deadline:
        time.sleep(0.01)
    w.stop()


def test_a_call_writer_records_acknowledged_and_failed_calls_and_stops() -> None:
    calls: list[str] = []

    def write(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("down")
        return "10.0.0.9"

    w = CallWriter("t", write, "p-", (RuntimeError,), interval=0.01)
    run_until(w, 3)
    w.join(2)
    assert not w.is_alive()
    assert w.attempts[0].ok is False
    assert w.attempts[0].error == "down"
    assert w.attempts[1].ok
    assert w.attempts[1].server == "10.0.0.9"
    assert w.attempts[1].key == "p-t-1"


def test_the_partition_ruleset_drops_the_peers_both_ways_and_nothing_else(tmp_path: Any) -> None:
    rules = partition_ruleset(["10.213.20.22", "10.213.20.23"])
    assert f"table inet {DRILL_TABLE}" in rules
    assert "elements = { 10.213.20.22, 10.213.20.23 }" in rules
    assert "ip saddr @peers drop" in rules
    assert "ip daddr @peers drop" in rules
    assert rules.count("drop") == 2
    assert "policy accept" in rules
    nft = subprocess.run(["which", "nft"], capture_output=True, text=True, check=False).stdout.strip()
    if nft:  # the syntax as nftables reads it, without applying it
        (tmp_path / "r.nft").write_text(rules)
        check = subprocess.run(
            [nft, "-c", "-f", str(tmp_path / "r.nft")], capture_output=True, text=True, check=False
        )
        if "Operation not permitted" not in check.stderr:
            assert check.returncode == 0, check.stderr
    with pytest.raises(FaultError, match="addresses of the other members"):
        partition_ruleset([])


def drill(fault: str, preset: str, gap: float, rejoin: float | None = 20.0, **kw: Any) -> Drill:
    d = Drill(fault, preset, kw.pop("number", 1), ok=kw.pop("ok", True), gap_s=gap, rejoin_s=rejoin)
    d.ledger = {
        "acked": 100,
        "lost": kw.pop("lost", 0),
        "acked_only_by_isolated_after_promotion": kw.pop("split", 0),
    }
    d.parts = {"lease": 15.0, "promotion": 1.0, "routing": 1.0, "client": 0.2}
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def passing_drills() -> list[Drill]:
    out: list[Drill] = []
    for n in range(1, 6):
        out += [
            drill("pg-container-kill", "patroni-default", 30.0 + n, number=n),
            drill("pg-container-kill", "project", 12.0 + n * 0.1, number=n),
            drill("pg-switchover", "project", 2.0, rejoin=None, number=n),
            drill("redis-kill", "project", 3.0 + n * 0.1, number=n),
            drill("pg-partition", "project", 20.0, fence_s=6.0, number=n),
        ]
    return out


def doc_of(drills: list[Drill]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "run_id": "r",
        "seconds": 600.0,
        "summary": summarize(drills),
        "drills": [d.__dict__ for d in drills],
        "presets": {"project": {"description": "the collection's defaults"}},
    }
    doc["verdict"] = verdict(doc)
    return doc


def test_the_summary_has_the_presets_side_by_side_and_their_ratio() -> None:
    s = summarize(passing_drills())
    kill = s["pg-container-kill"]
    assert kill["project"]["gap_s"]["median"] == 12.3
    assert kill["patroni-default"]["gap_s"]["median"] == 33.0
    assert kill["ratios_to_patroni_default"] == {"project": 0.37}
    assert s["pg-partition"]["project"]["fence_s"]["median"] == 6.0


def test_every_goal_passes_on_drills_that_meet_it() -> None:
    doc = doc_of(passing_drills())
    assert doc["verdict"]["pass"], doc["verdict"]
    text = render(doc)
    assert text.startswith("FAILOVER DRILLS: PASS")
    assert "median gap against Patroni's defaults: project x0.37" in text


@pytest.mark.parametrize(
    ("change", "failed_goal"),
    [
        (
            lambda d: (
                setattr(d, "gap_s", 16.0)
                if d.fault == "pg-container-kill" and d.preset == "project"
                else None
            ),
            GOALS[0].title,
        ),
        (
            lambda d: d.ledger.update(lost=1) if d.fault == "pg-container-kill" and d.number == 3 else None,
            GOALS[1].title,
        ),
        (lambda d: setattr(d, "gap_s", 3.5) if d.fault == "pg-switchover" else None, GOALS[2].title),
        (
            lambda d: setattr(d, "gap_s", 5.2) if d.fault == "redis-kill" and d.number == 5 else None,
            GOALS[3].title,
        ),
        (
            lambda d: (
                d.ledger.update(acked_only_by_isolated_after_promotion=1, lost=1)
                if d.fault == "pg-partition" and d.number == 2
                else None
            ),
            GOALS[4].title,
        ),
        (
            lambda d: (
                setattr(d, "rejoin_s", 61.0) if d.fault == "pg-container-kill" and d.number == 4 else None
            ),
            GOALS[5].title,
        ),
    ],
)
def test_each_goal_fails_when_its_limit_is_crossed_and_the_report_says_what_it_means(
    change: Any, failed_goal: str
) -> None:
    drills = passing_drills()
    for d in drills:
        change(d)
    doc = doc_of(drills)
    assert not doc["verdict"]["pass"]
    assert doc["verdict"]["failed"] == [failed_goal]
    text = render(doc)
    assert text.startswith("FAILOVER DRILLS: NOT PASSED")
    goal = next(g for g in GOALS if g.title == failed_goal)
    first_screen = "\n".join(text.splitlines()[:20])
    assert f"FAIL {failed_goal}" in first_screen
    assert goal.stores in first_screen


def test_a_rejoin_that_never_happened_fails_the_rejoin_goal() -> None:
    drills = passing_drills()
    drills[1].rejoin_s = None  # pg-container-kill, project, #1
    assert GOALS[5].title in doc_of(drills)["verdict"]["failed"]


def test_fewer_than_five_measured_drills_do_not_pass_a_goal() -> None:
    drills = [d for d in passing_drills() if not (d.fault == "redis-kill" and d.number == 5)]
    doc = doc_of(drills)
    assert not doc["verdict"]["pass"]
    assert doc["verdict"]["failed"] == []
    assert "n<5  Redis primary kill" in render(doc)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--presets", "patroni-default,turbo"], "--presets: unknown preset 'turbo'"),
        (["--crash-faults", "pg-meteor"], "--crash-faults: unknown fault 'pg-meteor'"),
        (["--faults", "pg-container-kill"], "--faults: unknown fault 'pg-container-kill'"),
        (["--rounds", "0"], "--rounds: at least 1"),
    ],
)
def test_bad_options_are_refused_naming_the_option(argv: list[str], message: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_presets_are_the_ones_the_issue_names() -> None:
    presets = load_presets()
    default, fast = presets["patroni-default"]["vars"], presets["pigsty-fast"]["vars"]
    assert (default["postgresql_patroni_ttl"], default["postgresql_patroni_loop_wait"]) == (30, 10)
    assert default["postgresql_patroni_retry_timeout"] == 10
    assert default["pg_routing_check_inter"] == "3s"
    assert (
        fast["postgresql_patroni_ttl"],
        fast["postgresql_patroni_loop_wait"],
        fast["postgresql_patroni_retry_timeout"],
    ) == (20, 5, 5)
    assert (
        fast["pg_routing_check_inter"],
        fast["pg_routing_check_fastinter"],
        fast["pg_routing_check_rise"],
    ) == ("1s", "500ms", 3)
    for name, p in presets.items():  # Patroni's rule, before anything is applied
        v = p["vars"]
        if "postgresql_patroni_ttl" in v:
            assert (
                v["postgresql_patroni_loop_wait"] + 2 * v["postgresql_patroni_retry_timeout"]
                <= v["postgresql_patroni_ttl"]
            ), name
    assert presets["project"]["vars"] == {}


def test_a_write_that_could_not_connect_failed_for_certain() -> None:
    w = sql_writer("app", "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1", "p-", interval=0.01)
    run_until(w, 2)
    w.join(5)
    first = w.attempts[0]
    assert not first.ok
    assert first.definite  # nothing was sent: the ledger counts it failed, not indeterminate
    assert first.error.startswith("connect:")


def test_a_call_still_hanging_when_the_writer_stops_is_a_gap_to_the_stop() -> None:
    w = CallWriter("a", lambda k: "", "p-", (RuntimeError,))
    w.attempts = [ok(t) for t in (1.0, 1.1, 1.2, 5.0)]
    assert longest_gap(w.acked_until(30.0), 1.05) == pytest.approx(3.8)  # nothing pending: 1.2 to 5.0
    w.pending = 5.1  # the write after the first one on the new leader never came back
    assert longest_gap(w.acked_until(30.0), 1.05) == pytest.approx(25.0)


def test_a_failed_drill_fails_its_goal_whatever_the_others_measured() -> None:
    drills = passing_drills()
    for d in drills:
        if d.fault == "redis-kill" and d.number == 2:
            d.ok, d.gap_s, d.error = False, None, "write gap not measured"
    doc = doc_of(drills)
    assert doc["verdict"]["failed"] == [GOALS[3].title]
    assert "redis-kill #2 (project): write gap not measured" in render(doc)
