"""Independent probe of Prometheus scraping Traefik on Kubernetes (molecule/kubernetes verify).

    python -m tests.probes.k8s_scrape --kubeconfig admin.kubeconfig --namespace ingress \\
        --selector app.kubernetes.io/name=traefik --job traefik --foreign-namespace retail \\
        --prometheus-config DIR/prometheus.yml \\
        --sd-script roles/prometheus/files/retailops_kubernetes_sd.py \\
        --sd-config DIR/credentials/kubernetes-sd.json --data DIR/data --ingress-address 10.254.1.13 \\
        --ingress-ca ca.pem --out results/kubernetes/metrics.json

The configuration and the discovery service's jobs are the prometheus role's
(rendered by the verify play from its templates and variables); this probe
runs them as a monitoring node would: Debian's prometheus and the role's
discovery service (files/retailops_kubernetes_sd.py), both as the user
prometheus (which reads the token and the CA through their group), on this
machine, which reaches the API server and the pods' addresses. What it
expects comes from the cluster (the admin kubeconfig), never from the
roles' variables:

- the discovery account's token (the discovery service's token file) lists
  the ingress namespace's pods, and is refused (403) everything else: the
  pods of another namespace, every namespace's pods, a pod by name, a watch,
  the namespace's Secrets;
- the token and CA files are 0640, owner root, group prometheus;
- after requests through the ingress (its NodePort), every running pod the
  selector matches is an `up` target of the job, instance = the pod's name,
  region set; traefik_entrypoint_requests_total and
  traefik_router_requests_total of the job have series of every pod; the
  tiers' recording rule tier:retailops_requests:rate5m has a series.

Figures go to a JSON file; exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import grp
import http.client
import json
import os
import pwd
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client, config

from loadtests.links_setup import free_port
from loadtests.prometheus import Prometheus, PrometheusError

RULE = "tier:retailops_requests:rate5m"


def api_status(job: dict[str, Any], path: str) -> int:
    """The status of a GET on the API server with the discovery account's token, TLS verified."""
    token = Path(job["token_file"]).read_text().strip()
    context = ssl.create_default_context(cafile=job["ca_file"])
    request = urllib.request.Request(job["api_server"] + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def through_ingress(address: str, port: int, ca: str, count: int) -> list[int]:
    """GET /web/login on the ingress's websecure NodePort, the address as host (a tenant serves it)."""
    context = ssl.create_default_context(cafile=ca)
    statuses = []
    for _request in range(count):
        connection = http.client.HTTPSConnection(address, port, context=context, timeout=10)
        try:
            connection.request("GET", "/web/login")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        except OSError as error:
            statuses.append(-1)
            print(f"ingress request failed: {error}", file=sys.stderr)
        finally:
            connection.close()
    return statuses


def as_prometheus() -> dict[str, Any]:
    user = pwd.getpwnam("prometheus")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True, help="the ingress controller's namespace")
    parser.add_argument("--selector", required=True, help="label selector of the Traefik pods")
    parser.add_argument("--job", default="traefik")
    parser.add_argument("--foreign-namespace", required=True, help="a namespace the token must not read")
    parser.add_argument("--prometheus-config", required=True)
    parser.add_argument("--sd-script", required=True)
    parser.add_argument("--sd-config", required=True)
    parser.add_argument(
        "--data", required=True, help="Prometheus' storage directory (created, user prometheus)"
    )
    parser.add_argument("--ingress-address", required=True)
    parser.add_argument("--ingress-ca", required=True)
    parser.add_argument("--timeout", type=float, default=150.0)
    parser.add_argument("--out", required=True)
    return parser.parse_args()


def check_token(
    args: argparse.Namespace, job: dict[str, Any], pod: str, failures: list[str]
) -> dict[str, Any]:
    """The discovery token's rights as the API server answers them, and its files' owners and modes."""
    ns, other = urllib.parse.quote(args.namespace), urllib.parse.quote(args.foreign_namespace)
    rights = {
        f"list pods in {args.namespace}": (f"/api/v1/namespaces/{ns}/pods", 200),
        f"list pods in {args.foreign_namespace}": (f"/api/v1/namespaces/{other}/pods", 403),
        "list pods in every namespace": ("/api/v1/pods", 403),
        f"get pod {pod}": (f"/api/v1/namespaces/{ns}/pods/{pod}", 403),
        f"watch pods in {args.namespace}": (f"/api/v1/namespaces/{ns}/pods?watch=1&timeoutSeconds=1", 403),
        f"list secrets in {args.namespace}": (f"/api/v1/namespaces/{ns}/secrets", 403),
    }
    figures: dict[str, Any] = {"token_rights": {}, "files": {}}
    for name, (path, want) in rights.items():
        got = api_status(job, path)
        figures["token_rights"][name] = got
        if got != want:
            failures.append(f"the discovery token: {name} answered {got}, expected {want}")
    gid = grp.getgrnam("prometheus").gr_gid
    for path in (job["token_file"], job["ca_file"]):
        st = os.stat(path)
        figures["files"][path] = {"mode": oct(st.st_mode & 0o777), "uid": st.st_uid, "gid": st.st_gid}
        if (st.st_mode & 0o777, st.st_uid, st.st_gid) != (0o640, 0, gid):
            failures.append(f"{path}: mode {oct(st.st_mode & 0o777)} uid {st.st_uid} gid {st.st_gid}")
    return figures


def main() -> int:
    args = parse()
    failures: list[str] = []
    figures: dict[str, Any] = {}
    started = time.monotonic()
    config.load_kube_config(config_file=args.kubeconfig)  # type: ignore[no-untyped-call]
    core = client.CoreV1Api()
    pods: list[dict[str, Any]] = core.list_namespaced_pod(
        args.namespace, label_selector=args.selector
    ).to_dict()["items"]
    expected: list[str] = sorted(
        p["metadata"]["name"] for p in pods if p["status"]["phase"] == "Running" and p["status"]["pod_ip"]
    )
    figures["pods"] = {p["metadata"]["name"]: p["status"]["pod_ip"] for p in pods}
    if len(expected) < 2:
        failures.append(f"expected at least 2 running Traefik pods, the cluster has {expected}")
    service: dict[str, Any] = core.read_namespaced_service("traefik", args.namespace).to_dict()
    websecure: int = next(p["node_port"] for p in service["spec"]["ports"] if p["name"] == "websecure")
    (job,) = [j for j in json.loads(Path(args.sd_config).read_text())["jobs"] if j["name"] == args.job]
    figures.update(check_token(args, job, expected[0] if expected else "none", failures))

    Path(args.data).mkdir(parents=True, exist_ok=True)
    os.chown(args.data, pwd.getpwnam("prometheus").pw_uid, grp.getgrnam("prometheus").gr_gid)
    port = free_port()
    logs = Path(args.out).with_suffix(".log")
    processes: list[subprocess.Popen[bytes]] = []
    commands = [
        ["/usr/bin/python3", args.sd_script, "--config", args.sd_config, "--interval", "5"],
        [
            "/usr/bin/prometheus",
            f"--config.file={args.prometheus_config}",
            f"--storage.tsdb.path={args.data}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
    ]
    with logs.open("wb") as log:
        try:
            for command in commands:
                processes.append(subprocess.Popen(command, stdout=log, stderr=log, **as_prometheus()))
            figures.update(
                watch(
                    f"http://127.0.0.1:{port}",
                    args,
                    websecure=websecure,
                    expected=expected,
                    ips=figures["pods"],
                    job=job,
                    failures=failures,
                )
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["failures"] = failures
    Path(args.out).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(
        json.dumps(
            {k: figures[k] for k in ("targets", "token_rights", "seconds", "failures") if k in figures}
        )
    )
    return 1 if failures else 0


def watch(
    base: str,
    args: argparse.Namespace,
    *,
    websecure: int,
    expected: list[str],
    ips: dict[str, str],
    job: dict[str, Any],
    failures: list[str],
) -> dict[str, Any]:
    """Requests through the ingress, then Prometheus' API until every expectation holds or the time is up."""
    figures: dict[str, Any] = {}
    prometheus = Prometheus(base, timeout=5)
    deadline = time.monotonic() + args.timeout
    found: dict[str, Any] = {}
    problems = ["Prometheus did not answer"]
    statuses: list[int] = []
    while time.monotonic() < deadline:
        time.sleep(3)
        if not prometheus.ready():
            continue
        statuses += through_ingress(args.ingress_address, websecure, args.ingress_ca, 5)
        try:
            targets = [t for t in prometheus.active_targets() if t["labels"].get("job") == args.job]
            found = {
                "targets": {
                    t["labels"]["instance"]: {
                        "health": t["health"],
                        "url": t["scrapeUrl"],
                        "region": t["labels"].get("region"),
                        "error": t["lastError"],
                    }
                    for t in targets
                },
                "entrypoint_series": sorted(
                    {
                        s["metric"]["instance"]
                        for s in prometheus.query(f'traefik_entrypoint_requests_total{{job="{args.job}"}}')
                    }
                ),
                "router_series": sorted(
                    {
                        s["metric"]["instance"] + " " + s["metric"].get("router", "")
                        for s in prometheus.query(f'traefik_router_requests_total{{job="{args.job}"}}')
                    }
                ),
                RULE: [s["metric"] for s in prometheus.query(RULE)],
            }
        except (PrometheusError, KeyError) as error:
            problems = [f"reading Prometheus: {error}"]
            continue
        problems = []
        if sorted(found["targets"]) != expected:
            problems.append(
                f"targets of job {args.job}: {sorted(found['targets'])}, the cluster's pods: {expected}"
            )
        down = [
            i
            for i, t in found["targets"].items()
            if t["health"] != "up"
            or t["region"] != job["labels"]["region"]
            or f"//{ips.get(i)}:" not in t["url"]  # the pod itself, at its own address
        ]
        if down:
            problems.append(f"targets not up, without the region or not at the pod's address: {down}")
        if found["entrypoint_series"] != expected:
            problems.append(
                f"traefik_entrypoint_requests_total from {found['entrypoint_series']}, not every pod"
            )
        if not found["router_series"]:
            problems.append("no traefik_router_requests_total series")
        if not found[RULE]:
            problems.append(f"no {RULE} series")
        if not problems:
            break
    figures.update(found)
    figures["ingress_statuses"] = {str(s): statuses.count(s) for s in sorted(set(statuses))}
    figures["seconds_to_all_checks"] = round(args.timeout - (deadline - time.monotonic()), 1)
    failures.extend(problems)
    return figures


if __name__ == "__main__":
    sys.exit(main())
