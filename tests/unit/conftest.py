"""Make the collection importable as ansible_collections.retailops.odoo_platform.

Inside an ansible-test layout the checkout already sits at
ansible_collections/retailops/odoo_platform; elsewhere (a plain worktree) a
temporary directory gets that layout as a symlink. The path is also what
ANSIBLE_COLLECTIONS_PATH must be for ansible-inventory subprocesses.
"""

from __future__ import annotations

import atexit
import copy
import functools
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_REGISTER = ROOT / "inventories" / "branch_register" / "eu-west.yml"


def _collections_path() -> Path:
    if ROOT.parent.name == "retailops" and ROOT.parent.parent.name == "ansible_collections":
        return ROOT.parent.parent.parent
    base = Path(tempfile.mkdtemp(prefix="retailops-collections-"))
    (base / "ansible_collections" / "retailops").mkdir(parents=True)
    (base / "ansible_collections" / "retailops" / "odoo_platform").symlink_to(ROOT)
    return base


COLLECTIONS_PATH = _collections_path()
# Extra vars that run a play meant for the region's hosts on this machine, as this user.
LOCAL = (
    "-e",
    "ansible_connection=local",
    "-e",
    "ansible_become=false",
    "-e",
    f"ansible_python_interpreter={sys.executable}",
)
sys.path.insert(0, str(COLLECTIONS_PATH))
sys.path.insert(0, str(ROOT / "tools"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the tests package, also when pytest is not run from the checkout

# the shared fixtures (tests/fixtures/plugin.py) this suite uses: Redis and Sentinel for the module tests,
# a DNS server for erp_dns
from tests.fixtures.patroni_api import patroni_api  # noqa: E402
from tests.fixtures.plugin import dns_server, redis_factory  # noqa: E402

# and the hooks that run the suites on pytest-xdist workers (tests/fixtures/workers.py)
from tests.fixtures.workers import pytest_collection_modifyitems, pytest_xdist_make_scheduler  # noqa: E402

__all__ = [
    "dns_server",
    "patroni_api",
    "pytest_collection_modifyitems",
    "pytest_xdist_make_scheduler",
    "redis_factory",
]

BASE_REGION: dict[str, Any] = {
    "region": "test-west",
    "platform_networks": ["10.20.0.0/16"],
    "erp_entrypoints": ["10.20.0.10:443"],
    "hubs": [
        {"name": "hub-a", "endpoint": "198.51.100.1:51820", "tunnel_pool": "10.99.0.0/24"},
        {"name": "hub-b", "endpoint": "198.51.100.2:51820", "tunnel_pool": "10.99.1.0/24"},
    ],
    "branches": [
        {
            "code": "S-001",
            "name": "Store one",
            "country": "NL",
            "kind": "store",
            "tier": "critical",
            "link": "dual",
            "lan_subnets": ["10.101.1.0/24"],
            "endpoint": "203.0.113.1:51820",
            "hub": "hub-a",
            "second_hub": "hub-b",
        },
        {
            "code": "S-002",
            "name": "Store two",
            "country": "BE",
            "kind": "warehouse",
            "tier": "standard",
            "link": "lte",
            "lan_subnets": ["10.101.2.0/24"],
            "roaming": True,
            "hub": "hub-a",
        },
        {
            "code": "S-003",
            "name": "Office three",
            "country": "DE",
            "kind": "office",
            "tier": "basic",
            "link": "fiber",
            "lan_subnets": ["10.101.3.0/24"],
            "endpoint": "office3.example.net:51820",
            "hub": "hub-b",
        },
    ],
}


@pytest.fixture
def collections_path() -> Path:
    return COLLECTIONS_PATH


@pytest.fixture
def region() -> dict[str, Any]:
    """A fresh, valid three-branch region document to mutate."""
    return copy.deepcopy(BASE_REGION)


def localhost_playbook(
    path: Path,
    name: str,
    tasks: list[dict[str, Any]],
    play_vars: dict[str, Any] | None = None,
    **play: Any,
) -> Path:
    """A one-play playbook run on this machine (connection local), with this Python as its interpreter.

    The play is on localhost with no facts unless `play` says otherwise (hosts, gather_facts, ...)."""
    document = {
        "name": name,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        **play,
        "vars": {"ansible_python_interpreter": sys.executable, **(play_vars or {})},
        "tasks": tasks,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump([document]))
    return path


# In the environment of every ansible-playbook these tests run (playbook_env, the example regions' own): the
# filters and tests loaded once by the main process, before it forks a worker per task and host
# (tests/fixtures/callback_plugins/preload_plugins.py). Only where the plugins load changes.
PRELOAD_PLUGINS = {
    "ANSIBLE_CALLBACK_PLUGINS": str(ROOT / "tests" / "fixtures" / "callback_plugins"),
    "ANSIBLE_CALLBACKS_ENABLED": "preload_plugins",
}


def playbook_env(**more: str) -> dict[str, str]:
    """ansible-playbook's environment in these tests: this collection, no colour, no localhost warnings."""
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        **PRELOAD_PLUGINS,
        **more,
    }


# playbook_env(**JSON_OUTPUT): the run's result as one JSON document on standard output.
JSON_OUTPUT = {"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}


def playbook_command(playbook: Path, extra_vars: dict[str, Any] | None = None, *options: str) -> list[str]:
    """This venv's ansible-playbook on `playbook` with `extra_vars` (one JSON -e) and `options` (-i ...)."""
    return [
        str(Path(sys.executable).parent / "ansible-playbook"),
        *options,
        str(playbook),
        "-e",
        json.dumps(extra_vars or {}),
    ]


def run_playbook(
    playbook: Path,
    extra_vars: dict[str, Any] | None = None,
    *options: str,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    """playbook_command run to its end (env: playbook_env()), its output captured; not checked."""
    return subprocess.run(
        playbook_command(playbook, extra_vars, *options),
        env=env or playbook_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def role_entry_task(role: str, *, tasks_from: str = "validate", public: bool = False) -> dict[str, Any]:
    """The task that includes one entry point of one of this collection's roles, named "Validate"."""
    include: dict[str, Any] = {"name": "retailops.odoo_platform." + role, "tasks_from": tasks_from}
    if public:
        include["public"] = True
    return {"name": "Validate", "ansible.builtin.include_role": include}


def validate_runs(
    role: str,
    tmp: Path,
    good: dict[str, Any],
    bad: dict[str, tuple[dict[str, Any], str]],
    *,
    tasks_from: str = "validate",
) -> dict[str, dict[str, Any]]:
    """The role's validate entry point (or `tasks_from`) with `good`, and with `good` and each case of
    `bad` over it.

    In one ansible-playbook run, each case a host of its own (inventory_cases, no facts); keyed by case
    ("good" for the good input)."""
    cases = {"good": good, **{case: {**good, **over} for case, (over, _expect) in bad.items()}}
    tasks = [role_entry_task(role, tasks_from=tasks_from)]
    return inventory_cases(tmp, {"all": {}}, tasks, cases, facts=False)


class SyntaxChecks:
    """ansible-playbook --syntax-check of several playbooks (`check`: the run on a list of them): one run for
    all of them; when it fails (it stops at the first error), a playbook's own run tells whether it fails."""

    def __init__(
        self, check: Callable[[list[Path]], subprocess.CompletedProcess[str]], playbooks: list[Path]
    ) -> None:
        self.check = check
        self.playbooks = playbooks
        self.together = check(playbooks)

    def of(self, playbook: Path) -> subprocess.CompletedProcess[str]:
        """The run that checked `playbook` (one of `playbooks`) and passed, or its own run."""
        assert playbook in self.playbooks, playbook
        return self.together if self.together.returncode == 0 else self.check([playbook])


def assert_case_refused(case: dict[str, Any], expect: str) -> None:
    """An inventory_cases case failed, and the message of its first failed task (or item) names `expect`."""
    assert not case["ok"], case
    assert expect in case["msg"], case


def assert_refused(run: subprocess.CompletedProcess[str], expect: str) -> None:
    """The run failed, and the message of its first failed task names `expect`.

    The message (the result's ``msg``), not the whole result: a refusal by the argument specs also
    dumps the spec, which names every variable."""
    assert run.returncode != 0, run.stdout[-3000:]
    marks = [i for i in (run.stdout.find("fatal: ["), run.stdout.find("failed: [")) if i >= 0]
    assert marks, run.stdout[-3000:]
    failure = run.stdout[min(marks) :]
    result, _end = json.JSONDecoder().raw_decode(failure, failure.index("=> ") + 3)
    assert expect in result["msg"], failure[-3000:]


def validate_tests(
    role: str,
    good: dict[str, Any],
    bad: dict[str, tuple[dict[str, Any], str]],
    *,
    tasks_from: str = "validate",
) -> tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]:
    """A role's validate tests: the fixture `runs` and two tests, for a test module to bind at module level.

    The good input passes; each bad case (extra vars over the good input, and the variable its
    refusal names) fails, naming the variable."""

    @pytest.fixture(scope="module")
    def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
        return validate_runs(role, tmp_path_factory.mktemp("validate"), good, bad, tasks_from=tasks_from)

    def test_the_good_input_passes(runs: dict[str, dict[str, Any]]) -> None:
        assert runs["good"]["ok"], runs["good"]

    @pytest.mark.parametrize("case", sorted(bad))
    def test_bad_input_is_refused_naming_the_variable(case: str, runs: dict[str, dict[str, Any]]) -> None:
        assert_case_refused(runs[case], bad[case][1])

    return runs, test_the_good_input_passes, test_bad_input_is_refused_naming_the_variable


def role_render_tasks(
    role: str, shown: dict[str, tuple[str, dict[str, Any]]], *, tasks_from: str = "validate"
) -> list[dict[str, Any]]:
    """Tasks that enter the role's validate entry point, or `tasks_from` (its checks, defaults and vars,
    made public for the play), then show each of `shown`: name -> (expression, the task's vars, e.g. a
    component), one debug task each, named "show <name>". Nothing is read from or applied to a cluster."""
    return [
        role_entry_task(role, tasks_from=tasks_from, public=True),
        *(
            {"name": f"show {name}", "ansible.builtin.debug": {"msg": expression}, "vars": task_vars}
            for name, (expression, task_vars) in shown.items()
        ),
    ]


def role_rendered(output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """From ansible-playbook's json callback: host -> {name: value} of role_render_tasks' debug tasks."""
    found: dict[str, dict[str, Any]] = {}
    for play in output["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"]
            if name.startswith("show "):
                for host, result in task["hosts"].items():
                    found.setdefault(host, {})[name.removeprefix("show ")] = result["msg"]
    return found


def role_render_runs(
    role: str,
    tmp: Path,
    cases: dict[str, dict[str, Any]],
    shown: dict[str, tuple[str, dict[str, Any]]],
    play_vars: dict[str, Any] | None = None,
    *,
    tasks_from: str = "validate",
) -> dict[str, dict[str, Any]]:
    """role_render_tasks on this machine, once per case (its variables): case -> {name: value}.

    In one ansible-playbook run, each case a host of its own (inventory_cases, no facts). `play_vars` stand
    in for what the role reads from the cluster before it renders (a digest, ...)."""
    runs = inventory_cases(
        tmp,
        {"all": {}},
        role_render_tasks(role, shown, tasks_from=tasks_from),
        cases,
        facts=False,
        play_vars=play_vars,
    )
    rendered: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        assert run["ok"], f"{name}: {run}"
        assert set(run["shown"]) == set(shown), f"{name}: {run}"
        rendered[name] = run["shown"]
    return rendered


@pytest.fixture(scope="module")
def rig_script() -> Callable[[str], Any]:
    """``rig_script("kubernetes/lb.py")``: that file of rig/ (a standalone script) as a module."""

    def load(relative: str) -> Any:
        name = "rig_" + Path(relative).stem
        spec = importlib.util.spec_from_file_location(name, ROOT / "rig" / relative)
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module

    return load


def render_role_templates(
    tmp: Path,
    role: str,
    inventory: dict[str, Any],
    templates: list[str],
    extra_vars: dict[str, Any] | None = None,
) -> dict[str, dict[str, str]]:
    """The role's templates rendered on this machine for every host of `inventory` (a YAML inventory
    document), after the role's validate entry point (its defaults and vars made public): host ->
    {template name without .j2: text}. Nothing is installed."""
    out = tmp / "rendered"
    tasks = [
        *role_render_tasks(role, {}),
        {
            "name": "Host directory",
            "ansible.builtin.file": {
                "path": "{{ render_out }}/{{ inventory_hostname }}",
                "state": "directory",
            },
        },
        {
            "name": "Render",
            "ansible.builtin.template": {
                "src": str(ROOT / "roles" / role / "templates" / "{{ item }}.j2"),
                "dest": "{{ render_out }}/{{ inventory_hostname }}/{{ item }}",
                "mode": "0644",
            },
            "loop": templates,
        },
    ]
    playbook = localhost_playbook(
        tmp / "render.yml", "Render " + role, tasks, {"render_out": str(out)}, hosts="all"
    )
    (tmp / "inventory.yml").write_text(yaml.safe_dump(inventory))
    run = run_playbook(playbook, extra_vars, "-i", str(tmp / "inventory.yml"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {
        host.name: {name: (host / name).read_text() for name in templates} for host in sorted(out.iterdir())
    }


def systemd_exec_start(unit: str) -> list[str]:
    """The ExecStart= command line of a rendered unit: continuation lines joined, split as systemd splits
    words that are plain or single-quoted without escapes (shell rules agree there)."""
    joined = unit.replace("\\\n", " ")
    (line,) = [line for line in joined.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


# The facts the case plays gather, as the playbooks do: the network subset.
NETWORK_FACTS = ["!all", "network"]


def fact_cache(directory: Path) -> dict[str, str]:
    """ansible-playbook's environment for a jsonfile fact cache in `directory` (a file per host)."""
    return {"ANSIBLE_CACHE_PLUGIN": "jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(directory)}


@functools.cache
def machine_facts() -> tuple[str, str]:
    """This machine's network facts, gathered once per test process by ansible-playbook (NETWORK_FACTS, on
    localhost), as its jsonfile fact cache wrote them: (the prefix of the cache's file names, which end with
    the host's name; the file's text)."""
    base = Path(tempfile.mkdtemp(prefix="retailops-facts-"))
    atexit.register(shutil.rmtree, base, True)
    playbook = localhost_playbook(
        base / "gather.yml", "Gather", [], gather_facts=True, gather_subset=NETWORK_FACTS
    )
    run = run_playbook(playbook, None, env=playbook_env(**fact_cache(base / "cache")))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (entry,) = (base / "cache").iterdir()
    assert entry.name.endswith("localhost"), entry
    text = entry.read_text()
    assert "_ansible_facts_gathered" in text, text[:3000]
    return entry.name.removesuffix("localhost"), text


def inventory_cases(
    tmp: Path,
    inventory: dict[str, Any],
    tasks: list[dict[str, Any]],
    cases: dict[str, dict[str, Any]],
    *,
    facts: bool = True,
    play_vars: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """`tasks` once per case, in one ansible-playbook run: each case is a host of its own (on this machine,
    its variables the case's) added to `inventory`, whose groups and other hosts the tasks read (a role that
    builds its configuration from the inventory). Unless `facts` is false, the play gathers network facts, as
    the playbooks do; every case host is this machine, so their facts are machine_facts(), gathered once and
    handed to each case host through the jsonfile fact cache (gathering "smart": a host whose facts are in
    the cache is not gathered again). `play_vars` are the play's.

    Returns case -> {"ok": the host ended the play with no failed task and reachable, "msg": the first failed
    task's message (a loop's: its first failed item's), "item": that item, "ran": names of the tasks that ran
    (not skipped), "shown": name -> message of its debug tasks named "show <name>" (role_render_tasks)}."""
    tmp.mkdir(parents=True, exist_ok=True)
    hosts = {f"case-{i}": name for i, name in enumerate(cases)}
    full = copy.deepcopy(inventory)
    full["all"].setdefault("children", {})["cases"] = {
        "hosts": {host: cases[name] for host, name in hosts.items()}
    }
    (tmp / "inventory.yml").write_text(yaml.safe_dump(full))
    gather: dict[str, Any] = {}
    env = playbook_env(**JSON_OUTPUT)
    if facts:
        gather = {"gather_facts": True, "gather_subset": NETWORK_FACTS}
        cache = tmp / "facts"
        cache.mkdir(exist_ok=True)
        prefix, text = machine_facts()
        for host in hosts:
            (cache / f"{prefix}{host}").write_text(text)
        env.update(fact_cache(cache), ANSIBLE_GATHERING="smart")
    playbook = localhost_playbook(tmp / "play.yml", "Cases", tasks, play_vars, hosts="cases", **gather)
    result = run_playbook(playbook, None, "-i", str(tmp / "inventory.yml"), "-f", "10", env=env, timeout=900)
    assert result.stdout.startswith("{"), result.stdout[-3000:] + result.stderr[-3000:]
    output = json.loads(result.stdout)
    shown = role_rendered(output)
    found: dict[str, dict[str, Any]] = {
        name: {"ok": True, "msg": "", "item": None, "ran": [], "shown": shown.get(host, {})}
        for host, name in hosts.items()
    }
    for task in output["plays"][0]["tasks"]:
        for host, res in task["hosts"].items():
            case = found[hosts[host]]
            if not res.get("skipped"):
                case["ran"].append(task["task"]["name"])
            if res.get("failed") and case["ok"]:
                first = next((r for r in res.get("results", []) if r.get("failed")), res)
                case.update(ok=False, msg=str(first.get("msg", "")), item=first.get("item"))
    for host, name in hosts.items():
        stats = output["stats"].get(host)
        assert stats is not None, f"{name}: the play did not run on {host}\n{result.stderr[-3000:]}"
        if stats["unreachable"] and found[name]["ok"]:
            found[name].update(ok=False, msg=f"unreachable: {stats}")
    return found
