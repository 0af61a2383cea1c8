"""The register's model: field-level problems, link classes, the README tables, pydantic missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.model import (
    LINK_CLASS,
    LINK_CLASSES,
    LINKS,
    Branch,
    file_fields,
)
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register.register import (
    build_register,
)
from conftest import EXAMPLE_REGISTER

from loadtests import branchctl

Doc = dict[str, Any]
README = EXAMPLE_REGISTER.parents[2] / "plugins" / "README.md"


def where(doc: Doc) -> list[str]:
    return [f"{p.subject} {p.field}: {p.message}" for p in build_register([("r.yml", doc)]).problems]


BAD_VALUES = [
    # (path in the document, value, "subject field" of the one problem, message fragment)
    (("platform_networks",), "10.20.0.0/16", "region test-west platform_networks", "expected a list"),
    (("erp_entrypoints", 0), "erp:https", "region test-west erp_entrypoints[0]", "port 'https' is not"),
    (("tiers",), {}, "region test-west tiers", "at least one tier"),
    (("tiers",), {"gold": {"second_hub": "yes"}}, "region test-west tiers.gold.second_hub", "true or false"),
    (("tiers",), {"Gold": None}, "region test-west tiers.Gold", "'Gold' is not valid"),
    (("integrations",), [{"endpoint": "10.30.0.1:443", "port": 1}], "region test-west integrations[0].port",
     "unknown field; known fields: name, endpoint, protocol"),
    (("branches", 2), "S-003", "branches[2] branches[2]", "expected a mapping, got str 'S-003'"),
    (("hubs", 0, "tunnel_address"), "10.99.0.300", "hub hub-a tunnel_address", "not an IP address"),
    (("branches", 0, "lan_subnets"), [], "branch S-001 lan_subnets", "at least one entry"),
    (("branches", 0, "kind"), 7, "branch S-001 kind", "expected a string, got int 7"),
    (("branches", 0, "name"), " ", "branch S-001 name", "must not be empty"),
    (("branches", 0, "country"), "nl", "branch S-001 country", "ISO 3166-1 alpha-2"),
    (("branches", 0, "vars"), {1: "x"}, "branch S-001 vars.1", "expected a string, got int 1"),
    (("branches", 0, "tunnel_addresses"), {"hub-a": "10.99.0.9"}, "branch S-001 tunnel_addresses",
     "unknown field"),  # computed by the register, never read from a file
    (("branches", 0, "region"), "elsewhere", "branch S-001 region", "unknown field"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "expected", "fragment"), BAD_VALUES, ids=lambda v: str(v)[:40])
def test_a_bad_value_is_one_problem_naming_its_field(
    region: Doc, path: tuple[Any, ...], value: Any, expected: str, fragment: str
) -> None:
    target = region
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    problems = where(region)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected + ": ")
    assert fragment in problems[0]


def test_a_branch_with_bad_fields_still_meets_the_other_checks(region: Doc) -> None:
    s1 = region["branches"][0]
    s1.update({"country": "Netherlands", "kind": "kiosk", "hub": "hub-x", "colour": "red"})
    region["branches"][1]["lan_subnets"] = ["10.101.1.0/25"]  # inside S-001's LAN
    assert sorted(where(region)) == sorted(
        [
            "branch S-001 country: 'Netherlands' is not valid: ISO 3166-1 alpha-2, e.g. NL",
            "branch S-001 kind: unknown kind 'kiosk'; expected one of: store, warehouse, office, dark_store",
            "branch S-001 hub: unknown hub 'hub-x'; region test-west defines: hub-a, hub-b",
            "branch S-001 colour: unknown field; known fields: " + ", ".join(file_fields(Branch)),
            "branch S-002 lan_subnets[0]: 10.101.1.0/25 overlaps branch S-001 lan_subnets[0] 10.101.1.0/24"
            " (r.yml)",
        ]
    )


def test_computed_fields_are_not_file_fields() -> None:
    assert not {"region", "source", "index", "tunnel_addresses", "invalid"} & set(file_fields(Branch))


def test_every_link_has_one_link_class_and_the_harness_uses_them(region: Doc) -> None:
    assert set(LINK_CLASS) == set(LINKS)
    assert LINK_CLASSES == ("fiber", "broadband", "lte")
    reg = build_register([("r.yml", region)]).check()
    assert {b.link: b.link_class for b in reg.branches} == {"dual": "fiber", "lte": "lte", "fiber": "fiber"}
    assert [b.region for b in reg.branches] == ["test-west"] * 3


def test_readme_schema_tables_are_the_models() -> None:
    text = README.read_text()
    begin, end = "<!-- BEGIN retailops-branchctl schema -->\n", "<!-- END retailops-branchctl schema -->"
    assert text[text.index(begin) + len(begin) : text.index(end)] == branchctl.schema(), (
        "plugins/README.md differs from the model: paste the output of `retailops-branchctl schema`"
    )


def test_schema_documents_every_enum_value() -> None:
    schema = branchctl.schema()
    for value in (*LINKS, "dark_store", "udp"):
        assert f"`{value}`" in schema


WITHOUT_PYDANTIC = """
import sys
sys.modules["pydantic"] = None  # as on a controller without it: importing it raises ImportError
from ansible_collections.retailops.odoo_platform.plugins.module_utils.branch_register import files, model
from ansible_collections.retailops.odoo_platform.plugins.lookup.branch_allow_lists import LookupModule
from ansible.errors import AnsibleLookupError
try:
    files.load_register([sys.argv[1]])
except model.MissingLibrary as exc:
    print("library:", exc)
try:
    LookupModule().run([sys.argv[1]], variables={})
except AnsibleLookupError as exc:
    print("lookup:", exc)
"""


def test_without_pydantic_the_modules_import_and_the_error_names_it(collections_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PYDANTIC, str(EXAMPLE_REGISTER)],
        env={**os.environ, "PYTHONPATH": str(collections_path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["library", "lookup"], result.stdout + result.stderr
    assert all("needs the Python package pydantic" in line for line in lines)
    assert all("pip install" in line for line in lines)
