"""Independent probes of the app tier (molecule/app_tier verify), run on the controller.

    python tests/probes/app_tier.py functional --out results/app_tier/functional.json ...
    python tests/probes/app_tier.py kill-drill --out results/app_tier/kill_drill.json ...
    python tests/probes/app_tier.py rolling --out results/app_tier/rolling_restart.json -- ansible-playbook

Everything goes through Traefik over TLS (verified against the project CA)
with the ERP host name, as a branch would. Which Odoo node served a request is
read from Traefik's JSON access log on the ingress host (ServiceURL), and
rotation state from Traefik's API; the probes never trust the roles' own
variables. Load is a small bounded client: a few threads, each with its own
Odoo session, pacing its calls, stopped by time and by a request cap.
Figures are written to JSON files; exit status 1 when a check fails.
JSON-RPC bodies are the harness's (loadtests.odoo_client), so the probe and
the load speak the same envelope.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import urllib3

from loadtests.odoo_client import OdooClient, envelope

DB = "retail"
LOGIN = "admin"
PASSWORD = "admin"  # the double's test user (rig/odoo_double/README.md)
STICKY = "odoo_node"


def sticky_value(server_url: str) -> str:
    """Traefik v3's sticky cookie value for a server: sha256 of its URL, first 16 hex digits."""
    return hashlib.sha256(server_url.encode()).hexdigest()[:16]


@dataclass
class Target:
    ingress: str
    host: str
    ca: str
    port: int = 443

    def url(self, path: str) -> str:
        return f"https://{self.ingress}:{self.port}{path}"


class Client:
    """One Odoo web session through the ingress."""

    def __init__(self, target: Target, timeout: float = 5.0) -> None:
        self.target = target
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override the project CA
        self.http.verify = target.ca
        self.http.headers["Host"] = target.host
        self.odoo = OdooClient(target.url(""), DB, timeout=timeout, verify=target.ca, session=self.http)

    def pin(self, server_url: str) -> None:
        """Send Traefik's sticky cookie for that server (replacing the one Traefik set)."""
        for cookie in [c for c in self.http.cookies if c.name == STICKY]:
            self.http.cookies.clear(cookie.domain, cookie.path, cookie.name)
        self.http.cookies.set(STICKY, sticky_value(server_url))

    def rpc(self, path: str, params: dict[str, Any], tag: str = "") -> requests.Response:
        return self.odoo.post(path + (f"?probe={tag}" if tag else ""), params)

    def login(self, tag: str = "") -> dict[str, Any]:
        resp = self.rpc("/web/session/authenticate", {"db": DB, "login": LOGIN, "password": PASSWORD}, tag)
        payload: dict[str, Any] = resp.json()
        return payload

    def search_read(self, tag: str = "") -> requests.Response:
        params = {
            "model": "product.product",
            "method": "search_read",
            "args": [],
            "kwargs": {"domain": [], "fields": ["id", "display_name"], "limit": 5},
        }
        return self.rpc("/web/dataset/call_kw/product.product/search_read", params, tag)


def ok_result(resp: requests.Response) -> bool:
    if resp.status_code != 200:
        return False
    try:
        payload = resp.json()
    except ValueError:
        return False
    return isinstance(payload, dict) and "error" not in payload and "result" in payload


def access_log(container: str, path: str = "/var/log/traefik/access.log") -> list[dict[str, Any]]:
    out = subprocess.run(
        ["docker", "exec", container, "cat", path], capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def served_by(entries: list[dict[str, Any]], tag: str) -> list[str]:
    return [str(e.get("ServiceURL", "")) for e in entries if f"probe={tag}" in str(e.get("RequestPath", ""))]


def server_status(api: str, service: str = "odoo@file") -> dict[str, str]:
    resp = requests.get(f"{api}/api/http/services/{service}", timeout=2)
    resp.raise_for_status()
    status: dict[str, str] = resp.json().get("serverStatus", {})
    return status


# --------------------------------------------------------------------- load


@dataclass
class Outcome:
    at: float
    ok: bool
    detail: str


@dataclass
class Load:
    """A bounded, paced load: `threads` sessions, each calling every `pace` seconds."""

    target: Target
    threads: int = 4
    pace: float = 0.2
    max_seconds: float = 300.0
    max_requests: int = 20000
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _record(self, ok: bool, detail: str) -> bool:
        with self._lock:
            self.outcomes.append(Outcome(time.monotonic(), ok, detail))
            return len(self.outcomes) < self.max_requests

    def _work(self) -> None:
        client = Client(self.target)
        deadline = time.monotonic() + self.max_seconds
        logged_in = False
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                if not logged_in:
                    payload = client.login()
                    logged_in = bool(payload.get("result", {}).get("uid"))
                    more = self._record(logged_in, "login" if logged_in else f"login: {payload.get('error')}")
                else:
                    resp = client.search_read()
                    good = ok_result(resp)
                    more = self._record(good, "ok" if good else f"HTTP {resp.status_code}: {resp.text[:120]}")
            except requests.RequestException as exc:
                more = self._record(False, f"{type(exc).__name__}: {str(exc)[:120]}")
            if not more:
                break
            self._stop.wait(max(0.0, self.pace - (time.monotonic() - started)))

    def start(self) -> None:
        for _index in range(self.threads):
            worker = threading.Thread(target=self._work, daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=10)

    def summary(self, since: float = 0.0, until: float = float("inf")) -> dict[str, Any]:
        with self._lock:
            window = [o for o in self.outcomes if since <= o.at <= until]
        failures = [o for o in window if not o.ok]
        kinds: dict[str, int] = {}
        for o in failures:
            kinds[o.detail[:60]] = kinds.get(o.detail[:60], 0) + 1
        return {"requests": len(window), "failed": len(failures), "failure_kinds": kinds}


# --------------------------------------------------------------- functional


def functional(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    checks: dict[str, Any] = {}

    def check(name: str, passed: bool, **detail: Any) -> None:
        checks[name] = {"passed": passed, **detail}
        if not passed:
            problems.append(f"{name}: {detail}")

    nodes = args.node_url
    for ingress in args.ingress:
        target = Target(ingress, args.host, args.ca)
        client = Client(target)
        login = client.login()
        uid = login.get("result", {}).get("uid")
        resp = client.search_read()
        check(f"login_call_kw[{ingress}]", uid == 2 and ok_result(resp), uid=uid, status=resp.status_code)

        headers = {k.lower(): v for k, v in resp.headers.items()}
        check(
            f"security_headers[{ingress}]",
            "max-age=31536000" in headers.get("strict-transport-security", "")
            and "includesubdomains" in headers.get("strict-transport-security", "").lower()
            and headers.get("x-content-type-options") == "nosniff"
            and headers.get("x-frame-options") == "DENY",
            headers={
                k: headers.get(k)
                for k in (
                    "strict-transport-security",
                    "x-content-type-options",
                    "x-frame-options",
                    "referrer-policy",
                )
            },
        )

        plain = requests.get(
            f"http://{ingress}/web/login", headers={"Host": args.host}, allow_redirects=False, timeout=5
        )
        check(
            f"http_redirects[{ingress}]",
            plain.status_code in (301, 308)
            and plain.headers.get("Location", "").startswith(f"https://{args.host}/"),
            status=plain.status_code,
            location=plain.headers.get("Location"),
        )

        for path in ("/web/database/manager", "/web/database/selector", "/xmlrpc/2/db"):
            denied = client.http.get(target.url(path), timeout=5, allow_redirects=False)
            check(
                f"refused[{ingress}{path}]",
                denied.status_code == 403 and "X-Odoo-Double" not in denied.headers,
                status=denied.status_code,
            )
        db_service = client.http.post(
            target.url("/jsonrpc"),
            json=envelope({"service": "db", "method": "list", "args": []}),
            timeout=5,
        )
        check(f"refused[{ingress}/jsonrpc db]", db_service.status_code == 403, status=db_service.status_code)

        partner = client.http.get(
            Target(ingress, args.host, args.ca, port=9443).url("/payment/status"), timeout=5
        )
        check(
            f"allow_list_refuses_other_sources[{ingress}:9443]",
            partner.status_code == 403,
            status=partner.status_code,
        )

    # A session opened on one node is used on the other (sessions in Redis).
    ingress = args.ingress[0]
    target = Target(ingress, args.host, args.ca)
    client = Client(target)
    tags = {"login": uuid.uuid4().hex, "other": uuid.uuid4().hex, "ws": uuid.uuid4().hex}
    client.pin(nodes[0])
    login = client.login(tags["login"])
    client.pin(nodes[1])
    other = client.search_read(tags["other"])
    ws = client.http.get(target.url(f"/websocket?probe={tags['ws']}"), timeout=5)
    time.sleep(0.5)
    entries = access_log(args.ingress_container[0])
    login_by, other_by, ws_by = (served_by(entries, tags[k]) for k in ("login", "other", "ws"))
    check(
        "session_survives_other_node",
        bool(login.get("result", {}).get("uid"))
        and ok_result(other)
        and login_by == [nodes[0]]
        and other_by == [nodes[1]],
        login_served_by=login_by,
        call_kw_served_by=other_by,
        call_kw_status=other.status_code,
    )
    check(
        "websocket_routed_to_8072",
        len(ws_by) == 1 and ws_by[0].endswith(":8072") and "X-Odoo-Double" in ws.headers,
        served_by=ws_by,
        status=ws.status_code,
    )
    check("access_log_is_json", len(entries) > 0, entries=len(entries))

    metrics = requests.get(f"http://{ingress}:8082/metrics", timeout=5).text
    check(
        "prometheus_metrics",
        "traefik_service_requests_total" in metrics and "traefik_service_server_up" in metrics,
    )
    return {"checks": checks}, problems


# --------------------------------------------------------------- kill drill


def wait_status(api: str, server: str, want: str, limit: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            if server_status(api).get(server) == want:
                return time.monotonic()
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return None


def kill_drill(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    target = Target(args.ingress[0], args.host, args.ca)
    api = f"http://{args.ingress[0]}:8080"
    victim_url = args.node_url[1]
    configured = args.health_interval + args.health_timeout
    load = Load(target, threads=args.threads, pace=args.pace, max_seconds=args.max_seconds)
    load.start()
    time.sleep(args.warmup)
    killed_at = time.monotonic()
    subprocess.run(
        ["docker", "exec", args.victim_container, "docker", "kill", args.odoo_container],
        check=True,
        capture_output=True,
    )
    removed_at = wait_status(api, victim_url, "DOWN", limit=10 * configured)
    time.sleep(args.settle)
    after_removal_until = time.monotonic()
    restarted_at = time.monotonic()
    subprocess.run(
        ["docker", "exec", args.victim_container, "docker", "start", args.odoo_container],
        check=True,
        capture_output=True,
    )
    rejoined_at = wait_status(api, victim_url, "UP", limit=120)
    time.sleep(args.settle)
    load.stop()

    probe = Client(target)
    probe.login()
    probe.pin(victim_url)
    tag = uuid.uuid4().hex
    served_again = ok_result(probe.search_read(tag))
    time.sleep(0.5)
    rejoin_by = served_by(access_log(args.ingress_container[0]), tag)

    removal = None if removed_at is None else removed_at - killed_at
    result = {
        "victim": victim_url,
        "configured_interval_plus_timeout_s": configured,
        "time_to_removal_s": None if removal is None else round(removal, 3),
        "removed_within_interval_plus_timeout": removal is not None and removal <= configured,
        "time_to_rejoin_after_restart_s": None
        if rejoined_at is None
        else round(rejoined_at - restarted_at, 3),
        "served_by_victim_after_rejoin": rejoin_by,
        "load": {"threads": args.threads, "pace_s": args.pace},
        "total": load.summary(),
        "kill_to_removal": load.summary(killed_at, removed_at or after_removal_until),
        "after_removal": load.summary(removed_at or after_removal_until, after_removal_until),
        "after_restart": load.summary(restarted_at),
    }
    if removed_at is None:
        problems.append(f"{victim_url} never left rotation (no DOWN within {10 * configured:.0f}s)")
    if rejoined_at is None or not served_again or rejoin_by != [victim_url]:
        problems.append(f"{victim_url} did not rejoin: UP={rejoined_at is not None}, served={rejoin_by}")
    if result["after_removal"]["failed"]:
        problems.append(f"requests failed after the node left rotation: {result['after_removal']}")
    return result, problems


# ------------------------------------------------------------------ rolling


def rolling(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    target = Target(args.ingress[0], args.host, args.ca)
    load = Load(target, threads=args.threads, pace=args.pace, max_seconds=args.max_seconds)
    load.start()
    time.sleep(args.warmup)
    started = time.monotonic()
    proc = subprocess.run(args.command, capture_output=True, text=True, check=False)
    duration = time.monotonic() - started
    time.sleep(args.settle)
    load.stop()
    Path(args.out).with_suffix(".log").write_text(proc.stdout + proc.stderr)
    summary = load.summary()
    result = {"playbook_rc": proc.returncode, "playbook_seconds": round(duration, 1), "load": summary}
    problems = []
    if proc.returncode != 0:
        problems.append(f"playbook failed (rc {proc.returncode}); log {Path(args.out).with_suffix('.log')}")
    if summary["failed"]:
        problems.append(
            f"{summary['failed']} requests failed during the rolling restart: {summary['failure_kinds']}"
        )
    if summary["requests"] == 0:
        problems.append("the load client made no request")
    return result, problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("probe", choices=["functional", "kill-drill", "rolling"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", required=True, help="ERP host name routed by Traefik")
    parser.add_argument("--ca", required=True, help="project CA certificate")
    parser.add_argument("--ingress", action="append", required=True, help="ingress address (repeat)")
    parser.add_argument(
        "--ingress-container", action="append", required=True, help="its container (access log)"
    )
    parser.add_argument(
        "--node-url", action="append", required=True, help="Odoo server URL as Traefik has it"
    )
    parser.add_argument("--victim-container", default="")
    parser.add_argument("--odoo-container", default="odoo")
    parser.add_argument("--health-interval", type=float, default=2.0)
    parser.add_argument("--health-timeout", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pace", type=float, default=0.2)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1 :]  # rolling: the playbook command line, after --
    urllib3.disable_warnings()
    runner = {"functional": functional, "kill-drill": kill_drill, "rolling": rolling}[args.probe]
    result, problems = runner(args)
    result["problems"] = problems
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
