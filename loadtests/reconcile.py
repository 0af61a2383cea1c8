"""Read the run's writes back from the database and reconcile the ledger.

Reads go through Odoo's own JSON-RPC (``search_read``), so the check works
unchanged against a real Odoo 18 and the double, without database access.
Per ledger kind: the records carrying each client key (``present``) and
everything the run's key prefix finds (``scanned``, for unexpected writes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from loadtests import capture, keys
from loadtests.ledger import LedgerResult, read_ledger, reconcile_kind


@dataclass(frozen=True)
class KindQuery:
    model: str
    field: str  # holds the client key
    extra: tuple[tuple[str, str, Any], ...] = ()  # e.g. only posted moves count as written
    scan_prefix: str = ""  # run-scoped prefix for =like scans ("" = no scan)


def kind_queries(run_id: str) -> dict[str, KindQuery]:
    return {
        "pos.order": KindQuery("pos.order", "uuid", (), f"{run_id}-"),
        "stock.picking": KindQuery("stock.picking", "origin", (), keys.run_prefix(run_id, "repl")),
        "stock.picking.done": KindQuery("stock.picking", "origin", (("state", "=", "done"),)),
        "account.move": KindQuery(
            "account.move", "ref", (("state", "=", "posted"),), keys.run_prefix(run_id, "inv")
        ),
        "res.partner": KindQuery("res.partner", "name", (), keys.run_prefix(run_id, "partner")),
    }


class JsonRpcReader:
    def __init__(
        self,
        host: str,
        db: str,
        login: str,
        password: str,
        *,
        timeout: float = 60.0,
        verify: bool | str = True,
    ) -> None:
        self.url = host.rstrip("/")
        self.http = requests.Session()
        capture.attach(self.http, label="harness.reconcile")  # a no-op unless LOADTESTS_CAPTURE is set
        # Per request, not on the session: requests lets REQUESTS_CA_BUNDLE
        # (set on many machines) override a session's verify.
        self.verify = verify
        self.timeout = timeout
        self._call("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def _call(self, path: str, params: dict[str, Any]) -> Any:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}
        resp = self.http.post(self.url + path, json=body, timeout=self.timeout, verify=self.verify)
        resp.raise_for_status()
        data = resp.json()
        if "error" in data:
            err = data["error"]
            raise RuntimeError(f"{path}: {err.get('code')} {(err.get('data') or {}).get('message', err)}")
        return data.get("result")

    def values(self, model: str, domain: list[Any], field: str) -> list[str]:
        out: list[str] = []
        offset = 0
        while True:
            rows = self._call(
                f"/web/dataset/call_kw/{model}/search_read",
                {
                    "model": model,
                    "method": "search_read",
                    "args": [],
                    "kwargs": {
                        "domain": domain,
                        "fields": [field],
                        "limit": 2000,
                        "offset": offset,
                        "order": "id",
                    },
                },
            )
            out.extend(str(r[field]) for r in rows if r.get(field))
            if len(rows) < 2000:
                return out
            offset += 2000


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def reconcile(ledger_paths: Iterable[str | Path], reader: JsonRpcReader, run_id: str) -> LedgerResult:
    entries = read_ledger(ledger_paths)
    queries = kind_queries(run_id)
    results = []
    for kind in sorted(entries):
        q = queries.get(kind)
        if q is None:
            continue
        extra = [list(t) for t in q.extra]
        key_list = sorted(entries[kind])
        present: Counter[str] = Counter()
        for chunk in _chunks(key_list, 500):
            present.update(reader.values(q.model, [[q.field, "in", chunk], *extra], q.field))
        scanned: Counter[str] | None = None
        if q.scan_prefix:
            scanned = Counter(
                reader.values(q.model, [[q.field, "=like", q.scan_prefix + "%"], *extra], q.field)
            )
        results.append(reconcile_kind(kind, entries[kind], {k: present.get(k, 0) for k in key_list}, scanned))
    return LedgerResult(tuple(results))
