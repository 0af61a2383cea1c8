"""Independent probes of Odoo tenants on Kubernetes (molecule/kubernetes verify), run on the controller.

    python tests/probes/odoo_kubernetes.py ready --namespace retail --node rig-node-1 --node rig-node-2 \\
        --out ...
    python tests/probes/odoo_kubernetes.py login --namespace retail --db retail --client-namespace ingress \\
        --client-label app.kubernetes.io/name=traefik --out ...
    python tests/probes/odoo_kubernetes.py policy --namespace retail --client-namespace ingress \\
        --client-label app.kubernetes.io/name=traefik --foreign-namespace stranger \\
        --data 10.213.30.13:6432 --closed 10.213.30.11:8008 --out ...
    python tests/probes/odoo_kubernetes.py ingress --ingress-namespace ingress --address 10.254.1.13 \\
        --host retail.erp.rig.test --db retail --ca ca.pem --sticky-cookie odoo_node \\
        --foreign-namespace stranger --out ...
    python tests/probes/odoo_kubernetes.py snapshot --namespace retail --out before.json
    python tests/probes/odoo_kubernetes.py unchanged --before before.json --namespace retail --out ...

They read the cluster through its API (the kubernetes package) and act from
inside pods: the HTTP pods are whatever the Service odoo-http routes to (its
EndpointSlices), the cron pods whatever the Deployment odoo-cron selects;
nothing comes from the role's variables. Connections are real TCP connects
made from inside pods the probe starts itself (the Odoo image, which has
Python): a client standing for the ingress controller, and a stranger in a
namespace of its own with no labels. Each denied connection is paired with
the same connection succeeding from where it is allowed (or from this
machine), so a closed port means a policy, not a stopped service. Figures go
to a JSON file; exit status 1 when a check fails.

The ingress probe acts as a branch would, from this machine: through the
ingress controller's NodePort (read from its Service) on a node's address,
over TLS verified against the given CA with the host as SNI (none for an
address), it logs in, expects the security headers and the HTTP service's
sticky cookie (secure, httpOnly) or, with --no-sticky, none, a 403 for the
database manager, and a redirect to HTTPS on the HTTP port. From
a pod in a foreign namespace (a source outside the allow lists), the same
host through the ingress Service must answer 403.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import ipaddress
import json
import socket
import ssl
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.stream import stream

from loadtests.odoo_client import authenticate_route, envelope

PROBE_LABEL = "retailops.io/probe"
# Run inside a pod: one TCP connect per host:port argument, side by side; prints {target: "open" | error}.
CONNECT = """
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
def connect(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=float(sys.argv[1])).close()
        return "open"
    except OSError as exc:
        return type(exc).__name__ + ": " + str(exc)
targets = sys.argv[2:]
with ThreadPoolExecutor(max(1, len(targets))) as pool:
    print(json.dumps(dict(zip(targets, pool.map(connect, targets)))))
"""
# Run inside a pod: GET /web/health through the Service, log in through it,
# then ask every HTTP pod directly for the session (is it shared?).
LOGIN = """
import json, sys, urllib.request
service, db, login, password = sys.argv[1:5]
pods = sys.argv[5:]
out = {}
def call(base, path, params, cookie=None):
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}).encode()
    req = urllib.request.Request(base + path, data=body, headers={"Content-Type": "application/json"})
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=15) as resp:
        return json.load(resp), resp.headers.get("Set-Cookie", "")
with urllib.request.urlopen(service + "/web/health", timeout=10) as resp:
    out["health"] = {"status": resp.status, "body": json.load(resp)}
credentials = {"db": db, "login": login, "password": password}
payload, set_cookie = call(service, "/web/session/authenticate", credentials)
out["login"] = {"uid": (payload.get("result") or {}).get("uid"), "error": payload.get("error")}
cookie = set_cookie.split(";")[0]
out["session_cookie"] = bool(cookie)
out["pods"] = {}
for pod in pods:
    try:
        info, _ = call("http://" + pod, "/web/session/get_session_info", {}, cookie)
        out["pods"][pod] = (info.get("result") or {}).get("uid")
    except Exception as exc:
        out["pods"][pod] = "error: " + str(exc)
print(json.dumps(out))
"""

# Run inside a pod: GET / through the ingress Service with a Host header;
# prints {"status": N} (the certificate is the host-side probe's subject).
THROUGH_INGRESS = """
import http.client, json, ssl, sys
address, port, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
conn = http.client.HTTPSConnection(address, port, timeout=10, context=context)
conn.request("GET", "/web/login", headers={"Host": host})
print(json.dumps({"status": conn.getresponse().status}))
"""


class Cluster:
    def __init__(self, kubeconfig: str | None) -> None:
        config.load_kube_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        self.core = client.CoreV1Api()
        self.apps = client.AppsV1Api()
        self.discovery = client.DiscoveryV1Api()
        self.api = client.ApiClient()

    # ------------------------------------------------------------- reading

    def http_endpoints(self, namespace: str) -> list[dict[str, Any]]:
        """The pods the Service odoo-http lists: name, address, node, ready, terminating (an old pod
        finishing its requests after a rollout, which gets no new ones)."""
        slices = self.discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=odoo-http"
        )
        found = []
        for item in slices.items:
            for endpoint in item.endpoints or []:
                found.append(
                    {
                        "pod": endpoint.target_ref.name if endpoint.target_ref else "",
                        "address": endpoint.addresses[0],
                        "node": endpoint.node_name,
                        "ready": bool(endpoint.conditions and endpoint.conditions.ready),
                        "terminating": bool(endpoint.conditions and endpoint.conditions.terminating),
                    }
                )
        return sorted(found, key=lambda e: str(e["pod"]))

    def deployment(self, namespace: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.apps.read_namespaced_deployment(name, namespace).to_dict()
        return found

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.core.read_namespaced_pod(name, namespace).to_dict()
        return found

    def deployment_pods(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """The pods a Deployment's selector selects, those being deleted left out."""
        labels = self.deployment(namespace, name)["spec"]["selector"]["match_labels"]
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        pods = [p.to_dict() for p in self.core.list_namespaced_pod(namespace, label_selector=selector).items]
        return [p for p in pods if p["metadata"]["deletion_timestamp"] is None]

    # ------------------------------------------------------------- probe pods

    def probe_pod(self, namespace: str, labels: dict[str, str], image: str) -> str:
        """A pod of the probe in `namespace` (made if missing) with `labels`; its name once it runs."""
        try:
            self.core.read_namespace(namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.core.create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace, labels={PROBE_LABEL: "true"}))
            )
        name = f"probe-{uuid.uuid4().hex[:8]}"
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels={**labels, PROBE_LABEL: "true"}),
            spec=client.V1PodSpec(
                restart_policy="Never",
                termination_grace_period_seconds=0,
                automount_service_account_token=False,
                # what Pod Security "restricted" asks (the ingress namespace enforces it)
                security_context=client.V1PodSecurityContext(
                    run_as_non_root=True,
                    run_as_user=65534,
                    seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
                ),
                containers=[
                    client.V1Container(
                        name="probe",
                        image=image,
                        image_pull_policy="IfNotPresent",
                        command=["sleep", "900"],
                        security_context=client.V1SecurityContext(
                            allow_privilege_escalation=False,
                            capabilities=client.V1Capabilities(drop=["ALL"]),
                        ),
                    )
                ],
            ),
        )
        self.core.create_namespaced_pod(namespace, pod)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.pod(namespace, name)["status"]["phase"] == "Running":
                return name
            time.sleep(1)
        raise RuntimeError(f"probe pod {namespace}/{name} is not running after 120 s")

    def remove_probe_pods(self, namespace: str) -> None:
        self.core.delete_collection_namespaced_pod(
            namespace, label_selector=PROBE_LABEL, grace_period_seconds=0
        )

    def pod_ip(self, namespace: str, name: str) -> str:
        return str(self.pod(namespace, name)["status"]["pod_ip"])

    def node_of(self, namespace: str, name: str) -> str:
        return str(self.pod(namespace, name)["spec"]["node_name"])

    def run(self, namespace: str, pod: str, argv: list[str], timeout: int = 90) -> Any:
        """Run argv in the pod's first container; its stdout parsed as JSON."""
        ws = stream(
            self.core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            command=argv,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        ws.run_forever(timeout=timeout)
        out, err = ws.read_stdout(), ws.read_stderr()
        ws.close()
        try:
            return json.loads(out)
        except ValueError as exc:
            raise RuntimeError(f"{namespace}/{pod}: {argv[:3]}... printed {out!r}, stderr {err!r}") from exc

    def connects(self, namespace: str, pod: str, targets: list[str], timeout: float = 3.0) -> dict[str, str]:
        if not targets:
            return {}
        result: dict[str, str] = self.run(namespace, pod, ["python3", "-c", CONNECT, str(timeout), *targets])
        return result


def connect_here(targets: list[str], timeout: float = 3.0) -> dict[str, str]:
    """The same TCP connects from this machine (the data tier's control)."""

    def one(target: str) -> str:
        host, port = target.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
            return "open"
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max(1, len(targets))) as pool:
        return dict(zip(targets, pool.map(one, targets), strict=True))


def label_map(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def request(
    address: str,
    port: int,
    host: str,
    method: str,
    path: str,
    *,
    ca: str | None,
    body: dict[str, Any] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request to address:port with Host `host`; over TLS checked against `ca` (SNI `host`) if given."""
    headers = {"Host": host, "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    sock = socket.create_connection((address, port), timeout=15)
    if ca:
        context = ssl.create_default_context(cafile=ca)
        # an address is checked against the certificate's IP names, and sent as no SNI
        sock = context.wrap_socket(sock, server_hostname=host)
    conn = http.client.HTTPConnection(host, port, timeout=15)
    conn.sock = sock
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


# ------------------------------------------------------------------ probes


def ready(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    endpoints = cluster.http_endpoints(args.namespace)
    http = cluster.deployment(args.namespace, "odoo-http")
    cron = cluster.deployment(args.namespace, "odoo-cron")
    cron_pods = cluster.deployment_pods(args.namespace, "odoo-cron")
    nodes = sorted({str(e["node"]) for e in endpoints if e["ready"]})
    http_ready, http_replicas = http["status"]["ready_replicas"] or 0, http["spec"]["replicas"] or 0
    strategy = cron["spec"]["strategy"]["type"]
    result = {
        "namespace": args.namespace,
        "http_endpoints": endpoints,
        "http_ready": f"{http_ready}/{http_replicas}",
        "http_nodes": nodes,
        "cron": {
            "replicas": cron["spec"]["replicas"],
            "strategy": strategy,
            "pods": [
                {"pod": p["metadata"]["name"], "node": p["spec"]["node_name"], "phase": p["status"]["phase"]}
                for p in cron_pods
            ],
        },
    }
    staying = [e for e in endpoints if not e["terminating"]]
    if not staying or not all(e["ready"] for e in staying):
        problems.append(f"odoo-http routes to pods that are not all ready: {endpoints}")
    if http_ready < max(2, http_replicas):
        problems.append(f"odoo-http has {http_ready} ready pods of {http_replicas}")
    missing = sorted(set(args.node) - set(nodes))
    if missing:
        problems.append(f"no ready HTTP pod on {', '.join(missing)} (pods on {nodes})")
    if len(cron_pods) != 1 or (cron["status"]["ready_replicas"] or 0) != 1:
        problems.append(
            f"cron: {len(cron_pods)} pods, {cron['status']['ready_replicas']} ready (one expected)"
        )
    if strategy != "Recreate":
        problems.append(f"cron strategy {strategy}: two cron runners may overlap")
    for node in args.absent_node:
        on_it = [str(e["pod"]) for e in endpoints if e["node"] == node]
        on_it += [str(p["metadata"]["name"]) for p in cron_pods if p["spec"]["node_name"] == node]
        if on_it:
            problems.append(f"{node} still runs {', '.join(on_it)}")
    return result, problems


def login(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    client_pod = cluster.probe_pod(args.client_namespace, label_map(args.client_label), args.image)
    try:
        pods = [f"{e['address']}:8069" for e in cluster.http_endpoints(args.namespace) if e["ready"]]
        service = f"http://odoo-http.{args.namespace}.svc.cluster.local:8069"
        seen = cluster.run(
            args.client_namespace,
            client_pod,
            ["python3", "-c", LOGIN, service, args.db, args.login, args.password, *pods],
        )
    finally:
        cluster.remove_probe_pods(args.client_namespace)
    result = {
        "namespace": args.namespace,
        "service": service,
        "client": f"{args.client_namespace}/{client_pod}",
        **seen,
    }
    if seen.get("health", {}).get("status") != 200:
        problems.append(f"/web/health through the Service: {seen.get('health')}")
    uid = seen.get("login", {}).get("uid")
    if not isinstance(uid, int):
        problems.append(f"login through the Service failed: {seen.get('login')}")
    elif len(pods) < 2 or any(v != uid for v in seen.get("pods", {}).values()):
        problems.append(f"the session is not valid on every HTTP pod: {seen.get('pods')}")
    return result, problems


def policy(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    endpoints = [e for e in cluster.http_endpoints(args.namespace) if e["ready"]]
    http = [f"{e['address']}:{port}" for e in endpoints for port in (8069, 8072)]
    cron = [f"{p['status']['pod_ip']}:8069" for p in cluster.deployment_pods(args.namespace, "odoo-cron")]
    odoo_pod = str(endpoints[0]["pod"]) if endpoints else ""
    client_pod = cluster.probe_pod(args.client_namespace, label_map(args.client_label), args.image)
    stranger = cluster.probe_pod(args.foreign_namespace, {}, args.image)
    try:
        seen = {
            "client": cluster.connects(args.client_namespace, client_pod, http + cron),
            "stranger": cluster.connects(args.foreign_namespace, stranger, http + cron + args.data),
            "odoo_pod": cluster.connects(args.namespace, odoo_pod, args.data + args.closed),
            "this_machine": connect_here(args.data + args.closed),
        }
        placement = {
            "client": cluster.node_of(args.client_namespace, client_pod),
            "stranger": cluster.node_of(args.foreign_namespace, stranger),
            "odoo_pod": f"{odoo_pod} on {cluster.node_of(args.namespace, odoo_pod)}" if odoo_pod else "",
        }
    finally:
        cluster.remove_probe_pods(args.client_namespace)
        cluster.remove_probe_pods(args.foreign_namespace)

    def expect(who: str, targets: list[str], state: str) -> None:
        for target in targets:
            got = seen[who].get(target, "not tried")
            if (got == "open") != (state == "open"):
                problems.append(f"{who} -> {target}: {got} (expected {state})")

    if not endpoints:
        problems.append("odoo-http has no ready pod to probe")
    expect("client", http, "open")  # the ingress controller reaches the HTTP pods
    expect("client", cron, "denied")  # ... and nothing else
    expect("stranger", http + cron, "denied")  # a foreign namespace reaches no Odoo pod
    expect("this_machine", args.data + args.closed, "open")  # the data tier's ports are up
    expect("odoo_pod", args.data, "open")  # Odoo reaches PgBouncer, Redis, Sentinel
    expect("stranger", args.data, "denied")  # a foreign pod does not
    expect("odoo_pod", args.closed, "denied")  # Odoo reaches nothing else
    result = {"namespace": args.namespace, "placement": placement, "connections": seen}
    if args.real_client:  # the stand-in carries the labels the ingress controller's own pods carry
        selector = ",".join(args.client_label)
        pods = cluster.core.list_namespaced_pod(args.client_namespace, label_selector=selector).to_dict()
        real = [
            p["metadata"]["name"] for p in pods["items"] if PROBE_LABEL not in (p["metadata"]["labels"] or {})
        ]
        result["real_clients"] = real
        if not real:
            problems.append(f"no pod of {args.client_namespace} but the probe's carries {selector}")
    return result, problems


SECURITY_HEADERS = ["Strict-Transport-Security", "X-Frame-Options", "X-Content-Type-Options"]


def ingress(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    service: dict[str, Any] = cluster.core.read_namespaced_service(
        "traefik", args.ingress_namespace
    ).to_dict()
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    https_port, http_port = int(ports["websecure"]["node_port"]), int(ports["web"]["node_port"])
    selector = ",".join(f"{k}={v}" for k, v in service["spec"]["selector"].items())
    pods = [
        p.to_dict()
        for p in cluster.core.list_namespaced_pod(args.ingress_namespace, label_selector=selector).items
    ]
    result: dict[str, Any] = {
        "host": args.host,
        "via": f"{args.address}:{https_port} (NodePort of {args.ingress_namespace}/traefik)",
        "traefik_pods": [
            {
                "pod": p["metadata"]["name"],
                "node": p["spec"]["node_name"],
                "ready": any(
                    c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"] or []
                ),
            }
            for p in pods
        ],
    }
    try:
        path, params = authenticate_route(args.db, args.login, args.password)
        status, headers, body = request(
            args.address, https_port, args.host, "POST", path, ca=args.ca, body=envelope(params)
        )
        uid = ((json.loads(body) if status == 200 else {}).get("result") or {}).get("uid")
        cookies = headers.get_all("Set-Cookie") or []
        sticky = [c for c in cookies if c.startswith(args.sticky_cookie + "=")]
        result["login"] = {"status": status, "uid": uid, "set_cookie": [c.split("=", 1)[0] for c in cookies]}
        result["security_headers"] = {h: headers.get(h) for h in SECURITY_HEADERS}
        result["sticky_cookie"] = sticky[0].split(";", 1)[1].strip() if sticky else None
        if not isinstance(uid, int):
            problems.append(f"login through the ingress failed: HTTP {status}, {body[:200]!r}")
        missing = [h for h in SECURITY_HEADERS if not headers.get(h)]
        if missing:
            problems.append(f"security headers missing: {', '.join(missing)}")
        flags = {f.strip().lower() for f in sticky[0].split(";")[1:]} if sticky else set()
        if args.sticky and not {"secure", "httponly"} <= flags:
            problems.append(f"no secure httpOnly sticky cookie {args.sticky_cookie}: {cookies}")
        if not args.sticky and sticky:
            problems.append(f"the HTTP service set the sticky cookie {args.sticky_cookie}: {sticky[0]}")
        status = request(args.address, https_port, args.host, "GET", "/web/database/manager", ca=args.ca)[0]
        result["database_manager"] = status
        if status != 403:
            problems.append(f"/web/database/manager answered {status} (403 expected)")
        status, headers = request(args.address, http_port, args.host, "GET", "/web/login", ca=None)[:2]
        result["http"] = {"status": status, "location": headers.get("Location")}
        if status not in (301, 308) or not str(headers.get("Location", "")).startswith("https://"):
            problems.append(
                f"HTTP answered {status} to {headers.get('Location')} (a redirect to HTTPS expected)"
            )
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        problems.append(f"through the ingress: {type(exc).__name__}: {exc}")
    if args.foreign_namespace:
        stranger = cluster.probe_pod(args.foreign_namespace, {}, args.image)
        try:
            seen = cluster.run(
                args.foreign_namespace,
                stranger,
                [
                    "python3",
                    "-c",
                    THROUGH_INGRESS,
                    service["spec"]["cluster_ip"],
                    str(ports["websecure"]["port"]),
                    args.host,
                ],
            )
        finally:
            cluster.remove_probe_pods(args.foreign_namespace)
        result["foreign_pod"] = {"pod": f"{args.foreign_namespace}/{stranger}", **seen}
        if seen.get("status") != 403:
            problems.append(
                f"a pod of {args.foreign_namespace} got {seen} through the ingress Service (403 expected)"
            )
    return result, problems


KINDS = [
    ("v1", "Namespace"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
]


def snapshot_of(cluster: Cluster) -> dict[str, str]:
    """A digest of what an apply sets (labels, annotations, spec, data) of every object of these kinds.

    A Deployment's replica count is left out: the autoscaler changes it."""
    dynamic = DynamicClient(cluster.api)  # type: ignore[no-untyped-call]
    digests: dict[str, str] = {}
    for api_version, kind in KINDS:
        for item in dynamic.resources.get(api_version=api_version, kind=kind).get().items:
            obj = item.to_dict()
            meta = obj["metadata"]
            if meta.get("namespace", "").startswith("kube-"):
                continue
            spec = dict(obj.get("spec") or {})
            if kind == "Deployment":
                spec.pop("replicas", None)  # the autoscaler's, not an apply's
            content = {
                "labels": meta.get("labels"),
                "annotations": meta.get("annotations"),
                "spec": spec,
                "data": obj.get("data"),
            }
            name = f"{kind}/{meta.get('namespace', '')}/{meta['name']}"
            digests[name] = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return digests


def snapshot(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    digests = snapshot_of(cluster)
    return {"objects": digests}, [] if digests else ["no object found"]


def unchanged(cluster: Cluster, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    before: dict[str, str] = json.loads(Path(args.before).read_text())["objects"]
    after = snapshot_of(cluster)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    problems = [
        f"{what}: {', '.join(names)}"
        for what, names in (("added", added), ("removed", removed), ("changed", changed))
        if names
    ]
    return {"objects": len(after), "added": added, "removed": removed, "changed": changed}, problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("probe", choices=["ready", "login", "policy", "ingress", "snapshot", "unchanged"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--namespace", default="")
    parser.add_argument("--node", action="append", default=[], help="a node that must run a ready HTTP pod")
    parser.add_argument("--absent-node", action="append", default=[], help="a node that must run no Odoo pod")
    parser.add_argument("--db", default="")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--client-namespace", default="")
    parser.add_argument(
        "--client-label", action="append", default=[], help="label of the allowed client, k=v"
    )
    parser.add_argument("--foreign-namespace", default="")
    parser.add_argument(
        "--real-client", action="store_true", help="policy: the client's labels are those of running pods"
    )
    parser.add_argument(
        "--data", action="append", default=[], help="host:port Odoo must reach (PgBouncer...)"
    )
    parser.add_argument("--closed", action="append", default=[], help="host:port Odoo must not reach")
    parser.add_argument("--image", default="retailops/rig-odoo-double:18.0", help="image of the probe's pods")
    parser.add_argument("--before", default="", help="unchanged: the snapshot file to compare with")
    parser.add_argument(
        "--ingress-namespace", default="", help="ingress: the namespace of the Service traefik"
    )
    parser.add_argument("--address", default="", help="ingress: a node's address (its NodePorts)")
    parser.add_argument("--host", default="", help="ingress: the host name (or address) asked for")
    parser.add_argument("--ca", default="", help="ingress: the CA the certificate must chain to")
    parser.add_argument("--sticky-cookie", default="odoo_node", help="ingress: the sticky cookie's name")
    parser.add_argument(
        "--sticky",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ingress: whether the HTTP service sets the sticky cookie (traefik_kubernetes_sticky_http)",
    )
    args = parser.parse_args()
    cluster = Cluster(args.kubeconfig)
    runner = {
        "ready": ready,
        "login": login,
        "policy": policy,
        "ingress": ingress,
        "snapshot": snapshot,
        "unchanged": unchanged,
    }
    result, problems = runner[args.probe](cluster, args)
    result["problems"] = problems
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "objects"}, indent=2, default=str))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
