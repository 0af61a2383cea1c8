"""The double refuses a bad odoo.conf and names the option (acceptance)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rig.odoo_double.config import ConfigError, load_config
from tests.fixtures.double import REPO

pytestmark = pytest.mark.double_only


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("workers = x", "odoo.conf: option 'workers' must be an integer, got 'x'"),
        ("list_db = maybe", "odoo.conf: option 'list_db' must be a boolean (True/False), got 'maybe'"),
        ("http_port = 70000", "odoo.conf: option 'http_port' must be a TCP port between 1 and 65535"),
        ("limit_time_real = 0", "odoo.conf: option 'limit_time_real' must be positive"),
        ("dbfilter = ^(unclosed", "odoo.conf: option 'dbfilter' must be a regular expression"),
        ("double_drop_acked_orders = 2", "odoo.conf: option 'double_drop_acked_orders' must be a fraction"),
    ],
)
def test_server_refuses_bad_option(tmp_path: Path, line: str, message: str):
    conf = tmp_path / "odoo.conf"
    conf.write_text(f"[options]\ndb_name = retail\n{line}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "rig.odoo_double", "-c", str(conf)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert message in proc.stderr


def test_missing_section_and_file(tmp_path: Path):
    conf = tmp_path / "odoo.conf"
    conf.write_text("db_name = retail\n")
    with pytest.raises(ConfigError, match=r"odoo.conf: not an INI file|no \[options\] section"):
        load_config(conf)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.conf")


def test_odoo_values_and_image_environment(tmp_path: Path):
    conf = tmp_path / "odoo.conf"
    conf.write_text(
        "[options]\ndb_host = False\nlist_db = False\nproxy_mode = True\nworkers = 3\n"
        "addons_path = /mnt/extra-addons\nsome_unknown_option = kept\n"
    )
    cfg = load_config(
        conf, environ={"HOST": "pg.example", "PORT": "5433", "USER": "u", "PASSWORD": "p"}, image_env=True
    )
    # db_host is in the file (False = unset), so HOST does not override it, as in the image's entrypoint.
    assert cfg.db_host is None
    assert cfg.db_port == 5433
    assert cfg.db_user == "u"
    assert cfg.db_password == "p"
    assert (cfg.list_db, cfg.proxy_mode, cfg.workers) == (False, True, 3)
    assert cfg.extra == {"some_unknown_option": "kept"}
    assert load_config(conf, environ={"USER": "root"}).db_user is None, "env only with image_env"
    with pytest.raises(ConfigError, match="option 'workers' must be an integer, got 'two'"):
        load_config(conf, overrides={"workers": "two"})
