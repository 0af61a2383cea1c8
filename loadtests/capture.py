"""Record the JSON-RPC exchanges of a ``requests.Session``, and normalise them into stable files.

Recording is off unless asked for: ``LOADTESTS_CAPTURE=<file>`` in the
environment, or :func:`enable` in-process. Then :func:`attach` adds a
response hook to a session that appends every exchange (method, path,
request JSON, status, selected headers, response JSON or a text excerpt, a
label) to that file as one JSON line; disabled, it does nothing::

    from loadtests import capture
    capture.attach(session, label="harness.reconcile")   # a no-op unless enabled

Without a label, the running pytest test's node id labels the exchange
(``PYTEST_CURRENT_TEST``, with its phase: setup, call or teardown).
Passwords, session ids, cookies, CSRF and access tokens and master passwords
are scrubbed before anything is written.

:func:`normalise` turns a recording into one JSON file per label (a contract
test, a harness operation), with volatile values (ids, dates, uuids,
tracebacks, HTTP dates, the JSON-RPC request id) replaced by typed
placeholders such as ``"<id>"`` and ``"<datetime>"``, so that recording the
same tests again changes as little as possible::

    python -m loadtests.capture normalise results/.../capture.jsonl --out tests/captures/odoo-18.0
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

ENV = "LOADTESTS_CAPTURE"
SECRET = "<secret>"
TEXT_EXCERPT = 400  # characters of a non-JSON body kept in a recording
HEADERS = ("Content-Type", "Set-Cookie", "Cache-Control", "Location", "Date", "Expires")

_enabled: Path | None = None


# ---------------------------------------------------------------- recording
def enable(path: str | os.PathLike[str]) -> Path:
    """Record into ``path`` from now on in this process (``LOADTESTS_CAPTURE`` does it for all)."""
    global _enabled  # noqa: PLW0603 - one switch per process, like the environment variable
    _enabled = Path(path)
    _enabled.parent.mkdir(parents=True, exist_ok=True)
    return _enabled


def disable() -> None:
    global _enabled  # noqa: PLW0603
    _enabled = None


def target() -> Path | None:
    """Where exchanges are recorded: :func:`enable`'s file, else ``LOADTESTS_CAPTURE``, else nowhere."""
    if _enabled is not None:
        return _enabled
    value = os.environ.get(ENV, "").strip()
    return Path(value) if value else None


class Recorder:
    """A ``requests`` response hook appending each exchange to a JSON-lines file."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        self.path = path
        self.label = label

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        try:
            line = json.dumps(exchange(response, self.label), sort_keys=True, default=str) + "\n"
        except Exception as exc:  # a recorder never breaks the call it records
            line = json.dumps({"label": self.label or "", "capture_error": repr(exc)}) + "\n"
        append(self.path, line)


def attach(session: requests.Session, label: str | None = None) -> Recorder | None:
    """Record ``session``'s exchanges when recording is enabled; returns the hook (None when disabled)."""
    path = target()
    if path is None:
        return None
    hooks: list[Any] = session.hooks.setdefault("response", [])
    for hook in hooks:
        if isinstance(hook, Recorder):
            return hook
    recorder = Recorder(path, label)
    hooks.append(recorder)
    return recorder


def append(path: Path, line: str) -> None:
    """One whole line per write, under flock: several processes may share the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def pytest_label() -> tuple[str, str]:
    """(node id, phase) of the running pytest test, ("", "") outside pytest."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    match = re.fullmatch(r"(.*) \((setup|call|teardown)\)", current)
    return (match.group(1), match.group(2)) if match else (current, "")


def exchange(response: requests.Response, label: str | None = None) -> dict[str, Any]:
    """One exchange as recorded: secrets already scrubbed, nothing else changed."""
    request = response.request
    url = urlsplit(request.url or "")
    path = url.path + (f"?{url.query}" if url.query else "")
    if label:
        name, phase = label, ""
    else:
        name, phase = pytest_label()
    record: dict[str, Any] = {
        "ts": round(time.time(), 3),
        "label": name,
        "phase": phase,
        "method": request.method or "",
        "path": path,
        "request": _request_body(request.body, str(request.headers.get("Content-Type", ""))),
        "status": response.status_code,
        "headers": {h: response.headers[h] for h in HEADERS if h in response.headers},
        "response": _response_body(response),
        "elapsed_ms": round(response.elapsed.total_seconds() * 1000, 1),
    }
    scrubbed: dict[str, Any] = scrub(record)
    return scrubbed


def _request_body(body: object, content_type: str) -> Any:
    if body is None:
        return None
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    else:  # a file or a generator: not read twice
        return {"text": f"<{type(body).__name__}>"}
    if "x-www-form-urlencoded" in content_type:
        return {"form": dict(parse_qsl(text, keep_blank_values=True))}
    try:
        return json.loads(text)
    except ValueError:
        return {"text": text[:TEXT_EXCERPT]}


def _response_body(response: requests.Response) -> Any:
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type:
        try:
            return response.json()
        except ValueError:
            pass
    return {"text": response.text[:TEXT_EXCERPT]}


# ---------------------------------------------------------------- secrets
# Keys whose string values are secrets wherever they appear (request params,
# results, forms). Integer values are kept: a POS order's session_id is an id.
_SECRET_KEY = re.compile(
    r"(?i)^(.*pass(word|wd)?.*|.*pwd|.*secret.*|.*token.*|csrf.*|session_id|sid|.*api_?key.*|master.*)$"
)
# /jsonrpc and /xmlrpc services: the position of the password (or master password) in args.
_SERVICE_SECRET_ARG = {"common": 2, "object": 2, "db": 0}
_DB_PUBLIC = {"list", "server_version", "db_exist", "list_lang", "list_countries"}
_TEXT_SECRETS = (
    re.compile(r"(session_id=)[^;\s\"'&]+"),
    re.compile(r"(?i)(csrf_token[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;&}]+"),
    re.compile(r"(?i)(name=[\"'](?:csrf_token|master_pwd|password)[\"']\s+value=[\"'])[^\"']+"),
    re.compile(r"(?i)(master_pwd[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;&}]+"),
    re.compile(r"(?i)(access_token[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;&}]+"),
)


def scrub(value: Any, key: str = "") -> Any:
    """``value`` with every secret replaced by ``<secret>`` (idempotent)."""
    if isinstance(value, dict):
        out = {k: scrub(v, str(k)) for k, v in value.items()}
        service, method = out.get("service"), out.get("method")
        args = out.get("args")
        pos = _SERVICE_SECRET_ARG.get(service) if isinstance(service, str) else None
        public = service == "db" and method in _DB_PUBLIC
        secret = pos is not None and isinstance(args, list) and len(args) > pos and isinstance(args[pos], str)
        if secret and not public and pos is not None and isinstance(args, list):
            out["args"] = [*args[:pos], SECRET, *args[pos + 1 :]]
        return out
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        if value and key and _SECRET_KEY.match(key):
            return SECRET
        return scrub_text(value)
    return value


def scrub_text(text: str) -> str:
    for pattern in _TEXT_SECRETS:
        text = pattern.sub(lambda m: m.group(1) + SECRET, text)
    return text


# ---------------------------------------------------------------- normalising
MAX_LIST = 20  # elements kept of a long list; a marker says how many were left out
MAX_TEXT = 1000  # characters kept of a long string
LEFT_OUT = re.compile(r"^<\+\d+ more>$")
PLACEHOLDER = re.compile(r"^<[a-z][a-z0-9-]*>$")

_VOLATILE = (
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?"),
        "<datetime-iso>",
    ),
    (re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?"), "<datetime>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "<date>"),
    (
        re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2}[ -][A-Z][a-z]{2}[ -]\d{4} \d{2}:\d{2}:\d{2} GMT"),
        "<http-date>",
    ),
    (re.compile(r"^[0-9a-f]{32,}$"), "<hex>"),
    # the harness's client keys (loadtests/keys.py): LT-<run id>-<kind>-<random>
    (re.compile(r"\bLT-[0-9a-f]{8}-([a-z]+)-[0-9a-f]{12}\b"), r"LT-<run>-\1-<key>"),
    (re.compile(r"\bLT-[0-9a-f]{8}-"), "LT-<run>-"),
    (re.compile(r"^[0-9a-f]{8}-%$"), "<run>-%"),  # the POS order uuids' prefix scan
    (re.compile(r"(//(?:127\.0\.0\.1|localhost|\[::1\])):\d+"), r"\1:<port>"),  # loopback test servers
)
# Values of these keys are record ids (of any model); keys ending in _id/_ids too.
_ID_KEYS = {"id", "uid", "res_id", "current_company"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _id_key(key: str) -> bool:
    return key in _ID_KEYS or key.endswith(("_id", "_ids"))


def volatile_text(text: str) -> str:
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def normalise_value(value: Any, key: str = "") -> Any:
    """Ids under id-like keys, dates, uuids and tracebacks become typed placeholders."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        numbered = 0
        for k, v in value.items():
            name = str(k)
            if name.isdigit():  # {"1": {...}}: a mapping by record id
                numbered += 1
                name = "<id>" if numbered == 1 else f"<id-{numbered}>"
            out[name] = normalise_value(v, name)
        return out
    if isinstance(value, list):
        if _id_key(key) and value and _is_int(value[0]):
            # many2one [id, "name"] or a list of ids
            items = ["<id>" if _is_int(v) else normalise_value(v) for v in value]
        else:
            items = [normalise_value(v) for v in value]
        if len(items) > MAX_LIST:
            items = [*items[:MAX_LIST], f"<+{len(items) - MAX_LIST} more>"]
        return items
    if _is_int(value) and _id_key(key):
        return "<id>"
    if isinstance(value, str):
        if key == "debug" and "Traceback" in value:
            return "<traceback>"
        text = volatile_text(value)
        if len(text) > MAX_TEXT:
            text = f"{text[:MAX_TEXT]}<+{len(text) - MAX_TEXT} chars>"
        return text
    return value


def call_of(record: dict[str, Any]) -> tuple[str, str]:
    """(model, method) a JSON-RPC call is about: call_kw params, or /jsonrpc service and method."""
    body = record.get("request")
    params = body.get("params") if isinstance(body, dict) else None
    if not isinstance(params, dict):
        return "", ""
    model, method = params.get("model"), params.get("method")
    if isinstance(model, str) and isinstance(method, str):
        return model, method
    service, args = params.get("service"), params.get("args")
    if service == "object" and isinstance(args, list) and len(args) >= 5:
        return str(args[3]), str(args[4])
    if isinstance(service, str) and isinstance(method, str):
        return service, method
    return "", ""


def _envelope(body: Any) -> Any:
    """A JSON-RPC body normalised, its id (the client's choice) ``<rpc-id>``; a null id stays null."""
    if not (isinstance(body, dict) and "jsonrpc" in body):
        return normalise_value(body)
    out = {
        k: ("<rpc-id>" if _is_int(v) else v) if k == "id" else normalise_value(v, k) for k, v in body.items()
    }
    return out


def normalise_exchange(record: dict[str, Any]) -> dict[str, Any]:
    record = scrub(record)
    model, method = call_of(record)
    response = _envelope(record.get("response"))
    request = _envelope(record.get("request"))
    headers = {k: volatile_text(v) for k, v in sorted((record.get("headers") or {}).items())}
    return {
        "phase": record.get("phase", ""),
        "method": record.get("method", ""),
        "path": volatile_text(str(record.get("path", ""))),
        "model": model,
        "rpc_method": method,
        "request": request,
        "status": record.get("status"),
        "headers": headers,
        "response": response,
    }


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if line:
                record = json.loads(line)
                if isinstance(record, dict) and "capture_error" not in record:
                    yield record


def group(records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Normalised exchanges by label, in the order they were made (``ts``), each with its ordinal:
    its index among the label's exchanges with the same (phase, path, model, method)."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(records, key=lambda r: float(r.get("ts", 0))):
        by_label.setdefault(str(record.get("label") or "unlabelled"), []).append(normalise_exchange(record))
    for exchanges in by_label.values():
        seen: dict[tuple[str, str, str, str], int] = {}
        for ex in exchanges:
            key = (ex["phase"], ex["path"], ex["model"], ex["rpc_method"])
            ex["ordinal"] = seen.get(key, 0)
            seen[key] = ex["ordinal"] + 1
    return by_label


def file_name(label: str) -> str:
    """``tests/contract/test_x.py::test_y[a]`` -> ``test_x.test_y_a_.json``; other labels as they are."""
    path, sep, name = label.partition("::")
    stem = f"{Path(path).stem}.{name}" if sep else label
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem) + ".json"


def dumps(data: Any) -> str:
    """ASCII JSON: Odoo's typographic quotes become \\u escapes (ansible-test's no-smart-quotes)."""
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def normalise(
    raw: str | os.PathLike[str], out: str | os.PathLike[str], meta: dict[str, Any] | None = None
) -> list[Path]:
    """Write one file per label of the recording ``raw`` into ``out`` (its old *.json files replaced)."""
    by_label = group(read_records(raw))
    target_dir = Path(out)
    target_dir.mkdir(parents=True, exist_ok=True)
    for old in target_dir.glob("*.json"):
        old.unlink()
    written = []
    for label in sorted(by_label):
        path = target_dir / file_name(label)
        path.write_text(dumps({"label": label, "exchanges": by_label[label]}), encoding="utf-8")
        written.append(path)
    if meta is not None:
        source = target_dir / "_source.json"
        source.write_text(dumps(meta), encoding="utf-8")
    return written


def load_dir(path: str | os.PathLike[str]) -> dict[str, list[dict[str, Any]]]:
    """Normalised captures by label, as :func:`normalise` wrote them."""
    out: dict[str, list[dict[str, Any]]] = {}
    for file in sorted(Path(path).glob("*.json")):
        if file.name.startswith("_"):
            continue
        data = json.loads(file.read_text(encoding="utf-8"))
        out[str(data["label"])] = list(data["exchanges"])
    return out


def main(argv: list[str] | None = None) -> int:
    summary = __doc__.split("\n", maxsplit=1)[0]
    parser = argparse.ArgumentParser(prog="python -m loadtests.capture", description=summary)
    sub = parser.add_subparsers(dest="command", required=True)
    norm = sub.add_parser("normalise", help="one normalised JSON file per test / operation of a recording")
    norm.add_argument("raw", help="the recording (JSON lines, LOADTESTS_CAPTURE)")
    norm.add_argument("--out", required=True, help="directory of the normalised files (its *.json replaced)")
    norm.add_argument("--meta", help="a JSON file written beside them as _source.json (what was recorded)")
    args = parser.parse_args(argv)
    if not Path(args.raw).is_file():
        print(f"error: raw: {args.raw} is not a file", file=sys.stderr)
        return 2
    meta = json.loads(Path(args.meta).read_text(encoding="utf-8")) if args.meta else None
    written = normalise(args.raw, args.out, meta)
    print(f"{len(written)} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
