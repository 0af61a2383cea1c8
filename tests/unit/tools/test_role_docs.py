"""tools/role_docs.py: names and default values agree between defaults, argument specs and README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))

import role_docs

# Every option the demo roles below declare: what the fake ansible-doc shows.
DEMO_OPTIONS = " ".join(
    f"demo_{name}"
    for name in ("port", "password", "hosts", "forwarding", "classes", "sysctl", "version", "bin", "peers")
)


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
    """ansible-doc shows every option: the demo roles' names, or the collection role's spec."""

    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        spec = role_docs.ROOT / "roles" / argv[-1].rsplit(".", 1)[-1] / "meta" / "argument_specs.yml"
        shown = spec.read_text() if spec.is_file() else DEMO_OPTIONS
        return subprocess.CompletedProcess(argv, 0, stdout=shown, stderr="")

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


# Values, not only names: meta/argument_specs.yml and the README against defaults/main.yml.

SPEC_PORT = "      demo_port:\n        type: int\n        default: 1\n"


def test_spec_default_that_differs_is_reported_with_both_values(tmp_path: Path) -> None:
    role = make_role(
        tmp_path,
        "---\ndemo_port: 1\n",
        SPEC_PORT.replace("default: 1", "default: 2"),
        "| `demo_port` | `1` | Port. |\n",
    )
    assert role_docs.role_problems(role) == [
        "demo: demo_port: default differs: defaults/main.yml 1, meta/argument_specs.yml 2"
    ]


@pytest.mark.parametrize(
    ("spec_default", "shown"),
    [('"1"', '"1"'), ("true", "true"), ("1.0", "1.0")],
)
def test_spec_default_is_compared_with_its_type(tmp_path: Path, spec_default: str, shown: str) -> None:
    role = make_role(
        tmp_path,
        "---\ndemo_port: 1\n",
        SPEC_PORT.replace("default: 1", f"default: {spec_default}"),
        "| `demo_port` | `1` | Port. |\n",
    )
    assert role_docs.role_problems(role) == [
        f"demo: demo_port: default differs: defaults/main.yml 1, meta/argument_specs.yml {shown}"
    ]


def test_spec_without_default_for_a_value_is_reported(tmp_path: Path) -> None:
    role = make_role(
        tmp_path,
        "---\ndemo_hosts: \"{{ groups['demo'] | default([]) }}\"\n",
        "      demo_hosts:\n        type: list\n",
        "| `demo_hosts` | group `demo` | Hosts. |\n",
    )
    assert role_docs.role_problems(role) == [
        "demo: demo_hosts: default differs: defaults/main.yml \"{{ groups['demo'] | default([]) }}\", "
        "meta/argument_specs.yml no default"
    ]


def test_templated_defaults_are_compared_as_strings(tmp_path: Path) -> None:
    defaults = (
        '---\ndemo_forwarding: "{{ hub_name is defined }}"\n'
        "demo_hosts: >-\n  {{ groups['demo']\n     | default([]) }}\n"
    )
    readme = (
        "| `demo_forwarding` | `hub_name is defined` (true on hubs) | F. |\n"
        "| `demo_hosts` | `groups['demo']` or `[]` | H. |\n"
    )
    same_template = (
        '      demo_forwarding:\n        type: bool\n        default: "{{  hub_name is defined }}"\n'
        "      demo_hosts:\n        type: list\n        default: \"{{ groups['demo'] | default([]) }}\"\n"
    )
    assert role_docs.role_problems(make_role(tmp_path / "a", defaults, same_template, readme)) == []
    # the drift nftables_segmentation had: the spec gives the result on one kind of host
    drifted = same_template.replace('"{{  hub_name is defined }}"', "false").replace(
        " | default([]) }}", " }}"
    )
    assert role_docs.role_problems(make_role(tmp_path / "b", defaults, drifted, readme)) == [
        'demo: demo_forwarding: default differs: defaults/main.yml "{{ hub_name is defined }}", '
        "meta/argument_specs.yml false",
        "demo: demo_hosts: default differs: defaults/main.yml \"{{ groups['demo']\\n   | default([]) }}\", "
        "meta/argument_specs.yml \"{{ groups['demo'] }}\"",
    ]


def test_nested_values_are_compared_item_by_item(tmp_path: Path) -> None:
    defaults = "---\ndemo_classes:\n  lte: {mtu: 1380, keepalive: 25}\n"
    spec = (
        "      demo_classes:\n        type: dict\n"
        '        default:\n          lte: {mtu: 1380, keepalive: "25"}\n'
    )
    readme = "| `demo_classes` | `lte: {mtu: 1380, keepalive: 25}` | Classes. |\n"
    assert role_docs.role_problems(make_role(tmp_path, defaults, spec, readme)) == [
        'demo: demo_classes: default differs: defaults/main.yml {"lte": {"mtu": 1380, "keepalive": 25}}, '
        'meta/argument_specs.yml {"lte": {"mtu": 1380, "keepalive": "25"}}'
    ]


@pytest.mark.parametrize(
    "cell",
    ["`1`", "`1` (the stock port)", "`1 (stock)`"],
)
def test_readme_default_that_matches(tmp_path: Path, cell: str) -> None:
    role = make_role(tmp_path, "---\ndemo_port: 1\n", SPEC_PORT, f"| `demo_port` | {cell} | Port. |\n")
    assert role_docs.role_problems(role) == []


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("`2`", "not the value or a part of it: ['2']"),
        ('`"1"`', """not the value or a part of it: ['"1"']"""),
        ("one", "no value in a code span"),
        ("see defaults", "'see defaults' is only for lists and mappings; show the value"),
        ("none (required)", "it says none, but the variable has a default"),
    ],
)
def test_readme_default_that_differs_is_reported(tmp_path: Path, cell: str, reason: str) -> None:
    role = make_role(tmp_path, "---\ndemo_port: 1\n", SPEC_PORT, f"| `demo_port` | {cell} | Port. |\n")
    assert role_docs.role_problems(role) == [
        f"demo: demo_port: README default {cell!r} does not match defaults/main.yml 1: {reason}"
    ]


def test_readme_shows_parts_of_a_mapping(tmp_path: Path) -> None:
    defaults = "---\ndemo_sysctl:\n  vm.overcommit_memory: 1\n  net.core.somaxconn: 1024\n"
    spec = (
        "      demo_sysctl:\n        type: dict\n        default:\n"
        "          vm.overcommit_memory: 1\n          net.core.somaxconn: 1024\n"
    )
    good = "| `demo_sysctl` | `vm.overcommit_memory: 1`, `net.core.somaxconn: 1024` | Sysctl. |\n"
    assert role_docs.role_problems(make_role(tmp_path / "a", defaults, spec, good)) == []
    stale = good.replace("1024`", "4096`")
    assert role_docs.role_problems(make_role(tmp_path / "b", defaults, spec, stale)) == [
        "demo: demo_sysctl: README default '`vm.overcommit_memory: 1`, `net.core.somaxconn: 4096`' "
        "does not match "
        'defaults/main.yml {"vm.overcommit_memory": 1, "net.core.somaxconn": 1024}: '
        "not the value or a part of it: ['net.core.somaxconn: 4096']"
    ]


def test_readme_renders_a_template_over_the_roles_own_defaults(tmp_path: Path) -> None:
    defaults = "---\ndemo_version: 15\ndemo_bin: /usr/lib/postgresql/{{ demo_version }}/bin\n"
    spec = (
        "      demo_version:\n        type: int\n        default: 15\n"
        "      demo_bin:\n        type: path\n        default: /usr/lib/postgresql/{{ demo_version }}/bin\n"
    )
    rows = "| `demo_version` | `15` | V. |\n| `demo_bin` | `{}` | Bin. |\n"
    for cell in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/{{ demo_version }}/bin"):
        role = make_role(tmp_path / cell.replace("/", "_"), defaults, spec, rows.replace("{}", cell))
        assert role_docs.role_problems(role) == []
    role = make_role(tmp_path / "old", defaults, spec, rows.replace("{}", "/usr/lib/postgresql/14/bin"))
    assert role_docs.role_problems(role) == [
        "demo: demo_bin: README default '`/usr/lib/postgresql/14/bin`' does not match "
        'defaults/main.yml "/usr/lib/postgresql/{{ demo_version }}/bin": '
        "not the value or a part of it: ['/usr/lib/postgresql/14/bin']"
    ]


def test_readme_names_what_an_inventory_template_reads(tmp_path: Path) -> None:
    defaults = '---\ndemo_peers: "{{ hub_peers | default([]) }}"\n'
    spec = '      demo_peers:\n        type: list\n        default: "{{ hub_peers | default([]) }}"\n'
    good = "| `demo_peers` | `hub_peers` or `[]` | Peers. |\n"
    assert role_docs.role_problems(make_role(tmp_path / "a", defaults, spec, good)) == []
    for cell, stray in (("`branch_peers` or `[]`", "['branch_peers']"), ("the hub's peers", None)):
        role = make_role(tmp_path / cell[:3], defaults, spec, f"| `demo_peers` | {cell} | Peers. |\n")
        reason = f"not fragments of the template: {stray}" if stray else "no value in a code span"
        assert role_docs.role_problems(role) == [
            f"demo: demo_peers: README default {cell!r} does not match "
            f'defaults/main.yml "{{{{ hub_peers | default([]) }}}}": {reason}'
        ]


def test_a_variable_without_default_says_none(tmp_path: Path) -> None:
    defaults = "---\ndemo_password: \"{{ undef(hint='set it') }}\"\n"
    spec = "      demo_password:\n        type: str\n        required: true\n"
    assert (
        role_docs.role_problems(
            make_role(tmp_path / "a", defaults, spec, "| `demo_password` | none (required) | S. |\n")
        )
        == []
    )
    role = make_role(tmp_path / "b", defaults, spec, '| `demo_password` | `""` | S. |\n')
    assert role_docs.role_problems(role) == [
        "demo: demo_password: README default '`\"\"`' does not match defaults/main.yml no default: "
        "a variable without a default says none"
    ]


def test_a_table_without_default_column_is_not_compared(tmp_path: Path) -> None:
    role = make_role(tmp_path, "---\ndemo_port: 1\n", SPEC_PORT, "")
    (role / "README.md").write_text("| Variable | Description |\n|---|---|\n| `demo_port` | Port 2. |\n")
    assert role_docs.role_problems(role) == []


def test_code_spans_and_escaped_pipes() -> None:
    assert role_docs.code_spans("`a` or `[]`, `` Path(`/x`) `` and `unclosed") == ["a", "[]", "Path(`/x`)"]
    assert role_docs.split_cells("| `v` | `a \\|\\| b` | text |") == ["`v`", "`a || b`", "text"]


def test_known_drift_is_shown_and_a_stale_waiver_fails() -> None:
    problems = ["odoo: odoo_x: README default 'none' does not match", "demo: demo_y: default differs"]
    known = {"odoo: odoo_x: README default": "owned elsewhere", "odoo: odoo_gone:": "fixed"}
    new, waived, stale = role_docs.split_known(problems, known)
    assert new == ["demo: demo_y: default differs"]
    assert waived == ["odoo: odoo_x: README default 'none' does not match [known: owned elsewhere]"]
    assert stale == ["odoo: odoo_gone:: listed in KNOWN_DRIFT but no longer found; remove it"]


def test_the_collections_roles_have_no_drift() -> None:
    roles = sorted(p for p in (role_docs.ROOT / "roles").iterdir() if p.is_dir())
    problems = [p for role in roles for p in role_docs.role_problems(role)]
    new, known, stale = role_docs.split_known(problems, role_docs.KNOWN_DRIFT)
    assert new + stale == []
    assert len(known) == len(role_docs.KNOWN_DRIFT)
