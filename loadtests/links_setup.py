"""Start (or reuse) Toxiproxy and create one proxy per link class with its toxics."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.links import LinkProfile, toxics_for
from loadtests.toxiproxy import Toxiproxy, ToxiproxyError

REPO = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def toxiproxy_binary() -> str:
    """Path of toxiproxy-server, built by tools/rig/toxiproxy.sh when missing."""
    done = subprocess.run(
        ["bash", str(REPO / "tools" / "rig" / "toxiproxy.sh")],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise ToxiproxyError(f"tools/rig/toxiproxy.sh failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip().splitlines()[-1]


@dataclass
class LinkRig:
    api: Toxiproxy
    process: subprocess.Popen[bytes] | None = None
    proxies: dict[str, str] = field(default_factory=dict)  # link class -> proxy name
    urls: dict[str, str] = field(default_factory=dict)  # link class -> base URL for the users

    def close(self) -> None:
        for name in self.proxies.values():
            with contextlib.suppress(ToxiproxyError):
                self.api.delete(name)
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
        return LinkRig(api)
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
            return LinkRig(api, proc)
        except ToxiproxyError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.2)


def create_links(
    rig: LinkRig, target: str, profiles: dict[str, LinkProfile], classes: set[str], run_id: str
) -> None:
    """One proxy per link class in use: 127.0.0.1:<port> -> the ERP entrypoint, with the class's toxics."""
    parts = urlsplit(target)
    upstream = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    for link in sorted(classes):
        name = f"lt-{run_id}-{link}"
        port = free_port()
        rig.api.create(name, f"127.0.0.1:{port}", upstream)
        for toxic in toxics_for(profiles[link]):
            rig.api.add_toxic(name, toxic)
        rig.proxies[link] = name
        rig.urls[link] = f"{parts.scheme}://127.0.0.1:{port}"
