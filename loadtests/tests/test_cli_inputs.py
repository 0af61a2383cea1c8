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
