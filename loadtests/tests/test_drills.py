"""Drill placeholders (--var), the ansible executor's command line, the Patroni executor."""

import json
import subprocess
from pathlib import Path

import pytest

from loadtests.cli import main
from loadtests.drills import AnsibleExecutor, DrillError, KubernetesExecutor, PatroniExecutor
from loadtests.errors import ConfigError
from loadtests.scenario import DrillSpec, fill_placeholders, parse_vars
from tests.fixtures.patroni_api import member

HERE = Path(__file__).resolve().parent.parent
REPO = HERE.parent
SCENARIO = """name: t
users: 2
spawn_rate: 1
duration: 5m
personas: {pos_cashier: 1}
drills:
  - name: pg
    at: 30s
    executor: ansible
    action: kill
    params:
      playbook: ${COLLECTION}/playbooks/postgresql_failover_drill.yml
      inventory: ${INVENTORY}
      extra_vars: {postgresql_failover_drill_results: "${OUT}/pg.json"}
  - {name: odoo, at: 2m, executor: docker, action: kill, target: "${ODOO_NODE}", params: {down_for: 40}}
"""


def inputs(tmp_path: Path) -> list[str]:
    (tmp_path / "s.yaml").write_text(SCENARIO)
    return [
        "--scenario",
        str(tmp_path / "s.yaml"),
        "--register",
        str(REPO / "inventories" / "branch_register" / "eu-west.yml"),
        "--gates",
        str(HERE / "gates" / "default.yaml"),
    ]


def test_check_fills_placeholders_from_var(tmp_path, capsys):
    vars_ = ["COLLECTION=/c", "INVENTORY=/inv/hosts.yml", "OUT=/r", "ODOO_NODE=odoo-2"]
    argv = ["check", *inputs(tmp_path)]
    for v in vars_:
        argv += ["--var", v]
    assert main(argv) == 0, capsys.readouterr().err
    assert "ok: scenario t" in capsys.readouterr().out


def test_a_placeholder_without_var_is_an_error_naming_it(tmp_path, capsys):
    assert main(["check", *inputs(tmp_path), "--var", "COLLECTION=/c"]) == 2
    err = capsys.readouterr().err.splitlines()
    file = tmp_path / "s.yaml"
    assert err == [
        f"error: {file}: drills[0].params.inventory: placeholder ${{INVENTORY}} has no value: "
        "pass --var INVENTORY=VALUE",
        f"{file}: drills[0].params.extra_vars.postgresql_failover_drill_results: placeholder ${{OUT}} "
        "has no value: pass --var OUT=VALUE",
        f"{file}: drills[1].target: placeholder ${{ODOO_NODE}} has no value: pass --var ODOO_NODE=VALUE",
    ]


def test_bad_var_syntax_is_an_input_error(tmp_path, capsys):
    assert main(["check", *inputs(tmp_path), "--var", "NO_EQUALS"]) == 2
    assert "error: --var: NO_EQUALS: expected KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        parse_vars(["bad-name=1"])


def test_values_are_inserted_once_and_keep_their_dollars():
    spec = DrillSpec(name="x", at=1, executor="process", action="run", params={"command": "echo ${A} ${B}"})
    (filled,) = fill_placeholders((spec,), {"A": "${B}", "B": "$HOME"}, "f.yaml")
    assert filled.params["command"] == "echo ${B} $HOME"


def pg_drill(target: str = "") -> DrillSpec:
    (spec,) = fill_placeholders(
        (
            DrillSpec(
                name="pg leader kill",
                at=60,
                executor="ansible",
                action="kill",
                target=target,
                params={
                    "playbook": "${COLLECTION}/playbooks/postgresql_failover_drill.yml",
                    "inventory": "${INVENTORY}",
                    "extra_vars": {
                        "postgresql_failover_drill_kill": "process",
                        "postgresql_failover_drill_results": "${OUT}/pg failover.json",
                        "postgresql_failover_drill_timeout": 180,
                    },
                },
            ),
        ),
        {"COLLECTION": "/c", "INVENTORY": "/inv/pilot", "OUT": "/results/pilot run"},
        "s.yaml",
    )
    return spec


def test_ansible_argv_without_target_has_no_limit_and_json_extra_vars():
    argv = AnsibleExecutor(binary="ansible-playbook").command(pg_drill())
    assert argv[:4] == ["ansible-playbook", "/c/playbooks/postgresql_failover_drill.yml", "-i", "/inv/pilot"]
    assert "--limit" not in argv  # the playbook finds the leader among all of postgres_cluster
    assert argv[4] == "-e"
    assert len(argv) == 6
    assert json.loads(argv[5]) == {
        "drill_action": "kill",
        "drill_target": "",
        "drill_down_for": 0.0,
        "postgresql_failover_drill_kill": "process",
        "postgresql_failover_drill_results": "/results/pilot run/pg failover.json",  # spaces survive
        "postgresql_failover_drill_timeout": 180,  # an int stays an int
    }


def test_ansible_target_is_a_limit_pattern():
    argv = AnsibleExecutor(binary="ansible-playbook").command(pg_drill(target="pg-1"))
    assert argv[4:6] == ["--limit", "pg-1"]


def test_ansible_run_logs_command_and_output_and_fails_loudly(tmp_path):
    calls = []

    def runner(argv, **kw):
        calls.append((argv, kw))
        return subprocess.CompletedProcess(argv, 2, "PLAY [Find the leader]\nfatal: no leader\n", "")

    ex = AnsibleExecutor(runner, binary="ansible-playbook", log_dir=tmp_path)
    with pytest.raises(DrillError, match=r"(?s)ansible-playbook exited 2: .*fatal: no leader"):
        ex.run(pg_drill())
    assert calls[0][1]["timeout"] == 600
    log = (tmp_path / "drill-pg_leader_kill.ansible.log").read_text()
    assert log.startswith("$ ansible-playbook /c/playbooks/postgresql_failover_drill.yml -i /inv/pilot -e '{")
    assert "# exit 2\nPLAY [Find the leader]" in log
    with pytest.raises(DrillError, match=r"params\.playbook is required"):
        ex.command(DrillSpec(name="x", at=1, executor="ansible", action="kill"))


def test_ansible_playbook_is_found_beside_the_venv_python():
    assert AnsibleExecutor().binary.endswith("ansible-playbook")


def test_patroni_switchover_names_the_leader_from_the_cluster_view(patroni_api):
    patroni_api.members = [member("pg-node-1", "replica"), member("pg-node-2", "leader", "running")]

    PatroniExecutor().run(
        DrillSpec(name="sw", at=0, executor="patroni", action="switchover", target=patroni_api.url)
    )

    assert patroni_api.posts == [("/switchover", {"leader": "pg-node-2"})]


def test_patroni_switchover_without_a_leader_fails_naming_the_api(patroni_api):
    patroni_api.members = [member("pg-node-1", "replica", "stopped")]

    with pytest.raises(DrillError, match=r"patroni: no single leader in http://127\.0\.0\.1:\d+/cluster"):
        PatroniExecutor().run(
            DrillSpec(name="sw", at=0, executor="patroni", action="switchover", target=patroni_api.url)
        )
    assert patroni_api.posts == []


def pod(name: str, node: str, *, ready: bool = True, phase: str = "Running", deleting: bool = False):
    from types import SimpleNamespace as NS  # noqa: PLC0415

    return NS(
        metadata=NS(name=name, deletion_timestamp="2026-12-04T00:00:00Z" if deleting else None),
        spec=NS(node_name=node),
        status=NS(phase=phase, conditions=[NS(type="Ready", status="True" if ready else "False")]),
    )


class FakeCore:
    def __init__(self, pods: list[object]) -> None:
        self.pods = pods
        self.listed: list[tuple[str, str]] = []
        self.deleted: list[tuple[str, str, int | None]] = []

    def list_namespaced_pod(self, namespace, label_selector, timeout_seconds):
        from types import SimpleNamespace as NS  # noqa: PLC0415

        self.listed.append((namespace, label_selector))
        return NS(items=self.pods)

    def delete_namespaced_pod(self, name, namespace, grace_period_seconds=None):
        self.deleted.append((namespace, name, grace_period_seconds))


def k8s_spec(action: str = "kill", target: str = "retail/app=http", **params) -> DrillSpec:
    return DrillSpec(name="k", at=1, executor="kubernetes", action=action, target=target, params=params)


def test_kubernetes_kill_takes_ready_pods_in_name_order_with_no_grace():
    core = FakeCore(
        [
            pod("http-c", "n2"),
            pod("http-a", "n1", ready=False),  # not ready: never the victim
            pod("http-b", "n1", deleting=True),  # already going
            pod("http-d", "n1"),
            pod("http-e", "n2", phase="Pending"),
        ]
    )
    KubernetesExecutor(core).run(k8s_spec(count=2))
    assert core.listed == [("retail", "app=http")]
    assert core.deleted == [("retail", "http-c", 0), ("retail", "http-d", 0)]
    core.deleted.clear()
    KubernetesExecutor(core).run(k8s_spec("delete", node="n1"))
    assert core.deleted == [("retail", "http-d", None)]  # graceful: the pod's own grace period


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (k8s_spec(target="app=http"), "must be <namespace>/<label selector>"),
        (k8s_spec("restart"), "unknown action 'restart'"),
        (k8s_spec(count=3), "2 ready pod(s) match 'app=http' in retail, the drill needs 3"),
        (k8s_spec(node="n9"), "0 ready pod(s) match 'app=http' in retail on n9"),
    ],
)
def test_kubernetes_drill_refuses_what_it_cannot_do_and_deletes_nothing(spec, message):
    core = FakeCore([pod("http-a", "n1"), pod("http-b", "n2")])
    with pytest.raises(DrillError) as exc:
        KubernetesExecutor(core).run(spec)
    assert message in str(exc.value)
    assert core.deleted == []


def test_check_refuses_gates_for_drills_the_run_does_not_have(tmp_path, capsys):
    gates = tmp_path / "g.yaml"
    gates.write_text(
        "tiers:\n  pos_sync: {}\ndrill:\n  odoo: {recovered: true}\n  rollout: {recovered: true}\n"
    )
    argv = [*["check", *inputs(tmp_path)][:-1], str(gates)]
    for v in ["COLLECTION=/c", "INVENTORY=/i", "OUT=/r", "ODOO_NODE=odoo-2"]:
        argv += ["--var", v]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{gates}: drill: gates for drills the run does not have: rollout (its drills: pg, odoo)" in err


def test_shipped_kubernetes_scenario_and_gates_check(capsys):
    variables = {
        "COLLECTION": "/c",
        "INVENTORY": "/i",
        "TENANT": "tenant-retail",
        "NAMESPACE": "retail",
        "KUBECONFIG": "/k/admin.kubeconfig",
        "NODE": "rig-node-2",
        "NODE_KILL": "bash /c/rig/kubernetes/cluster.sh kill-node 2",
        "OUT": "/r",
    }
    argv = [
        "check",
        "--scenario",
        str(HERE / "scenarios" / "kubernetes_drills.yaml"),
        "--register",
        str(REPO / "inventories" / "branch_register" / "eu-west.yml"),
        "--gates",
        str(HERE / "gates" / "kubernetes.yaml"),
    ]
    for k, v in variables.items():
        argv += ["--var", f"{k}={v}"]
    assert main(argv) == 0, capsys.readouterr().err
