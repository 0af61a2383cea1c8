"""Drills: fault actions on a timeline during the run, through pluggable executors.

* ``docker``    the rig's containers, through the Docker API (docker SDK):
                restart / kill / stop / start / pause; ``down_for`` brings it back.
* ``ansible``   real regions: ``ansible-playbook`` with the drill as extra vars (JSON).
* ``patroni``   planned switchover or failover through Patroni's REST API.
* ``process``   loopback runs: commands (e.g. ``pg_ctl restart``) run locally.
* ``toxiproxy`` branch links: take a link class (all its proxies) down for ``down_for`` seconds.
* ``kubernetes`` pods, through the cluster's API (the kubernetes package): ``kill`` (no grace)
                or ``delete`` (the pod's own grace period) of ready pods matching a selector.

Every action is bounded in time; its start, end and error are recorded for
the drill analysis (error window, time to recovery, failures by tier).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import requests

from loadtests.analysis import DrillRecord
from loadtests.collection import LINK_CLASSES, library
from loadtests.links import FLAPPING
from loadtests.links_setup import LinkProxy
from loadtests.scenario import DrillSpec
from loadtests.toxiproxy import ToxiproxyError


class DrillError(RuntimeError):
    pass


class Executor(Protocol):
    def run(self, spec: DrillSpec) -> None: ...


def _down_for(spec: DrillSpec) -> float:
    return float(spec.params.get("down_for", 0))


# A docker drill's target: a container's name, or every running container with a label.
LABEL_TARGET = "label:"
DOCKER_ACTIONS = frozenset({"restart", "kill", "stop", "start", "pause"})


class DockerExecutor:
    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import docker  # noqa: PLC0415 - only drills on the rig need the Docker SDK

            self._client = docker.from_env(timeout=30)
        return self._client

    def containers(self, target: str) -> list[Any]:
        """The drill's containers: one by name, or with ``label:<key>=<value>`` every running container
        carrying that label (a whole region of the rig)."""
        if not target.startswith(LABEL_TARGET):
            return [self.client.containers.get(target)]
        label = target.removeprefix(LABEL_TARGET)
        if not label:
            raise DrillError(f"docker: {target!r}: give {LABEL_TARGET}<key>=<value>")
        found = list(self.client.containers.list(filters={"label": label}))
        if not found:
            raise DrillError(f"docker: no running container has the label {label}")
        return found

    def run(self, spec: DrillSpec) -> None:
        if spec.action not in DOCKER_ACTIONS:
            raise DrillError(f"docker: unknown action {spec.action!r}")
        found = self.containers(spec.target)
        # Every container at once: a region is lost in one moment, not one host after another.
        with ThreadPoolExecutor(max_workers=min(16, len(found))) as pool:
            list(pool.map(lambda c: self._act(spec, c), found))

    @staticmethod
    def _act(spec: DrillSpec, c: Any) -> None:
        timeout = int(spec.params.get("timeout", 10))
        if spec.action == "restart":
            c.restart(timeout=timeout)
        elif spec.action == "kill":
            c.kill(signal=spec.params.get("signal", "SIGKILL"))
        elif spec.action == "stop":
            c.stop(timeout=timeout)
        elif spec.action == "start":
            c.start()
        elif spec.action == "pause":
            c.pause()
        if spec.action in {"kill", "stop", "pause"} and _down_for(spec) > 0:
            time.sleep(_down_for(spec))
            c.reload()
            if spec.action == "pause":
                c.unpause()
            else:
                c.start()


def ansible_command(name: str = "ansible-playbook") -> str:
    """An Ansible command beside this Python (a venv need not be on PATH), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def ansible_playbook() -> str:
    return ansible_command("ansible-playbook")


class AnsibleExecutor:
    """``ansible-playbook <params.playbook> [-i <params.inventory>] [--limit <target>] -e <json>``.

    The target is a ``--limit`` host pattern; leave it empty for playbooks that
    find their own hosts (the collection's failover drills find the leader or
    primary and need every host of their groups). The extra vars go as one
    JSON object, so values keep their types and may hold spaces or ``=``:
    ``drill_action``, ``drill_target`` and ``drill_down_for``, then
    ``params.extra_vars`` (which win); before them, each file of
    ``params.extra_vars_files`` as ``-e @file`` (an empty entry is skipped: a
    placeholder a region leaves empty). With ``log_dir`` each run's command
    and output go to ``<log_dir>/drill-<name>.ansible.log``.
    """

    def __init__(
        self,
        runner: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
        binary: str | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.runner = runner
        self.binary = binary or ansible_playbook()
        self.log_dir = log_dir

    def command(self, spec: DrillSpec) -> list[str]:
        p = spec.params
        if not p.get("playbook"):
            raise DrillError("ansible: params.playbook is required")
        argv = [self.binary, str(p["playbook"])]
        if p.get("inventory"):
            argv += ["-i", str(p["inventory"])]
        if spec.target:
            argv += ["--limit", spec.target]
        extra = p.get("extra_vars") or {}
        if not isinstance(extra, dict):
            raise DrillError("ansible: params.extra_vars must be a mapping")
        files = p.get("extra_vars_files") or []
        if not isinstance(files, list):
            raise DrillError("ansible: params.extra_vars_files must be a list of files")
        for file in files:
            if str(file):
                argv += ["-e", f"@{file}"]
        variables = {
            "drill_action": spec.action,
            "drill_target": spec.target,
            "drill_down_for": _down_for(spec),
            **extra,
        }
        return [*argv, "-e", json.dumps(variables, sort_keys=True)]

    def run(self, spec: DrillSpec) -> None:
        timeout = float(spec.params.get("timeout", 600))
        argv = self.command(spec)
        done = self.runner(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if self.log_dir is not None:
            safe = re.sub(r"[^A-Za-z0-9._-]+", "_", spec.name)
            (self.log_dir / f"drill-{safe}.ansible.log").write_text(
                f"$ {shlex.join(argv)}\n# exit {done.returncode}\n{done.stdout or ''}{done.stderr or ''}",
                encoding="utf-8",
            )
        if done.returncode != 0:
            tail = (done.stdout or "")[-400:] + (done.stderr or "")[-400:]
            raise DrillError(f"ansible-playbook exited {done.returncode}: {tail.strip()}")


class KubernetesExecutor:
    """Pod loss through the cluster's API: ``kill`` (grace 0, as a crash) or ``delete`` (graceful).

    The target is ``<namespace>/<label selector>`` (``retail/app.kubernetes.io/component=http``).
    ``params``: ``count`` pods (default 1) among the Running and Ready ones, in name order,
    ``node`` to take only pods on that node, ``kubeconfig`` and ``context`` (default: the
    environment's ``KUBECONFIG`` and current context). The controllers replace the pods; the
    drill's window shows what the users saw meanwhile.
    """

    def __init__(self, core_api: Any | None = None) -> None:
        self._api = core_api

    def api(self, spec: DrillSpec) -> Any:
        if self._api is None:
            try:
                from kubernetes import client, config  # noqa: PLC0415 - only Kubernetes drills need it
            except ImportError as exc:
                raise DrillError("kubernetes: the kubernetes Python package is not installed") from exc
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=spec.params.get("kubeconfig") or None, context=spec.params.get("context") or None
            )
            self._api = client.CoreV1Api()
        return self._api

    @staticmethod
    def target(spec: DrillSpec) -> tuple[str, str]:
        namespace, sep, selector = spec.target.partition("/")
        if not sep or not namespace or not selector:
            raise DrillError(
                f"kubernetes: target {spec.target!r} must be <namespace>/<label selector>, "
                "e.g. retail/app.kubernetes.io/component=http"
            )
        return namespace, selector

    @staticmethod
    def ready(pod: Any) -> bool:
        if pod.metadata.deletion_timestamp or pod.status.phase != "Running":
            return False
        return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])

    def run(self, spec: DrillSpec) -> None:
        if spec.action not in {"kill", "delete"}:
            raise DrillError(f"kubernetes: unknown action {spec.action!r} (kill or delete)")
        namespace, selector = self.target(spec)
        count = int(spec.params.get("count", 1))
        node = spec.params.get("node")
        api = self.api(spec)
        pods = api.list_namespaced_pod(namespace, label_selector=selector, timeout_seconds=30).items
        chosen = sorted(
            (p for p in pods if self.ready(p) and (not node or p.spec.node_name == node)),
            key=lambda p: p.metadata.name,
        )[:count]
        if len(chosen) < count:
            where = f" on {node}" if node else ""
            raise DrillError(
                f"kubernetes: {len(chosen)} ready pod(s) match {selector!r} in {namespace}{where}, "
                f"the drill needs {count}"
            )
        grace = 0 if spec.action == "kill" else None
        for pod in chosen:
            api.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=grace)


class PatroniExecutor:
    """Planned switchover (``POST /switchover``) or failover (``POST /failover``)."""

    def __init__(self, http: requests.Session | None = None) -> None:
        self.http = http or requests.Session()

    def run(self, spec: DrillSpec) -> None:
        base = spec.target.rstrip("/")
        timeout = float(spec.params.get("timeout", 30))
        if spec.action not in {"switchover", "failover"}:
            raise DrillError(f"patroni: unknown action {spec.action!r}")
        body: dict[str, Any] = {}
        if spec.action == "switchover":
            leader = spec.params.get("leader") or self.leader(base, timeout)
            body["leader"] = leader
        if spec.params.get("candidate"):
            body["candidate"] = spec.params["candidate"]
        elif spec.action == "failover":
            raise DrillError("patroni: failover needs params.candidate")
        resp = self.http.post(f"{base}/{spec.action}", json=body, timeout=timeout)
        if resp.status_code not in {200, 202}:
            raise DrillError(f"patroni {spec.action}: HTTP {resp.status_code} {resp.text.strip()[:200]}")

    def leader(self, base: str, timeout: float) -> str:
        """The leader in Patroni's cluster view, read as the collection's patroni_cluster_info reads it."""
        patroni = library("patroni")
        try:
            leader = str(patroni.summarize(patroni.read_cluster(base, timeout))["leader"])
        except patroni.PatroniError as exc:
            raise DrillError(f"patroni: {exc}") from exc
        if not leader:
            raise DrillError(f"patroni: no single leader in {base}/cluster")
        return leader


class ProcessExecutor:
    """Local commands for loopback runs: ``command``, or ``stop`` + ``start`` with ``down_for`` between."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = {**os.environ, **(env or {})}

    def _sh(self, cmd: str | list[str], timeout: float) -> None:
        argv = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=self.env, check=False
        )
        if done.returncode != 0:
            raise DrillError(
                f"{argv[0]} exited {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
            )

    def run(self, spec: DrillSpec) -> None:
        p = spec.params
        timeout = float(p.get("timeout", 120))
        if "command" in p:
            self._sh(p["command"], timeout)
            return
        if "stop" not in p or "start" not in p:
            raise DrillError("process: params need `command`, or `stop` and `start`")
        self._sh(p["stop"], timeout)
        time.sleep(_down_for(spec))
        self._sh(p["start"], timeout)


class ToxiproxyExecutor:
    """Link drills: ``down`` disables every proxy of a link class (or one proxy by name) for ``down_for`` s.

    A link class has one proxy per upstream and Toxiproxy server (branches
    reaching the ERP through different relays, or from their own nodes); the
    outage takes them all down together and brings them all back, even when
    one of the calls fails. ``links`` is None when the run has no Toxiproxy.
    """

    def __init__(self, links: Mapping[str, Sequence[LinkProxy]] | None) -> None:
        self.links = None if links is None else {k: list(v) for k, v in links.items()}

    def targets(self, target: str) -> list[LinkProxy]:
        links = self.links or {}
        if target in links:
            return links[target]
        if target in (*LINK_CLASSES, FLAPPING):
            raise DrillError(f"toxiproxy: no branch of this run is on link class {target!r}")
        named = [p for proxies in links.values() for p in proxies if p.name == target]
        if not named:
            raise DrillError(f"toxiproxy: no link class or proxy of this run is named {target!r}")
        return named

    def run(self, spec: DrillSpec) -> None:
        if self.links is None:
            raise DrillError("toxiproxy: the run has no Toxiproxy (start it with --toxiproxy)")
        if spec.action != "down":
            raise DrillError(f"toxiproxy: unknown action {spec.action!r}")
        links = self.targets(spec.target)
        try:
            for link in links:
                link.set_enabled(False)
            time.sleep(_down_for(spec) or 5.0)
        finally:
            _enable_all(links)


def _enable_all(links: Sequence[LinkProxy]) -> None:
    """Re-enable every proxy; the first error is raised after trying them all."""
    errors: list[ToxiproxyError] = []
    for link in links:
        try:
            link.set_enabled(True)
        except ToxiproxyError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


class DrillRunner:
    """Runs the timeline in a background thread, each drill in its own thread."""

    def __init__(
        self,
        specs: tuple[DrillSpec, ...],
        executors: Mapping[str, Executor],
        log: Callable[[str], None] = print,
    ) -> None:
        self.specs = sorted(specs, key=lambda s: s.at)
        self.executors = executors
        self.log = log
        self.records = [
            DrillRecord(
                s.name,
                s.executor,
                s.action,
                s.target,
                s.at,
                observe=s.observe,
                offline_links=s.offline_links,
                injects_fault=s.injects_fault,
            )
            for s in self.specs
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._main: threading.Thread | None = None

    def start(self, run_start: float) -> None:
        self._main = threading.Thread(target=self._timeline, args=(run_start,), daemon=True)
        self._main.start()

    def _timeline(self, run_start: float) -> None:
        for spec, rec in zip(self.specs, self.records, strict=True):
            if self._stop.wait(max(0.0, run_start + spec.at - time.time())):
                return
            t = threading.Thread(target=self._one, args=(spec, rec), daemon=True)
            t.start()
            self._threads.append(t)

    def _one(self, spec: DrillSpec, rec: DrillRecord) -> None:
        rec.started = time.time()
        self.log(f"drill {spec.name} starts: {spec.executor} {spec.action} {spec.target}".rstrip())
        try:
            executor = self.executors.get(spec.executor)
            if executor is None:
                raise DrillError(f"no {spec.executor} executor configured")
            executor.run(spec)
            rec.ok = True
        except Exception as exc:  # a failed drill is reported, never fatal to the run
            rec.error = f"{type(exc).__name__}: {exc}"
        rec.finished = time.time()
        took = rec.finished - rec.started
        ended = f"action done in {took:.1f}s" if rec.ok else f"FAILED after {took:.1f}s: {rec.error}"
        self.log(f"drill {spec.name} ends: {ended}")

    def active(self) -> list[str]:
        """The drills whose action is running."""
        return [r.name for r in self.records if r.started and not r.finished]

    def stop(self, timeout: float = 120.0) -> None:
        self._stop.set()
        deadline = time.time() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.time()))


class Flapper:
    """Takes the flapping-LTE proxies down for ``down`` seconds every ``period``, until stopped."""

    def __init__(self, links: Sequence[LinkProxy], period: float, down: float) -> None:
        self.links, self.period, self.down = list(links), period, down
        self.outages: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.period - self.down):
            start = time.time()
            try:
                for link in self.links:
                    link.set_enabled(False)
                self._stop.wait(self.down)
            finally:
                _enable_all(self.links)
            self.outages.append((start, time.time()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.down + 10)
