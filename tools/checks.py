"""Run the project's checks in order and print one pytest-style summary line.

    python tools/checks.py lint unit molecule docker_host postgresql_ha ...

Each check runs as a subprocess with its output in results/logs/<check>.log;
the console shows one line per check. Pytest suites count each test case
(from their JUnit XML), every other check counts as one test. The exit code
is non-zero when anything failed.

The unit suite runs on pytest-xdist workers, one per CPU (RETAILOPS_UNIT_WORKERS
sets how many; 1 runs it in one process).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
LOGS = RESULTS / "logs"
SANITY_COPY = ROOT / ".cache" / "sanity" / "ansible_collections" / "retailops" / "odoo_platform"
PY_PATHS = ["plugins", "loadtests", "rig", "tests", "tools"]


@dataclass
class Check:
    name: str
    argv: list[str]
    junit: Path | None = None
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    parallel: bool = False  # may run beside other parallel checks


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    # (check, lines) repeated at the very end: CI may show only the output's end.
    excerpts: list[tuple[str, list[str]]] = field(default_factory=list)
    # check -> its first failure in one line (headline), printed last of all.
    headlines: dict[str, str] = field(default_factory=dict)


def venv_bin(tool: str) -> str:
    return str(Path(sys.executable).parent / tool)


def python_paths() -> list[str]:
    return [p for p in PY_PATHS if (ROOT / p).exists() and any((ROOT / p).rglob("*.py"))]


def prepare_sanity_copy() -> None:
    """ansible-test needs the collection at ansible_collections/<ns>/<name>.

    It runs on a copy of the files git would ship (tracked and new, not
    ignored), so the check sees exactly what a commit would contain.
    """
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    if SANITY_COPY.exists():
        shutil.rmtree(SANITY_COPY)
    for rel in filter(None, listed):
        src = ROOT / rel
        if not src.is_file():
            continue
        dst = SANITY_COPY / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    # A repository of its own, so ansible-test lists these files and not the
    # enclosing checkout's (which ignores .cache/).
    subprocess.run(["git", "init", "-q"], cwd=SANITY_COPY, check=True)
    subprocess.run(["git", "add", "-A"], cwd=SANITY_COPY, check=True)


def prepare_sanity_bootstrap() -> None:
    """Put the offline pip bootstrap where ansible-test looks for get-pip.py.

    ansible-test sanity runs each test in a venv of its own and bootstraps pip
    there with a script it downloads from a host this workplace cannot reach.
    """
    from ansible_test._internal.python_requirements import get_venv_packages  # noqa: PLC0415

    pip_version = get_venv_packages(SimpleNamespace(version="3.11"))["pip"]
    cache = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{pip_version.replace('.', '_')}.py"
    cache.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "tools" / "sanity" / "get_pip.py", cache)


def lint_checks() -> list[Check]:
    py = python_paths()
    checks = [
        Check("yamllint", [venv_bin("yamllint"), "--strict", "."]),
        # ansible-lint copies the collection it lints into $ANSIBLE_HOME/collections
        # (~/.ansible by default) and keeps the first copy it finds there: give
        # each checkout its own, so parallel checkouts never lint each other's.
        Check(
            "ansible-lint",
            [venv_bin("ansible-lint"), "--profile", "production"],
            env={"ANSIBLE_HOME": str(ROOT / ".cache" / "ansible-home")},
        ),
        Check("changelog-lint", [venv_bin("antsibull-changelog"), "lint"]),
        Check("collection-build", ["make", "--no-print-directory", "build"]),
        Check("role-docs", [sys.executable, str(ROOT / "tools" / "role_docs.py")]),
        files_check("shellcheck", "shellcheck -x", "shellcheck", "'*.sh' 'rig/images/*/rig-*'"),
        # Prometheus rules (Debian's prometheus package, rig/host-packages.sh); no
        # file at all fails: the rules or their tests went missing.
        files_check(
            "promtool-check-rules",
            "promtool check rules",
            "prometheus",
            "'roles/*/files/rules/*.yml'",
            none_fails=True,
        ),
        files_check(
            "promtool-test-rules",
            "promtool test rules",
            "prometheus",
            "'tests/promtool/*_test.yml'",
            none_fails=True,
        ),
    ]
    if py:
        checks += [
            Check("ruff", [venv_bin("ruff"), "check", *py]),
            Check("ruff-format", [venv_bin("ruff"), "format", "--check", *py]),
            Check("mypy", [venv_bin("mypy"), *py]),
        ]
    checks.append(
        Check(
            "ansible-test-sanity",
            [venv_bin("ansible-test"), "sanity", "--python", "3.11", "--color", "no"],
            cwd=SANITY_COPY,
        )
    )
    return checks


def files_check(name: str, command: str, package: str, patterns: str, *, none_fails: bool = False) -> Check:
    """`command` on the repository's files matching `patterns` (git pathspecs, shell-quoted; tracked
    and new files, not ignored ones); refused naming Debian's `package` when the tool is missing. No
    matching file passes, unless `none_fails` (the tool then runs without files, and fails)."""
    tool = command.split(maxsplit=1)[0]
    return Check(
        name,
        [
            "bash",
            "-c",
            f"command -v {tool} >/dev/null || "
            f"{{ echo '{tool} missing: apt-get install {package}'; exit 1; }}; "
            f"git ls-files -co --exclude-standard {patterns} "
            f"| xargs {'' if none_fails else '-r '}{command}",
        ],
    )


def unit_workers(env: Mapping[str, str] | None = None) -> int:
    """How many pytest-xdist workers run the unit suite: RETAILOPS_UNIT_WORKERS (in `env`, else this
    process's environment), else the CPUs this process may run on; at least 1."""
    given = (os.environ if env is None else env).get("RETAILOPS_UNIT_WORKERS", "").strip()
    if given:
        return max(1, int(given))
    return max(1, len(os.sched_getaffinity(0)))


def unit_checks() -> list[Check]:
    junit = RESULTS / "junit" / "unit.xml"
    # Which tests share a worker, in what order: pyproject.toml's addopts, tests/fixtures/workers.py.
    # One worker is a plain run, in this process's pytest.
    workers = unit_workers()
    parallel = ["-n", str(workers)] if workers > 1 else []
    argv = [sys.executable, "-m", "pytest", "-q", *parallel, f"--junitxml={junit}"]
    return [Check("pytest-unit", argv, junit=junit)]


def molecule_checks(scenarios: list[str]) -> list[Check]:
    # Scenarios use their own container names and subnets, and spend most of
    # their time waiting (boots, failover timers), so they run side by side.
    return [Check(f"molecule-{s}", [venv_bin("molecule"), "test", "-s", s], parallel=True) for s in scenarios]


def junit_counts(path: Path) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - failed - skipped, failed, skipped


PRINT_LOCK = threading.Lock()

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Where an Ansible run (Molecule's steps, nested playbooks) says a task failed,
# and where the next task or play starts.
FAILURE_MARK = re.compile(r"fatal: \[|failed: \[|\[ERROR\]: Task failed")
NEXT_HEADER = re.compile(r"^\W*(TASK|PLAY|RUNNING HANDLER) \[|^\W*PLAY RECAP")


def failure_excerpt(text: str, per_failure: int = 250, limit: int = 800) -> list[str]:
    """Each failed Ansible task in a log, with its result, up to the next task.

    A failed Molecule scenario ends with its destroy step and a summary, so
    the log's tail shows neither which task failed nor why. Failures that
    Ansible reports as ignored are left out."""
    lines = [ANSI.sub("", line) for line in text.splitlines()]
    keep: list[int] = []
    i = 0
    while i < len(lines):
        if not FAILURE_MARK.search(lines[i]):
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not NEXT_HEADER.search(lines[end]):
            end += 1
        if not any("...ignoring" in line for line in lines[i:end]):
            keep.extend(range(i, min(end, i + per_failure)))
        i = end
    excerpt: list[str] = []
    previous = -2
    for i in keep:
        if i != previous + 1:
            excerpt.append("  ...")
        excerpt.append(lines[i])
        previous = i
    return excerpt[-limit:]


def headline(excerpt: list[str]) -> str:
    """One line for a failed check's first failure: Ansible's "Task failed" message and the task's
    place (its Origin), or the first fatal line; empty when the excerpt has neither."""
    stripped = [line.strip(" \u2502").strip() for line in excerpt]
    message = next((line for line in stripped if "[ERROR]: Task failed" in line), "")
    if not message:
        message = next((line for line in stripped if FAILURE_MARK.search(line)), "")
    origin = next(
        (stripped[i + 1] for i, line in enumerate(stripped[:-1]) if line == "Origin:"),
        next((line.split("Origin:", 1)[1].strip() for line in stripped if "Origin:" in line), ""),
    )
    text = " ".join(part for part in (message, f"({origin})" if origin else "") if part)
    return text[:400]


def tail_headline(text: str) -> str:
    """A failed check that is not Ansible's: the first error line of its last lines (pytest's
    "FAILED test - reason", mypy's "file:line: error: ..."), else its last line."""
    tail = [line.strip() for line in ANSI.sub("", text).splitlines()[-40:] if line.strip()]
    found = next((line for line in tail if line.startswith(("FAILED ", "ERROR ")) or ": error" in line), "")
    return (found or (tail[-1] if tail else ""))[:400]


def base_env() -> dict[str, str]:
    """The environment `make` gives the checks, also when this runs on its own:
    the venv's tools first on PATH, this checkout as the collection, the rig cache."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".cache" / "collections"))
    cache_home = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    env.setdefault("RIG_CACHE", str(Path(cache_home) / "retailops-rig"))  # as rig/lib.sh
    return env


def run(check: Check, tally: Tally) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{check.name}.log"
    if check.name == "ansible-test-sanity":
        prepare_sanity_copy()
        prepare_sanity_bootstrap()
    if check.junit:
        check.junit.parent.mkdir(parents=True, exist_ok=True)
        check.junit.unlink(missing_ok=True)
    started = time.monotonic()
    with log.open("w") as out:
        rc = subprocess.run(
            check.argv,
            cwd=check.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**base_env(), **check.env},
            check=False,
        ).returncode
    elapsed = time.monotonic() - started
    if check.junit and check.junit.exists():
        passed, failed, skipped = junit_counts(check.junit)
        # pytest exits 5 when it collected nothing: that is a failure here.
        if rc != 0 and failed == 0:
            failed = 1
    else:
        passed, failed, skipped = (1, 0, 0) if rc == 0 else (0, 1, 0)
    status = "ok" if failed == 0 else f"FAILED (see {log.relative_to(ROOT)})"
    detail = f"{passed} passed, {failed} failed" if check.junit else ""
    with PRINT_LOCK:
        tally.passed += passed
        tally.failed += failed
        tally.skipped += skipped
        print(f"{check.name:<32}{status:<8} {elapsed:6.0f}s  {detail}".rstrip(), flush=True)
        if failed:
            tally.failures.append(check.name)
            text = log.read_text(errors="replace")
            excerpt = failure_excerpt(text)
            if excerpt:
                print(
                    f"--- failed tasks in {log.relative_to(ROOT)}:",
                    *excerpt,
                    "--- end of the log:",
                    sep="\n",
                    flush=True,
                )
            print("".join(text.splitlines(keepends=True)[-25:]), flush=True)
            tally.excerpts.append((check.name, excerpt[-40:] or text.splitlines()[-15:]))
            tally.headlines[check.name] = headline(excerpt) or tail_headline(text)


def real_odoo_line(env: dict[str, str]) -> str:
    """What the checks say about the real-Odoo lane, which is never part of them (it needs an Odoo)."""
    given = [v for v in ("ODOO_SRC", "ODOO_IMAGE") if env.get(v)]
    name = f"{'real-odoo-lane':<32}"
    if not given:
        return f"{name}skipped  ODOO_SRC/ODOO_IMAGE not set (make real-odoo ODOO_SRC=/path/to/odoo)"
    return f"{name}not run  {given[0]} is set: the lane runs with make real-odoo, not here"


def report_failures(tally: Tally) -> None:
    """At the end of the output: each failure's excerpt, then one line per failed check with its first
    cause (the very last lines, which CI shows even when it shows little)."""
    for name, lines in tally.excerpts:
        where = f"full log: {LOGS.relative_to(ROOT)}/{name}.log"
        print(f"--- {name}, where it failed ({where}):", *lines, sep="\n")
    if tally.failures:
        print("failed checks: " + ", ".join(tally.failures))
        for name in tally.failures:
            print(f"  {name}: {tally.headlines.get(name) or 'see its log'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("steps", nargs="+", help="lint, unit, or molecule followed by scenario names")
    parser.add_argument(
        "--jobs",
        type=int,
        default=int(os.environ.get("RETAILOPS_JOBS", "2")),
        help="how many parallel checks (Molecule scenarios) run at once (default 2, env RETAILOPS_JOBS)",
    )
    args = parser.parse_args()
    checks: list[Check] = []
    steps: list[str] = args.steps
    while steps:
        step = steps.pop(0)
        if step == "lint":
            checks += lint_checks()
        elif step == "unit":
            checks += unit_checks()
        elif step == "molecule":
            scenarios = []
            while steps and steps[0] not in {"lint", "unit", "molecule"}:
                scenarios.append(steps.pop(0))
            if not scenarios:
                parser.error("molecule needs at least one scenario name")
            checks += molecule_checks(scenarios)
        else:
            parser.error(f"unknown step {step!r}")
    tally = Tally()
    if any(c.name == "pytest-unit" for c in checks):
        print(real_odoo_line(dict(os.environ)), flush=True)
    started = time.monotonic()
    for check in (c for c in checks if not c.parallel):
        run(check, tally)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(lambda c: run(c, tally), [c for c in checks if c.parallel]))
    elapsed = time.monotonic() - started
    summary = f"{tally.passed} passed, {tally.failed} failed"
    if tally.skipped:
        summary += f", {tally.skipped} skipped"
    report_failures(tally)
    print(f"{len(checks)} checks in {elapsed:.0f}s; logs in {LOGS.relative_to(ROOT)}/")
    print(summary)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
