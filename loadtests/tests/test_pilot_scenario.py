"""The pilot validation scenario and gates: what `make pilot` runs, checked without running it."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import yaml

from loadtests.cli import Run, main, parser
from loadtests.drills import AnsibleExecutor, DrillRunner
from loadtests.durations import parse_duration
from loadtests.gates import load_gates
from loadtests.links import assign_link_classes
from loadtests.scenario import PERSONAS, fill_placeholders, load_scenario

HERE = Path(__file__).resolve().parent.parent
REPO = HERE.parent
SCENARIO = HERE / "scenarios" / "pilot_validation.yaml"
GATES = HERE / "gates" / "pilot.yaml"
REGISTER = REPO / "inventories" / "branch_register" / "eu-west.yml"
VARS = {
    "COLLECTION": "/opt/retailops/ansible_collections/retailops/odoo_platform",
    "INVENTORY": "/opt/pilot/inventory",
    "OUT": "/opt/pilot/results/validation",
    "ODOO_NODE_LOSS": "pilot-odoo-2",
    "ODOO_VARS": "/opt/pilot/odoo.yml",
}


def var_args() -> list[str]:
    return [a for k, v in VARS.items() for a in ("--var", f"{k}={v}")]


def test_check_accepts_the_pilot_files_with_the_playbooks_vars(capsys):
    argv = ["check", "--scenario", str(SCENARIO), "--register", str(REGISTER), "--gates", str(GATES)]
    assert main([*argv, *var_args()]) == 0, capsys.readouterr().err
    assert "ok: scenario pilot_validation" in capsys.readouterr().out
    assert main(argv) == 2  # without them, every placeholder is named
    err = capsys.readouterr().err
    for name in VARS:
        assert f"placeholder ${{{name}}} has no value: pass --var {name}=VALUE" in err


def test_thirteen_minutes_24_users_all_six_personas_links_from_the_register_no_flapping():
    s = load_scenario(SCENARIO)
    assert s.duration == 780
    assert s.users == 24
    assert set(s.persona_weights()) == set(PERSONAS)
    assert s.links.shares == {}
    assert s.links.flapping_share == 0
    # links come from the register only: every branch keeps its own
    codes = ["S1", "S2", "S3"]
    fixed = {"S1": "fiber", "S2": "broadband", "S3": "lte"}
    assert assign_link_classes(codes, s.links.shares, s.links.flapping_share, fixed) == fixed


def test_locust_spawns_every_persona_among_the_24_users():
    scenario = load_scenario(SCENARIO)
    weights = scenario.persona_weights()  # what the plan gives Locust
    # Locust's dispatcher, in a process of its own (importing Locust patches the standard library)
    code = (
        "import json, sys, itertools; from locust.dispatch import _kl_generator; "
        "w = json.loads(sys.argv[1]); n = int(sys.argv[2]); "
        "print(json.dumps(list(itertools.islice(_kl_generator(w.items()), n))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(weights), "24"], capture_output=True, text=True, check=True
    )
    spawned = json.loads(done.stdout)
    assert {p: spawned.count(p) for p in PERSONAS} == scenario.personas  # the YAML's user counts


def rule_windows() -> dict[str, float]:
    """Each alert's detection window (its annotation), from the collection's rule files."""
    out: dict[str, float] = {}
    for path in (REPO / "roles" / "prometheus" / "files" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    out[rule["alert"]] = parse_duration(rule["annotations"]["detection_window"])
    return out


def test_drills_one_at_a_time_each_recovering_before_the_next_and_longer_than_its_alerts_window():
    s = load_scenario(SCENARIO)
    drills = sorted((d for d in s.drills if d.restore is None), key=lambda d: d.at)
    assert [(d.name, d.executor, d.action) for d in drills] == [
        ("pg_leader_kill", "ansible", "kill"),
        ("redis_primary_kill", "ansible", "kill"),
        ("odoo_node_loss", "docker", "kill"),
        ("lte_tunnel_down", "ansible", "cut"),
        ("broadband_tunnel_down", "ansible", "cut"),
    ]
    assert drills[0].at >= 60  # after the ramp-up and a baseline
    for d, nxt in itertools.pairwise(drills):
        assert d.at + d.observe <= nxt.at, d.name  # its window closes before the next starts
    assert drills[-1].at + drills[-1].observe <= s.duration
    pg, redis, odoo, lte, broadband = drills
    assert redis.at - pg.at >= 90  # the PG drill takes 60-90 s with the rejoin
    assert pg.observe >= 90
    assert odoo.target == "${ODOO_NODE_LOSS}"
    windows = rule_windows()
    # each fault lasts longer than its alert's window plus a scrape and an evaluation (5 s each)
    assert redis.params["extra_vars"]["redis_drill_down_for"] >= windows["RedisInstanceDown"] + 10
    assert odoo.params["down_for"] >= windows["OdooNodeDown"] + 10
    for cut, link in ((lte, "lte"), (broadband, "broadband")):
        assert cut.offline_links == (link,)
        assert cut.target == ""  # no --limit: the playbook's first play checks the pattern on localhost
        extra = cut.params["extra_vars"]
        assert extra["branch_vpn_drill_hosts"] == f"link_{link}"
        assert extra["branch_vpn_drill_down_for"] >= windows["BranchTunnelDown"] + 10
        assert cut.observe > extra["branch_vpn_drill_down_for"]  # the link's return and the resolution


def test_the_restore_drill_restores_under_load_after_a_failover_and_ends_before_the_run():
    s = load_scenario(SCENARIO)
    (restore,) = [d for d in s.drills if d.restore is not None]
    pg = next(d for d in s.drills if d.name == "pg_leader_kill")
    assert restore.restore is not None
    assert restore.restore.file == "${OUT}/restore_drill.json"
    extra = restore.params["extra_vars"]
    assert extra["backup_restore_drill_results"] == restore.restore.file  # the file the harness reads
    # the restore point falls after the failover drill's window: the restore crosses a new timeline
    assert restore.at - extra["backup_restore_drill_target_seconds_ago"] >= pg.at + pg.observe
    assert restore.at + restore.params["timeout"] <= s.duration  # done (or failed) while the load runs
    assert restore.alerts == ()  # planned work: nobody is paged
    # it injects no fault: the Redis drill that runs beside it keeps its window
    assert not restore.injects_fault
    assert all(d.injects_fault for d in s.drills if d.name != restore.name)
    runner = DrillRunner(s.drills, {})
    assert {r.name: r.injects_fault for r in runner.records}[restore.name] is False


def test_ansible_drills_run_the_collections_playbooks_on_their_own_hosts():
    filled = {d.name: d for d in fill_placeholders(load_scenario(SCENARIO).drills, VARS, SCENARIO)}
    ex = AnsibleExecutor(binary="ansible-playbook")
    for name, playbook in (
        ("pg_leader_kill", "postgresql_failover_drill.yml"),
        ("redis_primary_kill", "redis_failover_drill.yml"),
        ("lte_tunnel_down", "branch_tunnel_drill.yml"),
        ("broadband_tunnel_down", "branch_tunnel_drill.yml"),
        ("pitr_restore", "backup_restore_drill.yml"),
    ):
        argv = ex.command(filled[name])
        assert argv[:4] == [
            "ansible-playbook",
            f"{VARS['COLLECTION']}/playbooks/{playbook}",
            "-i",
            VARS["INVENTORY"],
        ]
        assert "--limit" not in argv, name  # the playbooks pick the leader / primary / branches themselves
        extra = json.loads(argv[-1])  # the drill's variables come last, after any -e @file
        text = (REPO / "playbooks" / playbook).read_text()
        plays = yaml.safe_load(text)
        assert plays[0]["hosts"] in {"postgres_cluster", "redis_servers:redis_sentinels", "localhost"}
        role = {
            "redis_primary_kill": "redis",
            "lte_tunnel_down": "branch_vpn",
            "broadband_tunnel_down": "branch_vpn",
        }
        known = text + (
            (REPO / "roles" / role[name] / "defaults" / "main.yml").read_text() if name in role else ""
        )
        for var in filled[name].params["extra_vars"]:
            assert var in known, f"{playbook} (or its role) has no variable {var}"
        if name in {"lte_tunnel_down", "broadband_tunnel_down"}:
            assert extra["branch_vpn_drill_hosts"] in {"link_lte", "link_broadband"}
        elif name == "pg_leader_kill":
            assert extra["postgresql_failover_drill_kill"] == "process"
            assert extra["postgresql_failover_drill_results"] == f"{VARS['OUT']}/pg_failover.json"
            assert "postgresql_failover_drill_probe" not in extra  # from the inventory's group_vars
        elif name == "pitr_restore":
            assert extra["backup_restore_drill_results"] == f"{VARS['OUT']}/restore_drill.json"
        else:
            assert extra["redis_drill_method"] == "kill"
            assert extra["redis_drill_results_dir"] == f"{VARS['OUT']}/redis_failover_drill"


def test_pilot_gates_gate_every_tier_the_ledger_and_the_drills():
    g = load_gates(GATES)
    assert set(g.tiers) == {"pos_sync", "inventory", "finance", "reporting", "integration"}
    assert all(t.longest_error_window_s for t in g.tiers.values())
    assert (g.ledger.max_lost, g.ledger.max_duplicated, g.ledger.max_unexpected) == (0, 0, 0)
    assert g.drills.action_ok
    assert g.drills.recovered
    assert g.drills.max_time_to_recovery_s == 120


def test_run_takes_the_pilot_arguments():
    args = parser().parse_args(
        [
            "run",
            "--scenario",
            str(SCENARIO),
            "--register",
            str(REGISTER),
            "--gates",
            str(GATES),
            "--host",
            "https://erp.pilot.test",
            "--out",
            "/tmp/x",
            "--toxiproxy",
            "auto",
            "--odoo-label",
            "Odoo 18.0 official image odoo:18.0",
            *var_args(),
        ]
    )
    assert args.odoo_label == "Odoo 18.0 official image odoo:18.0"
    assert Run(args, load_scenario(SCENARIO), [], load_gates(GATES)).verify is True


K8S_SCENARIO = HERE / "scenarios" / "pilot_kubernetes.yaml"
K8S_VARS = {
    "COLLECTION": VARS["COLLECTION"],
    "INVENTORY": VARS["INVENTORY"],
    "OUT": VARS["OUT"],
    "TENANT": "tenant-retail",
    "ODOO_VARS": "/opt/pilot/odoo.yml",
    "NAMESPACE": "retail",
    "INGRESS_NAMESPACE": "ingress",
    "KUBECONFIG": "/opt/pilot/kubeconfig",
    "NODE": "rig-node-2",
    "NODE_KILL": "bash cluster.sh kill-node 2",
    "NODE_RESTART": "bash cluster.sh restart-node 2",
}


def test_check_accepts_the_kubernetes_pilot_with_its_placeholders(capsys):
    argv = [
        "check",
        "--scenario",
        str(K8S_SCENARIO),
        "--register",
        str(REGISTER),
        "--gates",
        "pilot_kubernetes",
    ]
    filled = [a for k, v in K8S_VARS.items() for a in ("--var", f"{k}={v}")]
    assert main([*argv, *filled]) == 0, capsys.readouterr().err
    assert main(argv) == 2
    err = capsys.readouterr().err
    for name in K8S_VARS:
        assert f"placeholder ${{{name}}} has no value: pass --var {name}=VALUE" in err


def test_kubernetes_pilot_drills_one_at_a_time_the_node_lost_last_and_brought_back():
    s = load_scenario(K8S_SCENARIO)
    assert (s.users, s.personas) == (24, load_scenario(SCENARIO).personas)  # the VM pilot's traffic
    drills = sorted(s.drills, key=lambda d: d.at)
    assert [(d.name, d.executor) for d in drills] == [
        ("pod_kill", "kubernetes"),
        ("ingress_pod_kill", "kubernetes"),
        ("node_drain", "ansible"),
        ("node_uncordon", "ansible"),
        ("rolling_update", "ansible"),
        ("pg_leader_kill", "ansible"),
        ("redis_primary_kill", "ansible"),
        ("lte_tunnel_down", "ansible"),
        ("broadband_tunnel_down", "ansible"),
        ("node_kill", "process"),
    ]
    for d, nxt in itertools.pairwise(drills):
        assert d.at + d.observe <= nxt.at, d.name
    node_kill = drills[-1]
    assert node_kill.at + node_kill.observe <= s.duration
    assert (node_kill.params["stop"], node_kill.params["start"]) == ("${NODE_KILL}", "${NODE_RESTART}")
    # lost longer than the node monitor's grace (40 s) plus odoo_kubernetes_http_node_lost_seconds (60 s),
    # and than KubernetesNodeUnreachable's window plus a scrape and an evaluation
    assert node_kill.params["down_for"] >= 100
    assert node_kill.params["down_for"] >= rule_windows()["KubernetesNodeUnreachable"] + 10
    assert [a.name for a in node_kill.alerts or ()] == ["KubernetesNodeUnreachable"]
    assert node_kill.observe >= node_kill.params["down_for"] + 30
    filled = {d.name: d for d in fill_placeholders(s.drills, K8S_VARS, K8S_SCENARIO)}
    assert filled["pod_kill"].target == "retail/app.kubernetes.io/component=http"
    assert filled["ingress_pod_kill"].target == "ingress/app.kubernetes.io/name=traefik"
    # after the drain every HTTP pod runs on the other node: the rolling restart spreads them
    # again before NODE is lost
    names = [d.name for d in drills]
    assert names.index("node_uncordon") < names.index("rolling_update") < names.index("node_kill")
    assert filled["rolling_update"].target == "tenant-retail"
    # the rollout applies the Odoo role again: with the converge's choice of Odoo, not the defaults
    argv = AnsibleExecutor(binary="ansible-playbook").command(filled["rolling_update"])
    assert argv[argv.index("--limit") + 1 : argv.index("--limit") + 4] == [
        "tenant-retail",
        "-e",
        "@/opt/pilot/odoo.yml",
    ]
    empty = fill_placeholders(s.drills, {**K8S_VARS, "ODOO_VARS": ""}, K8S_SCENARIO)
    argv = AnsibleExecutor(binary="ansible-playbook").command(
        next(d for d in empty if d.name == "rolling_update")
    )
    assert not [a for a in argv if a.startswith("@")]


def test_the_pilots_shared_drills_are_the_same_drills():
    """The Kubernetes pilot repeats the Docker pilot's data tier and tunnel drills: the same playbook, the
    same parameters and the same expected alerts, so each is held as long (a Redis primary back after 6 s
    instead of 30 s is below RedisInstanceDown's 15 s window, and the coverage gate fails it)."""
    docker = {d.name: d for d in load_scenario(SCENARIO).drills}
    kubernetes = {d.name: d for d in load_scenario(K8S_SCENARIO).drills}
    shared = sorted(docker.keys() & kubernetes.keys())
    assert shared == ["broadband_tunnel_down", "lte_tunnel_down", "pg_leader_kill", "redis_primary_kill"]
    for name in shared:
        ours, theirs = kubernetes[name], docker[name]
        assert (ours.executor, ours.action, ours.params, ours.alerts, ours.fault, ours.offline_links) == (
            theirs.executor,
            theirs.action,
            theirs.params,
            theirs.alerts,
            theirs.fault,
            theirs.offline_links,
        ), name
