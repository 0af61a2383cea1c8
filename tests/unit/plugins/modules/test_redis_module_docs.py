"""The Redis modules' documentation (with the redis_connection fragment) agrees with what they accept."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
import yaml
from ansible_collections.retailops.odoo_platform.plugins.doc_fragments.redis_connection import (
    ModuleDocFragment,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils import redis_client
from ansible_collections.retailops.odoo_platform.plugins.modules import (
    redis_config,
    redis_sentinel_info,
    redis_sentinel_monitor,
)

from loadtests.links_setup import free_port
from tests.fixtures.ansible_module import run_module

MODULES = {
    redis_config: 6379,
    redis_sentinel_info: 26379,
    redis_sentinel_monitor: 26379,
}


def documented_options(module: ModuleType) -> dict[str, Any]:
    """The module's options as ansible-doc shows them: the fragment's, then the module's own on top."""
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    own = yaml.safe_load(module.DOCUMENTATION)
    assert "retailops.odoo_platform.redis_connection" in own["extends_documentation_fragment"]
    options = {name: dict(spec) for name, spec in fragment.items()}
    for name, spec in own["options"].items():
        options.setdefault(name, {}).update(spec)
    return options


def test_the_fragment_documents_the_connection_options() -> None:
    spec = redis_client.connection_argument_spec(6379)
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(fragment) == set(spec)
    for name, option in fragment.items():
        assert option["type"] == spec[name]["type"], name
        if name != "login_port":  # each module sets its own default port
            assert option.get("default") == spec[name].get("default"), name


@pytest.mark.parametrize(("module", "port"), MODULES.items(), ids=lambda m: getattr(m, "__name__", str(m)))
def test_each_module_documents_its_default_port(module: ModuleType, port: int) -> None:
    assert documented_options(module)["login_port"]["default"] == port


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_a_host_without_redis_py_gets_the_package_to_install(
    module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_client, "HAS_REDIS", False)

    args: dict[str, Any] = {"login_port": free_port()}
    if module is not redis_config:
        args["name"] = "odoo"

    result = run_module(module.main, args)

    assert result.failed
    assert "Failed to import the required Python library (redis (python3-redis))" in result.msg
