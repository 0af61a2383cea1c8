"""One JSON-RPC call as a branch user makes it: ``python -m loadtests.tests.one_call <plan.json> <path>``.

Runs in its own process because importing Locust monkey-patches the
standard library with gevent, which the test process must not get. Prints
the call's outcome as JSON.
"""

from __future__ import annotations

import json
import sys

from locust.env import Environment

from loadtests.ledger import LedgerWriter
from loadtests.personas import PERSONA_CLASSES, configure
from loadtests.plan import RunPlan


def main(plan_path: str, path: str) -> None:
    plan = RunPlan.load(plan_path)
    configure(plan, LedgerWriter(plan.ledger_path))
    cashier = PERSONA_CLASSES["pos_cashier"]
    user = cashier(Environment(user_classes=[cashier]))
    c = user.odoo.exchange(path, {}, tier="auth", name="probe", model="", write=False)
    print(json.dumps({"outcome": str(c.outcome), "detail": c.detail, "url": user.host}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
