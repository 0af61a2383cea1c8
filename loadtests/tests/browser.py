"""Open a page in Debian's headless Chromium and report what a person would see.

Driven through the Chrome DevTools protocol (websocket-client), with a fresh
profile and every background service off. Returns the counts the tests ask
for and every console error or uncaught exception.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]


@dataclass
class PageCheck:
    title: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def check_page(path: Path, expressions: dict[str, str], timeout: float = 30.0) -> PageCheck:
    if not Path(CHROMIUM).exists():
        # a failure, never a skip: the project installs it (make test runs host-packages.sh)
        raise RuntimeError("chromium not found; install it with: sudo bash rig/host-packages.sh")
    profile = tempfile.mkdtemp(prefix="lt-chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        import urllib.request  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        targets: list[dict[str, Any]] = []
        while not targets:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                targets = [t for t in json.load(resp) if t.get("type") == "page"]
            if time.monotonic() > deadline:
                raise RuntimeError("no page target")
        ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=timeout)
        return _drive(ws, path, expressions, timeout)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def _drive(ws: Any, path: Path, expressions: dict[str, str], timeout: float) -> PageCheck:
    out = PageCheck()
    ids = iter(range(1, 10_000))

    def send(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        mid = next(ids)
        ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            _collect(msg, out)
            if msg.get("id") == mid:
                return dict(msg.get("result") or {})
        raise RuntimeError(f"no answer to {method}")

    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        send(domain)
    send("Page.navigate", {"url": path.resolve().as_uri()})
    deadline = time.monotonic() + timeout
    loaded = False
    while not loaded and time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        _collect(msg, out)
        loaded = msg.get("method") == "Page.loadEventFired"
    if not loaded:
        raise RuntimeError("page did not load")
    for name, expr in {"title": "document.title", **expressions}.items():
        res = send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in res:
            out.errors.append(f"evaluating {name}: {res['exceptionDetails'].get('text')}")
        out.values[name] = res.get("result", {}).get("value")
    out.title = str(out.values.pop("title", ""))
    ws.close()
    return out


def _collect(msg: dict[str, Any], out: PageCheck) -> None:
    method = msg.get("method")
    params = msg.get("params") or {}
    if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
        out.errors.append(
            "console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
        )
    elif method == "Runtime.exceptionThrown":
        out.errors.append("exception: " + str(params.get("exceptionDetails", {}).get("text")))
    elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        out.errors.append("log: " + str(params["entry"].get("text")))
