"""ERP and database-port stand-ins for the branch_vpn scenario (test only).

443 and 8443: HTTPS answering "retailops-erp-standin <port> <client>" on any path.
5432, 6379, 2379, 8008, 22: TCP listeners that send a banner and close.
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import ssl
import sys
import threading

CERT = "/etc/vpn-standin/cert.pem"
KEY = "/etc/vpn-standin/key.pem"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = f"retailops-erp-standin {self.server.server_address[1]} {self.client_address[0]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Banner(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(f"standin {self.server.server_address[1]}\n".encode())


def https(port: int) -> None:
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT, KEY)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


def banner(port: int) -> None:
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer(("0.0.0.0", port), Banner).serve_forever()


def main() -> int:
    threads = [threading.Thread(target=https, args=(p,), daemon=True) for p in (443, 8443)]
    threads += [threading.Thread(target=banner, args=(p,), daemon=True) for p in (5432, 6379, 2379, 8008, 22)]
    for thread in threads:
        thread.start()
    socket.setdefaulttimeout(10)
    for thread in threads:
        thread.join()
    return 1


if __name__ == "__main__":
    sys.exit(main())
