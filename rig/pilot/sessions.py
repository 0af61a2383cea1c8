"""Sessions are shared by the app nodes, and the database manager refuses a wrong master password.

    python rig/pilot/sessions.py --db retail --login admin \\
        --node http://10.213.20.11:8069 --node http://10.213.20.12:8069

The password comes from $ODOO_PASSWORD. Logs in on the first node (straight
to its Odoo, not through Traefik's sticky cookie), then asks every other node
for the session's info with that cookie: each must answer with the same user.
Then asks the first node to drop the database with a wrong master password:
Odoo must refuse and the database must still serve the session. Prints one JSON
line; exit 1 when a check fails. JSON-RPC through the harness's client
(loadtests.odoo_client).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

import requests

from loadtests.odoo_client import OdooClient, OdooRpcError


def session_uid(client: OdooClient) -> int | None:
    """The uid the node sees for the client's session cookie (None: expired or unknown there)."""
    try:
        info = client.call("/web/session/get_session_info", {})
    except OdooRpcError:
        return None
    uid = info.get("uid") if isinstance(info, dict) else None
    return int(uid) if isinstance(uid, int) else None


def main() -> int:
    try:
        return probe()
    except requests.RequestException as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
        return 1


def probe() -> int:
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
    login = OdooClient(first, args.db, timeout=30)
    try:
        uid: int | None = int(login.authenticate(args.login, password)["uid"])
        error = None
    except OdooRpcError as exc:
        uid, error = None, exc.message
    sid = login.http.cookies.get("session_id")
    checks["login"] = {"node": first, "uid": uid, "ok": bool(uid and sid), "error": error}
    for node in others:
        other = OdooClient(node, args.db, timeout=30)
        other.http.cookies.set("session_id", sid or "")
        seen = session_uid(other)
        checks[f"session on {node}"] = {"uid": seen, "ok": bool(uid) and seen == uid}

    # A wrong master password: refused (list_db off: the manager is disabled;
    # on: the stored hash does not match), and the database still answers.
    wrong = "wrong-" + secrets.token_hex(8)
    drop = requests.post(
        f"{first}/web/database/drop", data={"master_pwd": wrong, "name": args.db}, timeout=30
    )
    still = session_uid(login) == uid
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
