"""The exchange recorder (loadtests/capture.py): off unless enabled, secrets scrubbed, stable files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from loadtests import capture


class _Handler(BaseHTTPRequestHandler):
    """Answers like Odoo: a session cookie on authenticate, an AccessDenied with a traceback otherwise."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/web/session/authenticate":
            payload: dict[str, Any] = {
                "jsonrpc": "2.0",
                "id": body["id"],
                "result": {
                    "uid": 2,
                    "partner_id": 3,
                    "user_context": {"uid": 2, "allowed_company_ids": [1]},
                    "user_companies": {"current_company": 1, "allowed_companies": {"1": {"id": 1}}},
                    "server_version": "18.0-20250702",
                    "login_date": "2026-12-04 10:11:12",
                    "csrf_token": "abc123secret",
                },
            }
            cookie = "session_id=Zm9vYmFyMTIz; Expires=Sat, 04 Dec 2027 10:11:12 GMT; Max-Age=604800; Path=/"
        else:
            payload = {
                "jsonrpc": "2.0",
                "id": None,
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "name": "odoo.exceptions.AccessDenied",
                        "message": "Access Denied",
                        "debug": 'Traceback (most recent call last):\n  File "x.py"',
                        "arguments": ["Access Denied"],
                        "context": {},
                    },
                },
            }
            cookie = ""
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _own_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the process-wide switch as it needs; the session's own is restored after it."""
    monkeypatch.setattr(capture, "_enabled", None)
    monkeypatch.delenv(capture.ENV, raising=False)


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return capture.enable(tmp_path / "raw.jsonl")


def _calls(url: str, session: requests.Session) -> None:
    rpc = {"jsonrpc": "2.0", "method": "call"}
    session.post(
        f"{url}/web/session/authenticate",
        json={**rpc, "id": 7, "params": {"db": "retail", "login": "admin", "password": "hunter2"}},
    )
    session.post(
        f"{url}/jsonrpc",
        json={
            **rpc,
            "id": 8,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": ["retail", 2, "hunter2", "m", "f"],
            },
        },
    )


def test_disabled_is_a_no_op(tmp_path: Path, server: str):
    session = requests.Session()
    assert capture.attach(session) is None
    assert session.hooks["response"] == []
    _calls(server, session)
    assert list(tmp_path.iterdir()) == []


def test_environment_variable_enables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: str):
    monkeypatch.setenv(capture.ENV, str(tmp_path / "env.jsonl"))
    session = requests.Session()
    assert capture.attach(session, label="op") is not None
    assert capture.attach(session, label="op") is session.hooks["response"][0]  # attached once
    _calls(server, session)
    assert len((tmp_path / "env.jsonl").read_text().splitlines()) == 2


def test_records_scrubbed_exchanges_with_the_test_label(recording: Path, server: str):
    session = requests.Session()
    capture.attach(session)
    _calls(server, session)
    text = recording.read_text()
    assert "hunter2" not in text
    assert "Zm9vYmFyMTIz" not in text
    assert "abc123secret" not in text
    first, second = (json.loads(line) for line in text.splitlines())
    assert (
        first["label"]
        == "loadtests/tests/test_capture.py::test_records_scrubbed_exchanges_with_the_test_label"
    )
    assert first["phase"] == "call"
    assert (first["method"], first["path"], first["status"]) == ("POST", "/web/session/authenticate", 200)
    assert first["request"]["params"] == {"db": "retail", "login": "admin", "password": "<secret>"}
    assert first["headers"]["Set-Cookie"].startswith("session_id=<secret>;")
    assert first["response"]["result"]["uid"] == 2
    assert second["request"]["params"]["args"] == ["retail", 2, "<secret>", "m", "f"]
    assert second["response"]["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


def test_scrub_forms_db_service_and_text():
    assert capture.scrub({"form": {"master_pwd": "m", "name": "x"}}) == {
        "form": {"master_pwd": "<secret>", "name": "x"}
    }
    assert capture.scrub({"service": "db", "method": "drop", "args": ["m", "retail"]})["args"] == [
        "<secret>",
        "retail",
    ]
    assert capture.scrub({"service": "db", "method": "list", "args": []})["args"] == []
    assert capture.scrub({"session_id": 12}) == {"session_id": 12}  # a POS session id, not a secret
    text = capture.scrub_text('<input name="csrf_token" value="abc"/> csrf_token: "def" session_id=ghi;')
    assert ("abc" not in text, "def" not in text, "ghi" not in text) == (True, True, True)


def test_normalised_files_are_typed_and_stable(recording: Path, server: str, tmp_path: Path):
    session = requests.Session()
    capture.attach(session)
    _calls(server, session)
    capture.attach(requests.Session(), label="harness.reconcile")
    out = tmp_path / "captures"
    written = capture.normalise(recording, out, {"server_version": "18.0-20250702"})
    assert [p.name for p in written] == ["test_capture.test_normalised_files_are_typed_and_stable.json"]
    data = json.loads(written[0].read_text())
    auth, call = data["exchanges"]
    result = auth["response"]["result"]
    assert auth["response"]["id"] == "<rpc-id>"
    assert (result["uid"], result["partner_id"], result["login_date"]) == ("<id>", "<id>", "<datetime>")
    assert result["user_context"] == {"uid": "<id>", "allowed_company_ids": ["<id>"]}
    assert result["user_companies"] == {
        "current_company": "<id>",
        "allowed_companies": {"<id>": {"id": "<id>"}},
    }
    assert auth["headers"]["Set-Cookie"] == (
        "session_id=<secret>; Expires=<http-date>; Max-Age=604800; Path=/"
    )
    assert (call["model"], call["rpc_method"], call["ordinal"]) == ("m", "f", 0)
    assert call["response"]["id"] is None
    assert call["response"]["error"]["data"]["debug"] == "<traceback>"
    first = {p.name: p.read_text() for p in out.iterdir()}
    capture.normalise(recording, out, {"server_version": "18.0-20250702"})
    assert {p.name: p.read_text() for p in out.iterdir()} == first  # the same recording, the same files
    assert json.loads((out / "_source.json").read_text()) == {"server_version": "18.0-20250702"}
    assert set(capture.load_dir(out)) == {data["label"]}


def test_file_names_and_cli(recording: Path, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert capture.file_name("tests/contract/test_x.py::test_y[jsonrpc]") == "test_x.test_y_jsonrpc_.json"
    assert capture.file_name("harness.reconcile") == "harness.reconcile.json"
    session = requests.Session()
    capture.attach(session, label="harness.reconcile")
    _calls(server, session)
    assert capture.main(["normalise", str(recording), "--out", str(tmp_path / "o")]) == 0
    assert "1 files" in capsys.readouterr().out
    assert capture.main(["normalise", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2


def test_volatile_text():
    assert capture.volatile_text("LT-91160daa-inv-018d70743d8d") == "LT-<run>-inv-<key>"
    assert capture.volatile_text("LT-91160daa-repl-%") == "LT-<run>-repl-%"
    assert capture.volatile_text("91160daa-%") == "<run>-%"
    assert capture.volatile_text("91160daa-1b2c-4abc-8abc-123456789012") == "<uuid>"
    assert capture.volatile_text("at 2026-12-04 10:11:12 on 2026-12-05") == "at <datetime> on <date>"
    assert capture.volatile_text("http://127.0.0.1:46013/web") == "http://127.0.0.1:<port>/web"
