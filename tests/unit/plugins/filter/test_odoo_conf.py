"""odoo.conf rendering and the worker sizing rule, shared by the odoo and odoo_kubernetes roles."""

from __future__ import annotations

import configparser

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.retailops.odoo_platform.plugins.filter import odoo_conf as plugin

OPTIONS = {
    "workers": 3,
    "db_host": "pgbouncer",
    "addons_path": "/mnt/extra-addons",
    "list_db": False,
    "proxy_mode": True,
    "server_wide_modules": ["base", "web", "session_redis"],
    "db_port": 6432,
}


def test_managed_options_in_the_platforms_order_then_extras_sorted() -> None:
    text = plugin.odoo_conf(
        OPTIONS, extra={"log_level": "warn", "a_switch": True}, comments=["managed", "node n1"]
    )
    assert text == (
        "; managed\n; node n1\n[options]\n"
        "addons_path = /mnt/extra-addons\ndb_host = pgbouncer\ndb_port = 6432\n"
        "list_db = False\nproxy_mode = True\n"
        "workers = 3\nserver_wide_modules = base,web,session_redis\n"
        "a_switch = True\nlog_level = warn\n"
    )


def test_odoo_reads_back_what_was_written() -> None:
    parser = configparser.RawConfigParser()  # Odoo's config reader
    parser.read_string(plugin.odoo_conf(OPTIONS, extra={"limit_memory_hard_gevent": 0}))
    assert parser.get("options", "server_wide_modules") == "base,web,session_redis"
    assert parser.get("options", "list_db") == "False"
    assert parser.get("options", "limit_memory_hard_gevent") == "0"


def test_unknown_managed_options_come_after_the_known_ones() -> None:
    text = plugin.odoo_conf({"zz_new": 1, "workers": 2, "aa_new": 2})
    assert text.splitlines()[1:] == ["workers = 2", "aa_new = 2", "zz_new = 1"]


@pytest.mark.parametrize(
    ("options", "extra", "message"),
    [
        ({"workers": 2}, {"workers": 4}, "which the role manages"),
        ({"workers": None}, {}, "has no value"),
        ({"db_password": "x\nadmin_passwd = y"}, {}, "line break"),
        ({"Bad-Name": 1}, {}, "not an odoo.conf option name"),
        ({"workers": 2}, {"log level": "x"}, "not an odoo.conf option name"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], extra: dict[str, object], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        plugin.odoo_conf(options, extra=extra)


@pytest.mark.parametrize(
    ("cpus", "memory_mb", "reserved_mb", "expected"),
    [
        (2, 4096, 1024, {"by_cpu": 5, "by_memory": 9, "workers": 5}),  # CPU bound (a VM)
        (8, 2048, 1024, {"by_cpu": 17, "by_memory": 3, "workers": 3}),  # memory bound
        (1, 1024, 1024, {"by_cpu": 3, "by_memory": 0, "workers": 2}),  # never below 2
        (0.5, 2048, 256, {"by_cpu": 3, "by_memory": 5, "workers": 3}),  # a 500m pod limit counts as one core
    ],
)
def test_worker_sizing(cpus: float, memory_mb: int, reserved_mb: int, expected: dict[str, int]) -> None:
    assert plugin.odoo_worker_sizing(cpus, memory_mb, 325, reserved_mb) == expected


@pytest.mark.parametrize(("cpus", "memory_mb"), [(0, 2048), ("x", 2048), (2, 0)])
def test_worker_sizing_refuses_nonsense(cpus: object, memory_mb: int) -> None:
    with pytest.raises(AnsibleFilterError):
        plugin.odoo_worker_sizing(cpus, memory_mb, 325, 256)


def test_registered_under_their_names() -> None:
    assert plugin.FilterModule().filters() == {
        "odoo_conf": plugin.odoo_conf,
        "odoo_worker_sizing": plugin.odoo_worker_sizing,
    }
