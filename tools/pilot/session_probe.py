"""Sessions are shared by the app nodes, and the database manager refuses a wrong master password.

    python tools/pilot/session_probe.py --db retail --login admin \\
        --node http://10.213.20.11:8069 --node http://10.213.20.12:8069

The password comes from $ODOO_PASSWORD. Logs in on the first node (straight
to its Odoo, not through Traefik's sticky cookie), then asks every other node
for the session's info with that cookie: each must answer with the same user.
Then asks the first node to drop the database with a wrong master password:
Odoo must refuse and the database must still serve the session. Prints one JSON
line; exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

import requests


def rpc(session: requests.Session, url: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    resp = session.post(
        f"{url}{path}", json={"jsonrpc": "2.0", "method": "call", "params": params}, timeout=30
    )
    resp.raise_for_status()
    reply: dict[str, Any] = resp.json()
    return reply


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument(
        "--node", action="append", required=True, help="an app node's Odoo URL (twice or more)"
    )
    args = parser.parse_args()
    password = os.environ.get("ODOO_PASSWORD", "")
    if len(args.node) < 2 or not password:
        parser.error("give --node at least twice and set ODOO_PASSWORD")

    checks: dict[str, Any] = {}
    first, others = args.node[0], args.node[1:]
    login = requests.Session()
    auth = rpc(
        login, first, "/web/session/authenticate", {"db": args.db, "login": args.login, "password": password}
    )
    uid = (auth.get("result") or {}).get("uid")
    sid = login.cookies.get("session_id")
    checks["login"] = {
        "node": first,
        "uid": uid,
        "ok": bool(uid and sid),
        "error": auth.get("error", {}).get("message"),
    }
    for node in others:
        other = requests.Session()
        other.cookies.set("session_id", sid or "")
        info = rpc(other, node, "/web/session/get_session_info", {})
        seen = (info.get("result") or {}).get("uid")
        checks[f"session on {node}"] = {"uid": seen, "ok": bool(uid) and seen == uid}

    # A wrong master password: refused (list_db off: the manager is disabled;
    # on: the stored hash does not match), and the database still answers.
    wrong = "wrong-" + secrets.token_hex(8)
    drop = requests.post(
        f"{first}/web/database/drop", data={"master_pwd": wrong, "name": args.db}, timeout=30
    )
    after = rpc(login, first, "/web/session/get_session_info", {})
    still = (after.get("result") or {}).get("uid") == uid
    checks["drop with a wrong master password"] = {
        "status": drop.status_code,
        "database_still_serves": still,
        "ok": still,
    }

    ok = all(check["ok"] for check in checks.values())
    print(json.dumps({"ok": ok, "checks": checks}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
