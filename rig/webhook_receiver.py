"""A webhook receiver for tests: records what Alertmanager POSTs, and answers what it recorded.

Runs on a rig container (``rig/webhook_receiver.yml``) as the Alertmanager webhook of a Molecule
scenario. Each POST whose ``Authorization: Bearer`` matches the token file (when one is given) is
appended as one JSON line ``{"received_at", "path", "payload"}`` to the log; a POST without the
right token is answered 401 and logged as ``{"received_at", "path", "rejected"}`` (never the header).
``GET /notifications`` answers ``{"notifications": [...], "rejected": <count>}``. Standard library only.

    python3 webhook_receiver.py --listen 10.213.3.30:9095 --log /var/lib/rig-webhook/notifications.jsonl \\
        [--token-file /etc/rig-webhook/token]
"""

from __future__ import annotations

import argparse
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 4 * 1024 * 1024


class Store:
    """The JSON-lines log, appended to and read under one lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.lock, self.path.open("a", encoding="utf-8") as log:
            log.write(line)

    def read(self) -> dict[str, Any]:
        with self.lock:
            lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        records = [json.loads(line) for line in lines if line.strip()]
        return {
            "notifications": [r for r in records if "rejected" not in r],
            "rejected": sum(1 for r in records if "rejected" in r),
        }


def handler(store: Store, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/notifications":
                self.reply(200, store.read())
            else:
                self.reply(404, {"error": "GET /notifications only"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, MAX_BODY))
            given = self.headers.get("Authorization", "")
            if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                store.append({"received_at": time.time(), "path": self.path, "rejected": "wrong or no token"})
                self.reply(401, {"error": "unauthorized"})
                return
            try:
                payload = json.loads(body)
            except ValueError:
                store.append({"received_at": time.time(), "path": self.path, "rejected": "not JSON"})
                self.reply(400, {"error": "not JSON"})
                return
            store.append({"received_at": time.time(), "path": self.path, "payload": payload})
            self.reply(200, {"ok": True})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--listen", required=True, help="address:port")
    parser.add_argument("--log", type=Path, required=True, help="the JSON-lines file of notifications")
    parser.add_argument("--token-file", type=Path, help="a file holding the bearer token POSTs must carry")
    args = parser.parse_args(argv)
    host, port = args.listen.rsplit(":", 1)
    token = args.token_file.read_text(encoding="utf-8").strip() if args.token_file else ""
    server = ThreadingHTTPServer((host, int(port)), handler(Store(args.log), token))
    server.serve_forever()


if __name__ == "__main__":
    main()
