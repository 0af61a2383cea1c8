"""ir.attachment: files in Odoo's filestore, rows in ``ir_attachment``, as Odoo 18 stores them.

Odoo 18.0-20250702 with ``ir_attachment.location`` unset (files, its
default; tests/contract/test_contract_attachments.py proves each point on a
real server):

* ``create`` with ``datas`` (base64) writes the content to
  ``<data_dir>/filestore/<db>/<store_fname>``, ``store_fname`` being
  ``checksum[:2] + "/" + checksum`` and ``checksum`` the SHA-1 of the
  content; ``file_size`` is its length, ``db_datas`` stays empty,
  ``index_content`` holds the printable words of a text. Identical contents
  share one file. The file is written in the transaction, before its commit,
  as Odoo does (a rolled-back create leaves a file no row names; Odoo's
  garbage collection, which the double has not, would remove it later).
* ``mimetype``: the one given, else from the name's extension, else from the
  content (a subset of Odoo's own guesser: PDF, PNG, JPEG, GIF, XML/SVG,
  text, else ``application/octet-stream``); an HTML or XML type becomes
  ``text/plain`` for a login that is not an administrator.
* ``read`` of ``datas`` is the file's content in base64, ``""`` when the
  file is missing (no error) or there is no content.
* a search adds ``res_field = False`` unless its domain names ``id`` or
  ``res_field`` (the attachments of binary fields stay hidden); the default
  order is ``id desc``.

Not imitated: access rights (every login may attach to any record; Odoo asks
for write access to it), ``bin_size``, storage in the database, the
filestore's garbage collection.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import UserError
from .orm import (
    Env,
    Model,
    col,
    computed,
    create,
    display_names,
    m2o,
    read,
    search,
    search_count,
    write,
)

#: Fields Odoo computes from the content: a caller's values for them are dropped, as in Odoo.
COMPUTED_FROM_CONTENT = ("file_size", "checksum", "store_fname")
PRINTABLE_WORDS = re.compile(rb"[\x20-\x7E]{4,}")
SIGNATURES = (
    (b"%PDF", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def filestore_of(data_dir: str, dbname: str) -> Path:
    """Odoo's ``config.filestore(dbname)``: ``<data_dir>/filestore/<db>``."""
    return Path(data_dir) / "filestore" / dbname


def filestore(env: Env) -> Path:
    return filestore_of(env.cfg.data_dir, env.cr.connection.info.dbname)


def guess_mimetype(content: bytes) -> str:
    for signature, mimetype in SIGNATURES:
        if content.startswith(signature):
            return mimetype
    if content.startswith(b"<"):
        return "image/svg+xml" if b"<svg" in content and b"/svg" in content else "application/xml"
    try:
        text = content[:1024].decode()
    except ValueError:
        return "application/octet-stream"
    if content and all(c >= " " or c in "\t\n\r" for c in text):
        return "text/plain"
    return "application/octet-stream"


def compute_mimetype(vals: Mapping[str, Any], content: bytes) -> str:
    mimetype = vals.get("mimetype") or None
    if not mimetype and vals.get("name"):
        mimetype = mimetypes.guess_type(str(vals["name"]))[0]
    if not mimetype and vals.get("url"):
        mimetype = mimetypes.guess_type(str(vals["url"]).split("?", maxsplit=1)[0])[0]
    if (not mimetype or mimetype == "application/octet-stream") and content:
        mimetype = guess_mimetype(content)
    return str(mimetype).lower() if mimetype else "application/octet-stream"


def neutered(env: Env, mimetype: str) -> str:
    """HTML and XML (not Office's) stay what they are for an administrator only."""
    xml_like = "ht" in mimetype or (
        "xml" in mimetype and not mimetype.startswith("application/vnd.openxmlformats")
    )
    if xml_like and not env.value("SELECT is_admin FROM res_users WHERE id = %s", (env.uid,)):
        return "text/plain"
    return mimetype


def index_content(content: bytes, mimetype: str) -> str:
    kind = mimetype.split("/", maxsplit=1)[0]
    if kind == "text":
        return b"\n".join(PRINTABLE_WORDS.findall(content)).decode("ascii")
    return kind


def write_file(env: Env, content: bytes, checksum: str) -> str:
    """The content at ``<filestore>/<checksum[:2]>/<checksum>`` (kept when there); its store_fname."""
    fname = f"{checksum[:2]}/{checksum}"
    path = filestore(env) / fname
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        if path.read_bytes() != content:
            raise UserError("The attachment collides with an existing file.")
        return fname
    # written whole then renamed: a reader never sees half a file (Odoo writes in place)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{checksum}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return fname


def read_file(env: Env, fname: str) -> bytes:
    """Odoo's _file_read: the stored content, ``b""`` when the file cannot be read."""
    try:
        return (filestore(env) / fname).read_bytes()
    except OSError:
        return b""


def content_values(env: Env, content: bytes, mimetype: str) -> dict[str, Any]:
    """Odoo's _get_datas_related_values with file storage (``db_datas`` stays empty)."""
    checksum = hashlib.sha1(content).hexdigest()  # Odoo's content address, not a security hash
    return {
        "file_size": len(content),
        "checksum": checksum,
        "index_content": index_content(content, mimetype),
        "store_fname": write_file(env, content, checksum) if content else None,
    }


def decoded(vals: Mapping[str, Any]) -> bytes:
    """The content of ``raw`` (bytes as text) or ``datas`` (base64); a bad base64 is binascii.Error."""
    raw, datas = vals.get("raw"), vals.get("datas")
    if raw:
        return raw.encode() if isinstance(raw, str) else bytes(raw)
    return base64.b64decode(datas) if datas else b""


def stored_values(env: Env, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values to store for ``given`` (a create's or a write's): the content's fields computed."""
    vals = {k: v for k, v in given.items() if k not in (*COMPUTED_FROM_CONTENT, "raw", "datas")}
    content = decoded(given)
    vals["mimetype"] = neutered(env, compute_mimetype({**given, **vals}, content))
    if content:
        vals.update(content_values(env, content, vals["mimetype"]))
    return vals


def create_attachment(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, Mapping)
    company = env.value("SELECT company_id FROM res_users WHERE id = %s", (env.uid,))
    ids = []
    for given in [vals_list] if single else list(vals_list):
        vals = stored_values(env, given)
        vals.setdefault("company_id", company)
        ids.append(int(create(env, model, {**vals, "create_uid": env.uid, "write_uid": env.uid})))
    return ids[0] if single else ids


def write_attachment(env: Env, model: Model, ids: Any, vals: Mapping[str, Any]) -> bool:
    """A new content replaces the old one (its file stays, as until Odoo's garbage collection)."""
    vals = {k: v for k, v in vals.items() if k not in COMPUTED_FROM_CONTENT}
    if not {"datas", "raw", "mimetype"} & set(vals):
        return write(env, model, ids, vals)
    stored = stored_values(env, vals)
    if ("datas" in vals or "raw" in vals) and not decoded(vals):
        stored.update({"file_size": 0, "checksum": hashlib.sha1(b"").hexdigest(), "store_fname": None})
    return write(env, model, ids, {**stored, "write_uid": env.uid})


# ---------------------------------------------------------------- reading


def hidden_binary_fields(domain: Sequence[Any] | None) -> list[Any]:
    """Odoo's ir.attachment._search: ``res_field = False`` unless the domain names ``id`` or ``res_field``."""
    leaves = list(domain or [])
    if any(isinstance(leaf, list | tuple) and leaf and leaf[0] in ("id", "res_field") for leaf in leaves):
        return leaves
    return [["res_field", "=", False], *leaves]


def completed(env: Env, records: list[dict[str, Any]], wanted: Sequence[str] | None) -> list[dict[str, Any]]:
    """Records read by the generic ORM with Odoo's computed fields: ``datas`` (the file's content
    in base64, "" without one) and ``res_name`` (the attached record's display name)."""
    names = set(wanted or ("datas", "res_name"))
    if not records or not names & {"datas", "res_name"}:
        return records
    rows = {
        r["id"]: r
        for r in env.all(
            "SELECT id, res_model, res_id, store_fname, db_datas FROM ir_attachment WHERE id = ANY(%s)",
            ([r["id"] for r in records],),
        )
    }
    if "res_name" in names:
        by_model: dict[str, set[int]] = {}
        for row in rows.values():
            if row["res_model"] in env.registry and row["res_id"]:
                by_model.setdefault(row["res_model"], set()).add(row["res_id"])
        labels = {model: display_names(env, model, ids) for model, ids in by_model.items()}
    for rec in records:
        row = rows.get(rec["id"], {})
        if "datas" in names:
            fname = row.get("store_fname")
            content = read_file(env, fname) if fname else bytes(row.get("db_datas") or b"")
            rec["datas"] = base64.b64encode(content).decode()
        if "res_name" in names:
            rec["res_name"] = labels.get(row.get("res_model") or "", {}).get(row.get("res_id") or 0, False)
    return records


def read_attachment(
    env: Env, model: Model, ids: Any, fields: Sequence[str] | None = None, load: str | None = "_classic_read"
) -> list[dict[str, Any]]:
    return completed(env, read(env, model, ids, fields, load), fields)


def search_attachment(  # noqa: PLR0917 - Odoo's signature
    env: Env,
    model: Model,
    domain: Sequence[Any] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    return search(env, model, hidden_binary_fields(domain), offset, limit, order)


def search_count_attachment(
    env: Env, model: Model, domain: Sequence[Any] | None = None, limit: int | None = None
) -> int:
    return search_count(env, model, hidden_binary_fields(domain), limit)


def models() -> list[Model]:
    return [
        Model(
            "ir.attachment",
            "ir_attachment",
            {
                "name": col("char", "name", "Name"),
                "description": col("text", "description", "Description"),
                "res_name": computed("char", "NULL", searchable=False),  # filled by read
                "res_model": col("char", "res_model", "Resource Model"),
                "res_field": col("char", "res_field", "Resource Field"),
                "res_id": col("many2one_reference", "res_id", "Resource ID"),
                "company_id": m2o("company_id", "res.company", "Company"),
                "type": col("selection", "type", "Type"),
                "url": col("char", "url", "Url"),
                "public": col("boolean", "public", "Is public document"),
                "access_token": col("char", "access_token", "Access Token"),
                "datas": computed("binary", "NULL", searchable=False),  # filled from the file by read
                "db_datas": col("binary", "db_datas", "Database Data"),  # empty: files are the storage
                "store_fname": col("char", "store_fname", "Stored Filename"),
                "file_size": col("integer", "file_size", "File Size"),
                "checksum": col("char", "checksum", "Checksum/SHA1"),
                "mimetype": col("char", "mimetype", "Mime Type"),
                "index_content": col("text", "index_content", "Indexed Content"),
                "create_uid": m2o("create_uid", "res.users", "Created by"),
                "create_date": col("datetime", "create_date", "Created on"),
                "write_uid": m2o("write_uid", "res.users", "Last Updated by"),
                "write_date": col("datetime", "write_date", "Last Updated on"),
            },
            description="Attachment",
            order="id desc",
            methods={
                "create": create_attachment,
                "write": write_attachment,
                "read": read_attachment,
                "search": search_attachment,
                "search_count": search_count_attachment,
            },
        )
    ]
