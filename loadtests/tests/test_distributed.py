"""Locust workers on the branch nodes: the workers file, each node's Toxiproxy, the master's side."""

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from loadtests.cli import Run, branch_workers
from loadtests.distributed import (
    FINISH,
    FINISHED,
    LINES,
    PLAN,
    PLAN_REQUEST,
    Master,
    WorkersFileError,
    load_workers,
)
from loadtests.ledger import LedgerWriter, Outcome, read_ledger
from loadtests.links import DEFAULT_PROFILES
from loadtests.links_setup import LinkRig, create_links
from loadtests.samples import Sample, SampleWriter
from loadtests.tests.test_routes import BRANCHES, FakeToxiproxy, run_args
from loadtests.tests.test_routes import make_run as routes_run

HERE = Path(__file__).resolve().parent.parent
ERP = "https://10.213.20.50:443"
NODE_A, NODE_B = "http://10.213.22.2:8474", "http://10.213.22.18:8474"


def workers_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "workers.yml"
    path.write_text(text)
    return path


def all_branches_file(tmp_path: Path) -> Path:
    lines = ["workers:"]
    for i, b in enumerate(BRANCHES):
        node = NODE_A if i % 2 == 0 else NODE_B
        lines.append(f"  - {{branch: {b.code}, erp: '{ERP}', toxiproxy: '{node}'}}")
    return workers_file(tmp_path, "\n".join(lines) + "\n")


def args(path: Path | None, toxiproxy: str = "auto", workers: int = 0) -> argparse.Namespace:
    """The run's arguments as test_routes gives them, with the distributed ones."""
    return run_args(
        toxiproxy,
        branch_workers=str(path) if path else None,
        workers=workers,
        master_bind="10.213.21.1",
        master_port=5557,
        web=False,
    )


def test_a_workers_file_names_the_entry_and_field_it_refuses(tmp_path):
    bad = workers_file(
        tmp_path,
        "workers:\n  - {branch: B1, toxiproxy: 'http://10.0.0.2:8474'}\n  - {branch: B2, erp: 'ftp://x'}\n",
    )
    with pytest.raises(WorkersFileError) as err:
        load_workers(bad)
    assert "workers.0.erp: Field required" in str(err.value)
    assert "workers.1.erp" in str(err.value)
    assert "not an http:// or https:// URL" in str(err.value)
    with pytest.raises(WorkersFileError, match=r"workers.0.color: Extra inputs are not permitted"):
        load_workers(workers_file(tmp_path, f"workers:\n  - {{branch: B1, erp: '{ERP}', color: red}}\n"))
    with pytest.raises(WorkersFileError, match="workers: List should have at least 1 item"):
        load_workers(workers_file(tmp_path, "workers: []\n"))


def test_every_branch_has_one_worker_and_a_link_emulator_when_links_are_emulated(tmp_path):
    workers = load_workers(
        workers_file(
            tmp_path,
            f"workers:\n  - {{branch: B1, erp: '{ERP}', toxiproxy: '{NODE_A}'}}\n"
            f"  - {{branch: B1, erp: '{ERP}'}}\n  - {{branch: X9, erp: '{ERP}'}}\n",
        )
    )
    with pytest.raises(WorkersFileError) as err:
        workers.check(["B1", "B2"], link_emulation=True)
    text = str(err.value)
    assert "branch 'B1' is listed 2 times" in text
    assert "branch 'B2' has no worker" in text
    assert "branch 'X9' is not in the register" in text
    assert "branch 'X9': toxiproxy is empty" in text


def test_branch_workers_are_one_way_of_distributing_and_carry_their_own_links(tmp_path):
    path = all_branches_file(tmp_path)
    with pytest.raises(WorkersFileError, match="--branch-workers and --workers"):
        branch_workers(args(path, workers=2), list(BRANCHES))
    with pytest.raises(WorkersFileError, match="give --toxiproxy auto or off"):
        branch_workers(args(path, toxiproxy="http://127.0.0.1:8474"), list(BRANCHES))
    assert branch_workers(args(None), list(BRANCHES)) is None
    workers = branch_workers(args(path), list(BRANCHES))
    assert workers is not None
    assert workers.names() == sorted(b.code for b in BRANCHES)  # one worker per branch by default


def make_run(path: Path, toxiproxy: str = "auto") -> Run:
    a = args(path, toxiproxy)
    return routes_run(args=a, workers=branch_workers(a, BRANCHES))


def test_each_branch_goes_through_the_toxiproxy_of_its_own_node_to_the_entrypoint(tmp_path):
    run = make_run(all_branches_file(tmp_path))
    routes = run.routes(run.link_classes())
    assert {r.upstream for r in routes.values()} == {ERP}
    assert {r.server for r in routes.values()} == {NODE_A, NODE_B}
    apis = {NODE_A: FakeToxiproxy(), NODE_B: FakeToxiproxy()}
    run.rig = LinkRig(dict(apis))  # type: ignore[arg-type]
    create_links(run.rig, set(routes.values()), dict(DEFAULT_PROFILES), "abcd1234")
    plan = run.plan(routes)
    for b in plan.branches:
        route = routes[b.code]
        proxy = run.rig.proxies[route]
        api = apis[route.server]
        listen, upstream = api.created[proxy.name]
        assert upstream == "10.213.20.50:443"
        assert listen.startswith("127.0.0.1:")
        assert not listen.endswith(":0")
        assert b.url == f"https://{listen}"
        assert proxy.name.endswith("-at-" + route.server.split("//")[1].split(":")[0])
    # the same class and entrypoint on two nodes: two proxies, one on each
    fiber = run.rig.links_by_class()["fiber"]
    assert len({p.route.server for p in fiber}) == len(fiber)


def test_without_link_emulation_the_users_go_straight_to_the_entrypoint(tmp_path):
    run = make_run(all_branches_file(tmp_path), toxiproxy="off")
    plan = run.plan(run.routes(run.link_classes()))
    assert {(b.url, b.proxy) for b in plan.branches} == {(ERP, "")}


def test_the_master_waits_for_the_branch_workers_and_starts_none_itself(tmp_path):
    run = make_run(all_branches_file(tmp_path))
    master, local = run.locust_argv()
    assert local == []
    joined = " ".join(master)
    assert f"--master --expect-workers {len(BRANCHES)} --expect-workers-max-wait" in joined
    assert "--master-bind-host 10.213.21.1 --master-bind-port 5557" in joined


def test_the_master_answers_plan_requests_and_appends_the_workers_lines(tmp_path):
    sent = []
    paths = {"ledger": str(tmp_path / "ledger.jsonl"), "samples": str(tmp_path / "samples.jsonl")}
    handlers = Master({"run_id": "abcd1234"}, paths, lambda *a, **k: sent.append((a, k))).handlers()
    handlers[PLAN_REQUEST](None, SimpleNamespace(node_id="node-a_1", data={"branches": ["B1"]}))
    assert sent == [((PLAN, {"run_id": "abcd1234"}), {"client_id": "node-a_1"})]

    ledger = LedgerWriter(source="node-a", send=lambda lines: handlers[LINES](None, msg("ledger", lines)))
    ledger.attempt("pos.order", "k1", branch="B1")
    ledger.outcome("pos.order", "k1", Outcome.OK)
    samples = SampleWriter(send=lambda lines: handlers[LINES](None, msg("samples", lines)))
    samples.add(Sample(1.0, "pos_sync", "pos.order", "B1", "r", "fiber", "ok", 12.0))
    samples.flush()
    handlers[LINES](None, msg("other", ["ignored"]))
    entry = read_ledger([paths["ledger"]])["pos.order"]["k1"]
    assert entry.status == "acked"
    assert entry.tags["branch"] == "B1"
    assert [json.loads(x)[3] for x in Path(paths["samples"]).read_text().splitlines()] == ["B1"]
    assert not (tmp_path / "other").exists()


def test_the_master_drains_every_worker_that_has_the_plan_before_it_quits(tmp_path):
    """A worker's last lines reach the master before its FINISHED (one socket, in order): the master
    waits for every answer, and names a worker that never answers once the time is up."""
    sent = []
    paths = {"ledger": str(tmp_path / "ledger.jsonl")}
    master = Master({"run_id": "abcd1234"}, paths, lambda *a, **k: sent.append((a, k)))
    handlers = master.handlers()
    for node in ("node-a_1", "node-b_1", "node-c_1"):
        handlers[PLAN_REQUEST](None, SimpleNamespace(node_id=node, data={"branches": []}))
    sent.clear()
    clock = [0.0]
    answers = {  # at which wait each worker's last line and its answer arrive; node-c never answers
        0.3: "node-a_1",
        2.0: "node-b_1",
    }

    def sleep(seconds: float) -> None:
        clock[0] = round(clock[0] + seconds, 1)
        node = answers.pop(clock[0], None)
        if node:
            handlers[LINES](None, SimpleNamespace(node_id=node, data={"stream": "ledger", "lines": [node]}))
            handlers[FINISHED](None, SimpleNamespace(node_id=node, data=None))

    assert master.finish(5.0, sleep, lambda: clock[0]) == ["node-c_1"]
    assert clock[0] == 5.0
    assert sent == [((FINISH, None), {"client_id": n}) for n in ("node-a_1", "node-b_1", "node-c_1")]
    assert Path(paths["ledger"]).read_text().split() == ["node-a_1", "node-b_1"]
    handlers[FINISHED](None, SimpleNamespace(node_id="node-c_1", data=None))
    sent.clear()
    assert master.finish(5.0, sleep, lambda: clock[0]) == []  # nothing left to ask, no wait
    assert (sent, clock[0]) == ([], 5.0)


def msg(stream: str, lines: list[str]) -> SimpleNamespace:
    return SimpleNamespace(node_id="node-a_1", data={"stream": stream, "lines": lines})


def test_a_writer_goes_to_a_file_or_to_the_master_never_both(tmp_path):
    with pytest.raises(ValueError, match="one of the two"):
        LedgerWriter()
    with pytest.raises(ValueError, match="one of the two"):
        LedgerWriter(tmp_path / "l", send=print)
    with pytest.raises(ValueError, match="one of the two"):
        SampleWriter(tmp_path / "s", send=print)
