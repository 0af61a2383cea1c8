"""tools/checks.py's last lines name each failed check's first cause, in the two layouts Ansible's
failures reach the log in (plain, and inside Molecule's boxed output)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from conftest import ROOT


def checks_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("checks_tool", ROOT / "tools" / "checks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["checks_tool"] = module
    spec.loader.exec_module(module)
    return module


PLAIN = """TASK [Read what reached the alert sink] ****
ok: [localhost]
TASK [PostgresNoLeader fired after the kill and resolved, at the alert sink] ****
[ERROR]: Task failed: Action failed: no firing notification
Origin: /check/work/main/molecule/postgresql_ha/verify_failover.yml:211:7
fatal: [localhost]: FAILED! => {"msg": "no firing notification"}
PLAY RECAP ****
"""

BOXED = """  \u2502 TASK [Wait (up to 60 s) for both segments in repo1]
  \u2502 fatal: [pg-node-2 -> localhost]: FAILED! => {"attempts": 12}
  \u2502 ...ignoring
  \u2502 TASK [Repo2 got neither segment]
  \u2502 [ERROR]: Task failed: Action failed: cut 127.0.0.1 pg-azurite-dr;
  \u2502   segments ['000000010000000000000018']
  \u2502 Origin:
  \u2502   /work/wt/mergedb/molecule/postgresql_ha/verify_dr_repo2_down.yml:163:7
  \u2502 PLAY RECAP
"""


def test_the_first_cause_in_one_line() -> None:
    tool = checks_tool()
    assert tool.headline(tool.failure_excerpt(PLAIN)) == (
        "[ERROR]: Task failed: Action failed: no firing notification "
        "(/check/work/main/molecule/postgresql_ha/verify_failover.yml:211:7)"
    )
    # the ignored failure before it is not the cause
    assert tool.headline(tool.failure_excerpt(BOXED)) == (
        "[ERROR]: Task failed: Action failed: cut 127.0.0.1 pg-azurite-dr; "
        "(/work/wt/mergedb/molecule/postgresql_ha/verify_dr_repo2_down.yml:163:7)"
    )
    assert tool.headline(["something else entirely"]) == ""


def test_a_check_that_is_not_ansible_gives_its_first_error_line() -> None:
    tool = checks_tool()
    mypy = "x.py:397: error: Module has no attribute\nFound 1 error in 1 file (checked 261 source files)\n"
    assert tool.tail_headline(mypy) == "x.py:397: error: Module has no attribute"
    pytest = "....F\n=== short test summary ===\nFAILED t.py::test_a - AssertionError: 2 != 1\n1 failed\n"
    assert tool.tail_headline(pytest) == "FAILED t.py::test_a - AssertionError: 2 != 1"
    assert tool.tail_headline("compiling\nexit status 2\n") == "exit status 2"
