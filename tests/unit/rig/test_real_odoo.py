"""The real-Odoo lane's pieces that need no Odoo: tree checks, fingerprints, settings, summary, steps."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from rig.real_odoo import database, lane, server, summary, tree


def _tree(root: Path, version: str = "(18, 0, 0, FINAL, 0, '')", official: bool = False) -> Path:
    (root / "odoo").mkdir(parents=True)
    (root / "odoo-bin").write_text("#!/usr/bin/env python3\n")
    (root / "odoo" / "release.py").write_text(f"FINAL = 'final'\nversion_info = {version}\n")
    addons = root / ("addons" if official else "odoo/addons")
    for module in ("base", *lane.DEFAULT_MODULES.split(",")):
        (addons / module).mkdir(parents=True)
        (addons / module / "__manifest__.py").write_text("{}\n")
    if official:
        (root / "odoo" / "addons" / "base").mkdir(parents=True)
        (root / "odoo" / "addons" / "base" / "__manifest__.py").write_text("{}\n")
    return root


def test_tree_layouts(tmp_path: Path):
    single = tree.check_tree(str(_tree(tmp_path / "a")))
    assert single.addons_path == [tmp_path / "a" / "odoo" / "addons"]
    assert single.version_info[:2] == (18, 0)
    official = tree.check_tree(str(_tree(tmp_path / "b", official=True)))
    assert official.addons_path == [tmp_path / "b" / "addons", tmp_path / "b" / "odoo" / "addons"]
    assert tree.missing_modules(official, ["point_of_sale", "mrp"]) == ["mrp"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such directory"),
        (lambda p: (p.mkdir(), p)[1], "no odoo-bin"),
        (lambda p: (p.mkdir(), (p / "odoo-bin").touch(), p)[2], "no odoo/release.py"),
        (lambda p: _tree(p, "(17, 0, 0, FINAL, 0, '')"), "says version 17.0, the lane needs Odoo 18.0"),
    ],
)
def test_not_an_odoo_18_tree_names_the_variable(tmp_path: Path, make, message: str):
    path = make(tmp_path / "src")
    with pytest.raises(tree.TreeError, match=message) as err:
        tree.check_tree(str(path))
    assert str(err.value).startswith(f"ODOO_SRC={path}")


def test_fingerprint_follows_content_and_is_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = _tree(tmp_path / "src")
    (root / "odoo" / "addons" / "base" / "static").mkdir()
    (root / "odoo" / "addons" / "base" / "static" / "app.js").write_text("1")
    cache = tmp_path / "fp.json"
    odoo = tree.check_tree(str(root))
    first = tree.fingerprint(odoo, cache)
    monkeypatch.setattr(tree, "content_digest", lambda *_: pytest.fail("read again despite the same stat"))
    assert tree.fingerprint(odoo, cache) == first
    monkeypatch.undo()
    (root / "odoo" / "addons" / "base" / "static" / "app.js").write_text("2")  # web assets do not count
    assert tree.fingerprint(odoo, cache) == first
    (root / "odoo" / "addons" / "base" / "__manifest__.py").write_text("{'x': 1}\n")
    assert tree.fingerprint(odoo, cache) != first


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"ODOO_SRC": str(_tree(tmp_path / "src")), "RIG_CACHE": str(tmp_path / "cache"), **extra}


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"ODOO_IMAGE": "odoo:18.0"}, "ODOO_SRC="),
        ({"LANE_DURATION": "soon"}, "LANE_DURATION=soon"),
        ({"LANE_USERS": "-3"}, "LANE_USERS=-3"),
        ({"LANE_HARNESS": "maybe"}, "LANE_HARNESS=maybe"),
        ({"LANE_MODULES": "point_of_sale,mrp"}, "LANE_MODULES: mrp"),
        ({"LANE_MODULES": " , "}, "LANE_MODULES is empty"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path: Path, extra: dict[str, str], variable: str):
    with pytest.raises(server.InputError, match=variable):
        lane.Settings.from_env(_env(tmp_path, **extra))


def test_settings_defaults(tmp_path: Path):
    settings = lane.Settings.from_env(_env(tmp_path))
    assert settings.modules == ["point_of_sale", "stock", "account", "purchase", "sale_management"]
    assert (settings.duration, settings.harness, settings.update_captures) == ("5m", True, False)
    assert settings.cache == tmp_path / "cache" / "real-odoo-lane"
    with pytest.raises(server.InputError, match="neither ODOO_SRC nor ODOO_IMAGE"):
        lane.Settings.from_env({"RIG_CACHE": str(tmp_path)})


def test_template_name_is_stable_per_tree_and_module_set():
    name = database.template_name("02a91bf733129c0e", ["stock", "account"])
    assert name == database.template_name("02a91bf733129c0e", ["account", "stock"])
    assert name != database.template_name("02a91bf733129c0e", ["stock"])
    assert name.startswith("lane_02a91bf73312_")


def test_conf_is_private_and_the_master_password_hashed_like_odoo(tmp_path: Path):
    conf = tmp_path / "odoo.conf"
    password = server.master_password(tmp_path / "master_password")
    server.write_conf(conf, {"admin_passwd": server.odoo_passwd_hash(password), "db_name": "retail"})
    assert conf.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "master_password").stat().st_mode & 0o777 == 0o600
    text = conf.read_text()
    assert text.startswith("[options]\n")
    assert "admin_passwd = $pbkdf2-sha512$600000$" in text
    assert password not in text


def test_run_step_stops_the_whole_group_on_timeout(tmp_path: Path):
    pidfile = tmp_path / "child.pid"
    argv = ["bash", "-c", f"sleep 300 & echo $! > {pidfile}; wait"]
    with pytest.raises(subprocess.TimeoutExpired):
        server.run_step(argv, tmp_path / "step.log", dict(os.environ), timeout=1, cwd=tmp_path)
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists():
        state = Path(f"/proc/{child}/stat").read_text().split()[2] if Path(f"/proc/{child}").exists() else "X"
        if state == "Z":
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


def test_summary_from_junit_and_locust_failures(tmp_path: Path):
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.contract.test_contract_pos" name="test_a"/>'
        '<testcase classname="tests.contract.test_contract_pos" name="test_b"><failure/></testcase>'
        '<testcase classname="tests.contract.test_double_config" name="test_c"><skipped/></testcase>'
        "</testsuite></testsuites>"
    )
    contract = summary.contract_results(junit)
    assert (contract["passed"], contract["failed"], contract["skipped"]) == (1, 1, 1)
    assert contract["failures"] == ["tests/contract/test_contract_pos.py::test_b"]
    failures = tmp_path / "locust_failures.csv"
    failures.write_text(
        "Method,Name,Error,Occurrences\n"
        "POST,pos.order.sync_from_ui,failed: UserError a,3\n"
        "POST,pos.order.sync_from_ui,failed: UserError b,9\n"
        "POST,stock.picking.create,failed: ValidationError,1\n"
    )
    top = summary.top_errors(failures)
    assert list(top) == ["pos.order.sync_from_ui", "stock.picking.create"]
    assert [e["count"] for e in top["pos.order.sync_from_ui"]] == [9, 3]
    assert summary.harness_results(tmp_path, 4)["verdict"].startswith("NO RESULT")


def test_one_lane_at_a_time_per_cache(tmp_path: Path):
    held = lane.lock_cache(tmp_path / "cache")
    with pytest.raises(server.LaneError, match=rf"another real-Odoo lane runs on .* \(pid {os.getpid()}\)"):
        lane.lock_cache(tmp_path / "cache")
    held.close()
    lane.lock_cache(tmp_path / "cache").close()  # free again once the holder is gone
