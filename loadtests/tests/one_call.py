"""One JSON-RPC call as a branch user makes it: ``python -m loadtests.tests.one_call <plan.json> <path>``.

Runs in its own process because importing Locust monkey-patches the
standard library with gevent, which the test process must not get. Prints
the call's outcome as JSON.
"""

from __future__ import annotations

import json
import sys

from locust.env import Environment

from loadtests.personas import PosCashier, configure
from loadtests.plan import RunPlan


def main(plan_path: str, path: str) -> None:
    plan = RunPlan.load(plan_path)
    configure(plan)
    user = PosCashier(Environment(user_classes=[PosCashier]))
    c = user.odoo._post(path, {}, tier="auth", name="probe", write=False)
    print(json.dumps({"outcome": str(c.outcome), "detail": c.detail, "url": user.host}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
