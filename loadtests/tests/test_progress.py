"""What the console says while the load runs: users, calls so far, each drill as it starts and ends."""

import json
import threading
import time
from pathlib import Path

from loadtests.cli import Progress
from loadtests.drills import DrillError, DrillRunner
from loadtests.scenario import DrillSpec

HISTORY_HEADER = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,Total Request Count\n"


def sample(outcome: str) -> str:
    return json.dumps([1.0, "pos_sync", "pos.order.sync_from_ui", "B1", "eu", "fiber", outcome, 12.5]) + "\n"


def test_progress_counts_calls_by_outcome_and_reads_locusts_user_count(tmp_path: Path):
    samples, history = tmp_path / "samples.jsonl", tmp_path / "locust_stats_history.csv"
    progress = Progress(samples, history, users_wanted=24)
    assert progress.lines(2, 480, []) == ["   2s of 480s  users -/24  calls 0  failed 0  unknown 0"]

    samples.write_text(
        sample("ok") + sample("failed") + sample("unknown") + '[1.0, "pos_sync"', encoding="utf-8"
    )
    history.write_text(
        HISTORY_HEADER + "1796382146,0,,Aggregated,0,0,N/A,0\n1796382147,12,,Aggregated,1,0,9,3\n"
    )
    assert progress.lines(10, 480, []) == ["  10s of 480s  users 12/24  calls 3  failed 1  unknown 1"]

    with samples.open("a", encoding="utf-8") as fh:
        fh.write(', "x", "B1", "eu", "fiber", "ok", 3.0]\n' + sample("ok"))  # the torn line, completed
    with history.open("a", encoding="utf-8") as fh:
        fh.write("1796382157,24,,Aggregated,4,0,9,20\n")
    assert progress.lines(20, 480, ["pg_leader_kill"]) == [
        "all 24 users spawned",
        "  20s of 480s  users 24/24  calls 5  failed 1  unknown 1  drill running: pg_leader_kill",
    ]
    assert progress.lines(30, 480, [])[0].startswith("  30s of 480s  users 24/24  calls 5"), "said once"


class Held:
    """An executor whose action lasts until released, or fails."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, spec: DrillSpec) -> None:
        self.release.wait(10)
        if spec.action == "break":
            raise DrillError("no leader")


def test_each_drill_is_said_as_it_starts_and_ends_and_is_running_in_between():
    said: list[str] = []
    held = Held()
    specs = (
        DrillSpec(name="pg", at=0, executor="process", action="kill", target="patroni"),
        DrillSpec(name="redis", at=0, executor="process", action="break"),
    )
    runner = DrillRunner(specs, {"process": held}, said.append)
    runner.start(time.time())
    deadline = time.time() + 5
    while len(runner.active()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert sorted(runner.active()) == ["pg", "redis"]
    held.release.set()
    runner.stop(timeout=5)
    assert runner.active() == []
    assert "drill pg starts: process kill patroni" in said
    assert "drill redis starts: process break" in said
    ends = {line.split(" ends: ")[0]: line.split(" ends: ")[1] for line in said if " ends: " in line}
    assert ends["drill pg"].startswith("action done in ")
    assert ends["drill redis"].startswith("FAILED after ")
    assert ends["drill redis"].endswith("s: DrillError: no leader")
