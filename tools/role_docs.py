"""Check that every role documents every variable, in all three places.

For each role in roles/: defaults/main.yml, meta/argument_specs.yml (entry
point ``main``) and the README's variables table must list the same
variables; each is named ``<role>_<thing>``; and ``ansible-doc -t role``
renders the role's arguments. Prints every problem, exits 1 if any.

A variable with no default (a secret the operator must supply) is documented
in defaults/main.yml as a comment line ``# <role>_<thing>: ...`` and has no
``default`` in meta/argument_specs.yml; it is never given a value there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = "retailops.odoo_platform"
README_ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|")
COMMENTED_VAR = re.compile(r"^#\s*([a-z0-9_]+):")


def role_problems(role: Path) -> list[str]:
    name = role.name
    problems: list[str] = []
    paths = {p: role / p for p in ("defaults/main.yml", "meta/argument_specs.yml", "README.md")}
    for rel, path in paths.items():
        if not path.is_file():
            problems.append(f"{name}: {rel} is missing")
    if problems:
        return problems
    defaults_text = paths["defaults/main.yml"].read_text()
    defined = set((yaml.safe_load(defaults_text) or {}).keys())
    specs = yaml.safe_load(paths["meta/argument_specs.yml"].read_text()) or {}
    option_specs = specs.get("argument_specs", {}).get("main", {}).get("options", {}) or {}
    options = set(option_specs.keys())
    # Documented without a value: only for options that have no default.
    undefined = {
        m.group(1)
        for line in defaults_text.splitlines()
        if (m := COMMENTED_VAR.match(line))
        and m.group(1) in options
        and "default" not in option_specs[m.group(1)]
    }
    defaults = defined | undefined
    readme = {
        m.group(1) for line in paths["README.md"].read_text().splitlines() if (m := README_ROW.match(line))
    }
    for var in sorted(defaults | options | readme):
        if not var.startswith(f"{name}_"):
            problems.append(f"{name}: variable {var} is not named {name}_<thing>")
        for where, found in (
            ("defaults/main.yml", defaults),
            ("meta/argument_specs.yml", options),
            ("README.md variables table", readme),
        ):
            if var not in found:
                problems.append(f"{name}: {var} is not in {where}")
    doc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-doc"), "-t", "role", f"{COLLECTION}.{name}"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    if doc.returncode != 0:
        problems.append(f"{name}: ansible-doc -t role failed: {doc.stderr.strip()[-300:]}")
    else:
        problems += [
            f"{name}: ansible-doc does not show {var}" for var in sorted(options) if var not in doc.stdout
        ]
    return problems


def main() -> int:
    roles = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())
    problems = [p for role in roles for p in role_problems(role)]
    for problem in problems:
        print(problem)
    print(f"{len(roles)} roles checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
