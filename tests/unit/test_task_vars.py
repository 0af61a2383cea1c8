"""Task and play vars that name themselves: Ansible templates them lazily, so a value that reads
its own name (``x: "{{ y | default(x) }}"``) is a recursive loop, found only when the task runs
(dr_failback's switch failed so live: ``Recursive loop detected in template``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [
        *ROOT.glob("playbooks/*.yml"),
        *ROOT.glob("playbooks/tasks/*.yml"),
        *ROOT.glob("roles/*/tasks/*.yml"),
        *ROOT.glob("roles/*/handlers/*.yml"),
        *ROOT.glob("molecule/*/*.yml"),
    ]
)
EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


class Unsafe(str):
    """A !unsafe value: Ansible never templates it."""


class Loader(yaml.SafeLoader):
    pass


Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))  # type: ignore[arg-type]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, Unsafe):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _with_vars(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every play, task and block in node that has a vars mapping, with a label for messages."""
    if isinstance(node, list):
        for item in node:
            yield from _with_vars(item, where)
    elif isinstance(node, dict):
        label = f"{where}: {node.get('name', '(unnamed)')}"
        if isinstance(node.get("vars"), dict):
            yield label, node["vars"]
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            yield from _with_vars(node.get(key), label)


def self_references(variables: dict[str, Any]) -> list[str]:
    """The names whose value reads the same name inside a Jinja expression."""
    found = []
    for name, value in variables.items():
        word = re.compile(rf"(?<![\w.'\"]){re.escape(str(name))}\b")
        if any(word.search(expr) for text in _strings(value) for expr in EXPRESSION.findall(text)):
            found.append(str(name))
    return found


def test_the_check_finds_a_value_that_reads_its_own_name() -> None:
    assert self_references({"a_user": "{{ other | default(a_user | default('x')) }}"}) == ["a_user"]
    assert self_references({"a_user": "{{ a_user_of_the_dr | default('x') }}"}) == []
    assert self_references({"a_user": "{{ hostvars.h.a_user }}", "b": "a_user, plain text"}) == []
    assert self_references({"n": ["{{ 1 }}", {"deep": "{% if n %}x{% endif %}"}]}) == ["n"]
    assert self_references({"n": Unsafe("{{ n }}")}) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_vars_read_their_own_name(path: Path) -> None:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    bad = [
        f"{label} -> {name}"
        for label, variables in _with_vars(doc, str(path.relative_to(ROOT)))
        for name in self_references(variables)
    ]
    assert not bad, bad
