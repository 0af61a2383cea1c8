"""The collection tarball ships what users run and nothing they must not have (galaxy.yml build_ignore).

Builds it with ansible-galaxy into a temporary directory and reads its member list.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What a user of the installed collection runs or copies; every tracked file under these ships.
SHIPPED = [
    "README.md",
    "meta",
    "roles",
    "playbooks",
    "plugins",
    "changelogs/changelog.yaml",
    "inventories/example-region",
    "inventories/branch_register/eu-west.yml",
]
TOP_LEVEL = {
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "meta",
    "roles",
    "playbooks",
    "plugins",
    "changelogs",
    "inventories",
}


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("galaxy-build")
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run(
        [str(galaxy), "collection", "build", "--output-path", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (tarball,) = out.glob("retailops-odoo_platform-*.tar.gz")
    with tarfile.open(tarball) as tar:
        return {m.name.removeprefix("./") for m in tar.getmembers()}


def test_no_rig_no_double_no_tests_no_tooling(members: set[str]) -> None:
    for forbidden in ("rig", "tests", "molecule", "tools", "loadtests", "requirements", ".ci", ".config"):
        assert not [m for m in members if m == forbidden or m.startswith(forbidden + "/")], forbidden
    assert not [m for m in members if "odoo_double" in m]
    assert not [m for m in members if m in {"Makefile", "pyproject.toml", ".yamllint", ".gitignore"}]


def test_no_vault_password_file(members: set[str]) -> None:
    assert not [m for m in members if m.endswith(".vault-pass")]


def test_no_local_pilot_region(members: set[str]) -> None:
    assert not [m for m in members if "pilot-local" in m or "pilot-kubernetes" in m]


def test_nothing_outside_the_product(members: set[str]) -> None:
    assert {m.split("/", 1)[0] for m in members} <= TOP_LEVEL


def test_every_product_file_ships(members: set[str]) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--", *SHIPPED], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    assert [p for p in tracked if p.startswith(("roles/", "playbooks/", "plugins/"))]
    assert "playbooks/validate_pilot.yml" in tracked
    assert sorted(set(tracked) - members) == []
