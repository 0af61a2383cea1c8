"""A small ORM over real tables: fields, records, and Odoo's generic model methods.

It translates field specs into SQL on the tables of schema.py and shapes
results like Odoo 18 (many2one as ``[id, name]`` unless ``load=False``, empty
values as ``False``, datetimes as ``YYYY-MM-DD HH:MM:SS``). Domains are in
domain.py, ``read_group`` in grouping.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg import sql

from .config import Config
from .db import Cursor
from .domain import compile_domain
from .errors import MissingError, UserError

SqlExpr = str | Callable[[Mapping[str, Any]], str]
X2MANY = ("one2many", "many2many")
NUMERIC = ("integer", "float", "monetary")


@dataclass(frozen=True)
class Field:
    """A field: a column, a SQL expression over alias ``t``, or an x2many.

    An x2many with neither ``inverse`` nor ``relation`` is one the double keeps
    no records for: it always reads ``[]``, like an empty relation in Odoo.
    """

    type: str  # char text integer float monetary boolean many2one one2many many2many datetime date selection
    column: str | None = None
    comodel: str | None = None
    inverse: str | None = None  # one2many: the column on the comodel
    relation: tuple[str, str, str] | None = None  # many2many: (table, own column, comodel column)
    sql: SqlExpr | None = None  # computed, over alias "t"; may depend on the context
    string: str = ""
    aggregator: str | None = None
    where: str | None = None  # one2many: a SQL filter on the comodel rows (alias "c")
    searchable: bool = True  # False: Odoo computes it without a search method, domains ignore it

    @property
    def stored(self) -> bool:
        return self.column is not None or self.relation is not None or self.inverse is not None

    @property
    def label(self) -> str:
        return self.string or self.column_label

    @property
    def column_label(self) -> str:
        return (self.column or "").removesuffix("_id").replace("_", " ").title()


def col(kind: str, name: str, string: str = "", **kw: Any) -> Field:
    return Field(kind, column=name, string=string, **kw)


def m2o(column: str, comodel: str, string: str = "") -> Field:
    return Field("many2one", column=column, comodel=comodel, string=string)


def o2m(comodel: str, inverse: str, where: str | None = None) -> Field:
    return Field("one2many", comodel=comodel, inverse=inverse, where=where)


def m2m(comodel: str, table: str, own: str, other: str, string: str = "") -> Field:
    return Field("many2many", comodel=comodel, relation=(table, own, other), string=string)


def computed(kind: str, expr: SqlExpr, comodel: str | None = None, searchable: bool = True) -> Field:
    return Field(kind, sql=expr, comodel=comodel, searchable=searchable)


def const(kind: str, value: str = "NULL", comodel: str | None = None) -> Field:
    """A field the double gives no meaning: it reads as Odoo's empty value (or a SQL literal)."""
    if kind in X2MANY:
        return Field(kind, comodel=comodel)
    return Field(kind, sql=value, comodel=comodel)


@dataclass
class Model:
    name: str
    table: str
    fields: dict[str, Field]
    description: str = ""
    rec_name_sql: str = "t.name"  # SQL over alias t giving display_name
    order: str = "id"
    methods: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    name_search_columns: tuple[str, ...] = ("name",)

    def __post_init__(self) -> None:
        self.fields.setdefault("id", Field("integer", column="id"))
        self.fields.setdefault("display_name", Field("char", sql=self.rec_name_sql))
        if not self.description:
            self.description = self.name

    def field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise ValueError(f"Invalid field {name!r} on model {self.name!r}") from None

    def sql_of(self, fname: str, alias: str, ctx: Mapping[str, Any]) -> str:
        f = self.field(fname)
        if f.column is not None:
            return f"{alias}.{f.column}"
        if f.sql is not None:
            expr = f.sql(ctx) if callable(f.sql) else f.sql
            return f"({expr.replace('t.', alias + '.')})"
        raise ValueError(f"Field {fname!r} on {self.name!r} cannot be used in SQL")


@dataclass
class Env:
    cr: Cursor
    uid: int
    context: dict[str, Any]
    cfg: Config
    registry: dict[str, Model]

    def model(self, name: str) -> Model:
        return self.registry[name]

    def one(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict[str, Any] | None:
        self.cr.execute(query.encode(), params)
        return self.cr.fetchone()

    def all(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        self.cr.execute(query.encode(), params)
        return self.cr.fetchall()

    def value(self, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        row = self.one(query, params)
        return next(iter(row.values())) if row else None


def missing_error(model: str, ids: Iterable[int], uid: int) -> MissingError:
    listed = ", ".join(map(str, ids))
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model}({listed},), User: {uid})"
    )


def order_sql(model: Model, order: str | None, alias: str, ctx: Mapping[str, Any]) -> str:
    parts = []
    seen_id = False
    for chunk in (order or model.order).split(","):
        words = chunk.split()
        if not words:
            continue
        fname = words[0]
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if direction not in ("ASC", "DESC") or len(words) > 3:
            raise ValueError(f"Invalid order {order!r}")
        if model.field(fname).type in X2MANY:
            raise ValueError(f"Invalid order {order!r}")
        parts.append(f"{model.sql_of(fname, alias, ctx)} {direction}")
        seen_id = seen_id or fname == "id"
    if not seen_id:
        parts.append(f"{alias}.id")
    return ", ".join(parts)


# ---------------------------------------------------------------- values


def wire_scalar(value: Any) -> Any:
    """A Decimal, datetime or date as Odoo writes it in JSON; any other value as it is."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return value


def to_json(f: Field, value: Any) -> Any:
    if value is None:
        return 0 if f.type == "integer" else 0.0 if f.type in ("float", "monetary") else False
    if isinstance(value, Decimal | dt.date):
        return wire_scalar(value)
    if f.type in ("float", "monetary") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_json(f: Field, value: Any) -> Any:
    if value is False and f.type != "boolean":
        return None
    if f.type == "many2one" and isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def display_names(env: Env, model_name: str, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    comodel = env.model(model_name)
    rows = env.all(
        f"SELECT t.id, ({comodel.rec_name_sql}) AS dn FROM {comodel.table} t WHERE t.id = ANY(%s)", (wanted,)
    )
    return {row["id"]: row["dn"] for row in rows}


def record_ids(value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    raise ValueError(f"Expected a list of record ids, got {value!r}")


def existing_ids(env: Env, model: Model, ids: Sequence[int]) -> list[int]:
    rows = env.all(f"SELECT id FROM {model.table} WHERE id = ANY(%s)", (list(ids),))
    return [row["id"] for row in rows]


def ensure_exist(env: Env, model: Model, ids: Sequence[int]) -> None:
    """Odoo's browse(...).ensure access: a MissingError naming the absent records."""
    present = set(existing_ids(env, model, ids))
    missing = [i for i in dict.fromkeys(ids) if i not in present]
    if missing:
        raise missing_error(model.name, missing, env.uid)


# ---------------------------------------------------------------- reading


def search(  # noqa: PLR0917
    env: Env,
    model: Model,
    domain: Sequence[Any] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    where, params = compile_domain(env, model, domain)
    query = (
        f"SELECT t.id FROM {model.table} t WHERE {where} ORDER BY {order_sql(model, order, 't', env.context)}"
    )
    if limit:
        query += f" LIMIT {int(limit)}"
    if offset:
        query += f" OFFSET {int(offset)}"
    return [row["id"] for row in env.all(query, params)]


def search_count(
    env: Env, model: Model, domain: Sequence[Any] | None = None, limit: int | None = None
) -> int:
    where, params = compile_domain(env, model, domain)
    inner = f"SELECT 1 FROM {model.table} t WHERE {where}"
    if limit:
        inner += f" LIMIT {int(limit)}"
    return int(env.value(f"SELECT count(*) AS n FROM ({inner}) s", params) or 0)


def _x2many_values(env: Env, f: Field, ids: list[int]) -> dict[int, list[int]]:
    """owner id → related ids, in the comodel's order."""
    bucket: dict[int, list[int]] = {}
    if f.relation is not None:
        table, own, other = f.relation
        comodel = env.model(f.comodel or "")
        rows = env.all(
            f"SELECT r.{own} AS owner, c.id FROM {table} r JOIN {comodel.table} c ON c.id = r.{other} "
            f"WHERE r.{own} = ANY(%s) ORDER BY {order_sql(comodel, None, 'c', env.context)}",
            (ids,),
        )
    elif f.comodel and f.inverse:
        comodel = env.model(f.comodel)
        extra = f" AND {f.where}" if f.where else ""
        rows = env.all(
            f"SELECT c.{f.inverse} AS owner, c.id FROM {comodel.table} c "
            f"WHERE c.{f.inverse} = ANY(%s){extra} "
            f"ORDER BY {order_sql(comodel, None, 'c', env.context)}",
            (ids,),
        )
    else:
        return bucket
    for row in rows:
        bucket.setdefault(row["owner"], []).append(row["id"])
    return bucket


def read(
    env: Env, model: Model, ids: Any, fields: Sequence[str] | None = None, load: str | None = "_classic_read"
) -> list[dict[str, Any]]:
    """Odoo 18's read: records that no longer exist are left out, not an error."""
    wanted = list(dict.fromkeys(record_ids(ids)))
    names = list(fields) if fields else [n for n in model.fields if n != "id"]
    if "id" not in names:
        names.insert(0, "id")
    for name in names:
        model.field(name)
    if names == ["id"] or not wanted:
        return [{"id": i} for i in wanted] if names == ["id"] else []
    scalar = [n for n in names if model.fields[n].type not in X2MANY]
    select = ", ".join(f'{model.sql_of(n, "t", env.context)} AS "{n}"' for n in scalar)
    rows = {
        r["id"]: r for r in env.all(f"SELECT {select} FROM {model.table} t WHERE t.id = ANY(%s)", (wanted,))
    }
    present = [i for i in wanted if i in rows]
    x2many = {
        n: _x2many_values(env, model.fields[n], present) for n in names if model.fields[n].type in X2MANY
    }
    labels: dict[str, dict[int, str]] = {}
    if load:
        for n in scalar:
            f = model.fields[n]
            if f.type == "many2one" and f.comodel:
                labels[n] = display_names(env, f.comodel, (rows[i][n] for i in present))
    return [_record(model, names, rows[rid], x2many, labels) for rid in present]


def _record(
    model: Model,
    names: list[str],
    row: dict[str, Any],
    x2many: dict[str, dict[int, list[int]]],
    labels: dict[str, dict[int, str]],
) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for n in names:
        f = model.fields[n]
        if f.type in X2MANY:
            rec[n] = x2many[n].get(row["id"], [])
        elif n in labels and row[n]:
            rec[n] = [row[n], labels[n].get(row[n], "")]
        else:
            rec[n] = to_json(f, row[n])
    return rec


def search_read(  # noqa: PLR0917
    env: Env,
    model: Model,
    domain: Sequence[Any] | None = None,
    fields: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    for name in fields or []:
        model.field(name)
    # a model's own search and read (ir.attachment's hide binary fields and read the filestore)
    find: Callable[..., list[int]] = model.methods.get("search", search)
    load: Callable[..., list[dict[str, Any]]] = model.methods.get("read", read)
    return load(
        env,
        model,
        find(env, model, domain, offset, limit, order),
        fields,
        kwargs.get("load", "_classic_read"),
    )


def web_search_read(  # noqa: PLR0917
    env: Env,
    model: Model,
    domain: Sequence[Any] | None = None,
    specification: Mapping[str, Any] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    count_limit: int | None = None,
) -> dict[str, Any]:
    spec = dict(specification or {"display_name": {}})
    ids = search(env, model, domain, offset, limit, order)
    records = read(env, model, ids, list(spec), load=None)
    for rec in records:
        for name, sub in spec.items():
            f = model.fields[name]
            if f.type == "many2one" and rec[name] and isinstance(sub, Mapping) and sub.get("fields"):
                dn = display_names(env, f.comodel or "", [rec[name]])
                rec[name] = {"id": rec[name], "display_name": dn.get(rec[name], "")}
    length = len(ids) + (offset or 0)
    if limit and len(ids) == limit:
        length = search_count(env, model, domain, count_limit)
    return {"length": length, "records": records}


def name_search(  # noqa: PLR0917
    env: Env,
    model: Model,
    name: str = "",
    args: Sequence[Any] | None = None,
    operator: str = "ilike",
    limit: int = 100,
) -> list[list[Any]]:
    domain: list[Any] = list(args or [])
    if name:
        ors: list[Any] = []
        for column in model.name_search_columns:
            if ors:
                ors.insert(0, "|")
            ors.append((column, operator, name))
        domain = [*ors, *domain]
    ids = search(env, model, domain, 0, limit, None)
    names = display_names(env, model.name, ids)
    return [[i, names[i]] for i in ids]


# ---------------------------------------------------------------- writing


def _write_columns(model: Model, vals: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Stored values by column, and x2many commands by field; computed fields are ignored like Odoo's."""
    columns: dict[str, Any] = {}
    x2many: dict[str, Any] = {}
    for name, value in vals.items():
        f = model.field(name)
        if f.type in X2MANY and f.stored:
            x2many[name] = value
        elif f.column and name != "id":
            columns[f.column] = from_json(f, value)
    return columns, x2many


def _one2many_commands(env: Env, f: Field, record_id: int, commands: Sequence[Any]) -> None:
    comodel = env.model(f.comodel or "")
    inverse = f.inverse or ""
    for command in commands:
        code = command[0]
        if code == 0:
            create(env, comodel, {**command[2], inverse: record_id})
        elif code == 1:
            write(env, comodel, [command[1]], command[2])
        elif code in (2, 3):
            unlink(env, comodel, [command[1]])
        elif code == 4:
            write(env, comodel, [command[1]], {inverse: record_id})
        elif code == 5:
            env.cr.execute(f"DELETE FROM {comodel.table} WHERE {inverse} = %s".encode(), (record_id,))
        else:
            raise UserError(f"Unsupported one2many command {command!r}")


def _many2many_commands(env: Env, f: Field, record_id: int, commands: Sequence[Any]) -> None:
    table, own, other = f.relation or ("", "", "")
    comodel = env.model(f.comodel or "")

    def link(ids: Iterable[int]) -> None:
        for rid in ids:
            env.cr.execute(
                f"INSERT INTO {table} ({own}, {other}) VALUES (%s, %s) ON CONFLICT DO NOTHING".encode(),
                (record_id, rid),
            )

    for command in commands:
        code = command[0]
        if code in (3, 5, 6):
            extra = " AND " + other + " = %s" if code == 3 else ""
            args = (record_id, command[1]) if code == 3 else (record_id,)
            env.cr.execute(f"DELETE FROM {table} WHERE {own} = %s{extra}".encode(), args)
        if code == 0:
            link([create(env, comodel, command[2])])
        elif code == 4:
            link([command[1]])
        elif code == 6:
            link(command[2])
        elif code not in (3, 5):
            raise UserError(f"Unsupported many2many command {command!r}")


def apply_x2many(env: Env, model: Model, record_id: int, x2many: Mapping[str, Any]) -> None:
    for name, commands in x2many.items():
        f = model.fields[name]
        if f.type == "one2many":
            _one2many_commands(env, f, record_id, commands or [])
        else:
            _many2many_commands(env, f, record_id, commands or [])


def insert_row(env: Env, model: Model, columns: Mapping[str, Any]) -> int:
    if columns:
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
            sql.Identifier(model.table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        env.cr.execute(query, list(columns.values()))
    else:
        env.cr.execute(
            sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING id").format(sql.Identifier(model.table))
        )
    row = env.cr.fetchone()
    assert row is not None
    return int(row["id"])


def create(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, Mapping)
    ids = []
    for vals in [vals_list] if single else list(vals_list):
        columns, x2many = _write_columns(model, vals)
        record_id = insert_row(env, model, columns)
        apply_x2many(env, model, record_id, x2many)
        ids.append(record_id)
    return ids[0] if single else ids


def write(env: Env, model: Model, ids: Any, vals: Mapping[str, Any]) -> bool:
    wanted = record_ids(ids)
    columns, x2many = _write_columns(model, vals)
    ensure_exist(env, model, wanted)
    if columns and wanted:
        query = sql.SQL("UPDATE {} SET {} WHERE id = ANY(%s)").format(
            sql.Identifier(model.table),
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns),
        )
        env.cr.execute(query, [*columns.values(), wanted])
    for rid in wanted:
        apply_x2many(env, model, rid, x2many)
    return True


def unlink(env: Env, model: Model, ids: Any) -> bool:
    env.cr.execute(
        sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(sql.Identifier(model.table)), (record_ids(ids),)
    )
    return True


def _required_columns(env: Env, model: Model) -> set[str]:
    """Columns that are NOT NULL without a default: what Odoo marks required."""
    rows = env.all(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL",
        (model.table,),
    )
    return {row["column_name"] for row in rows}


def fields_get(
    env: Env, model: Model, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
) -> dict[str, Any]:
    required = _required_columns(env, model)
    result = {}
    for name, f in model.fields.items():
        if allfields and name not in allfields:
            continue
        desc: dict[str, Any] = {
            "type": f.type,
            "string": f.string or name.removesuffix("_id").replace("_", " ").title(),
            "readonly": f.column is None and not f.stored,
            "required": f.column in required and name != "id",
            "store": f.stored,
            "searchable": f.searchable,
        }
        if f.comodel:
            desc["relation"] = f.comodel
        if f.inverse:
            desc["relation_field"] = f.inverse
        result[name] = {k: v for k, v in desc.items() if not attributes or k in attributes}
    return result
