"""Odoo domains: normalisation, conjunction, and their translation to SQL over the double's tables.

Errors are worded like Odoo 18's (odoo/osv/expression.py): an unknown field
names the model and the leaf, ``Invalid field product.product.nope in leaf
('nope', '=', 1)``; an unknown operator ``Invalid leaf ('id', 'bogus', 1)``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .orm import Env, Field, Model

_logger = logging.getLogger(__name__)

OPERATORS = frozenset(
    {
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
)
TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)
_ARITY = {"!": 1, "&": 2, "|": 2}
_LIKE_SQL = {"like": "LIKE", "ilike": "ILIKE", "not like": "NOT LIKE", "not ilike": "NOT ILIKE"}

_aliases = itertools.count()


def new_alias() -> str:
    return f"a{next(_aliases)}"


def leaf_repr(term: Sequence[Any]) -> str:
    """A leaf as Odoo prints it in messages: a Python tuple."""
    return repr(tuple(term))


def is_leaf(item: Any) -> bool:
    return isinstance(item, list | tuple) and len(item) == 3 and not isinstance(item, str)


def normalize(domain: Sequence[Any]) -> list[Any]:
    """Make the implicit ``&`` between consecutive terms explicit (prefix notation)."""
    if not domain:
        return [list(TRUE_LEAF)]
    result: list[Any] = []
    expected = 1
    for item in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if is_leaf(item):
            result.append(list(item))
            expected -= 1
        elif item in _ARITY:
            result.append(item)
            expected += _ARITY[item] - 1
        else:
            raise ValueError(f"Invalid domain term {item!r}")
    if expected != 0:
        raise ValueError(f"Invalid domain {list(domain)!r}")
    return result


def and_domains(domains: Sequence[Sequence[Any]]) -> list[Any]:
    """The conjunction of domains; empty ones are skipped, ``[]`` when all are empty."""
    parts = [normalize(d) for d in domains if d]
    result: list[Any] = ["&"] * (len(parts) - 1)
    for part in parts:
        result.extend(part)
    return result


def _parse(domain: Sequence[Any]) -> list[Any]:
    """Prefix domain → a tree of ("!", node), ("&"|"|", a, b) and ("leaf", term)."""
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
        if is_leaf(tok):
            return ("leaf", tuple(tok))
        raise ValueError(f"Invalid domain term {tok!r}")

    terms = []
    while pos < len(items):
        terms.append(one())
    return terms


class DomainCompiler:
    """Translates one domain on one model into a SQL condition over ``alias``."""

    def __init__(self, env: Env, model: Model, alias: str = "t") -> None:
        self.env = env
        self.model = model
        self.alias = alias
        self.params: list[Any] = []

    def compile(self, domain: Sequence[Any] | None) -> str:
        clauses = [self._node(t) for t in _parse(domain or [])]
        if self._active_filter(domain or []):
            clauses.append(f"{self.alias}.active")
        return " AND ".join(clauses) if clauses else "TRUE"

    def _active_filter(self, domain: Sequence[Any]) -> bool:
        if "active" not in self.model.fields or not self.env.context.get("active_test", True):
            return False
        return not any(is_leaf(t) and t[0] == "active" for t in domain)

    def _node(self, node: Any) -> str:
        if node[0] == "!":
            return f"(NOT {self._node(node[1])})"
        if node[0] in ("&", "|"):
            joiner = " AND " if node[0] == "&" else " OR "
            return f"({self._node(node[1])}{joiner}{self._node(node[2])})"
        return self._leaf(node[1])

    def _field(self, fname: str, term: tuple[Any, Any, Any]) -> Field:
        field = self.model.fields.get(fname)
        if field is None:
            raise ValueError(f"Invalid field {self.model.name}.{fname} in leaf {leaf_repr(term)}")
        return field

    def _sub(self, comodel_name: str, domain: list[Any]) -> tuple[str, str, Model]:
        comodel = self.env.model(comodel_name)
        sub = DomainCompiler(self.env, comodel, new_alias())
        where = sub.compile(domain)
        self.params.extend(sub.params)
        return sub.alias, where, comodel

    def _leaf(self, term: tuple[Any, Any, Any]) -> str:
        if term in (TRUE_LEAF, FALSE_LEAF):
            return "TRUE" if term == TRUE_LEAF else "FALSE"
        left, op, value = term
        if not isinstance(left, str) or op not in OPERATORS:
            raise ValueError(f"Invalid leaf {leaf_repr(term)}")
        path, _sep, rest = left.partition(".")
        field = self._field(path, term)
        if not field.searchable:
            _logger.warning("Non-stored field %s.%s cannot be searched.", self.model.name, path)
            return "TRUE"
        if rest:
            return self._path_leaf(field, path, (rest, op, value), term)
        if field.type in ("one2many", "many2many"):
            return self._x2many_leaf(field, term)
        if field.type == "many2one" and isinstance(value, str) and op not in ("in", "not in"):
            a, where, comodel = self._sub(field.comodel or "", [("display_name", op, value)])
            expr = self.model.sql_of(path, self.alias, self.env.context)
            return f"{expr} IN (SELECT {a}.id FROM {comodel.table} {a} WHERE {where})"
        return self._scalar_leaf(field, self.model.sql_of(path, self.alias, self.env.context), op, value)

    def _path_leaf(
        self, field: Field, path: str, sub_term: tuple[Any, Any, Any], term: tuple[Any, Any, Any]
    ) -> str:
        if field.type == "many2one" and field.comodel:
            a, where, comodel = self._sub(field.comodel, [sub_term])
            expr = self.model.sql_of(path, self.alias, self.env.context)
            return f"{expr} IN (SELECT {a}.id FROM {comodel.table} {a} WHERE {where})"
        if field.type == "one2many" and field.comodel and field.inverse:
            a, where, comodel = self._sub(field.comodel, [sub_term])
            return f"{self.alias}.id IN (SELECT {a}.{field.inverse} FROM {comodel.table} {a} WHERE {where})"
        raise ValueError(f"Invalid field {self.model.name}.{path} in leaf {leaf_repr(term)}")

    def _x2many_leaf(self, field: Field, term: tuple[Any, Any, Any]) -> str:
        _left, op, value = term
        if field.relation is not None:
            table, owner, other = field.relation
        elif field.comodel and field.inverse:
            table, owner, other = self.env.model(field.comodel).table, field.inverse, "id"
        else:
            raise ValueError(f"Unsupported leaf {leaf_repr(term)}: the double does not store this field")
        if op in ("in", "=") and value not in (False, None):
            ids = list(value) if isinstance(value, list | tuple) else [value]
            self.params.append(ids)
            return f"{self.alias}.id IN (SELECT {owner} FROM {table} WHERE {other} = ANY(%s))"
        if op == "=" and value in (False, None):
            return f"NOT EXISTS (SELECT 1 FROM {table} WHERE {owner} = {self.alias}.id)"
        raise ValueError(f"Unsupported leaf {leaf_repr(term)}")

    def _scalar_leaf(self, field: Field, expr: str, op: str, value: Any) -> str:  # noqa: PLR0911
        op = {"<>": "!=", "child_of": "in", "parent_of": "in"}.get(op, op)
        if op in ("=", "!=") and (value is False or value is None):
            if field.type == "boolean":
                return f"({expr} IS NULL OR NOT {expr})" if op == "=" else f"({expr} IS NOT NULL AND {expr})"
            return f"{expr} IS NULL" if op == "=" else f"{expr} IS NOT NULL"
        if op in ("in", "not in"):
            return self._in_leaf(expr, op, value)
        if op in _LIKE_SQL:
            self.params.append(f"%{value}%")
            text = f"{expr}::text"
            if op.startswith("not"):
                return f"({text} IS NULL OR {text} {_LIKE_SQL[op]} %s)"
            return f"{text} {_LIKE_SQL[op]} %s"
        if op in ("=like", "=ilike"):
            self.params.append(value)
            return f"{expr}::text {'LIKE' if op == '=like' else 'ILIKE'} %s"
        if field.type == "boolean" and op == "=" and value is True:
            return f"({expr} IS NOT NULL AND {expr})"
        self.params.append(value)
        if op == "!=":
            return f"({expr} IS NULL OR {expr} != %s)"
        return f"{expr} {op} %s"

    def _in_leaf(self, expr: str, op: str, value: Any) -> str:
        values = list(value) if isinstance(value, list | tuple) else [value]
        has_false = any(v is False or v is None for v in values)
        self.params.append([v for v in values if v is not False and v is not None])
        if op == "in":
            clause = f"{expr} = ANY(%s)"
            return f"({clause} OR {expr} IS NULL)" if has_false else clause
        clause = f"({expr} IS NULL OR NOT ({expr} = ANY(%s)))"
        return f"({clause} AND {expr} IS NOT NULL)" if has_false else clause


def compile_domain(
    env: Env, model: Model, domain: Sequence[Any] | None, alias: str = "t"
) -> tuple[str, list[Any]]:
    compiler = DomainCompiler(env, model, alias)
    where = compiler.compile(domain)
    return where, compiler.params
