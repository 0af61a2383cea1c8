"""The rig reads the Debian mirror from this machine's own apt sources."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[3] / "rig" / "lib.sh"


def mirror(apt_etc: Path, suite: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = f'source "{LIB}"; rig_debian_mirror "$1"'
    return subprocess.run(
        ["bash", "-c", script, "mirror", suite],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(apt_etc), "RIG_APT_ETC": str(apt_etc), **env},
    )


@pytest.fixture
def apt_etc(tmp_path: Path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_deb822_sources_pick_the_stanza_of_the_suite(apt_etc: Path) -> None:
    (apt_etc / "sources.list.d" / "a.sources").write_text(
        "Types: deb\nURIs: http://mirror.test/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\n"
        "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert mirror(apt_etc, "bookworm").stdout.strip() == "http://mirror.test/debian"
    assert mirror(apt_etc, "bookworm-security").stdout.strip() == "http://mirror.test/debian-security"


def test_stanzas_do_not_leak_across_files(apt_etc: Path) -> None:
    (apt_etc / "sources.list.d" / "a.sources").write_text("URIs: http://first.test/x\nSuites: trixie")
    (apt_etc / "sources.list.d" / "b.sources").write_text(
        "Suites: bookworm\nURIs: http://second.test/debian\n"
    )
    assert mirror(apt_etc, "bookworm").stdout.strip() == "http://second.test/debian"


def test_one_line_format_is_the_fallback(apt_etc: Path) -> None:
    (apt_etc / "sources.list").write_text(
        "# comment\ndeb http://old.test/debian-security bookworm-security main\n"
        "deb [arch=amd64] http://old.test/debian bookworm main\n"
    )
    assert mirror(apt_etc, "bookworm").stdout.strip() == "http://old.test/debian"


def test_operator_override_wins(apt_etc: Path) -> None:
    result = mirror(apt_etc, "bookworm", RIG_DEBIAN_MIRROR="http://override.test/debian/")
    assert result.stdout.strip() == "http://override.test/debian"


def test_no_mirror_is_a_clear_error(apt_etc: Path) -> None:
    result = mirror(apt_etc, "bookworm")
    assert result.returncode != 0
    assert "no Debian mirror for bookworm" in result.stderr
    assert "RIG_DEBIAN_MIRROR" in result.stderr
