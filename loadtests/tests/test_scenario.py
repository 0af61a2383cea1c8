from pathlib import Path

import pytest

from loadtests.durations import parse_duration
from loadtests.errors import ConfigError
from loadtests.scenario import fill_placeholders, load_drills, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

GOOD = """
name: t
users: 10
spawn_rate: 2
duration: 2m
personas: {pos_cashier: 3, finance: 1}
links: {shares: {fiber: 0.5, lte: 0.5}, flapping_share: 0.5, flap_period: 20s, flap_down: 4s}
drills:
  - {name: pg, at: 30s, executor: process, action: restart, target: pg}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "name",
    [
        "normal_day",
        "promotion_peak",
        "month_end_close",
        "store_opening",
        "pilot_validation",
        "pilot_kubernetes",
    ],
)
def test_shipped_scenarios_parse(name):
    s = load_scenario(SCENARIOS / f"{name}.yaml")
    assert s.name == name
    assert sum(s.persona_weights().values()) > 0


def test_good_scenario(tmp_path):
    s = load_scenario(write(tmp_path, GOOD))
    assert s.duration == 120
    assert s.drills[0].at == 30
    assert s.links.flap_down == 4
    assert s.persona_weights() == {"pos_cashier": 75, "finance": 25}


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (("users: 10", "users: 0"), "users", "greater than or equal to 1"),
        (("duration: 2m", "duration: soon"), "duration", "cannot read duration"),
        (("pos_cashier: 3", "cashier: 3"), "personas", "unknown persona 'cashier'"),
        (("fiber: 0.5, lte", "fiber: 0.4, lte"), "links.shares", "add up to 1.0"),
        (("fiber: 0.5, lte", "fibre: 0.5, lte"), "links.shares", "unknown link class 'fibre'"),
        (("flap_down: 4s", "flap_down: 40s"), "links.flap_down", "shorter than flap_period"),
        (("at: 30s", "at: 5m"), "drills", "[0].at 300s is not inside the run"),
        (("executor: process", "executor: ssh"), "drills[0].executor", "Input should be"),
        (("spawn_rate: 2", "spawn_rate: 2\nspeed: 3"), "speed", "unknown key"),
        (("name: t\n", ""), "name", "required key is missing"),
    ],
)
def test_bad_scenario_names_file_key_reason(tmp_path, change, key, reason):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as exc:
        load_scenario(path)
    text = str(exc.value)
    assert str(path) in text
    assert f": {key}: " in text
    assert reason in text


def test_not_yaml_or_not_mapping(tmp_path):
    with pytest.raises(ConfigError, match=r"s\.yaml: line 2: invalid YAML"):
        load_scenario(write(tmp_path, "name: t\n  users: [\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_scenario(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")


PG = "{name: pg, at: 30s, executor: process, action: restart, target: pg}"


@pytest.mark.parametrize(
    ("alerts", "key", "reason"),
    [
        ("[{name: Postgres No Leader}]", "drills[0].alerts[0].name", "is not an alert name"),
        (
            "[{name: A, labels: {job-name: x}}]",
            "drills[0].alerts[0].labels",
            "'job-name' is not a label name",
        ),
        (
            "[{name: A, each: branch}]",
            "drills[0].alerts",
            "[0].each: the harness knows a drill's targets only",
        ),
        ("[{name: A, link: lte}]", "drills[0].alerts", "[0]: link and values name the targets of `each`"),
        ("[{name: A, each: branch, link: lte, values: [S1]}]", "drills[0].alerts", "give link or values"),
        ("[{name: A, each: branch, link: cable}]", "drills[0].alerts[0].link", "unknown link class 'cable'"),
        ("[{name: A, each: branch, values: []}]", "drills[0].alerts[0].values", "at least one value"),
        ("[{name: A}, {name: A}]", "drills[0].alerts", "alert 'A' is expected twice with the same labels"),
        ("[{name: A, page: true}]", "drills[0].alerts[0].page", "unknown key"),
        ("PostgresNoLeader", "drills[0].alerts", "valid tuple"),
    ],
)
def test_bad_expected_alerts_name_file_key_reason(tmp_path, alerts, key, reason):
    drill = PG.replace("target: pg}", f"target: pg, alerts: {alerts}}}")
    path = write(tmp_path, GOOD.replace(PG, drill))
    with pytest.raises(ConfigError) as exc:
        load_scenario(path)
    text = str(exc.value)
    assert f"{path}: {key}: " in text
    assert reason in text


def test_expected_alerts_and_fault_times(tmp_path):
    drill = PG.replace(
        "target: pg}",
        "target: pg, summary: the database dies, alerts: [{name: PostgresNoLeader}, "
        "{name: RedisInstanceDown, labels: {job: redis}}, "
        "{name: BranchTunnelDown, each: branch, link: lte}], "
        "fault: {file: out/pg.json, start: killed_at, end: first_write_at}}",
    )
    d = load_scenario(write(tmp_path, GOOD.replace(PG, drill))).drills[0]
    assert d.summary == "the database dies"
    assert [a.describe() for a in d.alerts or ()] == [
        "PostgresNoLeader",
        "RedisInstanceDown {job=redis}",
        "BranchTunnelDown each branch",
    ]
    assert d.fault is not None
    assert d.fault.start == "killed_at"
    # unset: the scenario does not say (a coverage gate fails); []: planned, no alert expected
    assert load_scenario(write(tmp_path, GOOD)).drills[0].alerts is None
    planned = load_scenario(write(tmp_path, GOOD.replace(PG, PG.replace("}", ", alerts: []}"))))
    assert planned.drills[0].alerts == ()


def test_placeholders_fill_fault_files_and_expected_alerts(tmp_path):
    drill = PG.replace(
        "target: pg}",
        'target: pg, fault: {file: "${OUT}/pg.json", start: a, end: b}, '
        'alerts: [{name: ScrapeTargetDown, labels: {instance: "${NODE}"}}]}',
    )
    s = load_scenario(write(tmp_path, GOOD.replace(PG, drill)))
    [d] = fill_placeholders(s.drills, {"OUT": "/r", "NODE": "node-2"}, "s.yaml")
    assert d.fault is not None
    assert d.fault.file == "/r/pg.json"
    assert d.alerts is not None
    assert d.alerts[0].labels == {"instance": "node-2"}
    with pytest.raises(ConfigError) as exc:
        fill_placeholders(s.drills, {}, "s.yaml")
    assert "s.yaml: drills[0].fault.file: placeholder ${OUT} has no value" in str(exc.value)
    assert "s.yaml: drills[0].alerts[0].labels.instance: placeholder ${NODE} has no value" in str(exc.value)


def test_drill_file(tmp_path):
    p = write(
        tmp_path, "drills:\n  - {name: a, at: 10, executor: docker, action: restart, target: pg}\n", "d.yaml"
    )
    assert load_drills(p)[0].target == "pg"
    bad = write(tmp_path, "drills:\n  - {name: a, at: 10, executor: docker}\n", "e.yaml")
    with pytest.raises(ConfigError, match=r"e\.yaml: drills\[0\]\.action: required"):
        load_drills(bad)


def test_a_drills_offline_links_are_link_classes(tmp_path):
    ok = write(
        tmp_path,
        "drills:\n  - {name: a, at: 10, executor: ansible, action: cut, offline_links: [lte, broadband]}\n",
        "d.yaml",
    )
    assert load_drills(ok)[0].offline_links == ("lte", "broadband")
    bad = write(
        tmp_path,
        "drills:\n  - {name: a, at: 10, executor: ansible, action: cut, offline_links: [lte, 5g]}\n",
        "e.yaml",
    )
    with pytest.raises(ConfigError, match=r"e\.yaml: drills\[0\]\.offline_links: .*unknown link class '5g'"):
        load_drills(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        (90, 90),
        ("90s", 90),
        ("2m", 120),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("2d", 172800),  # as Prometheus writes a rule's for or detection_window
        ("1w", 604800),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", -1, True, None])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
