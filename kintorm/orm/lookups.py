"""Django-style lookups as data: how ``field__lookup=value`` becomes Kinto filters.

Each :class:`Lookup` row names Kinto's querystring prefix for ``filter()`` and for
``exclude()`` (``None`` when Kinto has no negation), how the value is encoded
(Kinto JSON-parses filter values, KINTO-NOTES §1) and the *guards* each form
needs so that a null or missing field never matches a comparison (§12: Kinto
sorts a missing field above every value and null below every value).

A guard is one more querystring parameter on the same field:

- ``"null"`` drops explicit nulls: ``gt_f=null`` (null is the lowest JSON value);
- ``"missing"`` drops absent fields: ``lt_f=<a value above the field's JSON type>``
  (``0`` above strings, ``false`` above numbers, ``[0]`` above booleans), or
  ``has_f=true`` for objects and fields of open type;
- on arrays both are ``contains_f=[]``, true of every array only (PostgreSQL sorts
  an empty array below null, so ``gt_f=null`` would drop it);
- ``"text"`` keeps string values only (``gt_f=null`` and ``lt_f=0``), which also
  keeps Kinto's memory backend from evaluating ``like_`` on a non-string (500).

The ``isnull`` / ``exists`` / ``null`` rows have no prefix: their ``flag``
function builds the parameters from the field and the boolean asked for, or an
:class:`Either` of disjoint alternatives when one querystring cannot say it
(``isnull=True`` on a string, number, list or open field: ``f=null``, or ``f``
missing), which the query set sends as one request per alternative.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kintorm.orm.exceptions import UnsupportedQuery

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

#: a JSON value sorting above every value of the JSON type, in Kinto's order
#: (null < strings < numbers < booleans < arrays < objects < missing, on both backends;
#: not ``[]``: PostgreSQL sorts an empty top-level array below null)
ABOVE: Mapping[str, str] = {"string": "0", "number": "false", "boolean": "[0]", "array": "{}"}


@attrs.frozen
class Target:
    """A resolved field: its Kinto path, type, JSON kind (``string``, ``number``,
    ``boolean``, ``array``, ``object`` or ``open``) and whether Kinto always sets it
    (``id``, ``last_modified``)."""

    path: str
    type: Any
    kind: str
    always_set: bool = False
    #: every value the field can hold when it is a finite set (bool, enum, Literal)
    choices: tuple[Any, ...] | None = None
    #: an object's field that is always set to a non-null value (required, not Optional)
    required_key: str | None = None


@attrs.frozen
class Either:
    """Disjoint alternatives: a record matches exactly one of them, or none. Each
    alternative is a list of parameters that Kinto ANDs (one request each)."""

    alternatives: tuple[tuple[Param, ...], ...]


def _no_null(t: Target) -> list[Param]:
    if t.kind == "array":  # PostgreSQL sorts [] below null: gt_f=null would drop it
        return [_an_array(t)]
    return [(f"gt_{t.path}", "null")]


def _an_array(t: Target) -> Param:
    """``contains_f=[]``: true of every array, of nothing else (null, missing)."""
    return (f"contains_{t.path}", "[]")


def _no_missing(t: Target) -> list[Param]:
    if t.kind == "array":
        return [_an_array(t)]
    if t.kind in ABOVE:
        return [(f"lt_{t.path}", ABOVE[t.kind])]
    return [(f"has_{t.path}", "true")]


def _present(t: Target) -> list[Param]:
    """Stored, possibly as null (``has_f=true``)."""
    if t.kind == "array":
        return [(f"lt_{t.path}", "{}")]  # objects sort above arrays, and above null
    return _no_missing(t)


def _only_missing(t: Target) -> list[Param]:
    if t.kind == "array":
        return [(f"gt_{t.path}", "{}")]
    if t.kind in ABOVE:
        return [(f"gt_{t.path}", ABOVE[t.kind])]
    return [(f"has_{t.path}", "false")]


def _text(t: Target) -> list[Param]:
    return [(f"gt_{t.path}", "null"), (f"lt_{t.path}", ABOVE["string"])]


GUARDS: Mapping[str, Callable[[Target], list[Param]]] = {
    "null": _no_null,
    "missing": _no_missing,
    "text": _text,
}


def guard_params(target: Target, guards: tuple[str, ...]) -> list[Param]:
    """The querystring parameters of ``guards`` on ``target`` (none on id/last_modified)."""
    if target.always_set:
        return []
    return list(dict.fromkeys(param for name in guards for param in GUARDS[name](target)))


# --- the None-aware lookups (isnull, exists, null) ---------------------------------


def _isnull(t: Target, flag: bool) -> list[Param] | Either:
    if not flag:  # a value: neither null nor missing
        return list(dict.fromkeys(_no_null(t) + _no_missing(t)))
    if t.choices is not None and all(
        not (isinstance(c, str) and "," in c) for c in t.choices
    ):  # null or missing = none of the values it can hold
        return [(f"exclude_{t.path}", ",".join(_scalar(c) for c in t.choices))]
    if t.required_key is not None:  # an object without its required key is no object
        return [(f"has_{t.path}.{t.required_key}", "false")]
    # Kinto cannot say "null or missing" in one querystring for these kinds (only
    # not_/exclude_ keep both, and each removes finitely many values): two disjoint
    # queries, stored as null (f=null) and absent (as exists=False)
    return Either((tuple(_null(t, True)), tuple(_only_missing(t))))


def _exists(t: Target, flag: bool) -> list[Param]:
    return _present(t) if flag else _only_missing(t)


def _null(t: Target, flag: bool) -> list[Param]:
    return [(t.path, "null")] if flag else [(f"not_{t.path}", "null")]


# --- value encoders ----------------------------------------------------------------


def _scalar(value: Any) -> str:
    # Strings are quoted: unquoted "2" or "true" would be parsed as a number or a bool.
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _items(value: Any) -> str:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
        raise UnsupportedQuery(f"__in expects a list of values, not {value!r}")
    parts = []
    for item in value:
        if isinstance(item, str) and "," in item:
            raise UnsupportedQuery(
                f"Kinto's in_/exclude_ split their value on commas: {item!r} cannot be expressed"
            )
        parts.append(_scalar(item))
    if not parts:
        raise UnsupportedQuery("__in of an empty list would match nothing; Kinto cannot say it")
    return ",".join(parts)


def _array(value: Any) -> str:
    return _scalar(list(value) if isinstance(value, list | tuple | set | frozenset) else [value])


def _identity(value: Any) -> Any:
    return value


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


def _pattern(template: str, *, wildcards: bool = False) -> Callable[[Any], Any]:
    def transform(value: Any) -> Any:
        if not isinstance(value, str):
            raise UnsupportedQuery(f"like lookups take a string, not {value!r}")
        return template.format(like_literal(value, wildcards=wildcards))

    return transform


@attrs.frozen
class Lookup:
    #: Kinto prefix used by filter() ("" is plain equality); None for the flag lookups
    prefix: str | None
    #: prefix used by exclude(), None when Kinto cannot negate it
    negation: str | None
    encode: Callable[[Any], str] = _scalar
    #: rewrites the Python value first (startswith -> "v*")
    transform: Callable[[Any], Any] = _identity
    #: the value is a list of field values (in), not one value
    many: bool = False
    #: guards of the filter() form and of the exclude() form (see the module docstring)
    guards: tuple[str, ...] = ()
    negation_guards: tuple[str, ...] = ()
    #: isnull / exists / null: (target, flag) -> params; exclude() flips the flag
    flag: Callable[[Target, bool], list[Param] | Either] | None = None
    #: a like lookup: the field must hold text
    text: bool = False
    #: the Django name says case-sensitive, which Kinto's like_ is not
    case_sensitive: bool = False
    #: an ordered comparison (gt, gte, lt, lte)
    ordered: bool = False


_N, _M, _T = "null", "missing", "text"

LOOKUPS: Mapping[str, Lookup] = {
    "exact": Lookup("", "not_", negation_guards=(_N, _M)),
    "eq": Lookup("", "not_", negation_guards=(_N, _M)),
    "ne": Lookup("not_", "", guards=(_N, _M)),
    "gt": Lookup("gt_", "max_", guards=(_M,), negation_guards=(_N,), ordered=True),
    "gte": Lookup("min_", "lt_", guards=(_M,), negation_guards=(_N,), ordered=True),
    "lt": Lookup("lt_", "min_", guards=(_N,), negation_guards=(_M,), ordered=True),
    "lte": Lookup("max_", "gt_", guards=(_N,), negation_guards=(_M,), ordered=True),
    "in": Lookup("in_", "exclude_", _items, many=True, negation_guards=(_N, _M)),
    "contains": Lookup("contains_", None, _array, many=True),
    "contains_any": Lookup("contains_any_", None, _array, many=True),
    "like": Lookup(
        "like_", None, transform=_pattern("{}", wildcards=True), guards=(_T,), text=True
    ),
    "icontains": Lookup("like_", None, transform=_pattern("*{}*"), guards=(_T,), text=True),
    "istartswith": Lookup("like_", None, transform=_pattern("{}*"), guards=(_T,), text=True),
    "iendswith": Lookup("like_", None, transform=_pattern("*{}"), guards=(_T,), text=True),
    "startswith": Lookup(
        "like_", None, transform=_pattern("{}*"), guards=(_T,), text=True, case_sensitive=True
    ),
    "endswith": Lookup(
        "like_", None, transform=_pattern("*{}"), guards=(_T,), text=True, case_sensitive=True
    ),
    "isnull": Lookup(None, None, flag=_isnull),
    "exists": Lookup(None, None, flag=_exists),
    "null": Lookup(None, None, flag=_null),
}


def encode_value(lookup: Lookup, value: Any) -> str:
    """The querystring value for ``lookup`` applied to an already unstructured value."""
    return lookup.encode(lookup.transform(value))
