"""Double-only: ir.attachment's schema version, the filestore of a reset seed, a cashier's HTML."""

from __future__ import annotations

import base64

import pytest

from rig.odoo_double.schema import SCHEMA_VERSION
from tests.contract.rpc import Client
from tests.fixtures.plugin import DoubleFactory

pytestmark = pytest.mark.double_only


def _attach(client: Client, name: str, content: bytes) -> int:
    vals = {"name": name, "datas": base64.b64encode(content).decode()}
    return int(client.kw("ir.attachment", "create", [vals]))


def test_an_older_schema_is_rebuilt_with_the_attachments_table(double_factory: DoubleFactory):
    double = double_factory("attach-schema", db="attach_schema", start=False)
    double.seed()
    with double.pg.connect(double.db) as conn:
        conn.execute("UPDATE double_schema SET version = 2")
        conn.execute("DROP TABLE ir_attachment")
    double.seed()  # the version differs: emptied, rebuilt and seeded again
    with double.pg.connect(double.db) as conn:
        assert conn.execute("SELECT version FROM double_schema").fetchall() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION == 3
        assert conn.execute("SELECT count(*) FROM ir_attachment").fetchall() == [(0,)]
        assert conn.execute("SELECT count(*) FROM res_users").fetchall()[0][0] > 0


def test_a_reset_seed_empties_the_databases_filestore(double_factory: DoubleFactory):
    double = double_factory("attach-reset", db="attach_reset")
    admin = Client(double.url, double.db)
    admin.authenticate("admin", "admin")
    attachment = _attach(admin, "reset.txt", b"a receipt before the reset")
    fname = admin.kw("ir.attachment", "read", [[attachment], ["store_fname"]])[0]["store_fname"]
    store = double.data_dir / "filestore" / double.db
    assert (store / fname).read_bytes() == b"a receipt before the reset"
    double.stop()
    double.seed("--reset")
    assert not store.exists()


def test_html_stays_html_for_an_administrator_only(double_factory: DoubleFactory):
    double = double_factory("attach-html", db="attach_html")
    html = b"<html><body>receipt</body></html>"
    admin = Client(double.url, double.db)
    admin.authenticate("admin", "admin")
    cashier = Client(double.url, double.db)
    cashier.authenticate("cashier_b001", "cashier_b001")
    mimetypes = {
        who: client.kw("ir.attachment", "read", [[_attach(client, "r.html", html)], ["mimetype"]])[0][
            "mimetype"
        ]
        for who, client in (("admin", admin), ("cashier", cashier))
    }
    assert mimetypes == {"admin": "text/html", "cashier": "text/plain"}
