"""The CLI on bad input files: exit 2 and ``error: <file>: <key>: <reason>`` before any traffic."""

from pathlib import Path

import pytest

from loadtests.cli import main

HERE = Path(__file__).resolve().parent.parent
REPO = HERE.parent
SCENARIO = HERE / "scenarios" / "normal_day.yaml"
GATES = HERE / "gates" / "default.yaml"
REGISTER = REPO / "inventories" / "branch_register" / "eu-west.yml"


def inputs(scenario: Path = SCENARIO, gates: Path = GATES) -> list[str]:
    return ["--scenario", str(scenario), "--register", str(REGISTER), "--gates", str(gates)]


def test_check_accepts_the_shipped_files(capsys):
    assert main(["check", *inputs()]) == 0
    assert "ok: scenario normal_day" in capsys.readouterr().out


def test_bad_gate_file_exits_2_naming_file_key_reason(tmp_path, capsys):
    bad = tmp_path / "gates.yaml"
    bad.write_text(GATES.read_text().replace("p95_ms: 1500", "p95_ms: fast", 1))
    assert main(["check", *inputs(gates=bad)]) == 2
    assert f"error: {bad}: tiers.pos_sync.p95_ms: " in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "run"])
def test_bad_scenario_file_exits_2_before_any_traffic(tmp_path, capsys, command):
    bad = tmp_path / "scenario.yaml"
    bad.write_text(SCENARIO.read_text() + "\nspeed: 3\n")
    # port 9 on loopback: nothing must be sent there, the file is refused first
    run_args = ["--host", "http://127.0.0.1:9", "--out", str(tmp_path / "out")] if command == "run" else []
    assert main([command, *inputs(scenario=bad), *run_args]) == 2
    err = capsys.readouterr().err
    assert f"error: {bad}: speed: unknown key" in err
    assert not (tmp_path / "out").exists()


def drills_file(tmp_path: Path, alerts: str, name: str = "drills.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        f"drills:\n  - {{name: pg, at: 30s, executor: process, action: restart, alerts: {alerts}}}\n"
    )
    return path


def test_check_refuses_an_expected_alert_no_rule_defines(tmp_path, capsys):
    typo = drills_file(tmp_path, "[{name: PostgresNoLeaders}]")
    assert main(["check", *inputs(), "--drills", str(typo)]) == 2
    err = capsys.readouterr().err
    assert (
        f"error: {typo}: drills[0].alerts[0].name: no alert rule named 'PostgresNoLeaders' in the rule files"
        in err
    )
    assert "PostgresNoLeader, " in err  # the known names follow
    good = drills_file(tmp_path, "[{name: PostgresNoLeader}]", "good.yaml")
    assert main(["check", *inputs(), "--drills", str(good)]) == 0
    # the operator's own rules: --alert-rules (a file or a directory) replaces the platform's
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yml").write_text(
        "groups:\n  - name: g\n    rules:\n      - {alert: PostgresNoLeaders, expr: up == 0}\n"
    )
    assert main(["check", *inputs(), "--drills", str(typo), "--alert-rules", str(rules)]) == 0
    assert main(["check", *inputs(), "--drills", str(typo), "--alert-rules", str(tmp_path / "none")]) == 2
    assert "--alert-rules: " in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--alert-sink", "9099", "error: --alert-sink: 9099: expected HOST:PORT"),
        (
            "--alert-sink-token-file",
            "/nonexistent/token",
            "error: --alert-sink-token-file: /nonexistent/token",
        ),
        ("--alert-wait", "a while", "error: --alert-wait: a while: cannot read duration"),
        ("--prometheus", "prometheus:9090", "error: --prometheus: prometheus:9090: "),
        ("--erp-name", "https://erp.pilot.test", "error: --erp-name: https://erp.pilot.test: a DNS name"),
    ],
)
def test_bad_alert_options_exit_2_before_any_traffic(tmp_path, capsys, option, value, reason):
    run_args = ["--host", "http://127.0.0.1:9", "--out", str(tmp_path / "out")]
    extra = ["--alert-sink", "127.0.0.1:9099"] if option == "--alert-sink-token-file" else []
    assert main(["run", *inputs(), *run_args, *extra, option, value]) == 2
    assert reason in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
