"""Reachability probe run on the scenario's hosts (test only).

    probe.py tcp HOST PORT       prints "open" or "closed: <reason>"
    probe.py https HOST PORT     prints the response body or "closed: <reason>"

Always exits 0: the caller asserts on the output.
"""

from __future__ import annotations

import socket
import ssl
import sys


def main() -> int:
    kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        with socket.create_connection((host, port), timeout=3) as sock:
            if kind == "tcp":
                print("open")
                return 0
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with context.wrap_socket(sock, server_hostname=host) as tls:
                tls.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
                data = b""
                while chunk := tls.recv(4096):
                    data += chunk
            print(data.decode(errors="replace").split("\r\n\r\n", 1)[-1].strip())
    except OSError as exc:
        print(f"closed: {exc.__class__.__name__} {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
