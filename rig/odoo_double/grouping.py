"""``read_group`` shaped like Odoo 18's.

A group carries its groupby values (many2one as ``[id, name]``, dates as
labels such as ``04 Dec 2026``), its aggregates, ``<field>_count`` (lazy) or
``__count``, ``__domain`` (the caller's domain AND the group's, normalised),
``__range`` for date groups, and ``__context`` when a lazy call leaves
groupbys for later. Datetimes are grouped in the context's ``tz``; the ranges
are given back in UTC. Weeks start on Sunday and are numbered as in en_US.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .domain import and_domains, compile_domain
from .orm import NUMERIC, Env, Field, Model, display_names, order_sql, to_json

GRANULARITIES = ("day", "week", "month", "quarter", "year")
AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct", "bool_and", "bool_or", "array_agg")


@dataclass(frozen=True)
class GroupBy:
    spec: str  # as given: "date_order:day"
    fname: str
    field: Field
    granularity: str | None  # dates only


@dataclass(frozen=True)
class Aggregate:
    alias: str
    fname: str
    func: str


def parse_groupby(model: Model, spec: str) -> GroupBy:
    path, _sep, granularity = spec.partition(":")
    fname, _dot, prop = path.partition(".")
    field = model.field(fname)
    if prop:
        raise ValueError(f"Property name {prop!r} has to be used on a property field.")
    if field.type in ("date", "datetime"):
        granularity = granularity or "month"
        if granularity not in GRANULARITIES:
            raise ValueError(f"Granularity {granularity!r} is not supported")
        return GroupBy(spec, fname, field, granularity)
    if field.type in ("one2many", "many2many") or not (field.column or field.sql):
        raise ValueError(f"Field {fname!r} on model {model.name!r} cannot be grouped by")
    return GroupBy(spec, fname, field, None)


def parse_aggregate(model: Model, spec: str, grouped: set[str]) -> Aggregate | None:
    alias, _sep, func = spec.partition(":")
    fname = alias
    if "(" in func:
        func, _paren, inner = func.partition("(")
        fname = inner.rstrip(")")
    field = model.fields.get(fname)
    if field is None:
        raise ValueError(f"Invalid field {fname!r} on model {model.name!r} for {spec!r}.")
    if fname in grouped or fname == "__count":
        return None
    func = func or field.aggregator or ("sum" if field.type in NUMERIC else "")
    if not func:
        return None
    if func not in AGGREGATES:
        raise ValueError(f"Invalid aggregation function {func!r}.")
    return Aggregate(alias, fname, func)


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _tz(env: Env) -> str:
    """The context's timezone when it is a real one (it is spliced into SQL), else UTC."""
    name = env.context.get("tz")
    return name if isinstance(name, str) and name in _known_zones() else "UTC"


def _bucket_sql(gb: GroupBy, expr: str, tz: str) -> str:
    """The group's start, as a local timestamp (datetimes) or a date."""
    unit = gb.granularity or "month"
    is_date = gb.field.type == "date"
    local = f"(({expr})::timestamp)" if is_date else f"(({expr}) AT TIME ZONE 'UTC' AT TIME ZONE '{tz}')"
    if unit == "week":  # en_US weeks start on Sunday
        bucket = f"(date_trunc('week', {local} + interval '1 day') - interval '1 day')"
    else:
        bucket = f"date_trunc('{unit}', {local})"
    return f"({bucket})::date" if is_date else bucket


def _us_week(day: dt.date) -> tuple[int, int]:
    """(week, year) with weeks from Sunday and week 1 the one holding January 1st (en_US)."""
    sunday = day - dt.timedelta(days=(day.weekday() + 1) % 7)
    saturday = sunday + dt.timedelta(days=6)
    if saturday.year != sunday.year:
        return 1, saturday.year
    jan1 = dt.date(sunday.year, 1, 1)
    first_sunday = jan1 - dt.timedelta(days=(jan1.weekday() + 1) % 7)
    return (sunday - first_sunday).days // 7 + 1, sunday.year


def date_label(start: dt.date, granularity: str) -> str:
    if isinstance(start, dt.datetime):
        start = start.date()
    if granularity == "day":
        return start.strftime("%d %b %Y")
    if granularity == "week":
        week, year = _us_week(start)
        return f"W{week} {year}"
    if granularity == "month":
        return start.strftime("%B %Y")
    if granularity == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return str(start.year)


def _add_step(start: dt.datetime, granularity: str) -> dt.datetime:
    if granularity in ("day", "week"):
        return start + dt.timedelta(days=1 if granularity == "day" else 7)
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def _date_range(gb: GroupBy, start: Any, tz: str) -> tuple[str, str]:
    """[from, to) of a date group, in UTC for datetimes."""
    local = start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
    end = _add_step(local, gb.granularity or "month")
    if gb.field.type == "date":
        return local.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")
    zone = zoneinfo.ZoneInfo(tz)

    def utc(value: dt.datetime) -> str:
        return value.replace(tzinfo=zone).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    return utc(local), utc(end)


def _m2o_ranks(env: Env, gb: GroupBy, rows: list[dict[str, Any]]) -> dict[int, int]:
    ids = sorted({r[gb.spec] for r in rows if r[gb.spec]})
    if not ids:
        return {}
    comodel = env.model(gb.field.comodel or "")
    found = env.all(
        f"SELECT t.id FROM {comodel.table} t WHERE t.id = ANY(%s) "
        f"ORDER BY {order_sql(comodel, None, 't', env.context)}",
        (ids,),
    )
    return {row["id"]: rank for rank, row in enumerate(found)}


class ReadGroup:
    def __init__(self, env: Env, model: Model, domain: Sequence[Any], lazy: bool) -> None:
        self.env = env
        self.model = model
        self.domain = list(domain)
        self.lazy = lazy
        self.tz = _tz(env)

    def run(
        self,
        groupbys: list[GroupBy],
        aggregates: list[Aggregate],
        orderby: str | bool | None,
        limit: int | None,
        offset: int,
    ) -> list[dict[str, Any]]:
        rows = self._query(groupbys, aggregates)
        rows = self._sorted(rows, groupbys, orderby)
        rows = rows[offset or 0 :]
        if limit:
            rows = rows[: int(limit)]
        labels = {
            gb.spec: display_names(self.env, gb.field.comodel or "", (r[gb.spec] for r in rows))
            for gb in groupbys
            if gb.field.type == "many2one"
        }
        return [self._group(row, groupbys, aggregates, labels) for row in rows]

    def _query(self, groupbys: list[GroupBy], aggregates: list[Aggregate]) -> list[dict[str, Any]]:
        where, params = compile_domain(self.env, self.model, self.domain)
        select = []
        for gb in groupbys:
            expr = self.model.sql_of(gb.fname, "t", self.env.context)
            select.append(f'{_bucket_sql(gb, expr, self.tz) if gb.granularity else expr} AS "{gb.spec}"')
        for agg in aggregates:
            expr = self.model.sql_of(agg.fname, "t", self.env.context)
            func = f"count(DISTINCT {expr})" if agg.func == "count_distinct" else f"{agg.func}({expr})"
            select.append(f'{func} AS "{agg.alias}"')
        select.append("count(*) AS __count")
        query = f"SELECT {', '.join(select)} FROM {self.model.table} t WHERE {where}"
        if groupbys:
            query += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(groupbys)))
        return self.env.all(query, params)

    def _sorted(
        self, rows: list[dict[str, Any]], groupbys: list[GroupBy], orderby: str | bool | None
    ) -> list[dict[str, Any]]:
        ranks = {gb.spec: _m2o_ranks(self.env, gb, rows) for gb in groupbys if gb.field.type == "many2one"}

        def key(row: dict[str, Any]) -> tuple[Any, ...]:
            parts: list[Any] = []
            for gb in groupbys:
                value = row[gb.spec]
                if gb.spec in ranks:
                    value = ranks[gb.spec].get(value) if value else None
                parts.append((value is None, value if value is not None else 0))
            return tuple(parts)

        rows = sorted(rows, key=key)
        if isinstance(orderby, str) and orderby.strip():
            words = orderby.split()
            name = "__count" if words[0] == "__count" else words[0]
            if rows and name in rows[0]:
                reverse = len(words) > 1 and words[1].lower() == "desc"
                rows = sorted(rows, key=lambda r: (r[name] is None, r[name] or 0), reverse=reverse)
        return rows

    def _group(
        self,
        row: dict[str, Any],
        groupbys: list[GroupBy],
        aggregates: list[Aggregate],
        labels: dict[str, dict[int, str]],
    ) -> dict[str, Any]:
        group: dict[str, Any] = {}
        ranges: dict[str, dict[str, str]] = {}
        domains: list[list[Any]] = [self.domain]
        for gb in groupbys:
            value = row[gb.spec]
            if gb.field.type == "many2one":
                group[gb.spec] = [value, labels[gb.spec].get(value, "")] if value else False
                domains.append([[gb.fname, "=", value or False]])
            elif gb.granularity and value is not None:
                start, end = _date_range(gb, value, self.tz)
                group[gb.spec] = date_label(value, gb.granularity)
                ranges[gb.spec] = {"from": start, "to": end}
                domains.append(["&", [gb.fname, ">=", start], [gb.fname, "<", end]])
            else:
                group[gb.spec] = to_json(gb.field, value)
                domains.append([[gb.fname, "=", group[gb.spec]]])
        if self.lazy and groupbys:
            group[f"{groupbys[0].fname}_count"] = row["__count"]
        else:
            group["__count"] = row["__count"]
        for agg in aggregates:
            group[agg.alias] = to_json(self.model.fields[agg.fname], row[agg.alias])
        group["__domain"] = and_domains(domains) if groupbys else self.domain
        if ranges:
            group["__range"] = ranges
        return group


def read_group(  # noqa: PLR0917
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
    specs = [groupby] if isinstance(groupby, str) else list(groupby or [])
    parsed = [parse_groupby(model, spec) for spec in specs]
    used = parsed[:1] if lazy else parsed
    grouped = {gb.fname for gb in used}
    aggregates = [a for a in (parse_aggregate(model, spec, grouped) for spec in fields or []) if a]
    groups = ReadGroup(env, model, domain or [], lazy).run(used, aggregates, orderby, limit, offset)
    if lazy and len(specs) > 1:
        for group in groups:
            group["__context"] = {"group_by": specs[1:]}
    return groups
