"""make real-odoo: the contract suite and the load harness against a real Odoo 18.

    make real-odoo ODOO_SRC=/path/to/odoo          # an Odoo 18 source tree
    make real-odoo ODOO_IMAGE=odoo:18.0            # or an Odoo 18 image on the Docker engine

Steps: the Odoo venv (cached per pin files), the lane's PostgreSQL 15 on
loopback, the template database (initialised once per source fingerprint and
module list, cached), a fresh copy of it as ``retail``, odoo.conf with a
generated master password, the server on loopback until /web/health
answers, then (a) the contract suite (tests/contract, ODOO_* set) and (b) the
harness's input check and a short run with all six personas. Everything the
lane started is stopped at the end, also on Ctrl-C or a failure. Results:
``results/real-odoo/<UTC time>/`` with ``summary.txt`` and ``summary.json``.

Settings (environment; make passes its command-line variables):
  ODOO_SRC / ODOO_IMAGE    what to run (exactly one)
  LANE_MODULES             modules of the template, comma-separated
                           (default: point_of_sale,stock,account,purchase,sale_management)
  LANE_DURATION            the harness run's duration (default 5m)
  LANE_USERS               the harness's users (default: the scenario's)
  LANE_HARNESS=0           the contract suite only
  LANE_UPDATE_CAPTURES=1   also write the normalised captures into tests/captures/odoo-<serie>/
  LANE_PYTHON              the interpreter of the Odoo venv (default python3.11)
  RIG_CACHE                the cache (default ~/.cache/retailops-rig); the lane uses RIG_CACHE/real-odoo-lane

Exit code: 0 when the contract suite passed and the harness said GO, 1 when
either did not, 2 on bad input (the message names the variable).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

from loadtests import capture
from loadtests.durations import parse_duration
from loadtests.links_setup import free_port
from loadtests.odoo_under_test import VersionProbeError, probe
from rig.real_odoo import database, summary
from rig.real_odoo.server import (
    Image,
    InputError,
    LaneError,
    Runtime,
    Server,
    Source,
    docker_image,
    ensure_venv,
    master_password,
    odoo_passwd_hash,
    run_step,
    write_conf,
)
from rig.real_odoo.tree import OdooTree, TreeError, check_tree, fingerprint, missing_modules
from tests.fixtures.services import MissingTool

ROOT = Path(__file__).resolve().parents[2]

DEFAULT_MODULES = "point_of_sale,stock,account,purchase,sale_management"
DB = "retail"
LOGIN = "admin"
PASSWORD = "admin"  # the demo data's administrator, on a database that only loopback reaches
SCENARIO = ROOT / "loadtests" / "scenarios" / "real_odoo_lane.yaml"
REGISTER = ROOT / "rig" / "real_odoo" / "register.yml"
GATES = ROOT / "loadtests" / "gates" / "real_odoo_lane.yaml"
CONTRACT_TIMEOUT = 1800.0
INIT_TIMEOUT = 3600.0


def say(msg: str) -> None:
    print(f"[real-odoo {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def flag(env: dict[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise InputError(f"{name}={value}: use 1 or 0")


@dataclass
class Settings:
    src: str
    image: str
    modules: list[str]
    duration: str
    users: int | None
    harness: bool
    update_captures: bool
    python: str
    cache: Path
    tree: OdooTree | None = None  # ODOO_SRC, checked

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        src, image = env.get("ODOO_SRC", "").strip(), env.get("ODOO_IMAGE", "").strip()
        if src and image:
            raise InputError(f"ODOO_SRC={src} and ODOO_IMAGE={image} are both set: give one of them")
        if not src and not image:
            raise InputError(
                "neither ODOO_SRC nor ODOO_IMAGE is set: make real-odoo ODOO_SRC=/path/to/odoo "
                "(an Odoo 18 source tree) or ODOO_IMAGE=<an Odoo 18 image on the Docker engine>"
            )
        modules = [m.strip() for m in env.get("LANE_MODULES", DEFAULT_MODULES).split(",") if m.strip()]
        if not modules:
            raise InputError("LANE_MODULES is empty: give a comma-separated list of Odoo modules")
        duration = env.get("LANE_DURATION", "").strip() or "5m"
        try:
            if parse_duration(duration) <= 0:
                raise ValueError("must be positive")
        except ValueError as exc:
            raise InputError(f"LANE_DURATION={duration}: {exc}") from None
        users_text = env.get("LANE_USERS", "").strip()
        if users_text and not (users_text.isdigit() and int(users_text) > 0):
            raise InputError(f"LANE_USERS={users_text}: a positive number of users")
        tree = None
        if src:
            tree = check_tree(src, "ODOO_SRC")
            missing = missing_modules(tree, modules)
            if missing:
                raise InputError(f"LANE_MODULES: {', '.join(missing)} not in the tree ODOO_SRC={src}")
        cache_home = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        rig_cache = Path(env.get("RIG_CACHE") or Path(cache_home) / "retailops-rig")
        return cls(
            src=src,
            image=image,
            modules=modules,
            duration=duration,
            users=int(users_text) if users_text else None,
            harness=flag(env, "LANE_HARNESS", True),
            update_captures=flag(env, "LANE_UPDATE_CAPTURES", False),
            python=env.get("LANE_PYTHON", "").strip() or "python3.11",
            cache=rig_cache / "real-odoo-lane",
            tree=tree,
        )


@dataclass
class Lane:
    settings: Settings
    results: Path
    started: datetime
    image: Image | None = None  # ODOO_IMAGE, checked
    seconds: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def timed(self, name: str, since: float) -> None:
        self.seconds[name] = round(time.monotonic() - since, 1)

    # ---------------------------------------------------------------- setup
    def runtime(self) -> Runtime:
        s = self.settings
        if self.image is not None:
            self.image.mounts = [s.cache, self.results]
            return self.image
        if s.tree is None:
            raise InputError("neither ODOO_SRC nor ODOO_IMAGE is set")
        t = time.monotonic()
        fp = fingerprint(s.tree, s.cache / "fingerprints.json")
        self.timed("fingerprint", t)
        t = time.monotonic()
        venv = ensure_venv(s.cache, s.python, self.results / "venv.log", say)
        self.timed("venv", t)
        return Source(s.tree.root, venv, s.tree.addons_path, fp)

    def conf(  # noqa: PLR0917 - one odoo.conf writer for the init and the server
        self, runtime: Runtime, pg: Any, path: Path, data_dir: Path, logfile: Path, extra: dict[str, object]
    ) -> None:
        options: dict[str, object] = {
            "db_host": "127.0.0.1",
            "db_port": pg.port,
            "db_user": pg.user,
            "db_password": pg.password,
            "data_dir": data_dir,
            "logfile": logfile,
            "log_level": "info",
            **runtime.conf_options(),
            **extra,
        }
        write_conf(path, options)

    def template(self, runtime: Runtime, pg: Any) -> tuple[database.Templates, str]:
        s = self.settings
        templates = database.Templates(pg, s.cache / "templates")
        templates.root.mkdir(parents=True, exist_ok=True)
        name = database.template_name(runtime.fingerprint.removeprefix("sha256:"), s.modules)
        self.info["template"] = {"name": name}
        if templates.ready(name):
            self.info["template"]["state"] = "reused"
            say(f"template {name}: reused")
            return templates, name
        say(f"template {name}: initialising {', '.join(s.modules)} with demo data (minutes)")
        templates.drop(name)
        t = time.monotonic()
        conf = s.cache / "init.conf"
        log = self.results / "init.log"
        self.conf(runtime, pg, conf, templates.data_dir, log, {"http_enable": False, "workers": 0})
        argv = runtime.argv(conf, ["-d", name, "-i", ",".join(s.modules), "--stop-after-init"], "lane-init")
        try:
            rc = run_step(argv, self.results / "init.console.log", os.environ, INIT_TIMEOUT)
        finally:
            runtime.cleanup("lane-init")
        if rc != 0:
            templates.drop(name)
            raise LaneError(f"initialising template {name} failed (exit {rc}); see {log}")
        if not _init_complete(log):
            templates.drop(name)
            raise LaneError(f"initialising template {name} logged errors; see {log}")
        self.timed("template_init", t)
        templates.record(
            name,
            {
                "fingerprint": runtime.fingerprint,
                "runtime": runtime.label,
                "modules": s.modules,
                "initialised": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": self.seconds["template_init"],
            },
        )
        dropped = templates.prune(keep=name)
        if dropped:
            say(f"dropped older templates: {', '.join(dropped)}")
        self.info["template"]["state"] = f"initialised in {self.seconds['template_init']:.0f} s"
        return templates, name

    # ---------------------------------------------------------------- steps
    def contract(self, env: dict[str, str]) -> dict[str, Any]:
        junit = self.results / "contract-junit.xml"
        t = time.monotonic()
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "tests/contract",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rfE",
            f"--junitxml={junit}",
        ]
        say("contract suite against the real Odoo (tests/contract)")
        rc = run_step(argv, self.results / "contract.log", env, CONTRACT_TIMEOUT)
        self.timed("contract", t)
        result = summary.contract_results(junit)
        result["exit_code"] = rc
        if rc != 0 and not result["failed"]:
            result["failed"] = 1
            result["failures"].append(f"pytest exited {rc} (see {self.results / 'contract.log'})")
        say(f"contract: {result['passed']} passed, {result['failed']} failed, {result['skipped']} skipped")
        return result

    def harness(self, env: dict[str, str], url: str, label: str) -> dict[str, Any]:
        s = self.settings
        out = self.results / "harness"
        inputs = ["--scenario", str(SCENARIO), "--register", str(REGISTER), "--gates", str(GATES)]
        log = self.results / "harness.log"
        say("harness: input check")
        rc = run_step([sys.executable, "-m", "loadtests", "check", *inputs], log, env, 120)
        if rc != 0:
            return {"ran": True, "exit_code": rc, "verdict": f"inputs refused (exit {rc}), see {log}"}
        argv = [
            sys.executable,
            "-m",
            "loadtests",
            "run",
            *inputs,
            "--host",
            url,
            "--db",
            DB,
            "--login",
            LOGIN,
            "--out",
            str(out),
            "--toxiproxy",
            "off",
            "--duration",
            s.duration,
            "--odoo-label",
            label,
            # the lane's database is a fresh copy of the demo data: one till of three has an open
            # session, so the harness opens the others as a store does at opening
            "--open-pos-sessions",
        ]
        if s.users:
            argv += ["--users", str(s.users)]
        say(f"harness: {s.duration} with all six personas against {url} (log {log})")
        t = time.monotonic()
        rc = run_step(argv, log, env, parse_duration(s.duration) + 900)
        self.timed("harness", t)
        result = summary.harness_results(out, rc)
        calls, failed = result.get("calls", 0), result.get("failed_calls", 0)
        say(f"harness: {result.get('verdict')}, {calls} calls, {failed} failed")
        return result

    def captures(self, raw: Path, serie: str, meta: dict[str, Any]) -> dict[str, Any]:
        out = self.results / "captures" / f"odoo-{serie}"
        if not raw.is_file():
            return {"files": 0, "dir": "(nothing recorded)"}
        written = capture.normalise(raw, out, meta)
        result: dict[str, Any] = {"files": len(written), "dir": str(out)}
        if self.settings.update_captures:
            committed = ROOT / "tests" / "captures" / f"odoo-{serie}"
            capture.normalise(raw, committed, meta)
            result["updated"] = str(committed)
            say(f"captures: {len(written)} files written into {committed}")
        return result

    # ---------------------------------------------------------------- the run
    def run(self) -> int:
        s = self.settings
        total = time.monotonic()
        runtime = self.runtime()
        say(f"Odoo: {runtime.label}")
        t = time.monotonic()
        s.cache.mkdir(parents=True, exist_ok=True)
        pg = database.lane_cluster(database.cluster_root(s.cache))
        # Under the cache lock the cluster is this run's, also when a killed run left it running.
        database.start(pg)
        self.timed("postgresql", t)
        server: Server | None = None
        try:
            templates, name = self.template(runtime, pg)
            t = time.monotonic()
            run_dir = s.cache / "run"
            data_dir = run_dir / "data"
            templates.copy(name, DB, data_dir)
            self.timed("fresh_copy", t)
            port = free_port()
            conf = run_dir / "odoo.conf"
            self.conf(
                runtime,
                pg,
                conf,
                data_dir,
                self.results / "server.log",
                {
                    "admin_passwd": odoo_passwd_hash(master_password(run_dir / "master_password")),
                    "db_name": DB,
                    "dbfilter": f"^{DB}$",
                    "list_db": True,
                    "proxy_mode": True,
                    "http_interface": "127.0.0.1",
                    "http_port": port,
                    "gevent_port": free_port(),
                    "workers": 2,
                    "max_cron_threads": 1,
                    "limit_time_real": 300,
                    "limit_time_cpu": 120,
                },
            )
            url = f"http://127.0.0.1:{port}"
            server = Server(runtime, conf, url, self.results / "server.console.log")
            say(f"starting Odoo on {url}")
            self.seconds["server_start"] = round(server.start(), 1)
            odoo = probe(url, runtime.label, timeout=30)
            serie = ".".join(str(v) for v in odoo.server_version_info[:2])
            self.info["odoo"] = {
                "label": runtime.label,
                "kind": runtime.kind,
                "server_version": odoo.server_version,
                "server_version_info": odoo.server_version_info,
                "fingerprint": runtime.fingerprint,
                "url": url,
            }
            say(odoo.line())
            raw = self.results / "capture.jsonl"
            env = {
                **os.environ,
                "ODOO_URL": url,
                "ODOO_DB": DB,
                "ODOO_LOGIN": LOGIN,
                "ODOO_PASSWORD": PASSWORD,
                # superuser access to the database under Odoo, for the contract tests that act on it
                "ODOO_PG_DSN": pg.dsn(DB),
                # its data_dir (the filestore), for the contract tests that look at the files
                "ODOO_DATA_DIR": str(data_dir),
                capture.ENV: str(raw),
            }
            contract = self.contract(env)
            harness: dict[str, Any] = {"ran": False, "why": "not run (LANE_HARNESS=0)"}
            if s.harness:
                harness = self.harness(env, url, runtime.label)
            meta = {
                "server_version": odoo.server_version,
                "server_version_info": odoo.server_version_info,
                "modules": s.modules,
                "odoo": runtime.kind,
                "fingerprint": runtime.fingerprint,
                # no capture by design: the drift test does not ask for one
                "skipped_tests": contract.get("skipped_tests", []),
            }
            captures = self.captures(raw, serie, meta)
        finally:
            if server is not None:
                say("stopping Odoo")
                server.stop()
            database.stop(pg)
        self.timed("total", total)
        return self.write_summary(contract, harness, captures)

    def write_summary(
        self, contract: dict[str, Any], harness: dict[str, Any], captures: dict[str, Any]
    ) -> int:
        harness_ok = not self.settings.harness or harness.get("exit_code") == 0
        ok = contract.get("exit_code") == 0 and harness_ok
        data = {
            "started": self.started.isoformat(timespec="seconds"),
            "result": "PASS" if ok else "FAIL",
            "odoo": self.info.get("odoo", {}),
            "modules": self.settings.modules,
            "template": self.info.get("template", {}),
            "contract": contract,
            "harness": harness,
            "captures": captures,
            "seconds": self.seconds,
            "paths": {
                "results": str(self.results),
                "junit": str(self.results / "contract-junit.xml"),
                "report": str(self.results / "harness" / "report.html"),
                "server_log": str(self.results / "server.log"),
            },
        }
        (self.results / "summary.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        text = summary.render(data)
        (self.results / "summary.txt").write_text(text, encoding="utf-8")
        print(text, end="", flush=True)
        return 0 if ok else 1


def lock_cache(cache: Path) -> IO[str]:
    """Hold the lane's cache for this run: one lane at a time per RIG_CACHE (it owns the PostgreSQL there).

    Returns the open lock file; the lock goes with the process."""
    cache.mkdir(parents=True, exist_ok=True)
    handle = (cache / "lane.lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise LaneError(
            f"another real-Odoo lane runs on {cache} (pid {holder}): wait for it to end, "
            "or give this one a RIG_CACHE of its own"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _init_complete(log: Path) -> bool:
    """Odoo exits 0 even when a module failed to load: its log says so with ERROR/CRITICAL lines."""
    if not log.is_file():
        return True
    text = log.read_text(encoding="utf-8", errors="replace")
    return " CRITICAL " not in text and "Failed to load registry" not in text


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    started = datetime.now(UTC).replace(microsecond=0)
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    try:
        settings = Settings.from_env(dict(os.environ))
        image = docker_image(settings.image) if settings.image else None
        lock = lock_cache(settings.cache)  # noqa: F841 - held until the process ends
        results = ROOT / "results" / "real-odoo" / started.strftime("%Y%m%dT%H%M%SZ")
        results.mkdir(parents=True, exist_ok=True)
        say(f"results in {results}")
        return Lane(settings, results, started, image).run()
    except (InputError, TreeError) as exc:
        print(f"[real-odoo] error: {exc}", file=sys.stderr)
        return 2
    except (LaneError, MissingTool, VersionProbeError) as exc:
        print(f"[real-odoo] error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[real-odoo] interrupted: everything the lane started is stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
