"""Read the run's writes back from the database and reconcile the ledger.

Reads go through Odoo's own JSON-RPC (``search_read``), so the check works
unchanged against a real Odoo 18 and the double, without database access.
Per ledger kind: the records carrying each client key (``present``) and
everything the run's key prefix finds (``scanned``, for unexpected writes);
for POS orders whether they are paid in full, for attachments whether their
file opens (``datas`` read back matches the ``checksum`` Odoo stored).

A database with no Odoo in front of it (a restore drill's copy on a scratch
node) is read with SQL instead (``SqlReader``): the same queries on the tables
Odoo keeps the models in; its attachments' files are the restore drill's to
check (the filestore is on the scratch node).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loadtests import capture, keys
from loadtests.ledger import LedgerResult, read_ledger, reconcile_kind
from loadtests.odoo_client import OdooClient

if TYPE_CHECKING:
    from psycopg import sql


@dataclass(frozen=True)
class KindQuery:
    model: str
    field: str  # holds the client key
    extra: tuple[tuple[str, str, Any], ...] = ()  # e.g. only posted moves count as written
    scan_prefix: str = ""  # run-scoped prefix for =like scans ("" = no scan)
    settled: bool = False  # check the records are paid in full (POS orders)
    opens: bool = False  # check the records' files open (attachments: content matches checksum)


SETTLED_STATES = ("paid", "done", "invoiced")
CENT = 0.005


def kind_queries(run_id: str) -> dict[str, KindQuery]:
    return {
        "pos.order": KindQuery("pos.order", "uuid", (), f"{run_id}-", settled=True),
        # a backorder carries its transfer's origin: Odoo's own split of one write, not a duplicate
        "stock.picking": KindQuery(
            "stock.picking", "origin", (("backorder_id", "=", False),), keys.run_prefix(run_id, "repl")
        ),
        "stock.picking.done": KindQuery(
            "stock.picking", "origin", (("state", "=", "done"), ("backorder_id", "=", False))
        ),
        "account.move": KindQuery(
            "account.move", "ref", (("state", "=", "posted"),), keys.run_prefix(run_id, "inv")
        ),
        "res.partner": KindQuery("res.partner", "name", (), keys.run_prefix(run_id, "partner")),
        # the cashier's receipts: the key is the attachment's name, the file must open
        "ir.attachment": KindQuery(
            "ir.attachment",
            "name",
            (("res_model", "=", "pos.order"),),
            keys.run_prefix(run_id, keys.RECEIPT),
            opens=True,
        ),
    }


class Reader(Protocol):
    def values(self, model: str, domain: list[Any], field: str) -> list[str]: ...

    def unsettled(self, model: str, field: str, keys: list[str]) -> list[str]: ...

    def unreadable(self, model: str, field: str, keys: list[str]) -> list[str]: ...


class JsonRpcReader:
    """Reads the keys back through Odoo's JSON-RPC with the harness login (``OdooClient``)."""

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
        self.client = OdooClient(host, db, timeout=timeout, verify=verify)
        capture.attach(self.client.http, label="harness.reconcile")  # a no-op unless LOADTESTS_CAPTURE is set
        self.client.authenticate(login, password)

    def values(self, model: str, domain: list[Any], field: str) -> list[str]:
        out: list[str] = []
        offset = 0
        while True:
            rows = self.client.call_kw(
                model,
                "search_read",
                [],
                {"domain": domain, "fields": [field], "limit": 2000, "offset": offset, "order": "id"},
            )
            out.extend(str(r[field]) for r in rows if r.get(field))
            if len(rows) < 2000:
                return out
            offset += 2000

    def unsettled(self, model: str, field: str, keys: list[str]) -> list[str]:
        """Keys whose order is not in a paid state, or whose payments do not cover its total."""
        out: list[str] = []
        for chunk in _chunks(keys, 500):
            rows = self.client.call_kw(
                model,
                "search_read",
                [],
                {"domain": [[field, "in", chunk]], "fields": [field, "state", "amount_total", "amount_paid"]},
            )
            out.extend(
                str(r[field])
                for r in rows
                if r.get("state") not in SETTLED_STATES
                or abs(float(r.get("amount_total") or 0) - float(r.get("amount_paid") or 0)) > CENT
            )
        return out

    def unreadable(self, model: str, field: str, keys: list[str]) -> list[str]:
        """Keys whose attachment does not open: its content read back (``datas``) is not the one
        Odoo stored (SHA-1 ``checksum``, ``file_size``). Real Odoo 18 reads a file missing from the
        filestore as empty content, without an error."""
        out: list[str] = []
        for chunk in _chunks(keys, 100):
            rows = self.client.call_kw(
                model,
                "search_read",
                [],
                {"domain": [[field, "in", chunk]], "fields": [field, "datas", "checksum", "file_size"]},
            )
            out.extend(str(r[field]) for r in rows if not opens(r))
        return out


def opens(row: dict[str, Any]) -> bool:
    """An attachment read back whole: its content has the stored SHA-1 and size."""
    try:
        content = base64.b64decode(row.get("datas") or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    checksum = hashlib.sha1(content).hexdigest()  # Odoo's content address, not a security hash
    return bool(row.get("checksum")) and checksum == row["checksum"] and len(content) == row.get("file_size")


class SqlReader:
    """The same reads in SQL, on the tables Odoo stores its models in (``pos.order`` in ``pos_order``).

    Takes the domains ``reconcile`` builds: ``in``, ``=like`` and ``=`` (``False``: the
    column is empty). The connection's other settings (user, password, TLS) come from libpq's
    environment (PGUSER, PGPASSWORD, PGSSLMODE, ...).
    """

    def __init__(self, host: str, port: int, dbname: str, *, connect_timeout: int = 10) -> None:
        import psycopg  # noqa: PLC0415 - only the restore check reads a database directly

        self.conn = psycopg.connect(
            host=host, port=port, dbname=dbname, connect_timeout=connect_timeout, autocommit=True
        )

    def close(self) -> None:
        self.conn.close()

    @staticmethod
    def where(domain: list[Any]) -> tuple[sql.Composed, list[Any]]:
        from psycopg import sql  # noqa: PLC0415

        parts: list[sql.Composable] = []
        params: list[Any] = []
        for term in domain:
            column, op, value = term
            ident = sql.Identifier(column)
            if op == "in":
                parts.append(sql.SQL("{} = ANY(%s)").format(ident))
                params.append(list(value))
            elif op == "=like":
                parts.append(sql.SQL("{} LIKE %s").format(ident))
                params.append(value)
            elif op == "=" and value is False:
                parts.append(sql.SQL("{} IS NULL").format(ident))
            elif op == "=":
                parts.append(sql.SQL("{} = %s").format(ident))
                params.append(value)
            else:
                raise ValueError(f"SqlReader: domain operator {op!r} is not supported")
        return sql.SQL(" AND ").join(parts or [sql.SQL("TRUE")]), params

    def values(self, model: str, domain: list[Any], field: str) -> list[str]:
        from psycopg import sql  # noqa: PLC0415

        condition, params = self.where(domain)
        query = sql.SQL("SELECT {} FROM {} WHERE {} AND {} IS NOT NULL").format(
            sql.Identifier(field), sql.Identifier(model.replace(".", "_")), condition, sql.Identifier(field)
        )
        return [str(row[0]) for row in self.conn.execute(query, params)]

    def unsettled(self, model: str, field: str, keys: list[str]) -> list[str]:
        """Keys whose order is not in a paid state, or whose payments do not cover its total."""
        from psycopg import sql  # noqa: PLC0415

        query = sql.SQL(
            "SELECT {f} FROM {t} WHERE {f} = ANY(%s)"
            " AND (state <> ALL(%s) OR abs(coalesce(amount_total, 0) - coalesce(amount_paid, 0)) > %s)"
        ).format(f=sql.Identifier(field), t=sql.Identifier(model.replace(".", "_")))
        return [str(row[0]) for row in self.conn.execute(query, [keys, list(SETTLED_STATES), CENT])]

    def unreadable(self, model: str, field: str, keys: list[str]) -> list[str]:
        """None from here: the files are on the host whose filestore belongs to this database (a
        restore drill's scratch node), and the drill checks every attachment row there
        (odoo_filestore_verify: the file present, its SHA-1 the row's checksum)."""
        return []


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def reconcile(ledger_paths: Iterable[str | Path], reader: Reader, run_id: str) -> LedgerResult:
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
        unsettled = reader.unsettled(q.model, q.field, sorted(present)) if q.settled else []
        unreadable = reader.unreadable(q.model, q.field, sorted(present)) if q.opens else []
        counts = {k: present.get(k, 0) for k in key_list}
        results.append(
            reconcile_kind(kind, entries[kind], counts, scanned, unsettled=unsettled, unreadable=unreadable)
        )
    return LedgerResult(tuple(results))
