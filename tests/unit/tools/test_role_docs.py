"""tools/role_docs.py: secrets without a default are documented as comments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))

import role_docs


def make_role(tmp_path: Path, defaults: str, spec_options: str, readme_rows: str) -> Path:
    role = tmp_path / "demo"
    (role / "defaults").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "defaults" / "main.yml").write_text(defaults)
    (role / "meta" / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    short_description: demo\n    options:\n" + spec_options
    )
    (role / "README.md").write_text("| Variable | Default | Description |\n|---|---|---|\n" + readme_rows)
    return role


@pytest.fixture(autouse=True)
def fake_ansible_doc(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 0, stdout="demo_port demo_password", stderr="")

    monkeypatch.setattr(subprocess, "run", run)


def test_required_secret_documented_as_comment_passes(tmp_path: Path) -> None:
    role = make_role(
        tmp_path,
        "---\ndemo_port: 1\n# demo_password: (required, no default)\n",
        "      demo_port:\n        type: int\n        default: 1\n"
        "      demo_password:\n        type: str\n        required: true\n",
        "| `demo_port` | `1` | Port. |\n| `demo_password` | none | Secret. |\n",
    )
    assert role_docs.role_problems(role) == []


def test_undocumented_secret_is_reported(tmp_path: Path) -> None:
    role = make_role(
        tmp_path,
        "---\ndemo_port: 1\n",
        "      demo_port:\n        type: int\n        default: 1\n"
        "      demo_password:\n        type: str\n        required: true\n",
        "| `demo_port` | `1` | Port. |\n| `demo_password` | none | Secret. |\n",
    )
    assert role_docs.role_problems(role) == ["demo: demo_password is not in defaults/main.yml"]


def test_comment_does_not_excuse_an_option_with_a_default(tmp_path: Path) -> None:
    role = make_role(
        tmp_path,
        "---\n# demo_port: 1\n",
        "      demo_port:\n        type: int\n        default: 1\n",
        "| `demo_port` | `1` | Port. |\n",
    )
    assert role_docs.role_problems(role) == ["demo: demo_port is not in defaults/main.yml"]
