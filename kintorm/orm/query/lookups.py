"""Django-style lookups as one table: what ``field__lookup=value`` means to Kinto.

Each :class:`Lookup` row holds everything about one lookup: Kinto's querystring
prefix for ``filter()`` and for ``exclude()`` (``None`` when Kinto has no
negation), the guards of each form (see :mod:`kintorm.orm.query.guards`), how the
value is checked against the field (a value the field could never hold would match
nothing, silently) and how it is encoded (Kinto JSON-parses filter values), what a
value of ``None`` asks instead, and for ``isnull`` / ``exists`` / ``null`` the flag
rule that builds the parameters. Adding a lookup is one row of :data:`LOOKUPS`
(plus its tests); :func:`kintorm.orm.query.filters.compile_filter` reads the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from kintorm.orm.convert import unstructure_value
from kintorm.orm.exceptions import UnsupportedQuery
from kintorm.orm.query.fields import Target, element_type, is_open, kind_of_value, unwrap_optional
from kintorm.orm.query.guards import ABOVE, Either, exists, guard_params, isnull, null, scalar

__all__ = [
    "ABOVE",
    "LOOKUPS",
    "Either",
    "Lookup",
    "Target",
    "encode_value",
    "guard_params",
    "like_literal",
]

Param = tuple[str, str]
#: ``check(key, value, field)``: raises when ``value`` cannot be asked of ``field``
Check = Callable[[str, Any, Target], None]

_COLLECTIONS = (list, tuple, set, frozenset)
_NUMBERS = (int, float)


# --- value encoders: the (unstructured) value -> the querystring value ---------------


def _items(value: Any) -> str:
    if isinstance(value, str | bytes) or not isinstance(value, _COLLECTIONS):
        raise UnsupportedQuery(f"__in expects a list of values, not {value!r}")
    parts = []
    for item in value:
        part = scalar(item)
        # Kinto splits the value on every comma before parsing each item as JSON: a
        # string, object or list whose JSON holds one would be cut in pieces and match
        # something else (or nothing).
        if "," in part:
            raise UnsupportedQuery(
                f"Kinto's in_/exclude_ split their value on commas: {item!r} cannot be "
                "expressed (its JSON contains one); use several queries or an equality"
            )
        parts.append(part)
    if not parts:
        raise UnsupportedQuery("__in of an empty list would match nothing; Kinto cannot say it")
    return ",".join(parts)


def _array(value: Any) -> str:
    return scalar(list(value) if isinstance(value, _COLLECTIONS) else [value])


def like_literal(value: str, *, wildcards: bool = False) -> str:
    """``value`` as a ``like_`` pattern that matches it literally on both backends.

    Every character but an ASCII letter or digit is preceded by a backslash: that
    makes ``.`` ``(`` ``\\`` literal in the memory backend's regular expression and
    ``_`` ``%`` ``\\`` literal in PostgreSQL's ``ILIKE``. ``*`` cannot be escaped (Kinto
    rewrites it before either sees it): it is refused, or kept as the wildcard when
    ``wildcards`` (the ``like`` lookup)."""
    out = []
    for char in value:
        if char == "*":
            if wildcards:
                out.append(char)
                continue
            raise UnsupportedQuery(
                f"{value!r} contains '*', Kinto's like wildcard, which cannot be escaped: "
                "it cannot be matched literally"
            )
        if char == "\x00":
            raise UnsupportedQuery(f"{value!r} contains a NUL character, which Kinto refuses")
        out.append(char if char.isascii() and char.isalnum() else "\\" + char)
    return "".join(out)


def _like(template: str, *, wildcards: bool = False) -> Callable[[Any], str]:
    """The encoder of a like lookup: ``template`` around the literal value (``*{}*``)."""

    def encode(value: Any) -> str:
        if not isinstance(value, str):
            raise UnsupportedQuery(f"like lookups take a string, not {value!r}")
        return scalar(template.format(like_literal(value, wildcards=wildcards)))

    return encode


# --- value checks: a value the field could hold (ValidationError naming it) ----------


def _no_none(key: str, items: Sequence[Any]) -> None:
    if any(item is None for item in items):
        base = key.rsplit("__", 1)[0] if "__" in key else key
        raise UnsupportedQuery(
            f"{key}: None never matches a comparison (null and missing fields are None); "
            f"use {base}__isnull"
        )


def _each(key: str, items: Sequence[Any], expected: Any, *, ordered: bool = False) -> None:
    """Every item a value of ``expected``: ``filter(done="yes")`` on a bool field would
    otherwise match nothing, silently. Ordered comparisons of number fields take any
    number (``n__gt=2.5``)."""
    _no_none(key, items)
    plain = unwrap_optional(expected)
    for item in items:
        if is_open(expected) or (ordered and plain in _NUMBERS and type(item) in _NUMBERS):
            unstructure_value(item, Any, key)  # any value, if Kinto can hold it exactly
            continue
        unstructure_value(item, expected, key)


def _compared(key: str, value: Any, field: Target) -> None:
    """One value of the field, compared to it (exact, ne)."""
    _each(key, [value], field.type)


def _ordered(key: str, value: Any, field: Target) -> None:
    """One value of the field, in Kinto's order (gt, gte, lt, lte)."""
    if value is not None and {field.kind, kind_of_value(value)} & {"array", "object"}:
        raise UnsupportedQuery(f"{key}: arrays and objects have no order Kinto's backends share")
    _each(key, [value], field.type, ordered=True)


def _values(key: str, value: Any, field: Target) -> None:
    """A list of values of the field (in); the encoder refuses anything but a list."""
    if isinstance(value, _COLLECTIONS):
        _each(key, list(value), field.type)
    else:
        _no_none(key, [value])


def _elements(key: str, value: Any, field: Target) -> None:
    """Items of a list field, or one item (contains, contains_any)."""
    items = list(value) if isinstance(value, _COLLECTIONS) else [value]
    _each(key, items, element_type(field.type))


def _text(key: str, value: Any, field: Target) -> None:
    """A text field (like lookups; the encoder says the value must be a string)."""
    if field.kind not in ("string", "open"):
        raise UnsupportedQuery(f"{key}: like lookups need a text field, {field.path} is not")


def _cased_text(key: str, value: Any, field: Target) -> None:
    """A text field, and no letter whose case the lookup's name promises to respect:
    Kinto's like_ ignores case (startswith, endswith)."""
    _text(key, value, field)
    if not isinstance(value, str):
        return
    cased = list(dict.fromkeys(c for c in value if c.lower() != c.upper()))
    if cased:
        name = key.rsplit("__", 1)[-1]
        raise UnsupportedQuery(
            f"{key}={value!r}: Kinto's like_ ignores case, so the letters "
            f"{''.join(cased)!r} would match in any case; use {key[: -len(name)]}i{name} "
            "for a case-insensitive match (a case-sensitive one cannot be asked of Kinto)"
        )


def _flag(key: str, value: Any, field: Target) -> None:
    """True or False, on a field Kinto does not always set (isnull, exists, null)."""
    if not isinstance(value, bool):
        raise UnsupportedQuery(f"{key} takes True or False, not {value!r}")
    if field.always_set:
        raise UnsupportedQuery(f"{key}: Kinto always sets {field.path}")


# --- the table ---------------------------------------------------------------------


@attrs.frozen
class Lookup:
    """One lookup, whole: prefixes, guards, value check and compile rule."""

    #: Kinto prefix used by filter() ("" is plain equality); None for the flag lookups
    prefix: str | None
    #: prefix used by exclude(), None when Kinto cannot negate it
    negation: str | None
    #: the unstructured value -> the querystring value (Kinto parses it as JSON)
    encode: Callable[[Any], str] = scalar
    #: raises when the value cannot be asked of the field (before anything is sent)
    check: Check = _compared
    #: guards of the filter() form and of the exclude() form (kintorm.orm.query.guards)
    guards: tuple[str, ...] = ()
    negation_guards: tuple[str, ...] = ()
    #: isnull / exists / null: (target, flag) -> params; exclude() flips the flag
    flag: Callable[[Target, bool], list[Param] | Either] | None = None
    #: what a value of None asks instead: exact=None is isnull=True
    none: tuple[str, bool] | None = None
    #: the value is the field's own (get_or_create() creates the record with it)
    sets_value: bool = False


_N, _M, _T = "null", "missing", "text"

LOOKUPS: Mapping[str, Lookup] = {
    "exact": Lookup("", "not_", negation_guards=(_N, _M), none=("isnull", True), sets_value=True),
    "eq": Lookup("", "not_", negation_guards=(_N, _M), none=("isnull", True), sets_value=True),
    "ne": Lookup("not_", "", guards=(_N, _M), none=("isnull", False)),
    "gt": Lookup("gt_", "max_", check=_ordered, guards=(_M,), negation_guards=(_N,)),
    "gte": Lookup("min_", "lt_", check=_ordered, guards=(_M,), negation_guards=(_N,)),
    "lt": Lookup("lt_", "min_", check=_ordered, guards=(_N,), negation_guards=(_M,)),
    "lte": Lookup("max_", "gt_", check=_ordered, guards=(_N,), negation_guards=(_M,)),
    "in": Lookup("in_", "exclude_", _items, check=_values, negation_guards=(_N, _M)),
    "contains": Lookup("contains_", None, _array, check=_elements),
    "contains_any": Lookup("contains_any_", None, _array, check=_elements),
    "like": Lookup("like_", None, _like("{}", wildcards=True), check=_text, guards=(_T,)),
    "icontains": Lookup("like_", None, _like("*{}*"), check=_text, guards=(_T,)),
    "istartswith": Lookup("like_", None, _like("{}*"), check=_text, guards=(_T,)),
    "iendswith": Lookup("like_", None, _like("*{}"), check=_text, guards=(_T,)),
    "startswith": Lookup("like_", None, _like("{}*"), check=_cased_text, guards=(_T,)),
    "endswith": Lookup("like_", None, _like("*{}"), check=_cased_text, guards=(_T,)),
    "isnull": Lookup(None, None, check=_flag, flag=isnull),
    "exists": Lookup(None, None, check=_flag, flag=exists),
    "null": Lookup(None, None, check=_flag, flag=null),
}


def encode_value(lookup: Lookup, value: Any) -> str:
    """The querystring value for ``lookup`` applied to an already unstructured value."""
    return lookup.encode(value)
