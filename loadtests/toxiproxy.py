"""A small Toxiproxy REST client (API on port 8474), built on requests.

Only the calls the harness needs: version, list/create/delete proxies,
enable/disable (a link outage), add/remove toxics and reset.

Why not a client from PyPI: the one Python client, toxiproxy-python, had its
last release (0.1.1) in January 2019 and does not fit. It needs the Python 2
compatibility package ``future``; it keeps the server's host and port as
class attributes of its API consumer, so one process talks to one server
(the harness starts a private server on a free port, and drills and the
flapper call it from their own threads); it sends its requests without a
timeout, so a hung API would hang a drill; it has no types. testcontainers
for Python has no Toxiproxy module (its Java, Go and Node siblings do).
Toxiproxy's REST API is small and stable, so these 60 lines are the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


class ToxiproxyError(RuntimeError):
    pass


@dataclass(frozen=True)
class Proxy:
    name: str
    listen: str
    upstream: str
    enabled: bool


class Toxiproxy:
    def __init__(self, url: str = "http://127.0.0.1:8474", timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            resp = self.http.request(method, self.url + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ToxiproxyError(f"{method} {path}: {exc}") from exc
        if resp.status_code >= 400:
            raise ToxiproxyError(f"{method} {path}: HTTP {resp.status_code} {resp.text.strip()}")
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    def version(self) -> str:
        return str(self._call("GET", "/version")).strip()

    def proxies(self) -> dict[str, Proxy]:
        data = self._call("GET", "/proxies") or {}
        return {name: Proxy(name, p["listen"], p["upstream"], bool(p["enabled"])) for name, p in data.items()}

    def create(self, name: str, listen: str, upstream: str) -> Proxy:
        """Create the proxy, replacing one of the same name (and its toxics)."""
        if name in self.proxies():
            self.delete(name)
        p = self._call("POST", "/proxies", {"name": name, "listen": listen, "upstream": upstream})
        return Proxy(p["name"], p["listen"], p["upstream"], bool(p["enabled"]))

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{name}")

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Disabling a proxy closes its connections and refuses new ones: a link outage."""
        self._call("POST", f"/proxies/{name}", {"enabled": enabled})

    def toxics(self, name: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/proxies/{name}/toxics") or [])

    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> None:
        self._call("POST", f"/proxies/{proxy}/toxics", toxic)

    def remove_toxic(self, proxy: str, toxic: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}")

    def reset(self) -> None:
        """Re-enable every proxy and drop every toxic."""
        self._call("POST", "/reset")
