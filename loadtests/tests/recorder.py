"""A loopback HTTP(S) server that answers JSON-RPC and records what each request asked for.

It stands in for Traefik where only the request's identity matters: the HTTP
``Host`` header, the TLS server name (SNI) and the path. The certificate is a
self-signed one for the ERP's name, made with ``cryptography``.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VERSION_INFO = {
    "server_version": "18.0-recorder",
    "server_version_info": [18, 0, 0, "final", 0, ""],
    "server_serie": "18.0",
    "protocol_version": 1,
}


@dataclass
class Seen:
    host: str
    path: str
    server_name: str | None  # SNI of the TLS connection; None over plain HTTP


@dataclass
class Recorder:
    """``with Recorder(...) as rec:`` serves on 127.0.0.1:``rec.port`` until the block ends."""

    tls: tuple[Path, Path] | None = None  # certificate and key: serve HTTPS
    error: dict[str, Any] | None = None  # answer every call with this JSON-RPC error
    seen: list[Seen] = field(default_factory=list)
    _sni: dict[int, str | None] = field(default_factory=dict)

    def __enter__(self) -> Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                sni = recorder._sni.get(id(self.connection)) if recorder.tls else None
                recorder.seen.append(Seen(self.headers.get("Host", ""), self.path, sni))
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": body.get("id")}
                if recorder.error is not None:
                    reply["error"] = recorder.error
                elif self.path == "/web/webclient/version_info":
                    reply["result"] = VERSION_INFO
                else:
                    reply["result"] = {"uid": 2, "user_context": {}}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)

            def sni(sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _ctx: ssl.SSLContext) -> None:
                recorder._sni[id(sock)] = name

            ctx.sni_callback = sni
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
