"""prometheus' Kubernetes discovery service (files/retailops_kubernetes_sd.py) against a stand-in API server.

The stand-in answers GET /api/v1/namespaces/<namespace>/pods and
/api/v1/nodes over TLS with a
certificate its own CA signed for 127.0.0.1, to the one bearer token it
knows, as the API server answers the discovery account: 200 with the pods
for its namespace, 403 otherwise. The service runs as its unit runs it (a
JSON configuration, token and CA in files), one round (--once):

- every running pod with an address and a container port of the job's
  port name is a target of its own, <IP>:<port> (IPv6 in brackets),
  labelled instance=<pod> and the job's labels; pending, terminating,
  address-less pods and pods without that port are left out; the selector
  reaches the API server;
- role node: every node with an internal address is a target at its
  kubelet (status.daemonEndpoints, 10250 when absent), Ready or not (a
  lost node is a down target), a node being deleted is left out;
- an unchanged list leaves the file alone;
- a refused token or an API server whose certificate another CA signed
  fails the round (exit 1) and leaves the last targets in place;
- each round's outcome goes to the textfile (success 1 or 0 and the
  targets the file holds, per job), for TextfileCollectorFailing.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import ROOT

from tests.fixtures.pki import certificate, key_pem, new_key, pem

SCRIPT = ROOT / "roles" / "prometheus" / "files" / "retailops_kubernetes_sd.py"
TOKEN = "discovery-token-of-the-test"


def pod(
    name: str, ip: str, phase: str = "Running", ports: tuple[str, ...] = ("web", "metrics"), **meta: Any
) -> Any:
    return {
        "metadata": {"name": name, "namespace": "traefik", **meta},
        "spec": {
            "containers": [
                {
                    "name": "traefik",
                    "ports": [{"name": p, "containerPort": 9000 + i} for i, p in enumerate(ports)],
                }
            ]
        },
        "status": {"phase": phase, "podIP": ip},
    }


PODS = [
    pod("traefik-b", "10.244.3.12"),
    pod("traefik-a", "10.244.3.11"),
    pod("traefik-v6", "fd00::5"),
    pod("traefik-pending", "", phase="Pending"),
    pod("traefik-old", "10.244.3.9", deletionTimestamp="2026-12-06T10:00:00Z"),
    pod("traefik-done", "10.244.3.8", phase="Succeeded"),
    pod("other", "10.244.3.7", ports=("web",)),
]


def node(name: str, ip: str | None, ready: str = "True", port: int | None = 10250, **meta: Any) -> Any:
    status: dict[str, Any] = {
        "conditions": [{"type": "Ready", "status": ready}],
        "addresses": [{"type": "Hostname", "address": name}]
        + ([{"type": "InternalIP", "address": ip}] if ip else []),
    }
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return {"metadata": {"name": name, **meta}, "status": status}


NODES = [
    node("aks-odoo-2", "10.240.0.5"),
    node("aks-odoo-1", "10.240.0.4", ready="Unknown"),  # lost: still a target, which then is down
    node("aks-general-1", "10.240.0.6", port=None),
    node("aks-new", None),
    node("aks-gone", "10.240.0.9", deletionTimestamp="2026-12-06T10:00:00Z"),
]


class Api(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.answer(401, {"kind": "Status", "code": 401})
        elif self.path.startswith("/api/v1/namespaces/traefik/pods"):
            self.answer(200, {"kind": "PodList", "items": PODS})
        elif self.path.startswith("/api/v1/nodes"):
            self.answer(200, {"kind": "NodeList", "items": NODES})
        else:
            self.answer(403, {"kind": "Status", "code": 403})

    def answer(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("kubernetes-sd")
    ca_key = new_key()
    ca = certificate("kubernetes", ca_key, ca=True)
    key = new_key()
    (tmp / "server.crt").write_bytes(pem(certificate("kube-apiserver", key, (ca, ca_key), ips=["127.0.0.1"])))
    (tmp / "server.key").write_bytes(key_pem(key))
    (tmp / "ca.crt").write_bytes(pem(ca))
    (tmp / "other-ca.crt").write_bytes(pem(certificate("another", new_key(), ca=True)))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "server.crt", tmp / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"tmp": tmp, "url": f"https://127.0.0.1:{server.server_address[1]}"}
    server.shutdown()


def run(
    api: dict[str, Any], name: str, token: str = TOKEN, ca: str = "ca.crt", **fields: Any
) -> tuple[int, Path, str]:
    """One round of a job (the Traefik pods unless fields say otherwise) whose files are named name."""
    tmp: Path = api["tmp"]
    (tmp / f"{name}.token").write_text(token + "\n")
    job = {
        "name": "traefik",
        "role": "pod",
        "api_server": api["url"],
        "namespace": "traefik",
        "selector": "app.kubernetes.io/name=traefik,app.kubernetes.io/instance=traefik",
        "port": "metrics",
        "token_file": str(tmp / f"{name}.token"),
        "ca_file": str(tmp / ca),
        "labels": {"region": "eu-west"},
        "output": str(tmp / f"{name}.json"),
        **fields,
    }
    (tmp / f"{name}-sd.json").write_text(json.dumps({"jobs": [job]}))
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--config",
            str(tmp / f"{name}-sd.json"),
            "--once",
            "--textfile",
            str(tmp / f"{name}.prom"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.returncode, Path(job["output"]), result.stderr


def health(out: Path) -> dict[str, int]:
    """The job's lines of the round's textfile (beside the targets' file): {metric suffix: value}."""
    found = {}
    for line in out.with_suffix(".prom").read_text().splitlines():
        if line.startswith("retailops_kubernetes_sd_"):
            series, value = line.rsplit(" ", 1)
            name, labels = series.removeprefix("retailops_kubernetes_sd_").split("{")
            assert labels == 'kubernetes_job="traefik"}'
            found[name] = int(value)
    return found


def test_each_running_pod_with_the_port_is_a_target_of_its_own(api: dict[str, Any]) -> None:
    rc, out, err = run(api, "good")
    assert rc == 0, err
    assert json.loads(out.read_text()) == [
        {"labels": {"instance": "traefik-a", "region": "eu-west"}, "targets": ["10.244.3.11:9001"]},
        {"labels": {"instance": "traefik-b", "region": "eu-west"}, "targets": ["10.244.3.12:9001"]},
        {"labels": {"instance": "traefik-v6", "region": "eu-west"}, "targets": ["[fd00::5]:9001"]},
    ]
    assert (
        "/api/v1/namespaces/traefik/pods?labelSelector=app.kubernetes.io%2Fname%3Dtraefik%2C"
        "app.kubernetes.io%2Finstance%3Dtraefik" in Api.seen
    )
    assert TOKEN not in err
    assert health(out) == {"success": 1, "targets": 3}
    before = out.stat().st_mtime_ns
    rc, out, err = run(api, "good")
    assert rc == 0
    assert out.stat().st_mtime_ns == before  # unchanged: not rewritten


@pytest.mark.parametrize(("token", "ca"), [("a-token-the-api-refuses", "ca.crt"), (TOKEN, "other-ca.crt")])
def test_a_refused_token_or_an_unverified_server_keeps_the_last_targets(
    api: dict[str, Any], token: str, ca: str
) -> None:
    rc, out, err = run(api, "good")
    assert rc == 0, err
    last = out.read_text()
    rc, out, err = run(api, "good", token=token, ca=ca)
    assert rc == 1
    assert "listing the pods of traefik failed" in err
    assert ("401" in err) if token != TOKEN else ("CERTIFICATE_VERIFY_FAILED" in err)
    assert out.read_text() == last
    assert TOKEN not in err
    assert health(out) == {"success": 0, "targets": 3}  # failed, the last 3 targets kept


def test_each_node_is_a_target_at_its_kubelet_ready_or_not(api: dict[str, Any]) -> None:
    rc, out, err = run(api, "nodes", role="node", namespace="", port="", selector="kubernetes.io/os=linux")
    assert rc == 0, err
    assert json.loads(out.read_text()) == [
        {"labels": {"instance": "aks-general-1", "region": "eu-west"}, "targets": ["10.240.0.6:10250"]},
        {"labels": {"instance": "aks-odoo-1", "region": "eu-west"}, "targets": ["10.240.0.4:10250"]},
        {"labels": {"instance": "aks-odoo-2", "region": "eu-west"}, "targets": ["10.240.0.5:10250"]},
    ]
    assert "/api/v1/nodes?labelSelector=kubernetes.io%2Fos%3Dlinux" in Api.seen
    rc, out, err = run(api, "nodes", role="node", token="a-token-the-api-refuses")
    assert rc == 1
    assert "job traefik: listing the nodes failed" in err
