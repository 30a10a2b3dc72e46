"""``filter()`` / ``exclude()`` keyword arguments -> Kinto querystring filters. Pure.

:func:`compile_lookups` turns lookups into parameters with the rows of
:data:`kintorm.orm.query.lookups.LOOKUPS` (value checks and guards included), and
:func:`compile_filter` also into disjoint alternatives (``isnull=True`` where Kinto
needs two queries); :func:`merge_filters` adds them to a query's filters in the
order Kinto's memory backend needs (``has_`` first, ``like_`` last) and intersects
two bounds on one key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kintorm.orm.convert import converter
from kintorm.orm.exceptions import UnsupportedQuery
from kintorm.orm.query.fields import Target, kind_of_value, target
from kintorm.orm.query.guards import Either, guard_params
from kintorm.orm.query.lookups import LOOKUPS

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = [
    "Branches",
    "combine_branches",
    "compile_filter",
    "compile_lookups",
    "exact_values",
    "merge_filters",
]

Param = tuple[str, str]
#: disjoint alternatives, each a list of parameters ANDed with a query's filters
Branches = tuple[tuple[Param, ...], ...]

LOOKUP_NAMES = ", ".join(sorted(LOOKUPS))


def _split(model: type[RecordLike], key: str) -> tuple[str, Target]:
    parts = key.split("__")
    if len(parts) > 1 and parts[-1] in LOOKUPS:
        op = parts.pop()
        return op, target(model, "__".join(parts))
    return "exact", target(model, key, lookup_expected=True, lookup_names=LOOKUP_NAMES)


def _one(model: type[RecordLike], key: str, value: Any, negate: bool) -> list[Param] | Either:
    op, field = _split(model, key)
    lookup = LOOKUPS[op]
    if value is None and lookup.none is not None:
        op, value = lookup.none
        lookup = LOOKUPS[op]
    lookup.check(key, value, field)
    if lookup.flag is not None:
        return lookup.flag(field, value != negate)
    prefix = lookup.negation if negate else lookup.prefix
    if prefix is None:
        raise UnsupportedQuery(f"Kinto cannot negate {op!r}: exclude({key}=...)")
    wire = converter.unstructure(value)
    if isinstance(wire, tuple | set | frozenset):
        wire = list(wire)
    guards = guard_params(field, lookup.negation_guards if negate else lookup.guards)
    return [*guards, (f"{prefix}{field.path}", lookup.encode(wire))]


def compile_filter(
    model: type[RecordLike], lookups: Mapping[str, Any], *, negate: bool = False
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
    model: type[RecordLike], lookups: Mapping[str, Any], *, negate: bool = False
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


def exact_values(lookups: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a record matching ``lookups`` is created with (get_or_create):
    the top-level ones asked with a lookup whose value is the field's (``exact``)."""
    values = {}
    for key, value in lookups.items():
        parts = key.split("__")
        if parts[-1] in LOOKUPS and LOOKUPS[parts[-1]].sets_value:
            parts.pop()
        if len(parts) == 1:
            values[parts[0]] = value
    return values


# --- merging into a query's filters ------------------------------------------------

#: Kinto's order of JSON kinds (the same on both backends)
_RANK = {"null": 0, "string": 1, "number": 2, "boolean": 3, "array": 4, "object": 5}
_LOWER_BOUNDS = ("gt_", "min_")
_UPPER_BOUNDS = ("lt_", "max_")


def _rank(encoded: str) -> tuple[int, Any] | None:
    """A sort key in Kinto's order, or None when only the server can order it
    (two strings: PostgreSQL follows the database's collation)."""
    value = json.loads(encoded)
    kind = "null" if value is None else kind_of_value(value)
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
