"""Odoo 18 wire protocol: envelopes, error codes, cookies, health, RPC services (odoo-protocol.md §1-6)."""

from __future__ import annotations

import functools
import re
import secrets
import xmlrpc.client
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import odoolib
import psycopg
import pytest
import requests

from tests.contract.conftest import Target
from tests.contract.rpc import Client, RpcError

SID = re.compile(r"session_id=([A-Za-z0-9_-]+)")


def _port(url: str) -> tuple[str, int]:
    host, _sep, port = url.split("://", 1)[1].partition(":")
    return host, int(port.strip("/") or 80)


def test_health_endpoints(odoo: Target):
    resp = requests.get(odoo.url + "/web/health", timeout=10)
    assert resp.status_code == 200
    assert resp.json() == {"status": "pass"}
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in resp.headers
    resp = requests.get(odoo.url + "/web/health?db_server_status=0", timeout=10)
    assert (resp.status_code, resp.json()) == (200, {"status": "pass", "db_server_status": True})
    resp = requests.get(odoo.url + "/websocket/health", timeout=10)
    assert (resp.status_code, resp.json()) == (200, {"status": "pass"})
    assert "Set-Cookie" not in resp.headers


def test_version_is_the_same_everywhere(odoo: Target):
    client = odoo.client()
    info = client.call("/web/webclient/version_info", {})
    assert set(info) == {"server_version", "server_version_info", "server_serie", "protocol_version"}
    assert info["server_version"].startswith("18.0")
    assert info["server_version_info"][:2] == [18, 0]
    assert info["server_serie"] == "18.0"
    assert info["protocol_version"] == 1
    assert client.call("/jsonrpc", {"service": "common", "method": "version", "args": []}) == info
    proxy = xmlrpc.client.ServerProxy(odoo.url + "/xmlrpc/2/common")
    assert proxy.version() == info


def test_authenticate_sets_and_rotates_the_cookie(odoo: Target):
    client = odoo.client()
    resp = client.post(
        "/web/session/authenticate", {"db": odoo.db, "login": odoo.login, "password": odoo.password}
    )
    result = resp.json()["result"]
    for key in (
        "uid",
        "is_admin",
        "user_context",
        "db",
        "server_version",
        "server_version_info",
        "partner_id",
        "user_companies",
        "websocket_worker_version",
    ):
        assert key in result, key
    assert result["db"] == odoo.db
    assert isinstance(result["uid"], int)
    assert result["server_version_info"][:2] == [18, 0]
    cookie = resp.headers["Set-Cookie"]
    first = SID.search(cookie).group(1)  # type: ignore[union-attr]
    assert len(first) == 84
    assert "Max-Age=604800" in cookie
    assert "HttpOnly" in cookie
    assert "Path=/" in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    date = parsedate_to_datetime(resp.headers["Date"])
    assert 360 <= (expires - date).days <= 366
    again = client.post(
        "/web/session/authenticate", {"db": odoo.db, "login": odoo.login, "password": odoo.password}
    )
    second = SID.search(again.headers["Set-Cookie"]).group(1)  # type: ignore[union-attr]
    assert second != first, "authenticate must rotate the session id"
    assert client.http.cookies["session_id"] == second
    info = client.call("/web/session/get_session_info", {})
    assert info["uid"] == result["uid"]


def test_wrong_password_and_unknown_database(odoo: Target):
    client = odoo.client()
    resp = client.post(
        "/web/session/authenticate", {"db": odoo.db, "login": odoo.login, "password": "nope"}, 21
    )
    payload = resp.json()
    assert resp.status_code == 200
    assert payload["id"] == 21
    assert payload["error"]["code"] == 200
    assert payload["error"]["message"] == "Odoo Server Error"
    data = payload["error"]["data"]
    assert data["name"] == "odoo.exceptions.AccessDenied"
    assert data["message"] == "Access Denied"
    assert data["arguments"] == ["Access Denied"]
    assert data["context"] == {}
    assert "Traceback" in data["debug"]
    with pytest.raises(RpcError) as err:
        client.call("/web/session/authenticate", {"db": "no_such_db_x", "login": "a", "password": "b"})
    assert err.value.name == "odoo.exceptions.AccessError"
    assert err.value.message == "Database not found."
    odoo.admin()  # a success resets the failure counter of this address


def test_session_expired_is_code_100_with_null_id(odoo: Target):
    client = odoo.client()
    resp = client.post(
        "/web/dataset/call_kw/res.partner/search",
        {"model": "res.partner", "method": "search", "args": [[]], "kwargs": {}},
        33,
    )
    payload = resp.json()
    assert resp.status_code == 200
    assert payload["id"] is None
    assert payload["error"]["code"] == 100
    assert payload["error"]["message"] == "Odoo Session Expired"
    assert payload["error"]["data"]["name"] == "odoo.http.SessionExpiredException"
    assert payload["error"]["data"]["message"] == "Session expired"
    # A well-formed but unknown sid is answered the same way.
    client.http.cookies.set("session_id", "A" * 84)
    assert client.post("/web/session/get_session_info", {}).json()["error"]["code"] == 100


def test_call_kw_errors(admin: Client):
    resp = admin.post(
        "/web/dataset/call_kw/no.such.model/search",
        {"model": "no.such.model", "method": "search", "args": [[]], "kwargs": {}},
        44,
    )
    payload = resp.json()
    assert payload["id"] is None
    assert payload["error"]["code"] == 404
    assert payload["error"]["message"] == "404: Not Found"
    assert payload["error"]["data"]["name"] == "werkzeug.exceptions.NotFound"
    with pytest.raises(RpcError) as err:
        admin.kw("res.partner", "no_such_method", [[]])
    assert err.value.code == 200
    assert err.value.name == "builtins.AttributeError"
    assert err.value.message == "The method 'res.partner.no_such_method' does not exist"
    with pytest.raises(RpcError) as err:
        admin.kw("res.partner", "_search", [[]])
    assert err.value.name == "odoo.exceptions.AccessError"
    assert err.value.message == "Private methods (such as 'res.partner._search') cannot be called remotely."


def test_none_result_omits_the_result_member(admin: Client):
    payload = admin.post("/web/session/check", {}, 7).json()
    assert payload == {"jsonrpc": "2.0", "id": 7}
    assert "Max-Age=604800" in admin.post("/web/session/get_session_info", {}).headers["Set-Cookie"]


def test_malformed_requests(odoo: Target, admin: Client):
    bad = admin.http.post(
        odoo.url + "/web/dataset/call_kw",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad.status_code == 200
    assert bad.json()["id"] is None
    assert bad.json()["error"]["code"] == 200
    assert bad.json()["error"]["data"]["name"] == "json.decoder.JSONDecodeError"
    bad = requests.post(
        odoo.url + "/web/session/authenticate",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad.status_code == 400
    wrong_type = requests.post(
        odoo.url + "/web/session/authenticate", data=b"{}", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert wrong_type.status_code == 400
    missing = requests.get(odoo.url + "/definitely/not/a/route", timeout=10)
    assert missing.status_code == 404
    assert not missing.headers.get("Content-Type", "").startswith("application/json")


def test_search_read_shapes(admin: Client):
    rows = admin.kw(
        "product.product",
        "search_read",
        [],
        domain=[["sale_ok", "=", True]],
        fields=["id", "display_name", "barcode", "lst_price", "qty_available", "uom_id"],
        limit=5,
        order="id asc",
    )
    assert 0 < len(rows) <= 5
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    row = rows[0]
    assert set(row) == {"id", "display_name", "barcode", "lst_price", "qty_available", "uom_id"}
    assert isinstance(row["uom_id"], list)
    assert len(row["uom_id"]) == 2
    assert isinstance(row["uom_id"][1], str)
    assert isinstance(row["lst_price"], float)
    assert isinstance(row["qty_available"], float)
    raw = admin.kw("product.product", "read", [[row["id"]]], fields=["uom_id"], load=False)
    assert raw == [{"id": row["id"], "uom_id": row["uom_id"][0]}]
    assert admin.kw("product.product", "search_count", [[["id", "=", row["id"]]]]) == 1
    quants = admin.kw(
        "stock.quant",
        "search_read",
        [],
        domain=[["location_id.usage", "=", "internal"]],
        fields=["product_id", "location_id", "quantity", "reserved_quantity", "lot_id"],
        limit=3,
    )
    assert quants
    assert isinstance(quants[0]["location_id"], list)
    assert quants[0]["lot_id"] is False


def test_create_returns_an_id_or_a_list(admin: Client):
    one = admin.kw("res.partner", "create", [{"name": "Contract Partner"}])
    assert isinstance(one, int)
    many = admin.kw("res.partner", "create", [[{"name": "Contract A"}, {"name": "Contract B"}]])
    assert isinstance(many, list)
    assert len(many) == 2
    names = admin.kw("res.partner", "read", [[one, *many]], fields=["name"])
    assert [n["name"] for n in names] == ["Contract Partner", "Contract A", "Contract B"]


def test_jsonrpc_services_and_no_cookie(odoo: Target):
    client = odoo.client()
    resp = client.post(
        "/jsonrpc", {"service": "common", "method": "login", "args": [odoo.db, odoo.login, odoo.password]}
    )
    uid = resp.json()["result"]
    assert isinstance(uid, int)
    assert "Set-Cookie" not in resp.headers
    assert (
        client.call(
            "/jsonrpc",
            {"service": "common", "method": "authenticate", "args": [odoo.db, odoo.login, odoo.password, {}]},
        )
        == uid
    )
    count = client.call(
        "/jsonrpc",
        {
            "service": "object",
            "method": "execute_kw",
            "args": [odoo.db, uid, odoo.password, "res.partner", "search_count", [[]]],
        },
    )
    assert isinstance(count, int)
    assert count > 0
    with pytest.raises(RpcError) as err:
        client.call(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [odoo.db, uid, "wrong-password", "res.partner", "search_count", [[]]],
            },
        )
    assert err.value.name == "odoo.exceptions.AccessDenied"
    with pytest.raises(RpcError) as err:
        client.call(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": [odoo.db, uid, odoo.password, "no.such.model", "search", [[]]],
            },
        )
    assert err.value.name == "odoo.exceptions.UserError"
    assert err.value.message == "Object no.such.model doesn't exist"


def test_xmlrpc_faults(odoo: Target):
    common = xmlrpc.client.ServerProxy(odoo.url + "/xmlrpc/2/common")
    uid = common.login(odoo.db, odoo.login, odoo.password)
    assert isinstance(uid, int)
    models = xmlrpc.client.ServerProxy(odoo.url + "/xmlrpc/2/object")
    count: Any = models.execute_kw(odoo.db, uid, odoo.password, "res.partner", "search_count", [[]])
    assert count > 0
    with pytest.raises(xmlrpc.client.Fault) as fault:
        models.execute_kw(odoo.db, uid, "wrong-password", "res.partner", "search_count", [[]])
    assert fault.value.faultCode == 3
    with pytest.raises(xmlrpc.client.Fault) as fault:
        models.execute_kw(odoo.db, uid, odoo.password, "no.such.model", "search", [[]])
    assert fault.value.faultCode == 2


@pytest.mark.parametrize("protocol", ["jsonrpc", "xmlrpc"])
def test_odoo_client_lib(odoo: Target, protocol: str, monkeypatch: pytest.MonkeyPatch):
    # odoolib posts with httpx's default 5 s timeout; a real login (pbkdf2, 600000 rounds) on a
    # busy host takes longer, so the test gives it the contract client's timeout.
    monkeypatch.setattr(httpx, "post", functools.partial(httpx.post, timeout=60))
    host, port = _port(odoo.url)
    conn = odoolib.get_connection(
        hostname=host,
        port=port,
        protocol=protocol,
        database=odoo.db,
        login=odoo.login,
        password=odoo.password,
    )
    product = conn.get_model("product.product").search_read([["barcode", "!=", False]], ["barcode"], limit=1)[
        0
    ]
    found = conn.get_model("product.product").search_read(
        [["barcode", "=", product["barcode"]]], ["id"], limit=1
    )
    assert found == [{"id": product["id"]}]
    context = conn.get_user_context()
    assert context["uid"] == conn.user_id
    assert "lang" in context


def test_database_manager_routes_exist(odoo: Target):
    """The manager refuses a wrong master password; the calls name a database that does not exist.

    Never name the target's database with a guessed password: on a server whose master password
    happens to be the guess, the call drops it (this test once did).
    """
    wrong = "wrong-" + secrets.token_hex(12)
    absent = "no_such_db_" + secrets.token_hex(6)
    for path in ("/web/database/manager", "/web/database/selector"):
        assert requests.get(odoo.url + path, timeout=30).status_code == 200, path
    resp = requests.post(
        odoo.url + "/web/database/drop", data={"master_pwd": wrong, "name": absent}, timeout=30
    )
    assert resp.status_code == 200
    assert "Access Denied" in resp.text
    db = xmlrpc.client.ServerProxy(odoo.url + "/xmlrpc/2/db")
    version: Any = db.server_version()
    assert version.startswith("18.0")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        db.drop(wrong, absent)
    assert fault.value.faultCode == 3
    assert fault.value.faultString == "Access Denied"


def test_logout_is_a_303_and_kills_the_session(odoo: Target):
    client = odoo.admin()
    resp = client.http.get(odoo.url + "/web/session/logout", allow_redirects=False, timeout=10)
    assert resp.status_code == 303
    assert client.post("/web/session/get_session_info", {}).json()["error"]["code"] == 100


@pytest.mark.double_only
def test_double_identifies_itself_without_changing_odoo_fields(odoo: Target):
    resp = requests.get(odoo.url + "/web/health", timeout=10)
    assert resp.headers["X-Odoo-Double"].startswith("odoo_double/")
    info = odoo.client().call("/web/webclient/version_info", {})
    assert info["server_version"] == "18.0-20250702"
    assert info["server_version_info"] == [18, 0, 0, "final", 0, ""]


def test_a_pooled_connection_whose_server_side_died_is_replaced(odoo: Target):
    """Odoo 18's ConnectionPool.borrow (odoo/sql_db.py) resets a pooled connection before lending it
    and replaces one whose server side is gone (a proxy's idle timeout, a terminated backend): no
    request sees the dead connection."""
    if not odoo.pg_dsn:
        pytest.skip("needs ODOO_PG_DSN, superuser access to the Odoo database (the real-Odoo lane sets it)")
    client = odoo.admin()
    before = [client.kw("res.partner", "search_count", [[]]) for _i in range(8)]  # pooled connections now
    with psycopg.connect(odoo.pg_dsn, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1, "Odoo holds no pooled connection to terminate"
    after = [client.kw("res.partner", "search_count", [[]]) for _i in range(12)]
    assert set(after) == set(before[-1:])
