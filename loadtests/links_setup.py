"""Start (or reuse) Toxiproxy and create one proxy per route: (link class, upstream, server), with its toxics.

A branch's route is its link class and the ERP address its link leads to:
the branch's ``vars.erp_url`` (e.g. its relay into the VPN) when the
register gives one, else ``--host``. Branches sharing a route share a proxy;
a link drill on a class acts on every proxy of that class.

With Locust workers on the branch nodes (``loadtests.distributed``) each
branch's proxy lives on the Toxiproxy of its own node (the route's
``server``), listening on that node's loopback, and leads to the ERP
entrypoint through the branch's tunnel.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.endpoints import host_port
from loadtests.links import LinkProfile, toxics_for
from loadtests.toxiproxy import Toxiproxy, ToxiproxyError

REPO = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def toxiproxy_binary() -> str:
    """Path of toxiproxy-server for ``--toxiproxy auto``.

    In a checkout, rig/toxiproxy.sh builds the pinned release when missing. An
    installed harness has no rig: it takes toxiproxy-server from PATH, else from
    the rig cache ($RIG_CACHE/bin, where a checkout's rig/toxiproxy.sh put it).
    """
    script = REPO / "rig" / "toxiproxy.sh"
    if script.is_file():
        done = subprocess.run(
            ["bash", str(script)],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if done.returncode != 0:
            raise ToxiproxyError(f"rig/toxiproxy.sh failed: {done.stderr.strip()[-500:]}")
        return done.stdout.strip().splitlines()[-1]
    cache = os.environ.get("RIG_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "retailops-rig"
    )
    found = shutil.which("toxiproxy-server") or shutil.which(
        "toxiproxy-server", path=str(Path(cache) / "bin")
    )
    if found is None:
        raise ToxiproxyError(
            "--toxiproxy auto needs toxiproxy-server: none on PATH nor in "
            f"{Path(cache) / 'bin'} (a checkout's `bash rig/toxiproxy.sh` builds it there); "
            "or give --toxiproxy <API URL> of a running Toxiproxy, or --toxiproxy off"
        )
    return found


@dataclass(frozen=True, order=True)
class Route:
    """How a branch reaches the ERP: its link class and the ERP's base URL at the far end of that link."""

    link_class: str
    upstream: (
        str  # base URL: the branch's erp_url, else --host (or the ERP entrypoint seen from a branch node)
    )
    server: str = ""  # the Toxiproxy API carrying it: "" = the controller's, else a branch node's


@dataclass(frozen=True)
class LinkProxy:
    name: str
    route: Route
    listen: str  # 127.0.0.1:<port>, on the controller or on the branch node of route.server
    url: str  # base URL the branch's users connect to
    api: Toxiproxy = field(compare=False, repr=False)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "link_class": self.route.link_class,
            "listen": self.listen,
            "upstream": self.route.upstream,
            "url": self.url,
            "server": self.route.server,
        }

    def set_enabled(self, enabled: bool) -> None:
        self.api.set_enabled(self.name, enabled)


@dataclass
class LinkRig:
    """The Toxiproxy servers of a run (by API URL, "" = the controller's own) and the proxies made on them."""

    servers: dict[str, Toxiproxy]
    process: subprocess.Popen[bytes] | None = None
    proxies: dict[Route, LinkProxy] = field(default_factory=dict)

    def links_by_class(self) -> dict[str, list[LinkProxy]]:
        """Link class -> its proxies (one per upstream and server)."""
        out: dict[str, list[LinkProxy]] = {}
        for route, proxy in sorted(self.proxies.items()):
            out.setdefault(route.link_class, []).append(proxy)
        return out

    def version(self) -> str:
        return ", ".join(sorted({api.version() for api in self.servers.values()}))

    def close(self) -> None:
        for proxy in self.proxies.values():
            with contextlib.suppress(ToxiproxyError):
                proxy.api.delete(proxy.name)
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_toxiproxy(where: str, log_path: Path) -> LinkRig:
    """``where`` is ``auto`` (start a private toxiproxy-server on loopback) or an API URL."""
    if where != "auto":
        api = Toxiproxy(where)
        api.version()
        return LinkRig({"": api})
    port = free_port()
    log = log_path.open("ab")
    proc = subprocess.Popen(
        [toxiproxy_binary(), "-host", "127.0.0.1", "-port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    api = Toxiproxy(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 20
    while True:
        try:
            api.version()
            return LinkRig({"": api}, proc)
        except ToxiproxyError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.2)


def branch_servers(urls: set[str]) -> LinkRig:
    """The Toxiproxy servers on the branch nodes (workers on the branches): each must answer."""
    servers: dict[str, Toxiproxy] = {}
    for url in sorted(urls):
        api = Toxiproxy(url)
        try:
            api.version()
        except ToxiproxyError as exc:
            raise ToxiproxyError(f"the Toxiproxy of a branch node does not answer at {url}: {exc}") from exc
        servers[url] = api
    return LinkRig(servers)


def proxy_name(run_id: str, route: Route) -> str:
    """``lt-<run>-<class>-<host>-<port>[-at-<branch node>]``: readable in the API and the report."""
    upstream = re.sub(r"[^A-Za-z0-9.]+", "-", host_port(route.upstream)).strip("-")
    at = f"-at-{urlsplit(route.server).hostname}" if route.server else ""
    return f"lt-{run_id}-{route.link_class}-{upstream}{at}"


def create_links(
    rig: LinkRig,
    routes: set[Route],
    profiles: dict[str, LinkProfile],
    run_id: str,
    listen_host: str = "127.0.0.1",
) -> None:
    """One proxy per route in use: ``listen_host:<port>`` -> the route's upstream, with its class's toxics.

    On the controller's Toxiproxy the port is a free one of this machine; on a
    branch node's, port 0 lets that Toxiproxy pick one, and the listener it
    reports is the one the branch's users connect to.
    """
    taken = {p.name for p in rig.proxies.values()}
    for route in sorted(routes):
        name = proxy_name(run_id, route)
        n = 1
        while name in taken:  # same class and host:port, another scheme or path, or another branch node
            n += 1
            name = f"{proxy_name(run_id, route)}-{n}"
        taken.add(name)
        api = rig.servers[route.server]
        port = free_port(listen_host) if not route.server else 0
        listen = api.create(name, f"{listen_host}:{port}", host_port(route.upstream)).listen
        parts = urlsplit(route.upstream)
        rig.proxies[route] = LinkProxy(name, route, listen, f"{parts.scheme}://{listen}{parts.path}", api)
        for toxic in toxics_for(profiles[route.link_class]):
            api.add_toxic(name, toxic)
