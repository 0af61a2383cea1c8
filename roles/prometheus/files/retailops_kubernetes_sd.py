"""Prometheus targets from a Kubernetes API server, written for file_sd_configs.

Why not kubernetes_sd_configs: Debian's prometheus (bookworm: 2.42.0+ds) is
built without Kubernetes discovery ("Kubernetes support has been completely
removed, due to the insane amount of dependencies in their client library",
/usr/share/doc/prometheus/NEWS.Debian.gz; promtool refuses the key). This
does what its roles "pod" (for one namespace) and "node" do, with the one
right each needs: list the namespace's pods, or list the nodes.

Every --interval seconds, for each job of --config (JSON, written by the
prometheus role: {"jobs": [{"name", "role", "api_server", "namespace",
"selector", "port", "token_file", "ca_file", "labels", "output"}]}):

    role pod:  GET <api_server>/api/v1/namespaces/<namespace>/pods?labelSelector=<selector>
    role node: GET <api_server>/api/v1/nodes?labelSelector=<selector>

with the bearer token read from token_file (on every round: a new token
needs no restart) over TLS verified against ca_file (the certificate chain
and the host name; never without). Role pod: each pod that runs, has an
address and a container port named <port> is a target of its own, <pod
IP>:<port number>, labelled instance=<pod name> plus the job's labels.
Role node: each node is a target at its kubelet, <InternalIP>:<kubelet
port> (status.daemonEndpoints), labelled instance=<node name>, whether it
is Ready or not: a node that stops answering is a down target, which is
what the alert on a lost node reads. The targets go to <output>
(atomically: a temporary file renamed over it) when they changed. An error
is written to standard error (the journal) and leaves the file as it was:
Prometheus keeps scraping the targets it knew, and those that went away
show as down targets.

With --textfile PATH, every round also writes its outcome for
node_exporter's textfile collector (atomically, as the targets):

    retailops_kubernetes_sd_success{kubernetes_job="<name>"}  1 when the last listing worked, else 0
    retailops_kubernetes_sd_targets{kubernetes_job="<name>"}  the targets the file holds

so that a discovery that fails (a revoked token, an unreachable API
server) or stops (the file's age) is alerted on (TextfileCollectorFailing)
instead of leaving Prometheus scraping a stale list in silence.

    python3 retailops_kubernetes_sd.py --config /etc/prometheus/kubernetes/kubernetes-sd.json --interval 15
    python3 retailops_kubernetes_sd.py --config ... --once   # one round; exit 1 when a job failed
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Any

Job = dict[str, Any]


def listing(job: Job, timeout: float) -> list[dict[str, Any]]:
    """The namespace's pods (role pod) or the nodes (role node) matching the selector, read with the
    job's token, TLS verified against its CA."""
    with open(job["token_file"], encoding="utf-8") as handle:
        token = handle.read().strip()
    context = ssl.create_default_context(cafile=job["ca_file"])
    query = urllib.parse.urlencode({"labelSelector": job["selector"]}) if job["selector"] else ""
    if job.get("role", "pod") == "node":
        url = f"{job['api_server'].rstrip('/')}/api/v1/nodes"
    else:
        url = f"{job['api_server'].rstrip('/')}/api/v1/namespaces/{urllib.parse.quote(job['namespace'])}/pods"
    request = urllib.request.Request(
        f"{url}?{query}" if query else url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        items: list[dict[str, Any]] = json.load(response)["items"]
    return items


def node_targets(job: Job, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One target group per node with an internal address: its kubelet."""
    groups = []
    for node in items:
        status = node.get("status", {})
        addresses = [a["address"] for a in status.get("addresses", []) if a.get("type") == "InternalIP"]
        port = status.get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port") or 10250
        if not addresses or node["metadata"].get("deletionTimestamp"):
            continue
        host = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
        groups.append(
            {
                "targets": [f"{host}:{port}"],
                "labels": {**job["labels"], "instance": node["metadata"]["name"]},
            }
        )
    return sorted(groups, key=lambda group: str(group["labels"]["instance"]))


def targets(job: Job, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One target group per running pod with an address and a container port named job["port"]
    (role pod), or per node (role node)."""
    if job.get("role", "pod") == "node":
        return node_targets(job, items)
    groups = []
    for pod in items:
        status = pod.get("status", {})
        address = status.get("podIP", "")
        if status.get("phase") != "Running" or not address or pod["metadata"].get("deletionTimestamp"):
            continue
        ports = [
            port["containerPort"]
            for container in pod["spec"].get("containers", [])
            for port in container.get("ports", [])
            if port.get("name") == job["port"]
        ]
        if not ports:
            continue
        host = f"[{address}]" if ":" in address else address
        groups.append(
            {
                "targets": [f"{host}:{ports[0]}"],
                "labels": {**job["labels"], "instance": pod["metadata"]["name"]},
            }
        )
    return sorted(groups, key=lambda group: str(group["labels"]["instance"]))


def write(path: str, groups: list[dict[str, Any]]) -> bool:
    """Write the targets when they changed; True when the file changed."""
    text = json.dumps(groups, indent=2, sort_keys=True) + "\n"
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    replace(path, text)
    return True


def replace(path: str, text: str) -> None:
    """Write text to path atomically: a temporary file beside it, renamed over it."""
    directory = os.path.dirname(path) or "."
    fd, scratch = tempfile.mkstemp(prefix=".kubernetes-sd-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except BaseException:
        os.unlink(scratch)
        raise


def health(outcomes: dict[str, tuple[bool, int]]) -> str:
    """The round's outcome per job in Prometheus' text format: success and target count."""
    success = [
        "# HELP retailops_kubernetes_sd_success 1 when the last listing of the job's pods or nodes worked.",
        "# TYPE retailops_kubernetes_sd_success gauge",
    ]
    count = [
        "# HELP retailops_kubernetes_sd_targets Targets the job's file holds.",
        "# TYPE retailops_kubernetes_sd_targets gauge",
    ]
    for name, (listed, targets_held) in outcomes.items():
        success.append(f'retailops_kubernetes_sd_success{{kubernetes_job="{name}"}} {int(listed)}')
        count.append(f'retailops_kubernetes_sd_targets{{kubernetes_job="{name}"}} {targets_held}')
    return "\n".join(success + count) + "\n"


def known_targets(path: str) -> int:
    """How many targets the job's file holds (0 when there is none yet)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return len(json.load(handle))
    except (FileNotFoundError, ValueError):
        return 0


def what(job: Job) -> str:
    """What a job lists, for its messages."""
    return "nodes" if job.get("role", "pod") == "node" else f"pods of {job['namespace']}"


def round_once(jobs: list[Job], timeout: float, textfile: str | None = None) -> bool:
    """One listing of every job; True when every job was listed. With textfile, the outcome written there."""
    ok = True
    outcomes: dict[str, tuple[bool, int]] = {}
    for job in jobs:
        try:
            groups = targets(job, listing(job, timeout))
        except Exception as error:  # any failure leaves the last targets in place
            detail = error.read().decode(errors="replace")[:300] if hasattr(error, "read") else ""
            print(
                f"job {job['name']}: listing the {what(job)} failed: {error} {detail}".strip(),
                file=sys.stderr,
                flush=True,
            )
            ok = False
            outcomes[job["name"]] = (False, known_targets(job["output"]))
            continue
        outcomes[job["name"]] = (True, len(groups))
        if write(job["output"], groups):
            names = ", ".join(group["labels"]["instance"] for group in groups)
            print(
                f"job {job['name']}: {len(groups)} targets: {names}",
                file=sys.stderr,
                flush=True,
            )
    if textfile:
        try:
            replace(textfile, health(outcomes))
        except OSError as error:  # the targets matter more than their health file
            print(f"writing {textfile} failed: {error}", file=sys.stderr, flush=True)
            ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="the jobs (JSON), as the prometheus role writes them")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between two listings")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds an API request may take")
    parser.add_argument("--once", action="store_true", help="one round, exit 1 when a job failed")
    parser.add_argument("--textfile", help="file for each round's outcome (node_exporter textfile collector)")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        jobs: list[Job] = json.load(handle)["jobs"]
    if args.once:
        return 0 if round_once(jobs, args.timeout, args.textfile) else 1
    while True:
        started = time.monotonic()
        round_once(jobs, args.timeout, args.textfile)
        time.sleep(max(1.0, args.interval - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
