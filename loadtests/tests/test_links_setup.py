"""Where --toxiproxy auto finds toxiproxy-server: the checkout's rig, else PATH, else the rig cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loadtests import links_setup
from loadtests.toxiproxy import ToxiproxyError


def _fake_server(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    binary = directory / "toxiproxy-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return binary


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The harness as pip installs it: site-packages, no rig/ beside the package."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(links_setup, "REPO", site)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "rig-cache"))
    return tmp_path


def test_the_checkout_has_the_rig_script() -> None:
    assert (links_setup.REPO / "rig" / "toxiproxy.sh").is_file()


def test_an_installed_harness_takes_the_binary_from_path(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = _fake_server(installed / "bin")
    _fake_server(installed / "rig-cache" / "bin")
    monkeypatch.setenv("PATH", f"{installed / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert links_setup.toxiproxy_binary() == str(binary)


def test_an_installed_harness_falls_back_to_the_rig_cache(installed: Path) -> None:
    binary = _fake_server(installed / "rig-cache" / "bin")
    assert links_setup.toxiproxy_binary() == str(binary)


def test_none_found_names_the_ways_out(installed: Path) -> None:
    with pytest.raises(ToxiproxyError) as err:
        links_setup.toxiproxy_binary()
    message = str(err.value)
    assert str(installed / "rig-cache" / "bin") in message
    assert "rig/toxiproxy.sh" in message
    assert "--toxiproxy <API URL>" in message
