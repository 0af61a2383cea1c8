"""The suites on pytest-xdist workers (tests/fixtures/workers.py): a file's tests share a worker, the
contract suite is one unit in its order, the files holding a slow test start first.

Runs pytest -n 2 on a small tree of its own, whose conftest uses the hooks as the suites' do."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from conftest import ROOT

CONFTEST = f"""
import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("workers", {str(ROOT / "tests" / "fixtures" / "workers.py")!r})
workers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(workers)
pytest_collection_modifyitems = workers.pytest_collection_modifyitems
pytest_xdist_make_scheduler = workers.pytest_xdist_make_scheduler


@pytest.fixture(autouse=True)
def record(request, worker_id):
    with (Path(__file__).parent / "ran.txt").open("a") as ran:
        ran.write(f"{{worker_id}} {{request.node.nodeid}}\\n")
"""
FILES = {
    "tests/contract/test_a.py": 3,
    "tests/contract/test_b.py": 3,
    "tests/unit/test_one.py": 4,
    "tests/unit/test_two.py": 4,
    "tests/unit/test_three.py": 4,
    "tests/unit/test_slow.py": 2,
    "tests/unit/test_slow_too.py": 2,
    "loadtests/tests/test_acceptance.py": 2,  # WALL_CLOCK, collected last (testpaths)
}


def test_files_stay_together_the_contract_suite_is_one_unit_wall_clock_then_slow_files_start_first(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        # as the project's: the scheduler and the workers' order need both
        'addopts = "--dist loadfile --no-loadscope-reorder"\n'
        'testpaths = ["tests/unit", "tests/contract", "loadtests/tests"]\n'
        'markers = ["slow: slow"]\n'
    )
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name, count in FILES.items():
        mark = (
            "import pytest\npytestmark = pytest.mark.slow\n" if "slow" in name or "acceptance" in name else ""
        )
        tests = "".join(f"def test_{i}():\n    pass\n\n" for i in range(count))
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(mark + tests)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ran = [line.split(" ", 1) for line in (tmp_path / "ran.txt").read_text().splitlines()]
    assert len(ran) == sum(FILES.values())
    by_file: dict[str, set[str]] = defaultdict(set)
    for worker, nodeid in ran:
        by_file[nodeid.split("::")[0]].add(worker)
    assert all(len(workers) == 1 for workers in by_file.values()), by_file
    contract = [(worker, nodeid) for worker, nodeid in ran if nodeid.startswith("tests/contract/")]
    assert len({worker for worker, _nodeid in contract}) == 1
    assert [nodeid for _worker, nodeid in contract] == sorted(nodeid for _worker, nodeid in contract)
    first: dict[str, str] = {}
    for worker, nodeid in ran:
        first.setdefault(worker, nodeid)
    # the wall-clock-bound unit first, the other slow one first on the other worker
    assert set(first.values()) == {
        "loadtests/tests/test_acceptance.py::test_0",
        "tests/unit/test_slow.py::test_0",
    }
