"""ir.attachment on a POS order as Odoo 18.0-20250702 stores it (both targets).

Proven on a real server (``ir_attachment.location`` unset: files, Odoo's
default): ``create`` with ``name``, ``datas`` (base64), ``res_model`` and
``res_id`` writes the content to ``<data_dir>/filestore/<db>/<store_fname>``
where ``checksum`` is the SHA-1 of the content and ``store_fname`` is
``checksum[:2] + "/" + checksum``; ``db_datas`` stays empty, ``type`` is
``binary``, ``file_size`` the length, ``mimetype`` guessed from the name's
extension, else from the content. Identical contents share one file.
``read`` of ``datas`` gives the base64 content back, and an empty string, no
error, when the file is missing from the filestore (the row still names its
checksum and size): a restore that brought the rows back without the files
is only seen by comparing ``datas`` with ``checksum``. A login needs write
access to the order: a Point of Sale user may attach, an internal user
without it may not.

The contents are fixed per test (``receipt``) so that a new recording of real
Odoo changes only what Odoo changed.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.contract.conftest import Target
from tests.contract.discover import storable
from tests.contract.pos_helpers import make_order, open_session, payment_method, sync
from tests.contract.rpc import Client, RpcError

STORED = [
    "name",
    "res_model",
    "res_id",
    "res_field",
    "type",
    "store_fname",
    "checksum",
    "file_size",
    "mimetype",
    "db_datas",
    "url",
    "public",
]
NAME_REQUIRED = (
    "The operation cannot be completed:\n"
    "- Create/update: a mandatory field is not set.\n"
    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
    "Model: Attachment (ir.attachment)\n"
    "Field: Name (name)\n"
)


def receipt(label: str, size: int = 1500) -> bytes:
    """A text receipt of about ``size`` bytes, the same on every run for one label."""
    head = f"retailops contract receipt: {label}\n".encode()
    line = b"1 x product at 1.00 .......... 1.00\n"
    return head + line * max(1, (size - len(head)) // len(line))


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def sha1(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()  # Odoo's content address


@pytest.fixture
def order_id(admin: Client) -> int:
    """A paid POS order of this test, synced as a till sends it."""
    config_id, session_id = open_session(admin)
    bank = payment_method(admin, session_id, "bank")
    order = make_order(session_id, config_id, [(storable(admin)[0]["id"], 1, 1.0)], payment_method_id=bank)
    return int(sync(admin, [order], config_id)["pos.order"][0]["id"])


def attach(client: Client, name: str, content: bytes | None, order: int, **extra: Any) -> int:
    vals: dict[str, Any] = {"name": name, "res_model": "pos.order", "res_id": order, **extra}
    if content is not None:
        vals["datas"] = b64(content)
    result = client.kw("ir.attachment", "create", [vals])
    assert isinstance(result, int), result
    assert not isinstance(result, bool), result
    return result


def read(client: Client, attachment: int, fields: list[str]) -> dict[str, Any]:
    rows = client.kw_list("ir.attachment", "read", [[attachment]], fields=fields)
    assert len(rows) == 1, rows
    return dict(rows[0])


def filestore(odoo: Target) -> Path:
    if odoo.filestore is None:
        pytest.skip("the Odoo's data_dir is not known (ODOO_DATA_DIR)")
    return odoo.filestore


def test_an_attachment_is_stored_under_the_sha1_of_its_content(admin: Client, order_id: int):
    content = receipt("stored")
    attachment = attach(admin, "receipt-stored.txt", content, order_id)
    row = read(admin, attachment, STORED)
    checksum = sha1(content)
    assert row == {
        "id": attachment,
        "name": "receipt-stored.txt",
        "res_model": "pos.order",
        "res_id": order_id,
        "res_field": False,
        "type": "binary",
        "store_fname": f"{checksum[:2]}/{checksum}",
        "checksum": checksum,
        "file_size": len(content),
        "mimetype": "text/plain",
        "db_datas": False,
        "url": False,
        "public": False,
    }
    assert base64.b64decode(read(admin, attachment, ["datas"])["datas"]) == content
    # create with a list of values answers a list of ids
    more = admin.kw("ir.attachment", "create", [[{"name": "receipt-list.txt", "datas": b64(b"list")}]])
    assert isinstance(more, list)
    assert len(more) == 1


def test_the_file_is_in_the_filestore(admin: Client, odoo: Target, order_id: int):
    store = filestore(odoo)
    content = receipt("filestore")
    row = read(admin, attach(admin, "receipt-filestore.txt", content, order_id), ["store_fname"])
    path = store / row["store_fname"]
    assert path.read_bytes() == content
    assert path.parent.name == sha1(content)[:2]


def test_identical_contents_share_one_file(admin: Client, order_id: int):
    content = receipt("shared")
    first = attach(admin, "receipt-shared-1.txt", content, order_id)
    second = attach(admin, "receipt-shared-2.txt", content, order_id)
    rows = admin.kw_list("ir.attachment", "read", [[first, second]], fields=["store_fname", "checksum"])
    assert rows[0]["store_fname"] == rows[1]["store_fname"] == f"{sha1(content)[:2]}/{sha1(content)}"


def test_a_missing_file_reads_as_empty_content(admin: Client, odoo: Target, order_id: int):
    store = filestore(odoo)
    content = receipt("missing")
    attachment = attach(admin, "receipt-missing.txt", content, order_id)
    row = read(admin, attachment, ["store_fname"])
    path = store / row["store_fname"]
    aside = path.with_name(path.name + ".aside")
    path.rename(aside)
    try:
        assert read(admin, attachment, ["datas", "checksum", "file_size", "store_fname"]) == {
            "id": attachment,
            "datas": "",
            "checksum": sha1(content),
            "file_size": len(content),
            "store_fname": row["store_fname"],
        }
        found = admin.kw_list(
            "ir.attachment", "search_read", [], domain=[["id", "=", attachment]], fields=["datas"]
        )
        assert found == [{"id": attachment, "datas": ""}]
    finally:
        aside.rename(path)
    assert base64.b64decode(read(admin, attachment, ["datas"])["datas"]) == content


def test_an_attachment_without_content(admin: Client, order_id: int):
    attachment = attach(admin, "receipt-empty.txt", None, order_id)
    assert read(admin, attachment, ["store_fname", "checksum", "file_size", "datas", "db_datas"]) == {
        "id": attachment,
        "store_fname": False,
        "checksum": False,
        "file_size": 0,
        "datas": "",
        "db_datas": False,
    }


def test_the_name_is_required(admin: Client, order_id: int):
    with pytest.raises(RpcError) as err:
        admin.kw(
            "ir.attachment",
            "create",
            [{"datas": b64(b"no name"), "res_model": "pos.order", "res_id": order_id}],
        )
    assert (err.value.name, err.value.message) == ("odoo.exceptions.ValidationError", NAME_REQUIRED)


def test_the_mimetype_comes_from_the_name_else_from_the_content(admin: Client, order_id: int):
    text = receipt("mimetype", 200)
    named = {
        "receipt-mimetype.txt": "text/plain",
        "receipt-mimetype.pdf": "application/pdf",  # the name wins over the content
        "receipt-mimetype": "text/plain",  # no extension: guessed from the content
    }
    for name, mimetype in named.items():
        assert read(admin, attach(admin, name, text, order_id), ["mimetype"])["mimetype"] == mimetype, name


def test_found_by_name_and_by_order(admin: Client, order_id: int):
    prefix = f"receipt-found-{order_id}-"
    ids = [attach(admin, f"{prefix}{n}", receipt(f"found {n}", 100), order_id) for n in (1, 2)]
    by_name = admin.kw_list(
        "ir.attachment",
        "search_read",
        [],
        domain=[["name", "=like", prefix + "%"]],
        fields=["name", "checksum"],
    )
    # ir.attachment's default order is id desc
    assert [r["id"] for r in by_name] == sorted(ids, reverse=True)
    by_order = admin.kw_list(
        "ir.attachment", "search", [[["res_model", "=", "pos.order"], ["res_id", "=", order_id]]]
    )
    assert set(ids) <= set(by_order)
    assert admin.kw("ir.attachment", "search_count", [[["name", "in", [f"{prefix}1", f"{prefix}2"]]]]) == 2


def test_a_pos_user_may_attach_to_an_order_an_internal_user_may_not(
    admin: Client, odoo: Target, order_id: int
):
    if odoo.is_double:
        pytest.skip("the double has no access rights: every login may attach")
    groups = {
        f"{r['module']}.{r['name']}": r["res_id"]
        for r in admin.kw_list(
            "ir.model.data",
            "search_read",
            [],
            domain=[
                "|",
                "&",
                ["module", "=", "base"],
                ["name", "=", "group_user"],
                "&",
                ["module", "=", "point_of_sale"],
                ["name", "=", "group_pos_user"],
            ],
            fields=["module", "name", "res_id"],
        )
    }

    def login_with(name: str, group_ids: list[int]) -> Client:
        """A login of these groups (made once per database; a test-only password on a test database)."""
        login, password = f"contract-{name}", f"contract-{name}-password"
        found = admin.kw_list("res.users", "search", [[["login", "=", login]]])
        vals = {"password": password, "groups_id": [[6, 0, group_ids]]}
        if found:
            admin.kw("res.users", "write", [found, vals])
        else:
            admin.kw("res.users", "create", [{"name": f"Contract {name}", "login": login, **vals}])
        client = odoo.client()
        client.authenticate(login, password)
        return client

    cashier = login_with("cashier", [groups["base.group_user"], groups["point_of_sale.group_pos_user"]])
    attachment = attach(cashier, "receipt-cashier.txt", receipt("cashier", 100), order_id)
    assert read(cashier, attachment, ["res_id"])["res_id"] == order_id
    # HTML stays HTML for an administrator only (tests/contract/test_double_attachments.py on the double)
    html = b"<html><body>receipt</body></html>"
    assert (
        read(cashier, attach(cashier, "receipt.html", html, order_id), ["mimetype"])["mimetype"]
        == "text/plain"
    )
    assert read(admin, attach(admin, "receipt.html", html, order_id), ["mimetype"])["mimetype"] == "text/html"
    employee = login_with("employee", [groups["base.group_user"]])
    with pytest.raises(RpcError) as err:
        attach(employee, "receipt-employee.txt", receipt("employee", 100), order_id)
    assert err.value.name == "odoo.exceptions.AccessError"
    assert str(err.value.message).startswith(
        "You are not allowed to modify 'Point of Sale Orders' (pos.order) records."
    )
