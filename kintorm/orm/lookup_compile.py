"""``filter()`` / ``exclude()`` keyword arguments -> Kinto querystring filters. Pure.

:func:`resolve_field` checks a ``a__b`` path against the model and gives its JSON
kind; :func:`compile_lookups` turns lookups into parameters with the rows of
:data:`kintorm.orm.lookups.LOOKUPS` (guards included), and :func:`compile_filter`
also into disjoint alternatives (``isnull=True`` where Kinto needs two queries);
:func:`merge_filters` adds
them to a query's filters in the order Kinto's memory backend needs (``has_``
first, ``like_`` last) and intersects two bounds on one key.
"""

from __future__ import annotations

import collections.abc
import datetime
import enum
import json
import types
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

import attrs

from kintorm.orm.convert import converter, unstructure_value
from kintorm.orm.exceptions import FieldError, UnsupportedQuery
from kintorm.orm.lookups import LOOKUPS, Either, Lookup, Target, encode_value, guard_params
from kintorm.orm.state import data_fields

if TYPE_CHECKING:
    from kintorm.orm.model import Record

__all__ = [
    "combine_branches",
    "compile_filter",
    "compile_lookups",
    "merge_filters",
    "resolve_field",
    "target",
]

Param = tuple[str, str]
#: disjoint alternatives, each a list of parameters ANDed with a query's filters
Branches = tuple[tuple[Param, ...], ...]

_LOOKUP_NAMES = ", ".join(sorted(LOOKUPS))


# --- fields ------------------------------------------------------------------------


def _unwrap_optional(type_: Any) -> Any:
    if get_origin(type_) in (Union, types.UnionType):
        args = [a for a in get_args(type_) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return type_


def _is_open(type_: Any) -> bool:
    """A type whose sub-fields cannot be checked (dicts, Any)."""
    origin = get_origin(type_) or type_
    return type_ is Any or origin in (dict, Mapping, collections.abc.Mapping, object)


def _kind_of_value(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "open"


#: Python types -> the JSON kind they travel as (see kintorm.orm.convert)
_KINDS: Mapping[Any, str] = {
    str: "string",
    datetime.date: "string",
    datetime.datetime: "string",
    uuid.UUID: "string",
    bool: "boolean",
    int: "number",
    float: "number",
}


def _kind(type_: Any) -> tuple[str, tuple[Any, ...] | None]:
    """(JSON kind, every value when finite) of a model type, Optional unwrapped."""
    plain = _unwrap_optional(type_)
    if plain is bool:
        return "boolean", (True, False)
    if isinstance(plain, type) and issubclass(plain, enum.Enum):
        values = tuple(member.value for member in plain)
        kinds = {_kind_of_value(v) for v in values}
        return (kinds.pop() if len(kinds) == 1 else "open"), values
    if get_origin(plain) is Literal:
        values = get_args(plain)
        kinds = {_kind_of_value(v) for v in values}
        return (kinds.pop() if len(kinds) == 1 else "open"), values
    origin = get_origin(plain) or plain
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence):
        return "array", None
    if attrs.has(plain) or (_is_open(plain) and plain is not Any and plain is not object):
        return "object", None
    if isinstance(plain, type):
        for base, kind in _KINDS.items():
            if issubclass(plain, base) and not (base is int and issubclass(plain, bool)):
                return kind, None
    return "open", None


def _lookup_hint(where: str, part: str, type_: Any) -> str:
    shown = getattr(type_, "__name__", None) or repr(type_)
    return f"unknown lookup {part!r} on {where} ({shown}); the lookups are: {_LOOKUP_NAMES}"


def resolve_field(
    model: type[Record], name: str, *, lookup_expected: bool = False
) -> tuple[str, Any]:
    """``author__name`` -> (``"author.name"``, its type); FieldError for unknown names.

    With ``lookup_expected`` (a filter keyword), an unknown last part is reported as
    an unknown lookup, with the list of the valid ones."""
    parts = name.split("__")
    if parts[0] in ("id", "last_modified"):
        if len(parts) > 1:
            if lookup_expected and len(parts) == 2:
                raise FieldError(_lookup_hint(parts[0], parts[1], str if parts[0] == "id" else int))
            raise FieldError(f"{parts[0]} has no sub-field {'__'.join(parts[1:])!r}")
        return parts[0], str if parts[0] == "id" else int
    current: Any = model
    seen: list[str] = []
    for index, part in enumerate(parts):
        type_ = _unwrap_optional(current)
        last = lookup_expected and index == len(parts) - 1 and index > 0
        where = model.__name__ if not seen else f"{model.__name__}.{'.'.join(seen)}"
        if attrs.has(type_):
            if type_ is model:
                fields = {f.name: f for f in data_fields(model)}
            else:
                attrs.resolve_types(type_)
                fields = {f.name: f for f in attrs.fields(type_)}
            if part not in fields:
                known = ", ".join(sorted(fields)) or "none"
                if last:
                    raise FieldError(
                        f"{where} has no field {part!r} (known: {known}), and {part!r} is "
                        f"not a lookup either (lookups: {_LOOKUP_NAMES})"
                    )
                raise FieldError(
                    f"{where} has no field {part!r} (known: {known}); Kinto would silently "
                    "match nothing"
                )
            current = fields[part].type
        elif _is_open(type_):
            current = Any
        else:
            if last:
                raise FieldError(_lookup_hint(where, part, type_))
            raise FieldError(f"{where} is {type_!r}: it has no field {part!r}")
        seen.append(part)
    return ".".join(seen), current


def target(model: type[Record], name: str, *, lookup_expected: bool = False) -> Target:
    """The resolved field ``name`` with its JSON kind (see :class:`Target`)."""
    path, type_ = resolve_field(model, name, lookup_expected=lookup_expected)
    if path in ("id", "last_modified"):
        return Target(path, type_, "string" if path == "id" else "number", always_set=True)
    kind, choices = _kind(type_)
    return Target(path, type_, kind, choices=choices, required_key=_required_key(type_))


def _required_key(type_: Any) -> str | None:
    """A field of the attrs class ``type_`` that every valid object holds, non-null."""
    plain = _unwrap_optional(type_)
    if not attrs.has(plain):
        return None
    attrs.resolve_types(plain)
    for field in attrs.fields(plain):
        optional = type(None) in get_args(field.type)
        if field.default is attrs.NOTHING and not optional and field.type is not Any:
            return str(field.name)
    return None


# --- lookups -----------------------------------------------------------------------


def _split(model: type[Record], key: str) -> tuple[str, Target]:
    parts = key.split("__")
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        op = parts.pop()
        return op, target(model, "__".join(parts))
    return "exact", target(model, key, lookup_expected=True)


#: a value of None asks whether the field is None: exact=None is isnull=True
_NONE_MEANS: Mapping[str, tuple[str, bool]] = {
    "exact": ("isnull", True),
    "eq": ("isnull", True),
    "ne": ("isnull", False),
}


def _one(model: type[Record], key: str, value: Any, negate: bool) -> list[Param] | Either:
    op, field = _split(model, key)
    if value is None and op in _NONE_MEANS:
        op, value = _NONE_MEANS[op]
    lookup = LOOKUPS[op]
    if lookup.flag is not None:
        if not isinstance(value, bool):
            raise UnsupportedQuery(f"{key} takes True or False, not {value!r}")
        if field.always_set:
            raise UnsupportedQuery(f"{key}: Kinto always sets {field.path}")
        return lookup.flag(field, value != negate)
    _check_value(key, op, lookup, value, field)
    prefix = lookup.negation if negate else lookup.prefix
    if prefix is None:
        raise UnsupportedQuery(f"Kinto cannot negate {op!r}: exclude({key}=...)")
    wire = converter.unstructure(value)
    if isinstance(wire, tuple | set | frozenset):
        wire = list(wire)
    guards = guard_params(field, lookup.negation_guards if negate else lookup.guards)
    return [*guards, (f"{prefix}{field.path}", encode_value(lookup, wire))]


def compile_filter(
    model: type[Record], lookups: Mapping[str, Any], *, negate: bool = False
) -> tuple[list[Param], Branches]:
    """``(params, branches)``: the parameters every match has, and the disjoint
    alternatives of which a match has exactly one (``()`` when there are none).

    ``filter(n__isnull=True)`` is ``([], ((("n", "null"),), (("gt_n", "false"),)))``:
    stored as null, or absent. Two such lookups give the four combinations."""
    if negate and len(lookups) > 1:
        raise UnsupportedQuery(
            "exclude() with several conditions means NOT (a AND b) = (NOT a) OR (NOT b), "
            "and Kinto cannot OR across fields; chain exclude() calls to exclude each"
        )
    params: list[Param] = []
    branches: Branches = ()
    for key, value in lookups.items():
        compiled = _one(model, key, value, negate)
        if isinstance(compiled, Either):
            branches = combine_branches(branches, compiled.alternatives)
        else:
            params.extend(compiled)
    return params, branches


def combine_branches(first: Branches, second: Branches) -> Branches:
    """``first`` AND ``second``: every pair (disjoint when each side is)."""
    if not first or not second:
        return first or second
    return tuple((*a, *b) for a in first for b in second)


def compile_lookups(
    model: type[Record], lookups: Mapping[str, Any], *, negate: bool = False
) -> list[Param]:
    """``{"done": False, "n__gt": 3}`` -> ``[("done", "false"), ("lt_n", "false"),
    ("gt_n", "3")]``: each lookup's parameters, its guards first. Lookups that need
    several Kinto queries raise UnsupportedQuery here (see :func:`compile_filter`)."""
    params, branches = compile_filter(model, lookups, negate=negate)
    if branches:
        raise UnsupportedQuery(
            f"{', '.join(lookups)}: this needs {len(branches)} Kinto queries (null or "
            "missing), not one querystring; QuerySet.filter() sends them"
        )
    return params


#: lookups whose value is one value of the field, compared to it
_COMPARED = frozenset({"exact", "eq", "ne", "gt", "gte", "lt", "lte"})
_NUMBERS = (int, float)


def _element_type(type_: Any) -> Any:
    """The item type of a list field (``contains`` takes items), else Any."""
    args = get_args(_unwrap_optional(type_))
    origin = get_origin(_unwrap_optional(type_))
    return args[0] if origin in (list, tuple, set, frozenset) and args else Any


def _check_text(key: str, lookup: Lookup, value: Any, field: Target) -> None:
    if field.kind not in ("string", "open"):
        raise UnsupportedQuery(f"{key}: like lookups need a text field, {field.path} is not")
    if lookup.case_sensitive and isinstance(value, str):
        cased = list(dict.fromkeys(c for c in value if c.lower() != c.upper()))
        if cased:
            name = key.rsplit("__", 1)[-1]
            raise UnsupportedQuery(
                f"{key}={value!r}: Kinto's like_ ignores case, so the letters "
                f"{''.join(cased)!r} would match in any case; use {key[: -len(name)]}i{name} "
                "for a case-insensitive match (a case-sensitive one cannot be asked of Kinto)"
            )


def _check_value(key: str, op: str, lookup: Lookup, value: Any, field: Target) -> None:
    """A lookup value must be one the field could hold (ValidationError naming it):
    ``filter(done="yes")`` on a bool field would otherwise match nothing, silently.
    Ordered comparisons of number fields take any number (``n__gt=2.5``)."""
    if lookup.text:
        _check_text(key, lookup, value, field)
        return
    many = isinstance(value, list | tuple | set | frozenset)
    items: Sequence[Any] = list(value) if many and lookup.many else [value]
    if any(item is None for item in items):
        raise UnsupportedQuery(
            f"{key}: None never matches a comparison (null and missing fields are None); "
            f"use {key.rsplit('__', 1)[0] if '__' in key else key}__isnull"
        )
    if lookup.ordered and (
        field.kind in ("array", "object")
        or _kind_of_value(value)
        in (
            "array",
            "object",
        )
    ):
        raise UnsupportedQuery(f"{key}: arrays and objects have no order Kinto's backends share")
    if op in _COMPARED:
        expected = field.type
    elif op == "in":
        if not many:
            return  # the lookup's own encoder says what __in expects
        expected = field.type
    elif op in ("contains", "contains_any"):
        expected = _element_type(field.type)
    else:
        return
    plain = _unwrap_optional(expected)
    for item in items:
        if _is_open(expected) or (lookup.ordered and plain in _NUMBERS and type(item) in _NUMBERS):
            unstructure_value(item, Any, key)  # any value, if Kinto can hold it exactly
            continue
        unstructure_value(item, expected, key)


def check_fields(model: type[Record], names: Iterable[str]) -> tuple[str, ...]:
    return tuple(resolve_field(model, name)[0] for name in names)


# --- merging into a query's filters ------------------------------------------------

#: Kinto's order of JSON kinds (the same on both backends)
_RANK = {"null": 0, "string": 1, "number": 2, "boolean": 3, "array": 4, "object": 5}
_LOWER_BOUNDS = ("gt_", "min_")
_UPPER_BOUNDS = ("lt_", "max_")


def _rank(encoded: str) -> tuple[int, Any] | None:
    """A sort key in Kinto's order, or None when only the server can order it
    (two strings: PostgreSQL follows the database's collation)."""
    value = json.loads(encoded)
    kind = "null" if value is None else _kind_of_value(value)
    if kind in ("string", "array", "object", "open"):
        return (_RANK.get(kind, 9), None)
    return (_RANK[kind], value)


def _intersect(key: str, old: str, new: str) -> str | None:
    """One bound equivalent to both ``key=old`` and ``key=new``, if it can be told."""
    if key.startswith("contains_") and not key.startswith("contains_any_") and "[]" in (old, new):
        return new if old == "[]" else old  # containing nothing is true of every array
    lower = key.startswith(_LOWER_BOUNDS)
    if not (lower or key.startswith(_UPPER_BOUNDS)):
        return None
    a, b = _rank(old), _rank(new)
    if a is None or b is None or (a[0] == b[0] and (a[1] is None or b[1] is None)):
        return None
    bigger = new if b > a else old
    smaller = old if bigger is new else new
    return bigger if lower else smaller


def merge_filters(existing: Sequence[Param], new: Iterable[Param]) -> tuple[Param, ...]:
    """``existing`` AND ``new`` as one list of parameters.

    Kinto keeps one value per key: two bounds on one key become the stricter one
    (``gt_n=null`` and ``gt_n=3`` is ``gt_n=3``), other differing values raise
    UnsupportedQuery. The order suits Kinto's memory backend, where a ``has_`` filter
    replaces the result of the filters before it and ``like_`` fails on a record
    that an earlier filter did not already reject: ``has_`` first (one at most),
    then the others, ``like_`` last."""
    merged: dict[str, str] = dict(existing)
    for key, value in new:
        old = merged.get(key)
        if old is None or old == value:
            merged.setdefault(key, value)
            continue
        stricter = _intersect(key, old, value)
        if stricter is None:
            if key.startswith("has_"):
                raise UnsupportedQuery(
                    f"{key} is asked both true and false: no record can match; "
                    "the query contradicts itself"
                )
            raise UnsupportedQuery(
                f"the filter {key} is given twice with different values; Kinto keeps one"
            )
        merged[key] = stricter
    has = [key for key in merged if key.startswith("has_")]
    if len(has) > 1:
        raise UnsupportedQuery(
            f"this query needs {', '.join(has)}: Kinto's memory backend honours only one "
            "has_ filter per query (each one replaces the filters before it), so the "
            "result would differ by backend; query one of these fields at a time"
        )

    def order(item: tuple[int, Param]) -> tuple[int, int]:
        index, (key, _) = item
        return (0 if key.startswith("has_") else 2 if key.startswith("like_") else 1), index

    ordered = sorted(enumerate(merged.items()), key=order)
    return tuple(param for _, param in ordered)
