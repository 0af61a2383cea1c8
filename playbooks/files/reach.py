"""Which TCP endpoints answer from this host: ``reach.py HOST:PORT ...`` -> JSON.

Run on a branch node by playbooks/validate_pilot.yml, independently of the
roles: a plain TCP connect with a short timeout per endpoint. ``open`` is true
when the connection was accepted; a refusal, a reset or a timeout is false.
"""

import json
import socket
import sys

TIMEOUT = 3.0


def probe(endpoint: str) -> dict[str, object]:
    host, port = endpoint.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=TIMEOUT):
            return {"endpoint": endpoint, "open": True, "detail": "connected"}
    except OSError as exc:
        return {"endpoint": endpoint, "open": False, "detail": type(exc).__name__ + ": " + str(exc)}


if __name__ == "__main__":
    print(json.dumps([probe(e) for e in sys.argv[1:]]))
