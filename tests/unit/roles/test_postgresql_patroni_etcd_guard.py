"""The etcd leader guard of postgresql_patroni (files/retailops_etcd_leader_guard.py): it moves etcd's
leadership only when this host runs both PostgreSQL's primary and etcd's leader, to a member that
answers; against a fake etcd v3 JSON gateway and Patroni REST API served over real HTTP."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

FILE = Path(__file__).parents[3] / "roles" / "postgresql_patroni" / "files" / "retailops_etcd_leader_guard.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("retailops_etcd_leader_guard", FILE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


GUARD = load()


class Fake:
    """One etcd member's gateway and its host's Patroni, as the test sets them."""

    def __init__(self) -> None:
        self.me = "111"
        self.leader = "111"
        self.primary = True
        self.members: list[dict[str, Any]] = []
        self.moved: list[str] = []


def serve(fake: Fake) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/primary":
                self.reply(200 if fake.primary else 503, {"role": "master" if fake.primary else "replica"})
            else:
                self.reply(404, {})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path == "/v3/maintenance/status":
                self.reply(200, {"header": {"member_id": fake.me}, "leader": fake.leader})
            elif self.path == "/v3/cluster/member/list":
                self.reply(200, {"members": fake.members})
            elif self.path == "/v3/maintenance/transfer-leadership":
                fake.moved.append(str(body["targetID"]))
                fake.leader = str(body["targetID"])
                self.reply(200, {})
            else:
                self.reply(404, {})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def member() -> Iterator[tuple[Fake, str]]:
    fake = Fake()
    server, url = serve(fake)
    fake.members = [
        {"ID": "111", "clientURLs": [url]},
        {"ID": "222", "clientURLs": ["http://127.0.0.1:1"]},  # does not answer
        {"ID": "333", "clientURLs": [url]},
        {"ID": "444", "clientURLs": [url], "isLearner": True},
    ]
    yield fake, url
    server.shutdown()


def test_both_leaders_here_hands_etcd_to_a_member_that_answers(member: tuple[Fake, str]) -> None:
    fake, url = member
    said = GUARD.guard_once(url, url)
    assert fake.moved == ["333"]  # 222 does not answer, 444 is a learner
    assert "moved from member 111 to 333" in said
    assert GUARD.guard_once(url, url) == ""  # etcd's leader is elsewhere now: nothing more
    assert fake.moved == ["333"]


def test_a_replica_host_leaves_etcd_alone(member: tuple[Fake, str]) -> None:
    fake, url = member
    fake.primary = False
    assert GUARD.guard_once(url, url) == ""
    assert fake.moved == []


def test_the_primary_host_without_etcd_leadership_does_nothing(member: tuple[Fake, str]) -> None:
    fake, url = member
    fake.leader = "333"
    assert GUARD.guard_once(url, url) == ""
    assert fake.moved == []


def test_no_other_member_answers_nothing_moves(member: tuple[Fake, str]) -> None:
    fake, url = member
    fake.members = [{"ID": "111", "clientURLs": [url]}, {"ID": "222", "clientURLs": ["http://127.0.0.1:1"]}]
    assert GUARD.guard_once(url, url) == ""
    assert fake.moved == []


def test_an_unreachable_patroni_counts_as_not_primary() -> None:
    assert GUARD.runs_primary("http://127.0.0.1:1") is False


def test_once_says_when_etcd_does_not_answer(
    member: tuple[Fake, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _fake, url = member
    assert GUARD.main(["--patroni", url, "--etcd", "http://127.0.0.1:1", "--once"]) == 0
    assert "etcd did not answer" in capsys.readouterr().out
