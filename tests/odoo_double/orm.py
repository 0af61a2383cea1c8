"""A small ORM over real tables: fields, domains, and Odoo's generic model methods.

It translates Odoo domains and field specs into SQL on the tables of
schema.py, and shapes results like Odoo 18 (many2one as ``[id, name]`` unless
``load=False``, empty values as ``False``, datetimes as ``YYYY-MM-DD HH:MM:SS``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg import sql

from .config import Config
from .db import Cursor
from .errors import MissingError, UserError, ValidationError

SqlExpr = str | Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Field:
    type: str  # char text integer float boolean many2one one2many datetime date selection
    column: str | None = None  # None: computed (sql) or one2many
    comodel: str | None = None
    inverse: str | None = None  # one2many: the column on the comodel
    sql: SqlExpr | None = None  # computed, over alias "t"; may depend on the context
    string: str = ""
    readonly: bool = False
    aggregator: str | None = None

    @property
    def stored(self) -> bool:
        return self.column is not None


def col(kind: str, name: str, **kw: Any) -> Field:
    return Field(kind, column=name, **kw)


@dataclass
class Model:
    name: str
    table: str
    fields: dict[str, Field]
    rec_name_sql: str = "t.name"  # SQL over alias t giving display_name
    order: str = "id"
    methods: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    name_search_columns: tuple[str, ...] = ("name",)

    def __post_init__(self) -> None:
        self.fields.setdefault("id", Field("integer", column="id", readonly=True))
        self.fields.setdefault("display_name", Field("char", sql=self.rec_name_sql, readonly=True))

    def field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise ValueError(f"Invalid field {name!r} on model {self.name!r}") from None


@dataclass
class Env:
    cr: Cursor
    uid: int
    context: dict[str, Any]
    cfg: Config
    registry: dict[str, Model]

    def model(self, name: str) -> Model:
        return self.registry[name]


_alias_counter = itertools.count()


def _alias() -> str:
    return f"a{next(_alias_counter)}"


def field_sql(model: Model, fname: str, alias: str, ctx: Mapping[str, Any]) -> str:
    f = model.field(fname)
    if f.column is not None:
        return f"{alias}.{f.column}"
    if f.sql is not None:
        expr = f.sql(ctx) if callable(f.sql) else f.sql
        return f"({expr.replace('t.', alias + '.')})"
    raise ValueError(f"Field {fname!r} on {model.name!r} cannot be used in a domain")


# ---------------------------------------------------------------- domains

_OPERATORS = {
    "=",
    "!=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    "in",
    "not in",
    "like",
    "ilike",
    "not like",
    "not ilike",
    "=like",
    "=ilike",
    "child_of",
    "parent_of",
}


def _parse(domain: Sequence[Any]) -> list[Any]:
    items = list(domain)
    pos = 0

    def one() -> Any:
        nonlocal pos
        if pos >= len(items):
            raise ValueError(f"Invalid domain {domain!r}")
        tok = items[pos]
        pos += 1
        if tok == "!":
            return ("!", one())
        if tok in ("&", "|"):
            return (tok, one(), one())
        if isinstance(tok, list | tuple) and len(tok) == 3:
            return ("leaf", tuple(tok))
        raise ValueError(f"Invalid domain term {tok!r}")

    terms = []
    while pos < len(items):
        terms.append(one())
    return terms


def compile_domain(  # noqa: PLR0915
    env: Env, model: Model, domain: Sequence[Any] | None, alias: str = "t"
) -> tuple[str, list[Any]]:
    params: list[Any] = []

    def node(n: Any) -> str:
        if n[0] == "!":
            return f"(NOT {node(n[1])})"
        if n[0] in ("&", "|"):
            joiner = " AND " if n[0] == "&" else " OR "
            return f"({node(n[1])}{joiner}{node(n[2])})"
        return leaf(n[1])

    def leaf(term: tuple[Any, Any, Any]) -> str:  # noqa: PLR0911, PLR0912, PLR0915
        left, op, value = term
        if term in ((1, "=", 1), (0, "=", 1)):
            return "TRUE" if left == 1 else "FALSE"
        if not isinstance(left, str) or op not in _OPERATORS:
            raise ValueError(f"Invalid leaf {list(term)!r}")
        path, _sep, rest = left.partition(".")
        f = model.field(path)
        if rest:
            if f.type == "many2one" and f.comodel:
                sub, sub_params = compile_domain(
                    env, env.model(f.comodel), [(rest, op, value)], a := _alias()
                )
                params.extend(sub_params)
                comodel = env.model(f.comodel)
                return f"{alias}.{f.column} IN (SELECT {a}.id FROM {comodel.table} {a} WHERE {sub})"
            if f.type == "one2many" and f.comodel and f.inverse:
                comodel = env.model(f.comodel)
                sub, sub_params = compile_domain(env, comodel, [(rest, op, value)], a := _alias())
                params.extend(sub_params)
                return f"{alias}.id IN (SELECT {a}.{f.inverse} FROM {comodel.table} {a} WHERE {sub})"
            raise ValueError(f"Invalid path {left!r} on {model.name!r}")
        if f.type == "one2many" and f.comodel and f.inverse:
            comodel = env.model(f.comodel)
            a = _alias()
            if op in ("in", "=") and value not in (False, None):
                ids = list(value) if isinstance(value, list | tuple) else [value]
                params.append(ids)
                return (
                    f"{alias}.id IN (SELECT {a}.{f.inverse} FROM {comodel.table} {a} WHERE {a}.id = ANY(%s))"
                )
            if op == "=" and value in (False, None):
                return f"NOT EXISTS (SELECT 1 FROM {comodel.table} {a} WHERE {a}.{f.inverse} = {alias}.id)"
            raise ValueError(f"Unsupported one2many leaf {list(term)!r}")
        expr = field_sql(model, path, alias, env.context)
        if f.type == "many2one" and isinstance(value, str) and op not in ("in", "not in"):
            comodel = env.model(f.comodel or "")
            a = _alias()
            sub, sub_params = compile_domain(env, comodel, [("display_name", op, value)], a)
            params.extend(sub_params)
            return f"{expr} IN (SELECT {a}.id FROM {comodel.table} {a} WHERE {sub})"
        if op in ("child_of", "parent_of"):
            op = "in"
        if op == "<>":
            op = "!="
        if op in ("=", "!=") and (value is False or value is None):
            if f.type == "boolean":
                return f"({expr} IS NULL OR NOT {expr})" if op == "=" else f"({expr} IS NOT NULL AND {expr})"
            return f"{expr} IS NULL" if op == "=" else f"{expr} IS NOT NULL"
        if op in ("in", "not in"):
            values = list(value) if isinstance(value, list | tuple) else [value]
            has_false = any(v is False or v is None for v in values)
            values = [v for v in values if v is not False and v is not None]
            params.append(values)
            if op == "in":
                clause = f"{expr} = ANY(%s)"
                return f"({clause} OR {expr} IS NULL)" if has_false else clause
            clause = f"({expr} IS NULL OR NOT ({expr} = ANY(%s)))"
            return f"({clause} AND {expr} IS NOT NULL)" if has_false else clause
        if op in ("like", "ilike", "not like", "not ilike"):
            params.append(f"%{value}%")
            sql_op = {"like": "LIKE", "ilike": "ILIKE", "not like": "NOT LIKE", "not ilike": "NOT ILIKE"}[op]
            text = f"{expr}::text"
            if op.startswith("not"):
                return f"({text} IS NULL OR {text} {sql_op} %s)"
            return f"{text} {sql_op} %s"
        if op in ("=like", "=ilike"):
            params.append(value)
            return f"{expr}::text {'LIKE' if op == '=like' else 'ILIKE'} %s"
        params.append(value)
        if op == "!=":
            return f"({expr} IS NULL OR {expr} != %s)"
        return f"{expr} {op} %s"

    terms = _parse(domain or [])
    clauses = [node(t) for t in terms]
    active_test = env.context.get("active_test", True)
    if model.fields.get("active") is not None and not _mentions(domain or [], "active") and active_test:
        clauses.append(f"{alias}.active")
    return (" AND ".join(clauses) if clauses else "TRUE"), params


def _mentions(domain: Sequence[Any], fname: str) -> bool:
    return any(isinstance(t, list | tuple) and len(t) == 3 and t[0] == fname for t in domain)


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
        f = model.field(fname)
        if f.type == "one2many":
            raise ValueError(f"Invalid order {order!r}")
        expr = field_sql(model, fname, alias, ctx)
        parts.append(f"{expr} {direction}")
        seen_id = seen_id or fname == "id"
    if not seen_id:
        parts.append(f"{alias}.id")
    return ", ".join(parts)


# ---------------------------------------------------------------- values


def to_json(f: Field, value: Any) -> Any:
    if value is None:
        return 0 if f.type == "integer" else 0.0 if f.type == "float" else False
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if f.type == "float" and isinstance(value, int):
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
    env.cr.execute(
        f"SELECT t.id, ({comodel.rec_name_sql}) AS dn FROM {comodel.table} t WHERE t.id = ANY(%s)".encode(),
        (wanted,),
    )
    return {row["id"]: row["dn"] for row in env.cr.fetchall()}


def _ids(value: Any) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    raise ValueError(f"Expected a list of record ids, got {value!r}")


# ---------------------------------------------------------------- generic methods


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
    env.cr.execute(query.encode(), params)
    return [row["id"] for row in env.cr.fetchall()]


def search_count(
    env: Env, model: Model, domain: Sequence[Any] | None = None, limit: int | None = None
) -> int:
    where, params = compile_domain(env, model, domain)
    inner = f"SELECT 1 FROM {model.table} t WHERE {where}"
    if limit:
        inner += f" LIMIT {int(limit)}"
    env.cr.execute(f"SELECT count(*) AS n FROM ({inner}) s".encode(), params)
    row = env.cr.fetchone()
    return int(row["n"]) if row else 0


def read(  # noqa: PLR0912
    env: Env, model: Model, ids: Any, fields: Sequence[str] | None = None, load: str | None = "_classic_read"
) -> list[dict[str, Any]]:
    record_ids = _ids(ids)
    names = list(fields) if fields else [n for n in model.fields if n != "id"]
    if "id" not in names:
        names.insert(0, "id")
    for n in names:
        model.field(n)
    if not record_ids:
        return []
    scalar = [n for n in names if model.fields[n].type != "one2many"]
    select = ", ".join(f'{field_sql(model, n, "t", env.context)} AS "{n}"' for n in scalar)
    env.cr.execute(f"SELECT {select} FROM {model.table} t WHERE t.id = ANY(%s)".encode(), (record_ids,))
    rows = {row["id"]: row for row in env.cr.fetchall()}
    missing = [i for i in record_ids if i not in rows]
    if missing:
        raise MissingError(
            "Record does not exist or has been deleted.\n"
            f"(Record: {model.name}({', '.join(map(str, missing))},), User: {env.uid})"
        )
    o2m: dict[str, dict[int, list[int]]] = {}
    for n in names:
        f = model.fields[n]
        if f.type == "one2many" and f.comodel and f.inverse:
            comodel = env.model(f.comodel)
            env.cr.execute(
                f"SELECT id, {f.inverse} AS owner FROM {comodel.table} "
                f"WHERE {f.inverse} = ANY(%s) ORDER BY id".encode(),
                (record_ids,),
            )
            bucket: dict[int, list[int]] = {}
            for row in env.cr.fetchall():
                bucket.setdefault(row["owner"], []).append(row["id"])
            o2m[n] = bucket
    m2o_names: dict[str, dict[int, str]] = {}
    if load:
        for n in names:
            f = model.fields[n]
            if f.type == "many2one" and f.comodel:
                m2o_names[n] = display_names(env, f.comodel, (rows[i][n] for i in record_ids))
    result = []
    seen: set[int] = set()
    for rid in record_ids:
        if rid in seen:
            continue
        seen.add(rid)
        row = rows[rid]
        rec: dict[str, Any] = {}
        for n in names:
            f = model.fields[n]
            if f.type == "one2many":
                rec[n] = o2m[n].get(rid, [])
            elif f.type == "many2one" and load and row[n] and f.comodel:
                rec[n] = [row[n], m2o_names[n].get(row[n], "")]
            else:
                rec[n] = to_json(f, row[n])
        result.append(rec)
    return result


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
    ids = search(env, model, domain, offset, limit, order)
    return read(env, model, ids, fields, kwargs.get("load", "_classic_read"))


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


_GRANULARITY = {
    "day": ("day", "DD Mon YYYY"),
    "week": ("week", '"W"IW IYYY'),
    "month": ("month", "FMMonth YYYY"),
    "quarter": ("quarter", '"Q"Q YYYY'),
    "year": ("year", "YYYY"),
}


def read_group(  # noqa: PLR0912, PLR0915, PLR0917
    env: Env,
    model: Model,
    domain: Sequence[Any] | None = None,
    fields: Sequence[str] | None = None,
    groupby: Sequence[str] | str | None = None,
    offset: int = 0,
    limit: int | None = None,
    orderby: str | bool | None = False,
    lazy: bool = True,
) -> list[dict[str, Any]]:
    groupbys = [groupby] if isinstance(groupby, str) else list(groupby or [])
    if not groupbys:
        raise ValueError("read_group needs at least one groupby")
    used = groupbys[:1] if lazy else groupbys
    where, params = compile_domain(env, model, domain)
    select: list[str] = []
    keys: list[tuple[str, str, Field, str | None]] = []
    for spec in used:
        fname, _sep, gran = spec.partition(":")
        f = model.field(fname)
        expr = field_sql(model, fname, "t", env.context)
        if f.type in ("datetime", "date"):
            unit, fmt = _GRANULARITY[gran or "month"]
            select.append(f"date_trunc('{unit}', {expr}) AS \"{spec}\"")
            keys.append((spec, fname, f, fmt))
        else:
            select.append(f'{expr} AS "{spec}"')
            keys.append((spec, fname, f, None))
    aggregates: list[tuple[str, Field]] = []
    for spec in fields or []:
        alias, _sep, agg = spec.partition(":")
        fname = alias
        if "(" in agg:
            agg, _sep, inner = agg.partition("(")
            fname = inner.rstrip(")")
        f = model.field(fname)
        if fname in [k[1] for k in keys] or f.type not in ("integer", "float"):
            continue
        agg = agg or f.aggregator or "sum"
        if agg not in ("sum", "avg", "min", "max", "count", "count_distinct"):
            raise ValueError(f"Invalid aggregation function {agg!r}")
        expr = field_sql(model, fname, "t", env.context)
        func = f"count(DISTINCT {expr})" if agg == "count_distinct" else f"{agg}({expr})"
        select.append(f'{func} AS "{alias}"')
        aggregates.append((alias, f))
    select.append("count(*) AS __count")
    group_cols = ", ".join(str(i + 1) for i in range(len(keys)))
    order = ", ".join(f'"{k[0]}" ASC NULLS LAST' for k in keys)
    if isinstance(orderby, str) and orderby:
        by = orderby.split()
        direction = by[1].upper() if len(by) > 1 and by[1].upper() in ("ASC", "DESC") else "ASC"
        if by[0] == "__count":
            order = f"__count {direction}"
        elif by[0] in [a for a, _unused in aggregates] or by[0] in [k[0] for k in keys]:
            order = f'"{by[0]}" {direction}'
    query = (
        f"SELECT {', '.join(select)} FROM {model.table} t WHERE {where} "
        f"GROUP BY {group_cols} ORDER BY {order}"
    )
    if limit:
        query += f" LIMIT {int(limit)}"
    if offset:
        query += f" OFFSET {int(offset)}"
    env.cr.execute(query.encode(), params)
    rows = env.cr.fetchall()
    m2o: dict[str, dict[int, str]] = {}
    for spec, _fname, f, _fmt in keys:
        if f.type == "many2one" and f.comodel:
            m2o[spec] = display_names(env, f.comodel, (r[spec] for r in rows))
    result = []
    for row in rows:
        group: dict[str, Any] = {}
        group_domain: list[Any] = list(domain or [])
        for spec, gname, f, label_fmt in keys:
            value = row[spec]
            if f.type == "many2one":
                group[spec] = [value, m2o[spec].get(value, "")] if value else False
                group_domain.append((gname, "=", value or False))
            elif label_fmt is not None and value is not None:
                env.cr.execute(b"SELECT to_char(%s::timestamp, %s) AS label", (value, label_fmt))
                label = env.cr.fetchone()
                group[spec] = label["label"] if label else str(value)
                group_domain.append((gname, ">=", to_json(f, value)))
            else:
                group[spec] = to_json(f, value)
                group_domain.append((gname, "=", to_json(f, value)))
        for alias, f in aggregates:
            group[alias] = to_json(f, row[alias])
        if lazy:
            group[f"{used[0].split(':')[0]}_count"] = row["__count"]
            if len(groupbys) > 1:
                group["__context"] = {"group_by": groupbys[1:]}
        else:
            group["__count"] = row["__count"]
        group["__domain"] = [list(t) if isinstance(t, tuple) else t for t in group_domain]
        result.append(group)
    return result


def _write_columns(env: Env, model: Model, vals: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    columns: dict[str, Any] = {}
    x2many: dict[str, Any] = {}
    for name, value in vals.items():
        f = model.field(name)
        if f.type == "one2many":
            x2many[name] = value
        elif f.column and name != "id" and not f.readonly:
            columns[f.column] = from_json(f, value)
        elif f.column is None and f.sql is not None:
            continue  # computed and not stored: ignored like Odoo without an inverse
        else:
            raise ValidationError(f"Field {name!r} of {model.name} cannot be written")
    return columns, x2many


def _apply_x2many(env: Env, model: Model, record_id: int, x2many: Mapping[str, Any]) -> None:
    for name, commands in x2many.items():
        f = model.fields[name]
        comodel = env.model(f.comodel or "")
        for command in commands or []:
            code = command[0]
            if code == 0:
                create(env, comodel, {**command[2], f.inverse or "": record_id})
            elif code == 1:
                write(env, comodel, [command[1]], command[2])
            elif code == 2:
                unlink(env, comodel, [command[1]])
            elif code == 5:
                env.cr.execute(f"DELETE FROM {comodel.table} WHERE {f.inverse} = %s".encode(), (record_id,))
            else:
                raise UserError(f"Unsupported x2many command {command!r} on {model.name}.{name}")


def create(env: Env, model: Model, vals_list: Any) -> Any:
    single = isinstance(vals_list, Mapping)
    values = [vals_list] if single else list(vals_list)
    ids = []
    for vals in values:
        columns, x2many = _write_columns(env, model, vals)
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
        ids.append(row["id"])
        _apply_x2many(env, model, row["id"], x2many)
    return ids[0] if single else ids


def write(env: Env, model: Model, ids: Any, vals: Mapping[str, Any]) -> bool:
    record_ids = _ids(ids)
    columns, x2many = _write_columns(env, model, vals)
    if columns and record_ids:
        query = sql.SQL("UPDATE {} SET {} WHERE id = ANY(%s)").format(
            sql.Identifier(model.table),
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns),
        )
        env.cr.execute(query, [*columns.values(), record_ids])
        if env.cr.rowcount != len(set(record_ids)):
            raise MissingError("Record does not exist or has been deleted.")
    for rid in record_ids:
        _apply_x2many(env, model, rid, x2many)
    return True


def unlink(env: Env, model: Model, ids: Any) -> bool:
    env.cr.execute(
        sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(sql.Identifier(model.table)), (_ids(ids),)
    )
    return True


def fields_get(
    env: Env, model: Model, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
) -> dict[str, Any]:
    result = {}
    for name, f in model.fields.items():
        if allfields and name not in allfields:
            continue
        desc: dict[str, Any] = {
            "type": f.type,
            "string": f.string or name.replace("_", " ").title(),
            "readonly": f.readonly or (f.column is None and f.type != "one2many"),
            "store": f.stored,
        }
        if f.comodel:
            desc["relation"] = f.comodel
        if f.inverse:
            desc["relation_field"] = f.inverse
        result[name] = {k: v for k, v in desc.items() if not attributes or k in attributes}
    return result


GENERIC: dict[str, Callable[..., Any]] = {
    "search": search,
    "search_count": search_count,
    "search_read": search_read,
    "read": read,
    "web_search_read": web_search_read,
    "name_search": name_search,
    "read_group": read_group,
    "create": create,
    "write": write,
    "unlink": unlink,
    "fields_get": fields_get,
}

#: Methods Odoo routes to a read-only cursor (replica-routable).
READONLY_METHODS = frozenset(
    {
        "search",
        "search_count",
        "search_fetch",
        "search_read",
        "read",
        "read_group",
        "name_search",
        "web_search_read",
        "web_read",
        "web_read_group",
        "read_progress_bar",
        "fields_get",
    }
)
