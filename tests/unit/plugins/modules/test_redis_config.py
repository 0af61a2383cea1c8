"""redis_config against a real redis-server on loopback: CONFIG GET, CONFIG SET, CONFIG REWRITE, ACL LOAD."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.retailops.odoo_platform.plugins.modules import redis_config

from loadtests.links_setup import free_port
from tests.fixtures.ansible_module import ModuleResult, run_module
from tests.fixtures.plugin import RedisFactory
from tests.fixtures.services import RedisServer


def run(server: RedisServer | int, check_mode: bool = False, diff: bool = False, **args: Any) -> ModuleResult:
    port = server if isinstance(server, int) else server.port
    return run_module(redis_config.main, {"login_port": port, **args}, check_mode=check_mode, diff=diff)


def config_get(server: RedisServer, name: str, password: str | None = None) -> str:
    return str(server.client(password).config_get(name)[name])


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the module logs on the managed host (syslog or the journal): its invocation."""
    lines: list[str] = []

    def log(self: AnsibleModule, msg: str, log_args: dict[str, Any] | None = None) -> None:
        lines.append(msg)

    monkeypatch.setattr(AnsibleModule, "log", log)
    return lines


def test_sets_what_differs_persists_it_and_then_changes_nothing(redis_factory: RedisFactory) -> None:
    server = redis_factory()
    settings = {"maxmemory": 1048576, "maxmemory-policy": "allkeys-lru", "appendonly": False, "timeout": 0}

    first = run(server, settings=settings)

    assert not first.failed, first.msg
    assert first.changed
    assert first["changed_settings"] == ["maxmemory", "maxmemory-policy"]  # appendonly and timeout agreed
    assert first["rewritten"] is True
    assert config_get(server, "maxmemory") == "1048576"
    assert config_get(server, "maxmemory-policy") == "allkeys-lru"
    persisted = server.config_file.read_text()
    assert "maxmemory 1mb" in persisted.splitlines()
    assert "maxmemory-policy allkeys-lru" in persisted.splitlines()

    second = run(server, settings=settings)

    assert not second.failed, second.msg
    assert not second.changed
    assert second["changed_settings"] == []
    assert second["rewritten"] is False
    assert server.config_file.read_text() == persisted


def test_check_mode_reports_the_change_and_sets_nothing(redis_factory: RedisFactory) -> None:
    server = redis_factory()
    before = server.config_file.read_text()

    result = run(server, check_mode=True, settings={"maxmemory": 1048576, "maxmemory-policy": "noeviction"})

    assert not result.failed, result.msg
    assert result.changed
    assert result["changed_settings"] == ["maxmemory"]
    assert result["rewritten"] is False
    assert config_get(server, "maxmemory") == "0"
    assert server.config_file.read_text() == before


def test_values_are_compared_as_config_get_reports_them(redis_factory: RedisFactory) -> None:
    """Booleans as yes/no, numbers as strings, lists with single spaces: a second run is unchanged."""
    server = redis_factory()
    settings = {"save": "3600 1  300 100", "lazyfree-lazy-eviction": True, "hz": 20}

    first = run(server, settings=settings)
    second = run(server, settings=settings)

    assert first.changed
    assert first["changed_settings"] == ["hz", "lazyfree-lazy-eviction", "save"]
    assert config_get(server, "save") == "3600 1 300 100"
    assert config_get(server, "lazyfree-lazy-eviction") == "yes"
    assert config_get(server, "hz") == "20"
    assert not second.changed, second["changed_settings"]


def test_rewrite_false_sets_at_runtime_only(redis_factory: RedisFactory) -> None:
    server = redis_factory()
    before = server.config_file.read_text()

    result = run(server, settings={"maxmemory": 2097152}, rewrite=False)

    assert result.changed
    assert result["rewritten"] is False
    assert config_get(server, "maxmemory") == "2097152"
    assert server.config_file.read_text() == before


def test_unknown_setting_is_refused_by_name(redis_factory: RedisFactory) -> None:
    server = redis_factory()

    result = run(server, settings={"maxmemory": 1048576, "maxmemroy": 1048576})

    assert result.failed
    assert result.msg == "settings: Redis does not know the setting 'maxmemroy'"
    assert not result.changed
    assert config_get(server, "maxmemory") == "0"


def test_a_refused_value_changes_nothing_and_says_so(redis_factory: RedisFactory) -> None:
    """Redis applies one CONFIG SET entirely or not at all: a refusal is no change."""
    server = redis_factory()

    result = run(server, settings={"maxmemory": 1048576, "maxmemory-policy": "keep-everything"})

    assert result.failed
    assert result.msg.startswith(f"Redis at 127.0.0.1:{server.port}: CONFIG SET failed")
    assert "maxmemory-policy" in result.msg
    assert not result.changed
    assert result["rewritten"] is False
    assert config_get(server, "maxmemory") == "0"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"settings": "maxmemory"}, "argument 'settings' is of type str"),
        ({"login_port": "six thousand"}, "argument 'login_port' is of type str"),
        ({"connect_timeout": "soon"}, "argument 'connect_timeout' is of type str"),
        ({"rewrite": "perhaps"}, "argument 'rewrite' is of type str"),
        ({"secret_settings": {"requirepass": 1}}, "argument 'secret_settings' is of type dict"),
        ({"maxmemory": 1}, "Unsupported parameters for (redis_config) module: maxmemory"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(args: dict[str, Any], named: str) -> None:
    # Nothing listens on the port: the arguments are refused before any connection.
    result = run(free_port(), **args)

    assert result.failed
    assert named in result.msg


@pytest.mark.parametrize("settings", [{}, {"maxmemory": 1048576}])
def test_unreachable_server_fails_with_its_address(settings: dict[str, Any]) -> None:
    """Also with nothing to set: a run that cannot reach the server is not a success."""
    port = free_port()

    result = run(port, settings=settings)

    assert result.failed
    assert result.msg.startswith(f"Redis at 127.0.0.1:{port}: ")
    assert "Connection refused" in result.msg
    assert not result.changed


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_a_silent_server_fails_within_connect_timeout(silent_port: int) -> None:
    """One attempt: redis-py's default retries (3, with backoff) would multiply the timeout."""
    started = time.monotonic()

    result = run(silent_port, connect_timeout=0.4, settings={"maxmemory": 1048576})

    elapsed = time.monotonic() - started
    assert result.failed
    assert result.msg.startswith(f"Redis at 127.0.0.1:{silent_port}: Timeout")
    assert elapsed < 1.6, f"took {elapsed:.1f}s for a 0.4s connect_timeout"


def test_wrong_login_fails_and_no_password_is_returned(redis_factory: RedisFactory) -> None:
    server = redis_factory("requirepass right-horse-battery")

    result = run(server, login_password="wrong-staple", settings={"maxmemory": 1048576})

    assert result.failed
    assert "invalid username-password pair" in result.msg
    assert "wrong-staple" not in result.text
    assert "right-horse-battery" not in result.text
    assert config_get(server, "maxmemory", password="right-horse-battery") == "0"


@pytest.mark.parametrize("diff", [False, True])
def test_secret_settings_are_never_returned_nor_logged(
    redis_factory: RedisFactory, logged: list[str], diff: bool
) -> None:
    """Not in the result (diff mode included) nor in the invocation logged on the host."""
    server = redis_factory("requirepass old-secret")
    settings = {"requirepass": "new-secret", "masterauth": "primary-pass", "maxmemory": 1048576}

    result = run(server, diff=diff, login_password="old-secret", settings=settings)

    assert not result.failed, result.msg
    assert result["changed_settings"] == ["masterauth", "maxmemory", "requirepass"]
    assert "diff" not in result.data
    assert server.client(password="new-secret").ping()
    assert config_get(server, "masterauth", password="new-secret") == "primary-pass"
    secrets = ("old-secret", "new-secret", "primary-pass")
    assert [s for s in secrets if s in result.text] == []
    assert any("'maxmemory': 1048576" in line for line in logged), f"the invocation was logged: {logged}"
    assert [line for line in logged if any(s in line for s in secrets)] == []


def test_a_secret_setting_is_set_exactly_as_given(redis_factory: RedisFactory) -> None:
    """A password's spaces are part of it: it is not normalised like a list value."""
    server = redis_factory()
    password = " two  spaces "
    settings = {"requirepass": password}

    result = run(server, settings=settings)

    assert not result.failed, result.msg
    assert server.client(password=password).ping()
    assert " two " not in result.text
    assert "two spaces" not in result.text
    again = run(server, login_password=password, settings=settings)
    assert not again.failed, again.msg
    assert not again.changed, again["changed_settings"]


def test_acl_load_reloads_the_acl_file(redis_factory: RedisFactory, tmp_path: Any) -> None:
    acl = tmp_path / "users.acl"
    acl.write_text("user default on nopass ~* &* +@all\n")
    server = redis_factory(f'aclfile "{acl}"')
    acl.write_text("user default on nopass ~* &* +@all\nuser odoo on >app-pass ~* &* +@all -@dangerous\n")

    checked = run(server, check_mode=True, acl_load=True)

    assert checked.changed
    assert "odoo" not in server.client().acl_users()

    loaded = run(server, acl_load=True)

    assert not loaded.failed, loaded.msg
    assert loaded.changed
    assert "odoo" in server.client().acl_users()
    assert server.client(username="odoo", password="app-pass").ping()


def test_acl_load_without_an_acl_file_fails_as_no_change(redis_factory: RedisFactory) -> None:
    server = redis_factory()

    result = run(server, acl_load=True)

    assert result.failed
    assert "not configured to use an ACL file" in result.msg
    assert not result.changed


def test_runs_as_a_task_and_ansible_shows_no_secret(
    redis_factory: RedisFactory, collections_path: Path, tmp_path: Path
) -> None:
    """Through ansible-playbook (AnsiballZ, the collection's module_utils), verbose, without task no_log."""
    server = redis_factory("requirepass admin-secret")
    task = {
        "login_port": server.port,
        "login_password": "admin-secret",
        "settings": {"maxmemory": 3145728, "masterauth": "primary-pass"},
    }
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {"name": "Apply", "retailops.odoo_platform.redis_config": task, "register": "applied"},
            {
                "name": "Check",
                "ansible.builtin.assert": {
                    "that": ["applied is changed", "applied.changed_settings == ['masterauth', 'maxmemory']"]
                },
            },
        ],
    }
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_NOCOLOR": "1"}

    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-vvv",
            str(playbook),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert config_get(server, "maxmemory", password="admin-secret") == "3145728"
    assert "changed_settings" in output, "-vvv shows the module's result"
    assert [s for s in ("admin-secret", "primary-pass") if s in output] == []
